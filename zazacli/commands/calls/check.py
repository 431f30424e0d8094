"""`zaza calls check`: a monitoring plugin (Nagios, Icinga, Checkmk, cron) over the figures
of `calls stats`. Its exit codes are the plugins' 0-3, not zaza's: `CheckCommand` turns
every failure of this one command into UNKNOWN (exit 3) before the root sees it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from zazacli.api.filters import call_filter
from zazacli.commands.app import ZazaCommand, get_context, usage_error
from zazacli.commands.calls.archive import ArchiveOpt, archive_path
from zazacli.commands.options import AgentOpt, DirectionOpt, SinceOpt, StatusOpt, UntilOpt
from zazacli.errors import PLUGIN_EXIT_CODES, PLUGIN_STATES, ZazaError, exit_codes_help

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from zazacli.api.listing import CallFilter
    from zazacli.calls.stats import Rates
    from zazacli.context import AppContext

DEFAULT_SINCE = "1h"
DEFAULT_STUCK_AFTER = "30m"

CHECK_EPILOG = (
    "Conditions: METRIC OP NUMBER, OP one of < <= > >= == != (spaces optional); NUMBER% "
    "is NUMBER/100 ('answer_rate < 40%'). Metrics, as calls stats --json names them: "
    "calls, answered, answer_rate, failed, no_answer, busy, median_duration_s, "
    "p90_duration_s, estimated_cost_usd; and stuck, the calls not over --stuck-after "
    "after they were created.\n\n"
    "A metric that cannot be computed (answer_rate with no ended outbound call, the median "
    "and p90 with no call that has a duration) is n/a: a condition on it does not hold, and "
    "the output says 'answer_rate n/a'. To fail on a quiet hour, add --crit-if 'calls < 1'.\n\n"
    "Output: one line, 'CALLS CRITICAL - answer_rate 0.38 < 0.4 | calls=120;;1:;0 …', with "
    "performance data (label=value;warn;crit;min;max, U for n/a) for every metric; then a "
    "line per condition, and one on what was counted.\n\n"
    "These exit codes are not zaza's usual ones: monitoring systems read only 0 to 3, so "
    "every error of this command (a bad condition or option, a refused key, an API that "
    "cannot be reached) is UNKNOWN, exit 3, with 'CALLS UNKNOWN - …' on stdout and the "
    "usual error line on stderr.\n\n"
) + exit_codes_help(PLUGIN_EXIT_CODES)

WarnIfOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--warn-if",
        metavar="CONDITION",
        help="WARNING (exit 1) when this holds, e.g. 'failed > 5'. Repeatable.",
        show_default=False,
    ),
]
CritIfOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--crit-if",
        metavar="CONDITION",
        help="CRITICAL (exit 2, wins over WARNING) when this holds, e.g. 'answer_rate < 0.4'. "
        "Repeatable.",
        show_default=False,
    ),
]
StuckAfterOpt = Annotated[
    str,
    typer.Option(
        "--stuck-after",
        help="A call not over this long after it was created counts as stuck (90s, 30m, 2h).",
    ),
]
CheckLocalOpt = Annotated[
    bool,
    typer.Option(
        "--local",
        help="Check the calls in the local archive (zaza calls sync), offline: the figures "
        "as of the last sync, stuck calls too.",
    ),
]


class CheckCommand(ZazaCommand):
    """`calls check` speaks the monitoring-plugin protocol to the end: every failure of it,
    its own usage errors included, is `CALLS UNKNOWN - …` on stdout and exit 3, with zaza's
    `error:`/`hint:` lines on stderr. Caught here, so no other command's exit codes change
    (zazacli/main.py reports the errors of all the others)."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except ZazaError as error:  # from an option's own check
            _unknown(parent, error)
        except typer.TyperException as error:
            usage = usage_error(error, parent)
            if usage is None:
                raise
            _unknown(parent, usage)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, BrokenPipeError):
            raise  # the verdict's own exit; a reader that left (the root says 0)
        except ZazaError as error:
            _unknown(ctx, error)
        except Exception as error:
            usage = usage_error(error, ctx)
            if usage is not None:
                _unknown(ctx, usage)
            if _debug(ctx):
                raise  # the root prints the traceback
            _unknown(ctx, ZazaError(f"internal error: {type(error).__name__}: {error}"))


def _options(ctx: Any) -> Any:
    obj = ctx.find_root().obj if ctx is not None else None
    return getattr(obj, "options", None)


def _debug(ctx: Any) -> bool:
    return bool(getattr(_options(ctx), "debug", False))


