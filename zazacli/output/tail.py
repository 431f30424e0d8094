"""`zaza calls tail`: a line per event on a terminal, a JSON object per event when piped;
banner, notices and summary on stderr."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from zazacli.output.fit import COMPACT_BELOW, Piece, Slot, middle, print_line
from zazacli.output.values import STATUS_STYLES, duration
from zazacli.sanitize import plain_value
from zazacli.times import parse_time

if TYPE_CHECKING:
    from zazacli.calls.tail import CallFollower, TailEvent, TailStats
    from zazacli.output import Output


# The columns of a new call's line and of a change's, below COMPACT_BELOW (True) and
# above; which are shown is decided once from the terminal's width (output/fit.py). The
# outcome (the disposition, else the failure reason) takes the rest of the line.
_NEW_SLOTS = {
    True: (
        Slot("clock", 5), Slot("id", 10, whole=True), Slot("status", 11, whole=True),
        Slot("direction", 5, drop=3), Slot("numbers", 25, drop=2), Slot("agent", 10, drop=4),
        Slot("duration", 7, drop=1, whole=True), Slot("outcome", 20, flex=True),
    ),
    False: (
        Slot("clock", 8), Slot("id", 10, whole=True), Slot("status", 11, whole=True),
        Slot("direction", 10, drop=3), Slot("numbers", 37, drop=2), Slot("agent", 13, drop=4),
        Slot("duration", 7, drop=1, whole=True), Slot("outcome", 14, flex=True),
    ),
}  # fmt: skip
_CHANGED_SLOTS = {
    compact: (
        Slot("clock", 5 if compact else 8), Slot("id", 10, whole=True),
        Slot("status", 23, whole=True), Slot("duration", 9, drop=1, whole=True),
        Slot("outcome", 20, flex=True),
    )
    for compact in (True, False)
}  # fmt: skip


class TailPrinter:
    """`zaza calls tail`: `14:03:11  90512  RINGING  outbound  +1… → +1…  agent 12` per new
    call and `14:03:19  90512  RINGING → COMPLETED (1:47)  INTERESTED` per change on a
    terminal, one line each at any width (`14:03  90512  RINGING  +1415…0100 → …` below
    100 columns), every line of a kind with the same columns at one width;
    `{"event", "call", "previousStatus", "observedAt"}` per line otherwise."""

    STATUS_WIDTH = len("IN_PROGRESS")

    def __init__(self, out: Output, *, jsonl: bool) -> None:
        self.out = out
        self.jsonl = jsonl
        self.new = 0
        self.changed = 0

    def banner(self, follower: CallFollower, filters: dict[str, str]) -> None:
        chosen = [f"{name}={value}" for name, value in filters.items()]
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
            self.out.json_line(record, follow=True)
            return
        compact = self.out.console.width < COMPACT_BELOW
        slots = (_CHANGED_SLOTS if event.kind == "changed" else _NEW_SLOTS)[compact]
        print_line(self.out.console, self._pieces(event, compact), slots)

    def _pieces(self, event: TailEvent, compact: bool) -> list[Piece]:
        """The line of an event. Below COMPACT_BELOW columns: no seconds, `out`/`in`,
        numbers shortened from the middle; which columns a width shows, and how long
        each may be, is the slots' (_NEW_SLOTS, _CHANGED_SLOTS)."""
        call = event.call
        # Every field is data from the server: plain_value makes it terminal-safe.
        status = plain_value(call.get("status") or "?")
        when = call.get("createdAt") if event.kind == "new" else None
        stamp = (parse_time(when) if when else None) or datetime.now(UTC)
        clock = stamp.astimezone().strftime("%H:%M" if compact else "%H:%M:%S")
        pieces = [
            Piece(clock, "dim", "clock"),
            Piece(f"  {plain_value(call.get('id')):>6}  ", "bold", "id"),
        ]
        if event.kind == "changed":
            before = plain_value(event.previous_status or "?")
            pieces.append(Piece(before, STATUS_STYLES.get(before.upper(), ""), "status"))
            pieces.append(Piece(" → ", "", "status"))
            style = "bold " + STATUS_STYLES.get(status.upper(), "")
            pieces.append(Piece(status, style, "status"))
        else:
            style = STATUS_STYLES.get(status.upper(), "")
            pieces.append(Piece(status.ljust(self.STATUS_WIDTH), style, "status"))
            pieces += self._call_pieces(call, compact)
        if call.get("durationSeconds") is not None:
            length = duration(call.get("durationSeconds"))
            text = f" ({length})" if event.kind == "changed" else f"  {length}"
            pieces.append(Piece(text, "", "duration"))
        return pieces + _outcome(call)

    @staticmethod
    def _call_pieces(call: dict[str, Any], compact: bool) -> list[Piece]:
        """Direction, numbers and agent of a new call."""
        pieces = []
        if call.get("direction"):
            direction = plain_value(call["direction"]).lower()
            if compact:
                pieces.append(Piece(f"  {direction.removesuffix('bound'):<3}", "dim", "direction"))
            else:
                pieces.append(Piece(f"  {direction:<8}", "dim", "direction"))
        if call.get("fromNumber") or call.get("toNumber"):
            ends = [plain_value(call.get(key) or "?") for key in ("fromNumber", "toNumber")]
            ends = [middle(number, 10 if compact else 16) for number in ends]
            pieces.append(Piece(f"  {ends[0]} → {ends[1]}", "", "numbers"))
        if call.get("agentId") is not None:
            agent = f"  agent {plain_value(call.get('agentId'))}"
            pieces.append(Piece(agent, "dim", "agent"))
        return pieces

    def summary(self, stats: TailStats, elapsed: float) -> None:
        parts = [f"{self.new} new call(s)", f"{self.changed} status change(s)"]
        parts.append(f"{stats.polls} poll(s)")
        if stats.rate_limited:
            parts.append(f"rate limited {stats.rate_limited} time(s)")
        self.out.notice(f"stopped after {duration(max(0.0, elapsed))}: " + ", ".join(parts))


def _outcome(call: dict[str, Any]) -> list[Piece]:
    """How the call ended, as the calls table's OUTCOME: its disposition, else why it
    failed (in red); cut to the room the line leaves."""
    if call.get("disposition"):
        text = plain_value(call["disposition"])
        return [Piece(f"  {text}", STATUS_STYLES.get(text.upper(), "green"), "outcome")]
    if call.get("failureReason"):
        return [Piece(f"  {plain_value(call['failureReason'])}", "red", "outcome")]
    return []
