"""Printing for `zaza doctor`: one line per assumption, its mark, and what zaza does about it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zazacli.output import Output
from zazacli.sanitize import terminal_safe

if TYPE_CHECKING:
    from zazacli.api.doctor import Check, Report

MARKS = {"ok": ("✓", "green"), "differs": ("✗", "red"), "unknown": ("?", "yellow")}


def doctor_line(out: Output, check: Check) -> None:
    """`✓ name: detail`, then `    zaza: action` when there is one; streamed as checks finish."""
    mark, colour = MARKS[check.status]
    detail = terminal_safe(check.detail)
    action = terminal_safe(check.action)
    if out.drawn and out.color:
        line = f"\x1b[{_SGR[colour]}m{mark}\x1b[0m \x1b[1m{check.name}\x1b[0m: {detail}"
    else:
        line = f"{mark} {check.name}: {detail}"
    out.write(line)
    if action:
        out.write(f"    → {action}" + (" (cannot work correctly)" if check.fatal else ""))
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
