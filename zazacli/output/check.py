"""`zaza calls check` (zazacli/calls/check.py judges) as monitoring plugins print: one
line, `CALLS CRITICAL - answer_rate 0.38 < 0.4 | calls=120;;1:;0 …`, with performance data
in the format of the Monitoring Plugins guidelines (`label=value[UOM];warn;crit;min;max`),
then a line per condition and one on what was counted. `plugin_unknown` is the UNKNOWN line
every failure of the command becomes.

Monitoring systems read this text, so none of it is raw: what comes from outside (error
messages quoting a server, a path) passes `terminal_safe`, and `|`, which would start the
performance data, becomes `/`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from zazacli.sanitize import terminal_safe

if TYPE_CHECKING:
    from zazacli.calls.check import Condition, Judgement, Verdict
    from zazacli.errors import ZazaError
    from zazacli.output import Output

SERVICE = "CALLS"
# Units of measure (the guidelines' UOM) and bounds of the metrics that have them.
UNITS = {"median_duration_s": "s", "p90_duration_s": "s"}
MAXIMA = {"answer_rate": 1}
# Why a metric can be n/a (None).
NOT_AVAILABLE = {
    "answer_rate": "no outbound call has ended",
    "median_duration_s": "no call with a duration",
    "p90_duration_s": "no call with a duration",
    "stuck": "not counted",
}
# Each operator as a threshold range of the guidelines, which alert when the value is
# outside the range (`@`: inside it); `~` is minus infinity. Exact for every operator.
RANGES = {
    "<": "{n}:",
    "<=": "@~:{n}",
    ">": "~:{n}",
    ">=": "@{n}:",
    "==": "@{n}:{n}",
    "!=": "{n}:{n}",
}


def plugin_safe(text: str) -> str:
    """One line of plugin output from text that may come from outside."""
    return terminal_safe(text).replace("|", "/")


def number(value: float) -> str:
    """120, 0.38, 91.5: no exponent and no trailing `.0`, for people and for graphers."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(Decimal(repr(float(value))), "f")


def shown(value: float | None) -> str:
    return "n/a" if value is None else number(value)


def threshold_range(condition: Condition) -> str:
    """The guidelines' range that alerts exactly when `condition` holds. `> N` with N >= 0 is
    written `N` (alert outside 0..N), as most plugins write it: every metric is >= 0."""
    if condition.op == ">" and condition.threshold >= 0:
        return number(condition.threshold)
    return RANGES[condition.op].format(n=number(condition.threshold))


def perfdata(values: Mapping[str, float | None], conditions: list[Condition]) -> str:
    """Every metric as `label=value[UOM];warn;crit;min;max`, its warn and crit from its first
    --warn-if and --crit-if condition; `U` for a value that is n/a (as the guidelines say)."""
    items = []
    for metric, value in values.items():
        levels: dict[str, str] = {}
        for condition in conditions:
            if condition.metric == metric:
                levels.setdefault(condition.level, threshold_range(condition))
        fields = [
            "U" if value is None else number(value) + UNITS.get(metric, ""),
            levels.get("WARNING", ""),
            levels.get("CRITICAL", ""),
            "0",
            str(MAXIMA.get(metric, "")),
        ]
        items.append(f"{metric}={';'.join(fields).rstrip(';')}")
    return " ".join(items)


def _status_text(judgement: Judgement) -> str:
    """What made the state: the conditions of its level that held; for OK, the totals."""
    if judgement.state == "OK":
        values = judgement.values
        rate = shown(values["answer_rate"])
        return f"{number(values['calls'] or 0)} calls, answer rate {rate}"
    return ", ".join(_held_text(verdict) for verdict in judgement.decisive)


def _held_text(verdict: Verdict) -> str:
    condition = verdict.condition
    return f"{condition.metric} {shown(verdict.value)} {condition.op} {number(condition.threshold)}"


def _verdict_line(verdict: Verdict) -> str:
    condition = verdict.condition
    metric = condition.metric
    if verdict.value is None:
        value = f"{metric} n/a: {NOT_AVAILABLE.get(metric, 'cannot be computed')}"
    else:
        value = f"{metric} {number(verdict.value)}"
    held = "held" if verdict.held else "not held"
    return (
        f"[{condition.level}] {metric} {condition.op} {number(condition.threshold)}: "
        f"{held} ({value})"
    )


def _counted_line(report: Mapping[str, Any], stuck_after: str) -> str:
    """How many calls of which range, from where, and what `stuck` means."""
    window = f"since {report.get('since') or 'the first call'}"
    if report.get("until"):
        window += f" until {report['until']}"
    if report.get("source") == "archive":
        synced = report.get("synced_at") or "never (no sync finished)"
        where = f"from the archive {report.get('archive')} (synced {synced})"
    else:
        where = "from the API"
    return (
        f"{report['total']} calls created {window}, {where}; stuck: not over "
        f"{stuck_after} after creation"
    )


def plugin_report(
    out: Output, judgement: Judgement, report: Mapping[str, Any], *, stuck_after: str
) -> None:
    """The status line with the performance data, then a line per condition (in the order
    given) and one on what was counted: the plugin's long output."""
    conditions = [verdict.condition for verdict in judgement.verdicts]
    status = plugin_safe(f"{SERVICE} {judgement.state} - {_status_text(judgement)}")
    out.write(f"{status} | {perfdata(judgement.values, conditions)}")
    for verdict in judgement.verdicts:
        out.write(plugin_safe(_verdict_line(verdict)))
    out.write(plugin_safe(_counted_line(report, stuck_after)))


def plugin_unknown(error: ZazaError, *, no_color: bool = False) -> None:
    """`CALLS UNKNOWN - <message>` on stdout, for the monitoring system; zaza's usual
    `error:` and `hint:` lines on stderr, for the person reading its logs. Its own Output,
    as for every error (zazacli/main.py's `report`)."""
    from zazacli.output import Output

    out = Output(no_color=no_color)
    out.write(f"{SERVICE} UNKNOWN - {plugin_safe(error.message)}")
    out.stdout.flush()
    out.error(error)
