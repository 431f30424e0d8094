"""Printing for `zaza api`, `zaza calls tail` and `zaza capabilities`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from zazacli.output import STATUS_STYLES, Output, duration, plain_value
from zazacli.output.safe import json_safe, terminal_safe
from zazacli.times import parse_time

# ================================================================ api, calls tail, capabilities
# `zaza api`: the response body on stdout (indented on a terminal, as received when piped);
# with --include the status line and headers on stderr. `zaza calls tail`: a line per event
# on a terminal, a JSON object per event when piped; banner, notices and summary on stderr.
# `zaza capabilities`: what the API supports and what only the dashboard can do.

if TYPE_CHECKING:
    import httpx

    from zazacli.api.capabilities import Capability
    from zazacli.calls.tail import CallFollower, TailEvent, TailStats


def api_response(out: Output, response: httpx.Response, *, include: bool) -> None:
    if include:
        out.notice(f"{response.http_version} {response.status_code} {response.reason_phrase}")
        for name, value in response.headers.raw:  # as the server spelled them
            out.notice(terminal_safe(f"{name.decode('latin-1')}: {value.decode('latin-1')}"))
        out.notice("")
    content = response.content
    if not content:
        return
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    textual = kind.startswith("text/") or "json" in kind or not kind
    if not out.is_tty:
        # Exactly what the server sent (a newline added after text, for the shell).
        _write_bytes(out.stdout, content)
        if textual and not content.endswith(b"\n"):
            out.stdout.write("\n")
        return
    try:
        data = json.loads(content)
    except ValueError:
        if not textual:
            out.notice(f"({len(content)} bytes of {kind}; pipe to a file to keep them)")
            return
        out.write(terminal_safe(response.text.rstrip("\n"), multiline=True))
        return
    # json.dumps escapes C0 controls itself; C1 ones (a raw CSI) and bidi controls must not
    # reach the terminal: json_safe writes them as \u escapes (the same JSON).
    pretty = json_safe(json.dumps(data, indent=2, ensure_ascii=False))
    if out.color:
        from rich.highlighter import JSONHighlighter
        from rich.text import Text

        out.console.print(JSONHighlighter()(Text(pretty)), soft_wrap=True)
    else:
        out.write(pretty)


def api_items(out: Output, items: Iterable[dict[str, Any]]) -> int:
    """`zaza api --paginate`: one compact JSON item per line, as each page arrives."""
    count = 0
    for item in items:
        out.stdout.write(json_safe(json.dumps(item, ensure_ascii=False)) + "\n")
        count += 1
        if count % 100 == 0:
            out.stdout.flush()
    return count


def _write_bytes(stream: IO[str], data: bytes) -> None:
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(data.decode("utf-8", "replace"))
        return
    stream.flush()
    buffer.write(data)
    buffer.flush()


class TailPrinter:
    """`zaza calls tail`: `14:03:11  90512  RINGING  outbound  +1… → +1…  agent 12` per new
    call and `14:03:19  90512  RINGING → COMPLETED  1:47  INTERESTED` per change on a
    terminal; `{"event", "call", "previousStatus", "observedAt"}` per line otherwise."""

    STATUS_WIDTH = len("IN_PROGRESS")

    def __init__(self, out: Output, *, jsonl: bool) -> None:
        self.out = out
        self.jsonl = jsonl
        self.new = 0
        self.changed = 0

    def banner(self, follower: CallFollower, filters: dict[str, Any]) -> None:
        chosen = [f"{k.replace('_id', '')}={v}" for k, v in filters.items() if v is not None]
        where = f" ({', '.join(chosen)})" if chosen else ""
        every = f"{follower.interval:g}s"
        self.out.notice(f"following calls{where}, polling every {every}; Ctrl-C to stop")

    def event(self, event: TailEvent) -> None:
        if event.kind == "new":
            self.new += 1
        else:
            self.changed += 1
        if self.jsonl:
            record = {
                "event": event.kind,
                "call": event.call,
                "previousStatus": event.previous_status,
                "observedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            self.out.stdout.write(json_safe(json.dumps(record, ensure_ascii=False)) + "\n")
            self.out.stdout.flush()
            return
        self.out.console.print(self._line(event), soft_wrap=True)

    def _line(self, event: TailEvent) -> Any:
        from rich.text import Text

        call = event.call
        # Every field is data from the server: plain_value makes it terminal-safe.
        status = plain_value(call.get("status") or "?")
        line = Text()
        when = call.get("createdAt") if event.kind == "new" else None
        stamp = parse_time(when) if when else datetime.now(UTC)
        line.append((stamp or datetime.now(UTC)).astimezone().strftime("%H:%M:%S"), "dim")
        line.append(f"  {plain_value(call.get('id')):>6}  ", "bold")
        if event.kind == "changed":
            before = plain_value(event.previous_status or "?")
            line.append(before, STATUS_STYLES.get(before.upper(), ""))
            line.append(" → ")
            line.append(status, "bold " + STATUS_STYLES.get(status.upper(), ""))
        else:
            line.append(status.ljust(self.STATUS_WIDTH), STATUS_STYLES.get(status.upper(), ""))
            if call.get("direction"):
                line.append(f"  {plain_value(call['direction']).lower():<8}", "dim")
            if call.get("fromNumber") or call.get("toNumber"):
                numbers = (
                    f"{plain_value(call.get('fromNumber') or '?')} → "
                    f"{plain_value(call.get('toNumber') or '?')}"
                )
                line.append(f"  {numbers}")
            if call.get("agentId") is not None:
                line.append(f"  agent {plain_value(call.get('agentId'))}", "dim")
        if call.get("durationSeconds") is not None:
            length = duration(call.get("durationSeconds"))
            line.append(f" ({length})" if event.kind == "changed" else f"  {length}")
        if call.get("disposition"):
            text = plain_value(call["disposition"])
            line.append(f"  {text}", STATUS_STYLES.get(text.upper(), "green"))
        if call.get("failureReason"):
            line.append(f"  {plain_value(call['failureReason'])}", "red")
        return line

    def summary(self, stats: TailStats, elapsed: float) -> None:
        parts = [f"{self.new} new call(s)", f"{self.changed} status change(s)"]
        parts.append(f"{stats.polls} poll(s)")
        if stats.rate_limited:
            parts.append(f"rate limited {stats.rate_limited} time(s)")
        self.out.notice(f"stopped after {duration(max(0.0, elapsed))}: " + ", ".join(parts))


def capabilities_table(
    out: Output,
    supported: list[Capability],
    dashboard_only: list[Capability],
    *,
    json: bool,
) -> None:
    """Two groups: what the API does (endpoints, commands) and where the dashboard does the
    rest. Piped: `api<TAB>feature<TAB>endpoints<TAB>commands` and
    `dashboard<TAB>feature<TAB>where`."""
    if json:
        out.json_document(
            {
                "api": [
                    {
                        "feature": c.feature,
                        "endpoints": list(c.endpoints),
                        "commands": list(c.commands),
                    }
                    for c in supported
                ],
                "dashboardOnly": [
                    {"feature": c.feature, "dashboard": c.dashboard} for c in dashboard_only
                ],
            }
        )
        return
    if not out.is_tty:
        for c in supported:
            out.write("\t".join(["api", c.feature, ", ".join(c.endpoints), ", ".join(c.commands)]))
        for c in dashboard_only:
            out.write("\t".join(["dashboard", c.feature, c.dashboard or ""]))
        return
    from rich.markup import escape
    from rich.padding import Padding
    from rich.table import Table

    def group(title: str, rows: list[tuple[str, ...]]) -> None:
        table = Table.grid(padding=(0, 2))
        for style in ("", "cyan", "dim")[: len(rows[0]) if rows else 0]:
            table.add_column(style=style)
        for row in rows:
            table.add_row(*(escape(cell) for cell in row))
        out.console.print(title)
        out.console.print(Padding(table, (0, 0, 1, 2)))

    def sentence(text: str) -> str:
        return text[:1].upper() + text[1:]

    def commands(names: tuple[str, ...]) -> str:
        """`zaza calls show, transcript, wait`: the shared noun once."""
        nouns = {name.rsplit(" ", 1)[0] for name in names}
        if len(nouns) != 1:
            return ", ".join(names)
        return f"{nouns.pop()} " + ", ".join(name.rsplit(" ", 1)[1] for name in names)

    group(
        "[bold green]Supported by the ZazaVoice API today[/bold green]",
        [(sentence(c.feature), ", ".join(c.endpoints), commands(c.commands)) for c in supported],
    )
    group(
        "[bold yellow]Dashboard only (not in the API yet), and where[/bold yellow]",
        [(sentence(c.feature), c.dashboard or "") for c in dashboard_only],
    )
    out.console.print(
        "[dim]Endpoints ZazaVoice adds under /v1 before zaza has a command for them: "
        "zaza api METHOD PATH[/dim]"
    )
