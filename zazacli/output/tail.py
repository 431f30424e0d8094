"""`zaza calls tail`: a line per event on a terminal, a JSON object per event when piped;
banner, notices and summary on stderr."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from zazacli.output.fit import COMPACT_BELOW, Piece, middle, print_line
from zazacli.output.formats.json import encode
from zazacli.output.values import STATUS_STYLES, duration
from zazacli.sanitize import json_safe, plain_value
from zazacli.times import parse_time

if TYPE_CHECKING:
    from zazacli.calls.tail import CallFollower, TailEvent, TailStats
    from zazacli.output import Output


class TailPrinter:
    """`zaza calls tail`: `14:03:11  90512  RINGING  outbound  +1… → +1…  agent 12` per new
    call and `14:03:19  90512  RINGING → COMPLETED (1:47)  INTERESTED` per change on a
    terminal, one line each at any width (`14:03  90512  RINGING  out  +1415…0100 → …`
    below 100 columns); `{"event", "call", "previousStatus", "observedAt"}` per line
    otherwise."""

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
        print_line(self.out.console, self._pieces(event))

    def _pieces(self, event: TailEvent) -> list[Piece]:
        """The line of an event. Below COMPACT_BELOW columns: no seconds, `out`/`in`,
        numbers shortened from the middle; a line still too wide drops the agent, then
        the direction (see output/fit.py)."""
        call = event.call
        compact = self.out.console.width < COMPACT_BELOW
        # Every field is data from the server: plain_value makes it terminal-safe.
        status = plain_value(call.get("status") or "?")
        when = call.get("createdAt") if event.kind == "new" else None
        stamp = (parse_time(when) if when else None) or datetime.now(UTC)
        clock = stamp.astimezone().strftime("%H:%M" if compact else "%H:%M:%S")
        pieces = [Piece(clock, "dim"), Piece(f"  {plain_value(call.get('id')):>6}  ", "bold")]
        if event.kind == "changed":
            before = plain_value(event.previous_status or "?")
            pieces.append(Piece(before, STATUS_STYLES.get(before.upper(), "")))
            pieces.append(Piece(" → "))
            pieces.append(Piece(status, "bold " + STATUS_STYLES.get(status.upper(), "")))
        else:
            style = STATUS_STYLES.get(status.upper(), "")
            pieces.append(Piece(status.ljust(self.STATUS_WIDTH), style))
            pieces += self._call_pieces(call, compact)
        if call.get("durationSeconds") is not None:
            length = duration(call.get("durationSeconds"))
            pieces.append(Piece(f" ({length})" if event.kind == "changed" else f"  {length}"))
        if call.get("disposition"):
            text = plain_value(call["disposition"])
            pieces.append(Piece(f"  {text}", STATUS_STYLES.get(text.upper(), "green")))
        if call.get("failureReason"):
            pieces.append(Piece(f"  {plain_value(call['failureReason'])}", "red"))
        return pieces

    @staticmethod
    def _call_pieces(call: dict[str, Any], compact: bool) -> list[Piece]:
        """Direction, numbers and agent of a new call."""
        pieces = []
        if call.get("direction"):
            direction = plain_value(call["direction"]).lower()
            if compact:
                pieces.append(Piece(f"  {direction.removesuffix('bound'):<3}", "dim", drop=1))
            else:
                pieces.append(Piece(f"  {direction:<8}", "dim", drop=1))
        if call.get("fromNumber") or call.get("toNumber"):
            ends = [plain_value(call.get(key) or "?") for key in ("fromNumber", "toNumber")]
            if compact:
                ends = [middle(number, 10) for number in ends]
            pieces.append(Piece(f"  {ends[0]} → {ends[1]}"))
        if call.get("agentId") is not None:
            pieces.append(Piece(f"  agent {plain_value(call.get('agentId'))}", "dim", drop=2))
        return pieces

    def summary(self, stats: TailStats, elapsed: float) -> None:
        parts = [f"{self.new} new call(s)", f"{self.changed} status change(s)"]
        parts.append(f"{stats.polls} poll(s)")
        if stats.rate_limited:
            parts.append(f"rate limited {stats.rate_limited} time(s)")
        self.out.notice(f"stopped after {duration(max(0.0, elapsed))}: " + ", ".join(parts))
