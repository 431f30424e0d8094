"""Everything zazacli prints: lists, records and transcripts as table, plain, json, jsonl or csv.

The rule (after gh): data goes to stdout, everything else to stderr. On a terminal,
Rich tables with local, relative times; when piped, headerless tab-separated lines
with RFC 3339 UTC times and no colour; `--json` one document, `--jsonl` a line per
object. Rich is imported only when a terminal table or panel is drawn.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import IO, TYPE_CHECKING, Any

from zazacli.times import parse_time

if TYPE_CHECKING:
    from rich.console import Console


class Format(StrEnum):
    table = "table"
    plain = "plain"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


# ---------------------------------------------------------------- value helpers


def rfc3339(value: Any) -> str:
    """UTC, second precision, `Z`: sortable and stable for scripts."""
    parsed = parse_time(value)
    if parsed is None:
        return "" if value is None else str(value)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def relative(value: datetime, now: datetime | None = None) -> str:
    seconds = ((now or datetime.now(UTC)) - value).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            text = f"{int(seconds // size)}{unit}"
            break
    else:
        text = f"{int(seconds)}s"
    return f"in {text}" if future else f"{text} ago"


def local_time(value: Any, *, short: bool = False) -> str:
    """Local wall-clock time plus age; `short` drops the year, for table columns."""
    parsed = parse_time(value)
    if parsed is None:
        return "" if value is None else str(value)
    if short:
        return f"{parsed.astimezone().strftime('%b %d %H:%M')} · {relative(parsed)[:-4]}"
    return f"{parsed.astimezone().strftime('%Y-%m-%d %H:%M')} ({relative(parsed)})"


def duration(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    total = int(value)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def plain_value(value: Any) -> str:
    """One TSV cell: no tabs or newlines inside, nested values as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


STATUS_STYLES = {
    "COMPLETED": "green",
    "RUNNING": "green",
    "ACTIVE": "green",
    "REACHED": "green",
    "FAILED": "red",
    "NO_ANSWER": "yellow",
    "BUSY": "yellow",
    "PAUSED": "yellow",
    "CANCELED": "dim",
    "DRAFT": "dim",
    "IN_PROGRESS": "cyan",
    "IN_CALL": "cyan",
    "RINGING": "cyan",
    "QUEUED": "blue",
    "PENDING": "blue",
}


# ---------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    kind: str = "text"  # text | id | status | time | duration | bool | phone
    priority: int = 1  # on a narrow terminal, the highest numbers are dropped first

    def raw(self, item: dict[str, Any]) -> Any:
        value: Any = item
        for part in self.key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def plain(self, item: dict[str, Any]) -> str:
        value = self.raw(item)
        return rfc3339(value) if self.kind == "time" else plain_value(value)

    @property
    def no_wrap(self) -> bool:
        """Ids, times and numbers are never folded; free text gives way first."""
        return self.kind in ("id", "time", "status", "phone", "duration")

    def cell(self, item: dict[str, Any], *, short: bool = False) -> str:
        """Rich markup for one table cell."""
        from rich.markup import escape

        value = self.raw(item)
        if value is None:
            return "[dim]-[/dim]"
        if self.kind == "time":
            return escape(local_time(value, short=short))
        if self.kind == "duration":
            return duration(value)
        if self.kind == "bool":
            return "[green]yes[/green]" if value else "[dim]no[/dim]"
        text = escape(plain_value(value))
        if self.kind == "status":
            style = STATUS_STYLES.get(str(value).upper())
            return f"[{style}]{text}[/{style}]" if style else text
        return text


COLUMNS: dict[str, list[Column]] = {
    "agent": [
        Column("ID", "id", "id"),
        Column("NAME", "name"),
        Column("ACTIVE", "isActive", "bool"),
        Column("PERSONALITY", "personality"),
        Column("VOICE", "voiceType"),
    ],
    "campaign": [
        Column("ID", "id", "id"),
        Column("NAME", "name"),
        Column("STATUS", "status", "status"),
        Column("AGENT", "agentId", "id"),
        Column("FROM", "fromNumber", "phone"),
        Column("LEADS", "totalLeads"),
        Column("CREATED", "createdAt", "time"),
    ],
    "call": [
        Column("ID", "id", "id"),
        Column("CREATED", "createdAt", "time"),
        Column("DIRECTION", "direction", priority=5),
        Column("STATUS", "status", "status"),
        Column("FROM", "fromNumber", "phone", priority=4),
        Column("TO", "toNumber", "phone"),
        Column("AGENT", "agentId", "id", priority=3),
        Column("DURATION", "durationSeconds", "duration", priority=2),
        Column("DISPOSITION", "disposition", priority=2),
    ],
}

# Field order for `show` of one record; unknown fields follow in the server's order.
DETAIL_FIELDS: dict[str, list[Column]] = {
    "agent": COLUMNS["agent"] + [Column("GREETING", "greetingMessage")],
    "campaign": COLUMNS["campaign"],
    "call": [
        Column("ID", "id", "id"),
        Column("STATUS", "status", "status"),
        Column("DIRECTION", "direction"),
        Column("FROM", "fromNumber"),
        Column("TO", "toNumber"),
        Column("AGENT", "agentId", "id"),
        Column("CAMPAIGN", "campaignId", "id"),
        Column("DURATION", "durationSeconds", "duration"),
        Column("DISPOSITION", "disposition", "status"),
        Column("FAILURE", "failureReason"),
        Column("CREATED", "createdAt", "time"),
        Column("STARTED", "startedAt", "time"),
        Column("ENDED", "endedAt", "time"),
        Column("RECORDING", "recordingUrl"),
    ],
}


# CSV columns: each kind's known fields first, in this order, whether present or not;
# `NAME.*` stands for the keys of a nested object, in first-seen order. Unknown fields
# follow in first-seen order. Both are read from the first CSV_HEADER_ROWS rows (one API
# page), because the header is written before the rest streams; a field first seen later
# is left out, with one warning at the end.
CSV_FIELDS: dict[str, list[str]] = {
    "agent": ["id", "name", "personality", "voiceType", "isActive", "greetingMessage"],
    "campaign": [
        "id",
        "name",
        "status",
        "agentId",
        "fromNumber",
        "createdAt",
        "totalLeads",
        "leadStats.*",
        "callingHours.start",
        "callingHours.end",
        "callingHours.timezone",
    ],
    "call": [
        "id",
        "direction",
        "status",
        "fromNumber",
        "toNumber",
        "agentId",
        "campaignId",
        "createdAt",
        "startedAt",
        "endedAt",
        "durationSeconds",
        "disposition",
        "failureReason",
        "variables.*",
        "recordingUrl",
    ],
}
CSV_EXCLUDED = frozenset({"turns"})  # transcripts are files: `zaza calls export-transcripts`
CSV_HEADER_ROWS = 100


