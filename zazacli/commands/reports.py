"""`zaza calls stats` and `zaza calls export-transcripts`: operator reports over call history.

Registered on the `calls` sub-app in main.py. The work is in zazacli/reports.py, the
printing in zazacli/output.py; both are imported when a command runs.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from zazacli.commands.common import (
    AgentOpt,
    AllOpt,
    CsvOpt,
    DirectionOpt,
    JsonOpt,
    SinceOpt,
    StatusOpt,
    UntilOpt,
    get_context,
)

ByOpt = Annotated[
    str,
    typer.Option(
        "--by",
        help="Group by: status, disposition, agent, campaign, direction, day or hour "
        "(days and hours in your local time zone; every one in the range is listed).",
    ),
]
DirArg = Annotated[
    str,
    typer.Argument(help="Directory for <call id>.<ext> files (created if missing).", metavar="DIR"),
]
TranscriptFormatOpt = Annotated[
    str,
    typer.Option(
        "--format", "-f", help="text ([mm:ss] ROLE: text), json (the turns) or srt subtitles."
    ),
]
ExportLimitOpt = Annotated[
    int | None,
    typer.Option("--limit", "-L", min=1, help="Only the newest N matching calls [default: all]."),
]
SummaryJsonOpt = Annotated[
    bool, typer.Option("--json", help="Also print the summary as a JSON document on stdout.")
]
ConcurrencyOpt = Annotated[
    int,
    typer.Option(
        "--concurrency",
        "-c",
        min=1,
        max=16,
        help="Transcripts fetched at once; rate-limited (429) requests back off and retry.",
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
    from dataclasses import asdict

    from zazacli.commands.calls import call_filters
    from zazacli.output.reports import reading, stats_report
    from zazacli.reports import CallStats, pick_grouping

    app_ctx = get_context(ctx)
    out = app_ctx.out
    grouping = pick_grouping(by)
    filters = call_filters(direction, status, agent, since, until, out.notice)
    fmt = out.choose(json=as_json, csv=csv)
    aggregator = CallStats(grouping, since=filters.since, until=filters.until)
    # Counting needs every matching call, in whatever order the server lists them.
    calls = app_ctx.api.iter_calls(filters, ordered=False)
    aggregator.feed(reading(out, calls, "calls"))
    names = _names(app_ctx, grouping) if grouping in ("agent", "campaign") else None
    stats_report(out, aggregator.report(names=names, filters=asdict(filters)), fmt)


def _names(app_ctx: Any, grouping: str) -> dict[Any, str]:
    """Agent or campaign names by id (one list request); ids alone if that request fails."""
    from zazacli.errors import AuthError, ZazaError
    from zazacli.reports import named_ids

    try:
        if grouping == "agent":
            return named_ids(app_ctx.api.list_agents())
        return named_ids(app_ctx.api.list_campaigns())
    except AuthError:
        raise
    except ZazaError as error:
        app_ctx.out.warn(f"{grouping} names unavailable, showing ids: {error.message}")
        return {}


def export_transcripts(
    ctx: typer.Context,
    directory: DirArg,
    fmt: TranscriptFormatOpt = "text",
    concurrency: ConcurrencyOpt = 4,
    since: SinceOpt = None,
    until: UntilOpt = None,
    agent: AgentOpt = None,
    direction: DirectionOpt = None,
    status: StatusOpt = None,
    limit: ExportLimitOpt = None,
    fetch_all: AllOpt = False,
    as_json: SummaryJsonOpt = False,
) -> None:
    """Write each matching call's transcript to DIR/<call id>.<txt|json|srt>.

    Resumable: files that exist are skipped (run it again after an interruption), and
    each file is written under a temp name and renamed, so there are never half files.
    Calls without turns get no file; calls still in progress wait for a later run.
    Every matching call by default (--limit N for the newest N). Exit 1 if any failed.

    \b
    Examples:
      zaza calls export-transcripts qa/ --since 2026-11-01 --until 2026-12-01
      zaza calls export-transcripts subs/ --status completed --format srt
    """
    from pathlib import Path

    from zazacli.commands.calls import call_filters
    from zazacli.errors import ZazaError
    from zazacli.output.reports import ExportProgress, export_summary
    from zazacli.reports import TranscriptExporter, pick_transcript_format

    app_ctx = get_context(ctx)
    out = app_ctx.out
    fmt = pick_transcript_format(fmt)
    filters = call_filters(direction, status, agent, since, until, out.notice)
    if fetch_all:
        limit = None
    exporter = TranscriptExporter(app_ctx.api, Path(directory), fmt, concurrency=concurrency)
    exporter.prepare()
    total = None
    if out.err_tty:
        total = app_ctx.api.count_calls(filters)
        if total is not None and limit is not None:
            total = min(total, limit)
    # The newest N need the order; every match does not.
    calls = app_ctx.api.iter_calls(filters, limit=limit, ordered=limit is not None)
    try:
        with ExportProgress(out, total) as progress:
            exporter.on_outcome = progress.advance
            exporter.run(calls)
    finally:
        export_summary(out, exporter.summary, directory, fmt, as_json=as_json)
    failed = exporter.summary.failed
    if failed:
        raise ZazaError(
            f"{failed} transcript{'s' if failed != 1 else ''} failed",
            hint="run the same command again: files already written are skipped",
        )
