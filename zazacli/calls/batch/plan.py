"""`calls batch --dry-run`: what a run would do now, counted without sending anything."""

from __future__ import annotations

from dataclasses import dataclass, field

from zazacli.calls.batch.csv import CsvBatch
from zazacli.calls.batch.journal import JournalState
from zazacli.policy.phones import CallingWindow, local_times
from zazacli.policy.rules import REPEAT, Guard, Verdict
from zazacli.policy.windows import window_for


@dataclass(frozen=True)
class BatchPlan:
    """What a run would do now (`--dry-run`): counted from the CSV, the journal, the contact
    policy and the calling window (None when quiet hours are not checked)."""

    valid: int
    invalid: int
    duplicates: int
    done: int
    in_doubt: int
    outside: int | None
    sendable: int
    held: list[tuple[int, str, Verdict]] = field(default_factory=list)  # (line, to, why)
    # The calling windows that apply, and to how many rows: {`08:00-20:00 (Florida, …)`: 3}.
    windows: dict[str, int] = field(default_factory=dict)

    def held_by(self, status: str) -> int:
        return sum(1 for _, _, v in self.held if (v.rule == REPEAT) == (status == "repeat"))


def plan(
    rows: CsvBatch,
    state: JournalState,
    window: CallingWindow | None,
    guard: Guard,
    *,
    journal: str,
    place_windows: dict[str, str] | None = None,
) -> BatchPlan:
    to_send = [r for r in rows.rows if r.line not in state.done]
    fresh = [r for r in to_send if r.line not in state.pending]
    verdicts = guard.verdicts(
        [r.to for r in fresh], repeat=True, journal=journal, lines={r.to: r.line for r in fresh}
    )
    held = []
    for row in fresh:
        refused = next((v for v in verdicts[row.to] if not v.allowed), None)
        if refused is not None:
            held.append((row.line, row.to, refused))
    held_lines = {line for line, _, _ in held}
    callable_rows = [r for r in to_send if r.line not in held_lines]
    outside = None
    windows: dict[str, int] = {}
    if window is not None:
        outside = 0
        for row in callable_rows:
            applied = window_for(row.to, window, place_windows)
            label = applied.described if applied.why else f"{applied.text} (quiet_hours)"
            windows[label] = windows.get(label, 0) + 1
            outside += not local_times(row.to, applied).allowed
    return BatchPlan(
        valid=len(rows.rows),
        invalid=sum(1 for p in rows.problems if p.status == "invalid"),
        duplicates=sum(1 for p in rows.problems if p.status == "duplicate"),
        done=len(rows.rows) - len(to_send),
        in_doubt=sum(1 for r in to_send if r.line in state.pending),
        outside=outside,
        sendable=len(callable_rows) - (outside or 0),
        held=held,
        windows=windows,
    )