def flatten(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted keys (`variables.NAME`), for CSV; empty objects vanish."""
    flat: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def csv_header(known: list[str], rows: list[dict[str, Any]]) -> list[str]:
    """Known fields (families expanded from `rows`), then unknown ones as first seen."""
    header: list[str] = []
    seen: set[str] = set()
    parents = {name.rsplit(".", 1)[0] for name in known if "." in name}
    for name in known:
        fields: Iterable[str] = [name]
        if name.endswith(".*"):
            prefix = name[:-1]
            fields = (k for row in rows for k in row if k.startswith(prefix))
        for field in fields:
            if field not in seen:
                seen.add(field)
                header.append(field)
    for row in rows:
        for field in row:
            if field not in seen and _csv_extra(field, parents):
                seen.add(field)
                header.append(field)
    return header


def _csv_extra(field: str, parents: set[str]) -> bool:
    """An unknown field gets a column, unless it is a transcript or a known object's parent
    (`variables: null` is not a column: its keys are)."""
    return field.split(".", 1)[0] not in CSV_EXCLUDED and field not in parents


# ---------------------------------------------------------------- the printer


class Output:
    """Built once per command by the context; reads the streams at call time."""

    def __init__(
        self,
        *,
        no_color: bool = False,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
    ) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        forced = os.environ.get("ZAZA_FORCE_TTY", "") not in ("", "0")
        self.is_tty = forced or _isatty(self.stdout)
        self.err_tty = _isatty(self.stderr)
        self.color = not (no_color or os.environ.get("NO_COLOR"))
        self._console: Console | None = None
        self._err_console: Console | None = None

    # ------------------------------------------------------------ streams

    @property
    def console(self) -> Console:
        if self._console is None:
            self._console = self._make_console(self.stdout, self.is_tty)
        return self._console

    @property
    def err_console(self) -> Console:
        if self._err_console is None:
            self._err_console = self._make_console(self.stderr, self.err_tty)
        return self._err_console

    def _make_console(self, file: IO[str], tty: bool) -> Console:
        from rich.console import Console

        return Console(
            file=file,
            force_terminal=tty,
            no_color=not self.color,
            highlight=False,
            emoji=False,
            soft_wrap=not tty,
        )

    def write(self, line: str = "") -> None:
        self.stdout.write(line + "\n")

    def notice(self, message: str) -> None:
        """A human-facing line on stderr (never part of the data)."""
        self.stderr.write(message + "\n")
        self.stderr.flush()

    def warn(self, message: str) -> None:
        prefix = "\x1b[33mwarning:\x1b[0m" if self.err_tty and self.color else "warning:"
        self.notice(f"{prefix} {message}")

    def choose(self, *, json: bool = False, jsonl: bool = False, csv: bool = False) -> Format:
        if json:
            return Format.json
        if jsonl:
            return Format.jsonl
        if csv:
            return Format.csv
        return Format.table if self.is_tty else Format.plain

    # ------------------------------------------------------------ data

    def json_document(self, data: Any) -> None:
        self.write(json.dumps(data, indent=2, ensure_ascii=False))

    def rows(
        self,
        items: Iterable[dict[str, Any]],
        kind: str,
        fmt: Format,
        *,
        empty_message: str = "no results",
    ) -> int:
        """Print a list; returns how many items were printed. Streams except for tables."""
        columns = COLUMNS[kind]
        count = 0
        if fmt is Format.table:
            rows = list(items)
            count = len(rows)
            if not rows:
                self.notice(empty_message)
                return 0
            from rich.table import Table

            cells = [[column.cell(item, short=True) for column in columns] for item in rows]
            keep = self._fitting_columns(columns, cells)
            table = Table(box=None, header_style="bold", pad_edge=False)
            for index in keep:
                table.add_column(columns[index].header, no_wrap=columns[index].no_wrap)
            for row in cells:
                table.add_row(*(row[index] for index in keep))
            self.console.print(table)
            return count
        if fmt is Format.json:
            # A streamed array: valid JSON, constant memory, `[]` when empty.
            self.stdout.write("[")
            for item in items:
                self.stdout.write(",\n" if count else "\n")
                self.stdout.write(json.dumps(item, ensure_ascii=False))
                count += 1
            self.stdout.write("\n]\n" if count else "]\n")
            return count
        if fmt is Format.jsonl:
            for item in items:
                self.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
                count += 1
            return count
        if fmt is Format.csv:
            return self.csv_rows(items, CSV_FIELDS.get(kind, [c.key for c in columns]))
        for item in items:
            self.stdout.write("\t".join(column.plain(item) for column in columns) + "\n")
            count += 1
        return count

    def _fitting_columns(self, columns: list[Column], cells: list[list[str]]) -> list[int]:
        """Indexes of the columns to show: drop low-priority ones until the rest fit."""
        from rich.text import Text

        widths = [
            max([len(column.header)] + [Text.from_markup(row[i]).cell_len for row in cells]) + 2
            for i, column in enumerate(columns)
        ]
        keep = list(range(len(columns)))
        by_priority = sorted(keep, key=lambda i: (-columns[i].priority, -i))
        for index in by_priority:
            if sum(widths[i] for i in keep) <= self.console.width or columns[index].priority == 1:
                break
            keep.remove(index)
        return keep

    def csv_rows(
        self,
        items: Iterable[dict[str, Any]],
        known: list[str],
        *,
        header_rows: int = CSV_HEADER_ROWS,
    ) -> int:
        """RFC 4180 (CRLF, minimal quoting) in UTF-8 with a header row; streams.

        The header (see CSV_FIELDS) is fixed from the first `header_rows` rows, which are
        the only ones buffered; fields first seen later are left out, named in a warning.
        """
        from itertools import chain, islice

        iterator: Iterator[dict[str, Any]] = iter(items)
        first_rows = [flatten(item) for item in islice(iterator, header_rows)]
        header = csv_header(known, first_rows)
        columns = set(header)
        parents = {name.rsplit(".", 1)[0] for name in known if "." in name}
        late: dict[str, None] = {}
        _ensure_utf8(self.stdout)
        writer = csv.writer(self.stdout, lineterminator="\r\n")
        writer.writerow(header)
        count = 0
        for flat in chain(first_rows, (flatten(item) for item in iterator)):
            writer.writerow([_csv_cell(flat.get(name)) for name in header])
            count += 1
            if count > header_rows:
                for field in flat:
                    if field not in columns and field not in late and _csv_extra(field, parents):
                        late[field] = None
        if late:
            names = list(late)
            shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
            self.warn(
                f"{len(names)} field(s) first seen after row {header_rows} are not in the CSV "
                f"header: {shown} (--jsonl keeps every field)"
            )
        return count

    def record(self, item: dict[str, Any], kind: str, fmt: Format) -> None:
        """One object: key/value lines when piped, a Rich panel on a terminal."""
        if fmt in (Format.json, Format.jsonl):
            if fmt is Format.jsonl:
                self.write(json.dumps(item, ensure_ascii=False))
            else:
                self.json_document(item)
            return
        if fmt is Format.csv:
            self.csv_rows([item], CSV_FIELDS.get(kind, [c.key for c in COLUMNS[kind]]))
            return
        fields = DETAIL_FIELDS[kind]
        shown = {c.key.split(".")[0] for c in fields}
        extra = [
            Column(k, k)
            for k, v in item.items()
            if k not in shown and k != "turns" and not isinstance(v, dict | list)
        ]
        if fmt is Format.plain:
            for column in fields + extra:
                self.write(f"{column.key}\t{column.plain(item)}")
            return
        from rich.table import Table

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for column in fields + extra:
            if column.raw(item) is not None:
                label = column.header.title() if column in fields else column.header
                grid.add_row(label, column.cell(item))
        from rich.markup import escape
        from rich.panel import Panel

        title = f"[bold]{kind} {escape(plain_value(item.get('id')))}[/bold]"
        self.console.print(Panel(grid, title=title, title_align="left", expand=False))

    def section(self, title: str) -> None:
        if self.is_tty:
            self.console.print(f"\n[bold]{title}[/bold]")
        else:
            self.write(f"\n# {title}")

    def key_values(self, pairs: Iterable[tuple[str, Any]], *, style: str = "") -> None:
        """Small labelled tables (lead stats, calling hours)."""
        pairs = [(k, v) for k, v in pairs]
        if not self.is_tty:
            for key, value in pairs:
                self.write(f"{key}\t{plain_value(value)}")
            return
        from rich.table import Table

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for key, value in pairs:
            grid.add_row(str(key), str(value))
        self.console.print(grid)

    def bars(
        self, counts: list[tuple[str, int]], total: int | None = None, width: int = 30
    ) -> None:
        """Horizontal bars with count and share; plain TSV when piped."""
        total = total if total else sum(n for _, n in counts) or 1
        if not self.is_tty:
            for key, value in counts:
                self.write(f"{key}\t{value}\t{value / total:.4f}")
            return
        from rich.markup import escape
        from rich.table import Table

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column(justify="right")
        grid.add_column(justify="right")
        grid.add_column()
        for key, value in counts:
            share = value / total
            bar = "█" * round(share * width)
            style = STATUS_STYLES.get(key.upper(), "cyan")
            grid.add_row(escape(key), str(value), f"{share:.0%}", f"[{style}]{bar}[/{style}]")
        self.console.print(grid)

    # ------------------------------------------------------------ transcripts

    def transcript(self, call: dict[str, Any], fmt: str) -> None:
        """`text`, `json` or `srt` for files and tools; `chat` is the terminal view."""
        turns = transcript_turns(call)
        if fmt == "json":
            self.json_document(turns)
        elif fmt == "srt":
            self.stdout.write(to_srt(call, turns))
        elif fmt == "chat" and self.is_tty:
            self._chat(call, turns)
        else:
            for line in transcript_lines(call, turns):
                self.write(line)

    def _chat(self, call: dict[str, Any], turns: list[dict[str, Any]]) -> None:
        from rich.padding import Padding
        from rich.text import Text

        if not turns:
            self.console.print("[dim](no transcript)[/dim]")
            return
        width = self.console.width
        indent = max(4, width // 4)
        origin = transcript_origin(call, turns)
        for turn in turns:
            role = str(turn.get("role") or "?")
            offset = format_offset(turn_offset(turn, origin))
            text = str(turn.get("text") or "")
            if role.upper() == "AGENT":
                head = Text.assemble((f"{role} ", "bold cyan"), (offset, "dim"))
                body = Text(text)
                self.console.print(Padding(head, (0, indent, 0, 0)))
                self.console.print(Padding(body, (0, indent, 1, 2)))
            elif role.upper() in ("CALLER", "USER", "CUSTOMER", "HUMAN"):
                head = Text.assemble((offset, "dim"), (f" {role}", "bold magenta"), justify="right")
                body = Text(text, justify="right")
                self.console.print(Padding(head, (0, 0, 0, indent)))
                self.console.print(Padding(body, (0, 2, 1, indent)))
            else:
                line = Text.assemble((f"{offset} {role}: ", "dim bold"), (text, "dim italic"))
                self.console.print(Padding(line, (0, indent // 2, 1, indent // 2)))


def _ensure_utf8(stream: IO[str]) -> None:
    """CSV is promised in UTF-8 whatever the locale (PYTHONIOENCODING, LANG=…ISO-8859-1)."""
    encoding = str(getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "")
    reconfigure = getattr(stream, "reconfigure", None)
    if encoding.replace("_", "") != "utf8" and reconfigure is not None:
        try:
            reconfigure(encoding="utf-8")
        except (ValueError, OSError):
            pass


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------- transcript helpers


def transcript_turns(call: dict[str, Any]) -> list[dict[str, Any]]:
    turns = call.get("turns")
    if not isinstance(turns, list):
        return []
    return [t for t in turns if isinstance(t, dict)]


def transcript_origin(call: dict[str, Any], turns: list[dict[str, Any]]) -> datetime | None:
    """Offsets count from the call's start, else from its first timed turn."""
    start = parse_time(call.get("startedAt"))
    if start is not None:
        return start
    for turn in turns:
        stamp = parse_time(turn.get("timestamp"))
        if stamp is not None:
            return stamp
    return None


def turn_offset(turn: dict[str, Any], origin: datetime | None) -> float | None:
    stamp = parse_time(turn.get("timestamp"))
    if stamp is None or origin is None:
        return None
    return max(0.0, (stamp - origin).total_seconds())


def format_offset(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


def transcript_lines(call: dict[str, Any], turns: list[dict[str, Any]] | None = None) -> list[str]:
    """`[mm:ss] ROLE: text`, one turn a line (newlines inside a turn folded)."""
    turns = transcript_turns(call) if turns is None else turns
    origin = transcript_origin(call, turns)
    lines = []
    for turn in turns:
        text = " ".join(str(turn.get("text") or "").split())
        role = turn.get("role") or "?"
        lines.append(f"[{format_offset(turn_offset(turn, origin))}] {role}: {text}")
    return lines


def _srt_time(seconds: float) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def to_srt(call: dict[str, Any], turns: list[dict[str, Any]] | None = None) -> str:
    """SubRip cues: each turn lasts until the next one starts (or ~reading time)."""
    turns = transcript_turns(call) if turns is None else turns
    origin = transcript_origin(call, turns)
    offsets: list[float] = []
    previous = 0.0
    for turn in turns:
        offset = turn_offset(turn, origin)
        previous = previous if offset is None else max(previous, offset)
        offsets.append(previous)
    blocks = []
    for index, turn in enumerate(turns):
        text = str(turn.get("text") or "").strip()
        start = offsets[index]
        reading = max(1.0, min(10.0, len(text) / 15))
        end = offsets[index + 1] if index + 1 < len(turns) else start + reading
        if end <= start:
            end = start + reading
        role = turn.get("role") or "?"
        blocks.append(f"{index + 1}\n{_srt_time(start)} --> {_srt_time(end)}\n{role}: {text}\n")
    return "\n".join(blocks)


# ================================================================ webhook events
# For `zaza webhooks`. The event lines are the data of `listen` (stdout: a coloured line
# per event on a terminal, the saved JSON object per line otherwise); the banner,
# notices about bad requests and the summary go to stderr.

if TYPE_CHECKING:
    from zazacli.webhooks.delivery import DeliveryResult
    from zazacli.webhooks.listener import ListenerStats, Notice, ReceivedEvent

SIGNATURE_MARKS = {
    "valid": ("✓", "bold green"),
    "invalid": ("✗", "bold red"),
    "unchecked": ("unsigned-check off", "dim"),
}
FLAG_TEXT = {
    "stale-timestamp": "timestamp over 5 min old: possible replay",
    "future-timestamp": "timestamp over 5 min in the future: clock skew?",
    "no-timestamp": "no readable timestamp",
    "event-mismatch": "X-ZazaVoice-Event differs from the body's event",
    "unknown-type": "not a documented event type",
    "no-signature": "no X-ZazaVoice-Signature header",
}
EVENT_TYPE_WIDTH = len("campaign.lead.updated")


def _short(value: Any, limit: int = 60) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clock(value: str) -> str:
    parsed = parse_time(value)
    return parsed.astimezone().strftime("%H:%M:%S") if parsed else value


def webhook_fields(event: str, data: Any) -> list[tuple[str, str]]:
    """The fields that matter for each event type, as (text, style) pieces; absent ones skipped."""
    if not isinstance(data, dict):
        return [(_short(json.dumps(data, ensure_ascii=False), 100), "dim")]

    def get(key: str) -> Any:
        return data.get(key)

    def status(value: Any) -> tuple[str, str]:
        return str(value), STATUS_STYLES.get(str(value).upper(), "")

    pieces: list[tuple[str, str]] = []
    if event.startswith("call."):
        pieces.append((f"call {get('id')}", "bold"))
        if get("status") is not None:
            pieces.append(status(get("status")))
        if get("direction"):
            pieces.append((str(get("direction")).lower(), "dim"))
        if get("fromNumber") or get("toNumber"):
            pieces.append((f"{get('fromNumber') or '?'} → {get('toNumber') or '?'}", ""))
        if get("durationSeconds") is not None:
            pieces.append((duration(get("durationSeconds")), ""))
        if get("disposition"):
            pieces.append(status(get("disposition")))
        if get("failureReason"):
            pieces.append((_short(get("failureReason")), "red"))
    elif event == "campaign.lead.updated":
        pieces.append((f"lead {get('leadId')}", "bold"))
        pieces.append((f"campaign {get('campaignId')}", ""))
        if get("status") is not None:
            pieces.append(status(get("status")))
        if get("lastDisposition"):
            pieces.append((f"({get('lastDisposition')})", ""))
        if get("targetName"):
            pieces.append((_short(get("targetName"), 30), ""))
    elif event == "sms.received":
        pieces.append((f"sms from {get('fromNumber') or '?'}", "bold"))
        if get("toNumber"):
            pieces.append((f"to {get('toNumber')}", "dim"))
        pieces.append((json.dumps(_short(get("body") or ""), ensure_ascii=False), ""))
    elif event == "appointment.created":
        pieces.append((f"appointment {get('id')}", "bold"))
        if get("startsAt"):
            minutes = get("durationMinutes")
            length = f" for {minutes} min" if minutes is not None else ""
            pieces.append((f"at {local_time(get('startsAt'))}{length}", ""))
        if get("attendeeName") or get("attendeePhone"):
            who = " ".join(str(v) for v in (get("attendeeName"), get("attendeePhone")) if v)
            pieces.append((f"with {who}", ""))
        if get("callId") is not None:
            pieces.append((f"(call {get('callId')})", "dim"))
    else:
        pieces.append((_short(json.dumps(data, ensure_ascii=False), 100), "dim"))
    return pieces


def delivery_text(result: DeliveryResult) -> tuple[str, str]:
    """`200 OK 12 ms` in green, or the status / network error and the body's first line in red."""
    if result.status is None:
        return f"{result.error} ({result.latency_ms:.0f} ms)", "red"
    text = f"{result.status} {result.reason} {result.latency_ms:.0f} ms".replace("  ", " ")
    if result.ok:
        return text, "green"
    first = result.first_line()
    return (f"{text}: {first}" if first else text), "red"


class WebhookPrinter:
    """Shows the listener's events and notices; called from its single worker thread."""

    def __init__(self, out: Output, *, jsonl: bool, print_body: bool) -> None:
        self.out = out
        self.jsonl = jsonl
        self.print_body = print_body
        self._stdout_gone = False

    def event(self, event: ReceivedEvent, forward: DeliveryResult | None) -> None:
        if self._stdout_gone:
            return
        try:
            if self.jsonl:
                line = event.line
                if forward is not None:
                    line = json.dumps({**event.record, "forward": forward.as_dict()},
                                      ensure_ascii=False)
                self.out.stdout.write(line + "\n")
                self.out.stdout.flush()
            else:
                self._terminal_line(event, forward)
        except BrokenPipeError:
            # `listen | head`: the reader left. Keep acknowledging and saving; say so once.
            self._stdout_gone = True
            _silence(self.out.stdout)
            self.out.warn("stdout was closed; still listening (and saving, if --save)")

    def _terminal_line(self, event: ReceivedEvent, forward: DeliveryResult | None) -> None:
        from rich.text import Text

        record = event.record
        mark, mark_style = SIGNATURE_MARKS.get(event.signature, (event.signature, ""))
        line = Text()
        line.append(_clock(str(record.get("received_at", ""))), "dim")
        line.append("  ")
        line.append(mark, mark_style)
        line.append(" ")
        line.append(event.event.ljust(EVENT_TYPE_WIDTH), "bold")
        body = record.get("body")
        data = body.get("data") if isinstance(body, dict) else None
        for text, style in webhook_fields(event.event, data):
            line.append("  ")
            line.append(text, style)
        if event.status >= 300:
            line.append(f"  answered {event.status}", "red")
        for flag in record.get("flags", ()):
            line.append(f"  ⚠ {FLAG_TEXT.get(flag, flag)}", "yellow")
        if forward is not None:
            text, style = delivery_text(forward)
            line.append("  → app ", "dim")
            line.append(text, style)
        console = self.out.console
        console.print(line)
        if self.print_body:
            console.print_json(record.get("raw") or json.dumps(body), indent=2)

    def notice(self, notice: Notice) -> None:
        """A request that was not an event (404, 400, 413 …), or a listener problem: stderr."""
        now = datetime.now().strftime("%H:%M:%S")
        where = " ".join(str(p) for p in (notice.status, notice.method, notice.path) if p)
        source = f" from {notice.client}" if notice.client else ""
        self.out.warn(f"{now}  {where}{source}: {notice.message}" if where else notice.message)


def _silence(stream: IO[str]) -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def webhook_listen_banner(
    out: Output,
    *,
    url: str,
    port: int,
    path: str,
    exposed: bool,
    secret_source: str | None,
    patterns: list[str] | None,
    save: str | None,
    forward_to: str | None,
) -> None:
    """stderr: the parseable `listening on URL` line, then how to reach it and what it does."""
    out.notice(f"listening on {url}")
    if secret_source:
        out.notice(f"  signatures: checked with the secret from {secret_source}")
    else:
        out.notice(
            "  signatures: not checked, no secret (use --secret, ZAZA_WEBHOOK_SECRET or the "
            "profile's webhook_secret); events are marked 'unsigned-check off'"
        )
    if patterns:
        out.notice(f"  showing:    {', '.join(patterns)} (other events are acknowledged"
                   f"{' and saved' if save else ''}, not shown)")
    if save:
        out.notice(f"  saving to:  {save} (appending)")
    if forward_to:
        out.notice(f"  forwarding: to {forward_to}")
    local = f"http://127.0.0.1:{port}{path}"
    out.notice(f"  from the sandbox: zaza sandbox --webhook-url {local}")
    out.notice("                    (give both the same ZAZA_WEBHOOK_SECRET)")
    if exposed:
        out.notice(f"  from a container: http://host.docker.internal:{port}{path}")
    out.notice(
        f"  from ZazaVoice:   run an HTTPS tunnel to port {port} yourself, e.g.\n"
        f"                      cloudflared tunnel --url http://localhost:{port}\n"
        f"                      ngrok http {port}\n"
        f"                    then set https://<tunnel host>{path} as the endpoint URL in "
        "the dashboard (Webhooks)"
    )
    out.notice("Ready for events. Ctrl-C to stop.")


def webhook_listen_summary(out: Output, stats: ListenerStats, save: str | None) -> None:
    checked = f"{stats.valid} valid, {stats.invalid} invalid"
    if stats.unchecked:
        checked += f", {stats.unchecked} unchecked"
    parts = [f"received {stats.received} ({checked})"]
    if stats.filtered_out:
        parts.append(f"{stats.filtered_out} not shown (--events)")
    if stats.forwarded_ok or stats.forwarded_failed:
        parts.append(f"forwarded {stats.forwarded_ok} ok / {stats.forwarded_failed} failed")
    if stats.rejected:
        parts.append(f"{stats.rejected} bad requests rejected")
    if save:
        parts.append(f"saved to {save}")
    out.notice("\nstopped: " + "; ".join(parts))


def webhook_event_types(out: Output, types: dict[str, str], fmt: Format) -> None:
    """`zaza webhooks events`: the six types, one line each."""
    if fmt is Format.json:
        out.json_document([{"event": k, "description": v} for k, v in types.items()])
        return
    width = max(len(k) for k in types)
    for name, description in types.items():
        out.write(f"{name.ljust(width)}  {description}" if out.is_tty else f"{name}\t{description}")


def webhook_delivery(out: Output, label: str, event: str, result: DeliveryResult) -> None:
    """One line per sent event (trigger, replay): what was sent and what came back."""
    if not out.is_tty:
        status = "" if result.status is None else str(result.status)
        detail = result.error or ("" if result.ok else result.first_line())
        latency = f"{result.latency_ms:.1f}"
        out.write("\t".join([label, event, status, latency, plain_value(detail)]))
        return
    from rich.text import Text

    text, style = delivery_text(result)
    line = Text()
    line.append(label, "dim")
    line.append("  ")
    line.append(event.ljust(EVENT_TYPE_WIDTH), "bold")
    line.append("  → ")
    line.append(text, style)
    out.console.print(line)


def response_body(out: Output, result: DeliveryResult) -> None:
    """The target's answer body: pretty JSON when it is JSON, else the text."""
    text = result.body.decode("utf-8", "replace")
    if not text.strip():
        return
    try:
        pretty = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        pretty = text.rstrip("\n")
    out.write(pretty)


# ================================================================ dispatch, wait and batch
# For `zaza calls dispatch|wait|batch`. Data on stdout: the call id, the final call, the
# dry-run plan, or one JSON line per batch row when piped. The live status line, the
# progress bar, problem rows and the batch summary go to stderr, worded to read well in
# a cron log the next morning.

if TYPE_CHECKING:
    from zazacli.batch import BatchReport

# Row statuses of a batch that are problems worth a line on stderr.
BATCH_PROBLEM_STATUSES = frozenset({"invalid", "duplicate", "failed", "unknown", "deferred"})


def dispatch_plan(out: Output, pairs: list[tuple[str, Any]]) -> None:
    """`--dry-run`: what would be sent, as labelled lines (no markup taken from values)."""
    if out.is_tty:
        from rich.markup import escape

        pairs = [(escape(key), escape(plain_value(value))) for key, value in pairs]
    out.key_values(pairs)


def _elapsed_text(seconds: float) -> str:
    minutes, secs = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class CallStatusLine:
    """`call 90512  RINGING 0:07`, redrawn in place on stderr while a call is followed.

    Only on a terminal: in a log nothing is written until the final result.
    """

    def __init__(self, out: Output, call_id: Any) -> None:
        self.out = out
        self.call_id = call_id
        self.status = "…"
        self._origin = time.time()
        self._live: Any = None

    def __enter__(self) -> CallStatusLine:
        if self.out.err_tty:
            from rich.live import Live

            self._live = Live(
                self, console=self.out.err_console, refresh_per_second=4, transient=True
            )
            self._live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def update(self, call: dict[str, Any]) -> None:
        self.status = str(call.get("status") or "?")
        created = parse_time(call.get("createdAt"))
        if created is not None:
            # The call's own age; a server clock ahead of ours must not show negative time.
            self._origin = min(created.timestamp(), time.time())

    def __rich__(self) -> Any:
        from rich.text import Text

        style = STATUS_STYLES.get(self.status.upper(), "bold")
        return Text.assemble(
            (f"call {self.call_id}  ", "dim"),
            (self.status, f"bold {style}"),
            f" {_elapsed_text(time.time() - self._origin)}",
        )


class BatchProgress:
    """What a batch shows while it runs: a Rich progress bar on a terminal's stderr; one
    JSON line per row on stdout when `jsonl`; problem rows as lines on stderr; and in a
    log (stderr not a terminal) a progress line every 30 seconds."""

    LOG_EVERY = 30.0

    def __init__(self, out: Output, total: int, *, jsonl: bool) -> None:
        self.out = out
        self.total = total
        self.jsonl = jsonl
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._progress: Any = None
        self._task: Any = None
        self._started = time.monotonic()
        self._last_log = self._started

    def __enter__(self) -> BatchProgress:
        if self.out.err_tty:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]batch"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TextColumn("[dim]{task.fields[rate]}"),
                TimeRemainingColumn(),
                console=self.out.err_console,
            )
            self._progress.start()
            self._task = self._progress.add_task("batch", total=self.total, **self._fields())
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _fields(self) -> dict[str, str]:
        c = self.counts
        sent = c["queued"] + c["reconciled"] + c["failed"] + c["unknown"]
        queued = c["queued"] + c["reconciled"] + c["skipped"]
        skipped = c["skipped"] + c["invalid"] + c["duplicate"] + c["deferred"]
        elapsed = time.monotonic() - self._started
        new = c["queued"] + c["reconciled"]
        rate = f"{new / elapsed:.1f}/s" if new and elapsed > 0 else ""
        counts = f"sent {sent} · queued {queued} · failed {c['failed'] + c['unknown']} · "
        return {"counts": counts + f"skipped {skipped}", "rate": rate}

    def result(self, row: dict[str, Any]) -> None:
        """One row's result (called from worker threads)."""
        with self._lock:
            self.counts[row["status"]] += 1
            if self.jsonl:
                self.out.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
                self.out.stdout.flush()
            if row["status"] in BATCH_PROBLEM_STATUSES:
                who = "" if row["status"] in ("invalid", "duplicate") else f" {row['to']}"
                self._line(f"line {row['line']}{who}: {row['status']}: {row.get('error')}")
            if self._progress is not None:
                self._progress.update(self._task, advance=1, **self._fields())
            elif time.monotonic() - self._last_log >= self.LOG_EVERY:
                self._last_log = time.monotonic()
                done = sum(self.counts.values())
                fields = self._fields()
                self._line(
                    f"progress: {done}/{self.total} rows, {fields['counts']} {fields['rate']}"
                )

    def notice(self, message: str) -> None:
        with self._lock:
            self._line(message)

    def _line(self, message: str) -> None:
        if self._progress is not None:
            from rich.markup import escape

            self._progress.console.print(escape(message), highlight=False)
        else:
            self.out.notice(message)


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def batch_summary(out: Output, report: BatchReport, resume_command: str) -> None:
    """The closing lines on stderr: counts, rate, journal, and how to resume."""
    c = report.counts
    finished = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    problems = [f"{c[s]} {s}" for s in ("invalid", "duplicate") if c[s]]
    found = f" ({c['reconciled']} found in GET /calls after a lost answer)"
    lines = [
        f"batch {report.csv_path.name} finished {finished} after "
        f"{_elapsed_text(report.elapsed)}: {report.queued} of {report.valid} valid rows queued"
        + (f" ({', '.join(problems)} rows skipped)" if problems else ""),
        f"  queued now: {c['queued'] + c['reconciled']}"
        + (found if c["reconciled"] else "")
        + f"; already queued by an earlier run: {c['skipped']}",
    ]
    missing = [
        (c["failed"], "failed (refused by the API; nothing queued)"),
        (c["unknown"], "outcome unknown (check before re-sending: zaza calls list)"),
        (c["deferred"], "deferred (callee's quiet hours)"),
        (report.not_sent, "not sent"),
    ]
    if any(n for n, _ in missing):
        lines.append("  not queued: " + "; ".join(f"{n} {text}" for n, text in missing if n))
    rate = report.achieved_rate
    pace = f"  rate: {rate:.1f} calls/s" if rate else "  rate: -"
    pace += f" (target {report.target_rate:g}/s)"
    if report.rate_limited:
        pace += (
            f"; rate limited {_times(report.rate_limited)} (HTTP 429), "
            f"slowed down {_times(report.slowdowns)}"
        )
    lines.append(pace)
    lines.append(f"  journal: {report.journal_path}")
    if report.ok:
        lines.append("  every valid row is queued")
    else:
        lines.append(
            f"  to resume, re-run the same command: {resume_command}\n"
            "  (rows already queued are skipped; rows in doubt are looked up in GET /calls first)"
        )
    for line in lines:
        out.notice(line)


