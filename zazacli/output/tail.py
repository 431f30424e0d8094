"""`zaza calls tail`: a line per event on a terminal, a JSON object per event when piped;
banner, notices and summary on stderr."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from zazacli.output.formats.json import encode
from zazacli.output.safe import json_safe, plain_value
from zazacli.output.values import STATUS_STYLES, duration
from zazacli.times import parse_time

if TYPE_CHECKING:
    from zazacli.calls.tail import CallFollower, TailEvent, TailStats
    from zazacli.output import Output


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
            self.out.stdout.write(json_safe(encode(record)) + "\n")
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
