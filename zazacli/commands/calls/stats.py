"""`zaza calls stats`: totals, answer rate and durations of the matching calls, grouped."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from zazacli.commands.options import (
    AgentOpt,
    CsvOpt,
    DirectionOpt,
    JsonOpt,
    SinceOpt,
    StatusOpt,
    UntilOpt,
    call_filter,
    completer,
    format_option,
    get_context,
)


def _groupings() -> tuple[str, ...]:
    from zazacli.calls.stats import GROUPINGS

    return GROUPINGS


ByOpt = Annotated[
    str,
    typer.Option(
        "--by",
        help="Group by: status, disposition, agent, campaign, direction, day or hour "
        "(days and hours in your local time zone; every one in the range is listed).",
        autocompletion=completer(lambda: _groupings()),
    ),
]


StatsFormatOpt = Annotated[str | None, format_option("table", "plain", "json", "csv")]


def stats(
    ctx: typer.Context,
    by: ByOpt = "status",
    since: SinceOpt = None,
    until: UntilOpt = None,
    agent: AgentOpt = None,
    direction: DirectionOpt = None,
    status: StatusOpt = None,
    fmt: StatsFormatOpt = None,
    as_json: JsonOpt = False,
    csv: CsvOpt = False,
) -> None:
    """Totals, answer rate and durations of the matching calls, grouped.

    Reads every matching call once, page by page (constant memory). Answer rate: calls
    that reached COMPLETED among outbound calls that ended. Median, p90 and talk minutes
    count calls with a duration above zero.

    \b
    Examples:
      zaza calls stats --since yesterday --until today
      zaza calls stats --since 1w --by day
      zaza calls stats --since 2026-11-01 --by agent --json
    """
    from zazacli.calls.stats import CallStats, pick_grouping
    from zazacli.output.stats import reading, stats_report

    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.choose(fmt, json=as_json, csv=csv)
    grouping = pick_grouping(by)
    filters = call_filter(direction, status, agent, since, until, out.notice)
    aggregator = CallStats(grouping, since=filters.since, until=filters.until)
    # Counting needs every matching call, in whatever order the server lists them.
    calls = app_ctx.api.iter_calls(filters, ordered=False)
    aggregator.feed(reading(out, calls, "calls"))
    names = _names(app_ctx, grouping) if grouping in ("agent", "campaign") else None
    stats_report(out, aggregator.report(names=names, filters=filters._asdict()), chosen)


def _names(app_ctx: Any, grouping: str) -> dict[Any, str]:
    """Agent or campaign names by id (one list request); ids alone if that request fails."""
    from zazacli.calls.stats import named_ids
    from zazacli.errors import AuthError, ZazaError

    try:
        if grouping == "agent":
            return named_ids(app_ctx.api.list_agents())
        return named_ids(app_ctx.api.list_campaigns())
    except AuthError:
        raise
    except ZazaError as error:
        app_ctx.out.warn(f"{grouping} names unavailable, showing ids: {error.message}")
        return {}