# ================================================================ reports: stats, export
# For `zaza calls stats` and `zaza calls export-transcripts` (zazacli/reports.py computes).
# Stats on stdout: a Rich table with bars (and a chart over time for --by day|hour) on a
# terminal, headerless TSV when piped (the summary line then goes to stderr), `--json`,
# `--csv`. Export: a progress bar on a terminal's stderr (a line every 30 s in a log), then
# the summary on stderr; `--json` puts the summary on stdout as well.

if TYPE_CHECKING:
    from zazacli.reports import ExportSummary, Outcome

# The columns of `calls stats --csv`, and of its TSV (headerless) when piped.
STATS_FIELDS = [
    "key",
    "name",
    "count",
    "share",
    "median_duration_s",
    "p90_duration_s",
    "answered",
    "ended_outbound",
    "answer_rate",
    "talk_minutes",
]
BLOCKS = " ▁▂▃▄▅▆▇█"
CHART_HEIGHT = 8
SHOW_FAILURES = 20


def transcript_file(call: dict[str, Any], fmt: str) -> str:
    """A transcript file's content: exactly what `zaza calls transcript -f FMT` prints."""
    turns = transcript_turns(call)
    if fmt == "json":
        return json.dumps(turns, indent=2, ensure_ascii=False) + "\n"
    if fmt == "srt":
        return to_srt(call, turns)
    return "".join(line + "\n" for line in transcript_lines(call, turns))


