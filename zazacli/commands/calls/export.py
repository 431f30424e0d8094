"""`zaza calls export-transcripts DIR`: each matching call's transcript to a file."""

from __future__ import annotations

from typing import Annotated

import typer

from zazacli.api.filters import call_filter
from zazacli.commands.app import get_context
from zazacli.commands.options import (
    COUNT_MAX,
    AgentOpt,
    AllOpt,
    ConcurrencyOpt,
    DirectionOpt,
    SinceOpt,
    StatusOpt,
    UntilOpt,
)
from zazacli.commands.values import exclusive

DirArg = Annotated[
    str,
    typer.Argument(help="Directory for <call id>.<ext> files (created if missing).", metavar="DIR"),
]
TranscriptFormatOpt = Annotated[
    str,
    typer.Option(
        "--format", "-o", help="text ([mm:ss] ROLE: text), json (the turns) or srt subtitles."
    ),
]
ExportLimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "-L",
        min=1,
        max=COUNT_MAX,
        help="Only the newest N matching calls [default: all].",
    ),
]
SummaryJsonOpt = Annotated[
    bool, typer.Option("--json", help="Also print the summary as a JSON document on stdout.")
]


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

    from zazacli.calls.export import TranscriptExporter, pick_transcript_format
    from zazacli.errors import ZazaError
    from zazacli.output.export import ExportProgress, export_summary

    exclusive(limit=limit is not None, all=fetch_all)
    app_ctx = get_context(ctx)
    out = app_ctx.out
    fmt = pick_transcript_format(fmt)
    filters = call_filter(direction, status, agent, since, until, out.notice)
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
