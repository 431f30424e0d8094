"""`zaza calls stats`: totals, answer rate and durations of the matching calls, grouped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from zazacli.api.filters import call_filter
from zazacli.commands.app import get_context
from zazacli.commands.calls.archive import (
    ArchiveOpt,
    IncludeDeletedOpt,
    archive_path,
    only_local,
)
from zazacli.commands.options import (
    AgentOpt,
    DirectionOpt,
    JqOpt,
    SinceOpt,
    StatusOpt,
    TemplateOpt,
    UntilOpt,
    completer,
    format_option,
)

if TYPE_CHECKING:
    from zazacli.api.listing import CallFilter
    from zazacli.calls.stats import Rates
    from zazacli.context import AppContext


def _groupings() -> tuple[str, ...]:
    from zazacli.calls.stats import GROUPINGS

    return GROUPINGS


ByOpt = Annotated[
    str,
    typer.Option(
        "--by",
        help="Group by: status, disposition, failure (the failure reason; calls without "
        "one are the group '(none)'), agent, campaign, direction, day or hour "
        "(days and hours in your local time zone; every one in the range is listed).",
        autocompletion=completer(lambda: _groupings()),
    ),
]


StatsFormatOpt = Annotated[str | None, format_option("table", "plain", "json", "csv")]
LocalOpt = Annotated[
    bool,
    typer.Option(
        "--local",
        help="Count the calls in the local archive (zaza calls sync) with SQL, offline: "
        "the same figures, as of the last sync.",
    ),
]


def stats(
    ctx: typer.Context,
    by: ByOpt = "status",
    since: SinceOpt = None,
    until: UntilOpt = None,
    agent: AgentOpt = None,
    direction: DirectionOpt = None,
    status: StatusOpt = None,
    fmt: StatsFormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
    local: LocalOpt = False,
    include_deleted: IncludeDeletedOpt = False,
    archive_file: ArchiveOpt = None,
) -> None:
    """Totals, answer rate, durations and estimated cost of the matching calls, grouped.

    Reads every matching call once, page by page (constant memory); with --local, counts
    the archive `zaza calls sync` keeps, with SQL (no network; no key when --archive or
    ZAZA_ARCHIVE names the file). Answer rate: calls that reached COMPLETED among outbound
    calls that ended. Median, p90 and talk minutes count calls with a duration above zero.
    Estimated cost: each call's duration rounded up to the minute, at $0.15 a minute
    outbound and $0.10 inbound (ZazaVoice's list prices; a profile's rate_outbound and
    rate_inbound replace them).

    \b
    Examples:
      zaza calls stats --since yesterday --until today
      zaza calls stats --since 1w --by day
      zaza calls stats --since 2026-11-01 --by agent --json
      zaza calls stats --since 1w --by failure
      zaza calls stats --local --since 30d --by campaign
    """
    from zazacli.calls.stats import pick_grouping, pick_rates
    from zazacli.output.stats import stats_report

    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.view(fmt, jq=jq, template=template).format
    grouping = pick_grouping(by)
    filters = call_filter(direction, status, agent, since, until, out.notice)
    settings = app_ctx.settings
    rates = pick_rates(
        settings.get("rate_outbound"), settings.get("rate_inbound"), settings.profile_name
    )
    if local:
        report = _archive_report(app_ctx, archive_file, grouping, filters, rates, include_deleted)
    else:
        only_local(include_deleted=include_deleted)
        report = _api_report(app_ctx, grouping, filters, rates)
    stats_report(out, report, chosen)


def _api_report(
    app_ctx: AppContext, grouping: str, filters: CallFilter, rates: Rates
) -> dict[str, Any]:
    from zazacli.calls.stats import api_stats
    from zazacli.output.stats import reading

    out = app_ctx.out
    return api_stats(
        app_ctx.api,
        grouping,
        filters,
        rates,
        seen=lambda calls: reading(out, calls, "calls"),
        warn=out.warn,
    )


def _archive_report(
    app_ctx: AppContext,
    archive_file: str | None,
    grouping: str,
    filters: CallFilter,
    rates: Rates,
    include_deleted: bool,
) -> dict[str, Any]:
    """The same report from the archive; it says which file, and when it was synced."""
    from zazacli.archive.local import local_stats, opened

    path = archive_path(app_ctx, archive_file)
    with opened(path, app_ctx.out.warn) as store:
        return local_stats(store, grouping, filters, rates, include_deleted=include_deleted)