def _percent(value: Any) -> str:
    return "-" if value is None else f"{value:.1%}"


def _stats_key_text(key: Any, by: str) -> str:
    """Table label of a group key: weekday for days, short local time for hours."""
    if key is None:
        return "(no time)" if by in ("day", "hour") else "(none)"
    if by == "day":
        return datetime.fromisoformat(str(key)).strftime("%a %Y-%m-%d")
    if by == "hour":
        return datetime.fromisoformat(str(key)).strftime("%a %m-%d %H:00")
    return str(key)


def _range_text(report: dict[str, Any]) -> str:
    def day(value: Any) -> str:
        parsed = parse_time(value)
        return parsed.astimezone().strftime("%Y-%m-%d %H:%M") if parsed else "?"

    since, until = report.get("since"), report.get("until")
    if since and until:
        return f"{day(since)} → {day(until)}"
    if since:
        return f"since {day(since)}"
    if until:
        return f"before {day(until)}"
    return "all time"


def stats_summary_line(report: dict[str, Any]) -> str:
    """One line: total, answer rate, talk time, median and p90 durations."""
    parts = [f"{report['total']:,} calls"]
    if report.get("ended_outbound"):
        parts.append(
            f"answer rate {_percent(report['answer_rate'])} "
            f"({report['answered']:,} of {report['ended_outbound']:,} ended outbound)"
        )
    else:
        parts.append("answer rate - (no ended outbound calls)")
    parts.append(f"talk {report['talk_minutes']:,.1f} min")
    if report.get("median_duration_s") is not None:
        parts.append(
            f"median {duration(report['median_duration_s'])}, "
            f"p90 {duration(report['p90_duration_s'])}"
        )
    return " · ".join(parts)


