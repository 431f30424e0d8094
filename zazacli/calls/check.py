"""`zaza calls check`: thresholds over the figures of `calls stats`, judged as monitoring
plugins judge them (OK, WARNING, CRITICAL). No Typer and no printing here.

A condition is `METRIC OP NUMBER[%]`, read by the small parser below (never `eval`): OP is
one of `< <= > >= == !=`, and `%` divides the number by 100 (`answer_rate < 40%`).
The metrics are those of the `calls stats --json` document, grouped by status, plus `stuck`
(counted by `CallStats` and `archive_stats` when asked); `METRICS` maps each name to its
place in that document, so the figures are computed once, by the code of `calls stats`.

A metric that cannot be computed (the answer rate with no ended outbound call, the median
with no call that has a duration) is None, "n/a": a condition on it does not hold. A
check that must not pass on no data says so with `calls < 1`.
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from zazacli.errors import PLUGIN_STATES, UsageError

# Each metric, and where the `calls stats --json` document (by status) has it: a key of
# the document, or `status:S`, the count of the group of status S (0 when there is none).
STATUS_GROUP = "status:"
METRICS: dict[str, str] = {
    "calls": "total",
    "answered": "answered",
    "answer_rate": "answer_rate",
    "failed": "status:FAILED",
    "no_answer": "status:NO_ANSWER",
    "busy": "status:BUSY",
    "median_duration_s": "median_duration_s",
    "p90_duration_s": "p90_duration_s",
    "estimated_cost_usd": "estimated_cost_usd",
    "stuck": "stuck",
}
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
WARNING, CRITICAL = "WARNING", "CRITICAL"
OPTIONS = {WARNING: "--warn-if", CRITICAL: "--crit-if"}
# Past this a threshold is surely a typo, and floats stop counting in ones.
LARGEST = Decimal(10) ** 15

_METRIC = r"\s*([A-Za-z_][A-Za-z0-9_]*)"
_OPERATOR = r"\s*([<>=!]+)"
_NUMBER = r"\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*(%?)\s*$"


class Condition(NamedTuple):
    """`metric op threshold`, and the state it raises when it holds."""

    level: str
    metric: str
    op: str
    threshold: float

    def holds(self, value: float | None) -> bool:
        """Whether it holds for `value`; never for a metric that is n/a (None)."""
        return value is not None and COMPARISONS[self.op](value, self.threshold)


class Verdict(NamedTuple):
    condition: Condition
    value: float | None
    held: bool


class Judgement(NamedTuple):
    """The state (OK, WARNING, CRITICAL), every metric's value (None: n/a), and each
    condition with its value and whether it held, in the order given."""

    state: str
    values: dict[str, float | None]
    verdicts: list[Verdict]

    @property
    def exit_code(self) -> int:
        return PLUGIN_STATES[self.state]

    @property
    def decisive(self) -> list[Verdict]:
        """The conditions that made the state: those of its level that held."""
        return [v for v in self.verdicts if v.held and v.condition.level == self.state]


# ------------------------------------------------------------ reading conditions


def _bad(level: str, text: str, problem: str, hint: str) -> UsageError:
    return UsageError(f"{OPTIONS[level]} {text.strip()!r}: {problem}", hint=hint)


GRAMMAR = "write METRIC OP NUMBER, e.g. 'answer_rate < 0.4', 'answer_rate < 40%', 'failed > 5'"
OPERATORS_TEXT = "< <= > >= == !="


def parse_condition(text: str, level: str) -> Condition:
    """One `--warn-if`/`--crit-if` value; a UsageError naming what is wrong with it."""
    named = re.match(_METRIC, text)
    if named is None:
        raise _bad(level, text, "no metric name at its start", GRAMMAR)
    metric = named.group(1).lower()
    if metric not in METRICS:
        close = difflib.get_close_matches(metric, METRICS, n=1)
        guess = f"did you mean {close[0]}? " if close else ""
        raise _bad(
            level, text, f"unknown metric {metric!r}", f"{guess}metrics: {', '.join(METRICS)}"
        )
    rest = text[named.end() :]
    compared = re.match(_OPERATOR, rest)
    if compared is None or compared.group(1) not in COMPARISONS:
        found = f"{compared.group(1)!r}" if compared else "none"
        raise _bad(
            level, text, f"bad operator ({found})", f"use one of {OPERATORS_TEXT}; {GRAMMAR}"
        )
    number = re.match(_NUMBER, rest[compared.end() :], re.ASCII)
    if number is None:
        raise _bad(level, text, "bad number after the operator", GRAMMAR)
    threshold = Decimal(number.group(1))
    if abs(threshold) > LARGEST:
        raise _bad(level, text, "the number is out of range", f"at most {LARGEST:,} either way")
    if number.group(2):
        threshold /= 100
    return Condition(level, metric, compared.group(1), float(threshold))


def parse_conditions(warn_if: Iterable[str], crit_if: Iterable[str]) -> list[Condition]:
    """Every condition, warnings first, each in the order given."""
    return [parse_condition(text, WARNING) for text in warn_if] + [
        parse_condition(text, CRITICAL) for text in crit_if
    ]


# ------------------------------------------------------------ judging


def metric_values(report: Mapping[str, Any]) -> dict[str, float | None]:
    """Each metric's value from a `calls stats` report grouped by status (None: n/a, or
    `stuck` when it was not counted)."""
    if report.get("by") != "status":
        raise ValueError("calls check reads a report grouped by status")
    counts = {group["key"]: group["count"] for group in report["groups"]}
    values: dict[str, float | None] = {}
    for name, place in METRICS.items():
        if place.startswith(STATUS_GROUP):
            values[name] = counts.get(place.removeprefix(STATUS_GROUP), 0)
        else:
            values[name] = report.get(place)
    return values


def judge(report: Mapping[str, Any], conditions: Iterable[Condition]) -> Judgement:
    """CRITICAL when a --crit-if condition holds, else WARNING when a --warn-if one does,
    else OK."""
    values = metric_values(report)
    verdicts = [
        Verdict(condition, values[condition.metric], condition.holds(values[condition.metric]))
        for condition in conditions
    ]
    held = {verdict.condition.level for verdict in verdicts if verdict.held}
    state = CRITICAL if CRITICAL in held else WARNING if WARNING in held else "OK"
    return Judgement(state, values, verdicts)
