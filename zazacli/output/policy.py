"""The contact policy's summary (`zaza dnc` with no verb)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zazacli.output import Format, Output

if TYPE_CHECKING:
    from pathlib import Path

    from zazacli.policy.rules import Cap


def policy_summary(
    out: Output,
    fmt: Format,
    *,
    path: Path,
    listed: int,
    dials: int,
    cap: Cap | None,
    repeat_after: float,
) -> None:
    from zazacli.calls.dispatch import format_seconds

    if fmt is Format.json:
        out.json_document(
            {
                "file": str(path),
                "listed": listed,
                "ledgerDials": dials,
                "maxCallsPerNumber": cap.text if cap else "off",
                "repeatAfterSeconds": repeat_after,
            }
        )
        return
    out.key_values(
        [
            ("do-not-call list", f"{listed} number{'' if listed == 1 else 's'}"),
            ("frequency cap", f"{cap.text} per number" if cap else "off"),
            ("repeat window", f"{format_seconds(repeat_after)} (calls batch --repeat-after)"),
            ("dial ledger", f"{dials} dial{'' if dials == 1 else 's'}"),
            ("file", str(path)),
        ]
    )
