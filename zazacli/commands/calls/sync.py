"""`zaza calls sync`: mirror the call history and its transcripts into the local archive."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zazacli.api.filters import call_filter
from zazacli.commands.app import get_context
from zazacli.commands.calls.archive import ArchiveOpt, archive_path
from zazacli.commands.options import AgentOpt, ConcurrencyOpt, DirectionOpt, StatusOpt
from zazacli.errors import ZazaError

if TYPE_CHECKING:
    from zazacli.api.listing import CallFilter
    from zazacli.archive.sync import SyncSummary
    from zazacli.context import AppContext

SyncSinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Mirror from this time on [default: the whole history]: ISO date or instant, "
        "2h, 3d, 1w, today, yesterday.",
        show_default=False,
    ),
]
SummaryJsonOpt = Annotated[
    bool, typer.Option("--json", help="Also print the summary as a JSON document on stdout.")
]

RefreshOpt = Annotated[
    bool,
    typer.Option(
        "--refresh",
        help="Read the whole range again (back to --since): update what the API changed, "
        "transcripts included, and mark what it no longer lists as deleted.",
    ),
]


def sync(
    ctx: typer.Context,
    since: SyncSinceOpt = None,
    agent: AgentOpt = None,
    direction: DirectionOpt = None,
    status: StatusOpt = None,
    archive_file: ArchiveOpt = None,
    concurrency: ConcurrencyOpt = 4,
    refresh: RefreshOpt = False,
    as_json: SummaryJsonOpt = False,
) -> None:
    """Mirror the call history, with transcripts, into a local archive (SQLite).

    The first sync reads the whole history (or back to --since); later ones read only
    what is new, read again the calls that were still live, and fetch each ended call's
    transcript once: with nothing new, that is a few requests. A plain sync does not see a
    call the API changes or deletes after it ended: --refresh reads the range again (list
    pages; a call is fetched only when the list shows it changed). Safe to interrupt, even
    with kill -9: the next sync completes the archive. `zaza calls search` and
    `zaza calls archive` then work offline. Exit 1 if any call failed.

    \b
    Examples:
      zaza calls sync
      zaza calls sync --since 2026-01-01 --agent 12
      zaza calls sync --refresh --since 30d
    """
    app_ctx = get_context(ctx)
    filters = call_filter(direction, status, agent, since, None, app_ctx.out.notice)
    path = archive_path(app_ctx, archive_file, syncing=True)
    mirror_all(app_ctx, path, filters, concurrency, refresh=refresh, as_json=as_json)


def mirror_all(
    app_ctx: AppContext,
    path: Path,
    filters: CallFilter,
    concurrency: int = 4,
    *,
    refresh: bool = False,
    as_json: bool = False,
) -> None:
    """Sync `filters` into the archive at `path` (also `calls review --sync`); a failed
    call, or calls announced and never listed, is an error once all is stored."""
    # Several values of a filter: one sync of each, as the archive keeps what each covers.
    summaries = [
        _mirror(app_ctx, path, part, concurrency, refresh, as_json) for part in filters.split()
    ]
    failed = sum(summary.failed for summary in summaries)
    incomplete = sum(summary.incomplete for summary in summaries)
    if failed:
        raise ZazaError(
            f"{failed} call{'s' if failed != 1 else ''} failed",
            hint="sync again: what is stored stays, and what failed is fetched again",
        )
    if incomplete:
        raise ZazaError(
            f"the API announced {incomplete} more calls than it listed: the archive may miss them",
            hint="sync again later (that range is read again); zaza doctor shows how the "
            "server pages",
        )


def _mirror(
    app_ctx: AppContext,
    path: Path,
    filters: CallFilter,
    concurrency: int,
    refresh: bool,
    as_json: bool,
) -> SyncSummary:
    """The sync itself, its plan and progress shown; the summary is printed even when it
    stops on an error."""
    from zazacli.archive.paths import key_fingerprint
    from zazacli.archive.store import Archive, archive_errors
    from zazacli.archive.sync import ArchiveSync
    from zazacli.output.archive import SyncProgress, sync_plan, sync_summary

    out, api = app_ctx.out, app_ctx.api
    with archive_errors(path):
        store = Archive.open(path, create=True, warn=out.warn)
        try:
            store.claim_source(api.base_url, key_fingerprint(app_ctx.settings.api_key or ""))
            syncer = ArchiveSync(
                api, store, filters, concurrency=concurrency, refresh=refresh, notice=out.notice
            )
            plan = syncer.plan()
            if plan.first or plan.back_fill:
                sync_plan(out, str(path), plan.expected, plan.first)
            try:
                with SyncProgress(out, plan.expected) as progress:
                    syncer.on_progress = progress.update
                    return syncer.run(plan)
            finally:
                sync_summary(out, syncer.summary, str(path), as_json=as_json)
        finally:
            store.close()