def stats_report(out: Output, report: dict[str, Any], fmt: Format) -> None:
    """`calls stats` in the chosen format."""
    if fmt in (Format.json, Format.jsonl):
        out.json_document(report)
        return
    if fmt is Format.csv:
        out.csv_rows(report["groups"], STATS_FIELDS)
        return
    if fmt is Format.plain:
        for group in report["groups"]:
            out.write("\t".join(plain_value(group.get(name)) for name in STATS_FIELDS))
        out.notice(stats_summary_line(report))
        return
    _stats_table(out, report)


def _stats_table(out: Output, report: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    by = report["by"]
    groups = report["groups"]
    zone = report.get("timezone")
    where = f" (local time, {zone})" if by in ("day", "hour") and zone else ""
    out.console.print(f"[bold]Calls by {by}[/bold] · {escape(_range_text(report))}{where}")
    out.console.print(escape(stats_summary_line(report)))
    if report["total"] == 0:
        out.notice("no calls match")
        return
    timeline = by in ("day", "hour")
    if timeline:
        out.console.print()
        _time_chart(out, [g for g in groups if g["key"] is not None], by)
    out.console.print()
    has_names = any("name" in g for g in groups)
    show_rate = by not in ("status", "disposition")
    width = max(10, min(30, out.console.width - 75))
    peak = max((g["count"] for g in groups), default=0) or 1
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column(by.upper(), no_wrap=True)
    if has_names:
        table.add_column("NAME")
    table.add_column("CALLS", justify="right", no_wrap=True)
    table.add_column("SHARE", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    if show_rate:
        table.add_column("ANSWERED", justify="right", no_wrap=True)
    table.add_column("MEDIAN", justify="right", no_wrap=True)
    table.add_column("P90", justify="right", no_wrap=True)
    table.add_column("TALK MIN", justify="right", no_wrap=True)
    for group in groups:
        count = group["count"]
        # Over time each bar is against the busiest bucket, so a dip stands out; otherwise
        # against the total, so the bars read as shares.
        fraction = count / peak if timeline else group["share"]
        cells = round(fraction * width)
        key_text = escape(_stats_key_text(group["key"], by))
        style = STATUS_STYLES.get(str(group["key"]).upper(), "cyan") if not timeline else "cyan"
        if by in ("status", "disposition") and group["key"] is not None:
            key_text = f"[{style}]{key_text}[/{style}]"
        weekend = by == "day" and key_text[:3] in ("Sat", "Sun")
        row = [f"[dim]{key_text}[/dim]" if weekend else key_text]
        if has_names:
            row.append(escape(str(group.get("name") or "-")))
        row += [
            f"{count:,}",
            f"{group['share']:.0%}",
            f"[{style}]{'█' * cells}[/{style}]" if cells else ("[dim]·[/dim]" if not count else ""),
        ]
        if show_rate:
            row.append(_percent(group["answer_rate"]))
        row += [
            duration(group["median_duration_s"]) if group["median_duration_s"] is not None else "-",
            duration(group["p90_duration_s"]) if group["p90_duration_s"] is not None else "-",
            f"{group['talk_minutes']:,.1f}",
        ]
        table.add_row(*row)
    out.console.print(table)


def _time_chart(out: Output, groups: list[dict[str, Any]], by: str) -> None:
    """Calls per day or hour as columns, oldest left; skipped when it would not fit."""
    from rich.text import Text

    counts = [int(g["count"]) for g in groups]
    if not counts:
        return
    peak = max(counts)
    axis = max(len(f"{peak:,}"), 1)
    room = out.console.width - axis - 2
    if len(counts) > room:
        out.console.print("[dim](too many buckets for a chart; the bars below are in order)[/dim]")
        return
    step = 2 if len(counts) * 2 <= room else 1
    eighths = [0 if not c else max(1, round(c / (peak or 1) * CHART_HEIGHT * 8)) for c in counts]
    chart = Text()
    for level in range(CHART_HEIGHT, 0, -1):
        label = f"{peak:,}" if level == CHART_HEIGHT else ""
        chart.append(label.rjust(axis) + (" ┤" if level == CHART_HEIGHT else " │"), "dim")
        for filled in eighths:
            part = min(8, max(0, filled - (level - 1) * 8))
            chart.append(BLOCKS[part] + (" " if step == 2 else ""), "cyan")
        chart.append("\n")
    chart.append("0".rjust(axis) + " └" + "─" * (len(counts) * step) + "\n", "dim")
    first, last = (_stats_key_text(groups[i]["key"], by)[4:] for i in (0, -1))
    span = len(counts) * step
    if len(first) + len(last) + 1 <= span:
        labels = first + last.rjust(span - len(first))
    else:
        labels = first
    chart.append(" " * (axis + 2) + labels, "dim")
    out.console.print(chart)


class ExportProgress:
    """A progress bar on a terminal's stderr while transcripts are exported; in a log, a
    line every 30 seconds. API notices (429 retries) are printed above the bar."""

    LOG_EVERY = 30.0

    def __init__(self, out: Output, total: int | None) -> None:
        self.out = out
        self.total = total
        self._progress: Any = None
        self._task: Any = None
        self._saved_stderr: IO[str] | None = None
        self._last_log = time.monotonic()

    def __enter__(self) -> ExportProgress:
        if self.out.err_tty:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            columns: list[Any] = [TextColumn("[bold]transcripts")]
            if self.total is None:
                columns += [SpinnerColumn(), TextColumn("{task.completed:,}"), TimeElapsedColumn()]
            else:
                columns += [BarColumn(bar_width=20), MofNCompleteColumn(), TimeRemainingColumn()]
            columns.append(TextColumn("{task.fields[counts]}"))
            self._progress = Progress(*columns, console=self.out.err_console)
            self._progress.start()
            self._task = self._progress.add_task("export", total=self.total, counts="")
            # Notices of the API client (retries) go above the bar, not through it.
            self._saved_stderr = self.out.stderr
            self.out.stderr = _ConsoleLines(self._progress.console)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if self._saved_stderr is not None:
            self.out.stderr = self._saved_stderr
            self._saved_stderr = None

    def advance(self, outcome: Outcome, summary: ExportSummary) -> None:
        """One call done (called from the exporting thread only)."""
        if self._progress is not None:
            self._progress.update(self._task, advance=1, counts=_short_counts(summary))
        elif time.monotonic() - self._last_log >= self.LOG_EVERY:
            self._last_log = time.monotonic()
            of = f"/{self.total}" if self.total is not None else ""
            self.out.notice(f"progress: {summary.done}{of} calls: {_export_counts(summary)}")


class _ConsoleLines:
    """A text stream that prints whole lines through a Rich console (above a live bar)."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self._partial = ""

    def write(self, text: str) -> int:
        from rich.markup import escape

        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self.console.print(escape(line), highlight=False)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def _short_counts(summary: ExportSummary) -> str:
    """For the bar, which has little room: written, then only the counts that are not 0."""
    parts = [f"{summary.written:,} written"]
    for count, label in (
        (summary.skipped, "existed"),
        (summary.no_transcript, "no turns"),
        (summary.in_progress, "live"),
        (summary.failed, "[red]failed[/red]"),
    ):
        if count:
            parts.append(f"{count:,} {label}")
    return " · ".join(parts)


def _export_counts(summary: ExportSummary) -> str:
    text = (
        f"written {summary.written}, skipped {summary.skipped} (exist), "
        f"no transcript {summary.no_transcript}, failed {summary.failed}"
    )
    if summary.in_progress:
        text += f", still in progress {summary.in_progress}"
    return text


def export_summary(
    out: Output, summary: ExportSummary, directory: str, fmt: str, *, as_json: bool
) -> None:
    """The closing lines on stderr (and with --json the same facts as JSON on stdout)."""
    if as_json:
        out.json_document({"directory": directory, "format": fmt, **summary.as_dict()})
    out.notice(_export_counts(summary))
    if summary.in_progress:
        out.notice(f"  {summary.in_progress} call(s) had not ended: no file yet; run again later")
    for call_id, reason in summary.failures[:SHOW_FAILURES]:
        out.notice(f"  call {call_id}: {reason}")
    if summary.failed > SHOW_FAILURES:
        out.notice(f"  … and {summary.failed - SHOW_FAILURES} more failures")
    if summary.stale_temp_removed:
        out.notice(f"  removed {summary.stale_temp_removed} temp file(s) of an interrupted run")
    if summary.aborted:
        out.notice(f"  stopped early: {summary.aborted}")


def reading(out: Output, items: Iterable[dict[str, Any]], what: str) -> Iterator[dict[str, Any]]:
    """Pass items through; on a terminal, a transient `reading calls… 12,300` on stderr."""
    if not out.err_tty:
        yield from items
        return
    count = 0
    with out.err_console.status(f"reading {what}…") as status:
        for item in items:
            yield item
            count += 1
            if count % 500 == 0:
                status.update(f"reading {what}… {count:,}")


# ================================================================ api, calls tail, capabilities
# `zaza api`: the response body on stdout (indented on a terminal, as received when piped);
# with --include the status line and headers on stderr. `zaza calls tail`: a line per event
# on a terminal, a JSON object per event when piped; banner, notices and summary on stderr.
# `zaza capabilities`: what the API supports and what only the dashboard can do.

if TYPE_CHECKING:
    import httpx

    from zazacli.commands.capabilities import Capability
    from zazacli.tail import CallFollower, TailEvent, TailStats

_C1_CONTROLS = {code: f"\\u{code:04x}" for code in range(0x7F, 0xA0)}
_TEXT_CONTROLS = {code: "\ufffd" for code in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))}


def _terminal_safe(text: str) -> str:
    """Text from a server, made harmless for a terminal (no escape sequences)."""
    return text.translate({**_TEXT_CONTROLS, **{k: "\ufffd" for k in _C1_CONTROLS}})


def api_response(out: Output, response: httpx.Response, *, include: bool) -> None:
    if include:
        out.notice(f"{response.http_version} {response.status_code} {response.reason_phrase}")
        for name, value in response.headers.raw:  # as the server spelled them
            out.notice(_terminal_safe(f"{name.decode('latin-1')}: {value.decode('latin-1')}"))
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
        out.write(_terminal_safe(response.text.rstrip("\n")))
        return
    # json.dumps escapes C0 controls itself; C1 ones (a raw CSI) must not reach the terminal.
    pretty = json.dumps(data, indent=2, ensure_ascii=False).translate(_C1_CONTROLS)
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
        out.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
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
            self.out.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.out.stdout.flush()
            return
        self.out.console.print(self._line(event), soft_wrap=True)

    def _line(self, event: TailEvent) -> Any:
        from rich.text import Text

        call = event.call
        status = str(call.get("status") or "?")
        line = Text()
        when = call.get("createdAt") if event.kind == "new" else None
        stamp = parse_time(when) if when else datetime.now(UTC)
        line.append((stamp or datetime.now(UTC)).astimezone().strftime("%H:%M:%S"), "dim")
        line.append(f"  {plain_value(call.get('id')):>6}  ", "bold")
        if event.kind == "changed":
            before = event.previous_status or "?"
            line.append(before, STATUS_STYLES.get(before.upper(), ""))
            line.append(" → ")
            line.append(status, "bold " + STATUS_STYLES.get(status.upper(), ""))
        else:
            line.append(status.ljust(self.STATUS_WIDTH), STATUS_STYLES.get(status.upper(), ""))
            if call.get("direction"):
                line.append(f"  {str(call['direction']).lower():<8}", "dim")
            if call.get("fromNumber") or call.get("toNumber"):
                numbers = f"{call.get('fromNumber') or '?'} → {call.get('toNumber') or '?'}"
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
        self.out.notice(f"stopped after {_elapsed_text(elapsed)}: " + ", ".join(parts))


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
                    {"feature": c.feature, "endpoints": list(c.endpoints),
                     "commands": list(c.commands)}
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