def _unknown(ctx: Any, error: ZazaError) -> NoReturn:
    from zazacli.output.check import plugin_unknown

    plugin_unknown(error, no_color=bool(getattr(_options(ctx), "no_color", False)))
    raise typer.Exit(PLUGIN_STATES["UNKNOWN"]) from None


def check(
    ctx: typer.Context,
    warn_if: WarnIfOpt = None,
    crit_if: CritIfOpt = None,
    since: SinceOpt = DEFAULT_SINCE,
    until: UntilOpt = None,
    agent: AgentOpt = None,
    direction: DirectionOpt = None,
    status: StatusOpt = None,
    stuck_after: StuckAfterOpt = DEFAULT_STUCK_AFTER,
    local: CheckLocalOpt = False,
    archive_file: ArchiveOpt = None,
) -> None:
    """Check the calls of the last hour against thresholds, as a monitoring plugin:
    exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

    For Nagios, Icinga, Checkmk or cron. The figures are those of `zaza calls stats`, over
    the calls created since --since (default: the last hour), with the same filters; with
    --local, those of the archive `zaza calls sync` keeps. Each --warn-if and --crit-if is a
    condition such as 'answer_rate < 0.4'; CRITICAL wins over WARNING; with no condition the
    check is always OK (performance data only). Unlike every other zaza command, any error
    is UNKNOWN (exit 3): see below.

    \b
    Examples:
      zaza calls check --crit-if 'answer_rate < 0.4' --warn-if 'failed > 5'
      zaza calls check --since 1h --crit-if 'calls < 1' --crit-if 'stuck > 0'
      zaza calls check --since 1d --warn-if 'answer_rate<60%' --warn-if 'estimated_cost_usd>50'
      zaza calls check --local --since 2h --crit-if 'stuck >= 1' --stuck-after 15m
    """
    from datetime import UTC, datetime, timedelta

    from zazacli.calls.check import judge, parse_conditions
    from zazacli.calls.stats import pick_rates
    from zazacli.output.check import plugin_report
    from zazacli.times import parse_duration

    app_ctx = get_context(ctx)
    conditions = parse_conditions(warn_if or [], crit_if or [])
    stuck_for = timedelta(seconds=parse_duration(stuck_after, "--stuck-after"))
    filters = call_filter(direction, status, agent, since, until, app_ctx.out.notice)
    settings = app_ctx.settings
    rates = pick_rates(
        settings.get("rate_outbound"), settings.get("rate_inbound"), settings.profile_name
    )
    now = datetime.fromtimestamp(app_ctx.timing.wall(), UTC)
    if local:
        report = _archive_report(app_ctx, archive_file, filters, rates, now, stuck_for)
    else:
        report = _api_report(app_ctx, filters, rates, now - stuck_for)
    judgement = judge(report, conditions)
    plugin_report(app_ctx.out, judgement, report, stuck_after=stuck_after.strip())
    raise typer.Exit(judgement.exit_code)


def _api_report(
    app_ctx: AppContext, filters: CallFilter, rates: Rates, stuck_before: datetime
) -> dict[str, Any]:
    """`calls stats` by status over the API, counting the calls stuck before then."""
    from zazacli.calls.stats import CallStats
    from zazacli.output.stats import reading

    aggregator = CallStats(
        "status", since=filters.since, until=filters.until, stuck_before=stuck_before
    )
    # Counting needs every matching call, in whatever order the server lists them.
    calls = app_ctx.api.iter_calls(filters, ordered=False)
    aggregator.feed(reading(app_ctx.out, calls, "calls"))
    return aggregator.report(filters=filters.report(), rates=rates)


def _archive_report(
    app_ctx: AppContext,
    archive_file: str | None,
    filters: CallFilter,
    rates: Rates,
    now: datetime,
    stuck_for: timedelta,
) -> dict[str, Any]:
    """The same from the archive. A call's state there is the one its last sync saw, so
    stuck is judged at that sync (now, before any sync finished)."""
    from zazacli.archive.local import last_synced, opened
    from zazacli.archive.stats import archive_stats
    from zazacli.times import parse_time

    path = archive_path(app_ctx, archive_file)
    with opened(path, app_ctx.out.warn) as store:
        synced = last_synced(store)
        source = {"source": "archive", "archive": str(path), "synced_at": synced}
        return archive_stats(
            store,
            "status",
            filters,
            rates=rates,
            source=source,
            stuck_before=(parse_time(synced) or now) - stuck_for,
        )
