"""Printing for `zaza doctor`: one line per assumption, its mark, and what zaza does about it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zazacli.output import Output
from zazacli.sanitize import terminal_safe

if TYPE_CHECKING:
    from zazacli.api.doctor import Check, Report

MARKS = {"ok": ("✓", "green"), "differs": ("✗", "red"), "unknown": ("?", "yellow")}


def doctor_line(out: Output, check: Check) -> None:
    """`✓ name: detail`, then `    → action` when there is one; streamed as checks finish.
    On a terminal each folds between words, continued under its text."""
    from zazacli.terminal import fold, terminal_columns

    mark, colour = MARKS[check.status]
    width = terminal_columns(out.stdout) if out.terminal else None
    line = fold(f"  {check.name}: {terminal_safe(check.detail)}", width)[2:]
    if out.drawn and out.color:
        name = check.name
        line = f"\x1b[{_SGR[colour]}m{mark}\x1b[0m \x1b[1m{name}\x1b[0m{line[len(name) :]}"
    else:
        line = f"{mark} {line}"
    out.write(line)
    if check.action:
        fatal = " (cannot work correctly)" if check.fatal else ""
        out.write(fold(f"    → {terminal_safe(check.action)}{fatal}", width))
    out.stdout.flush()


def doctor_summary(out: Output, report: Report) -> None:
    counts = {status: 0 for status in MARKS}
    for check in report.checks:
        counts[check.status] += 1
    fatal = sum(1 for check in report.checks if check.fatal)
    if report.stopped is not None:
        verdict = "stopped before the API itself could be checked"
    elif report.ok:
        verdict = "zaza can work correctly against this API"
    else:
        verdict = f"zaza cannot work correctly against this API ({fatal} blocking)"
    out.notice(
        f"{counts['ok']} as assumed, {counts['differs']} different, {counts['unknown']} unknown: "
        f"{verdict}"
    )


_SGR = {"green": "32", "red": "31", "yellow": "33"}
