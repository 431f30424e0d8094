"""`zaza ui`: the full-screen terminal app (zazacli/ui/), over the API or the archive."""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from zazacli.api.filters import call_filter
from zazacli.commands.app import get_context, single_command
from zazacli.commands.calls.archive import ArchiveOpt, IncludeDeletedOpt, archive_path, only_local
from zazacli.commands.options import AgentOpt, DirectionOpt, SinceOpt, StatusOpt, UntilOpt
from zazacli.errors import UsageError

if TYPE_CHECKING:
    from zazacli.archive.store import Archive
    from zazacli.context import AppContext

LocalOpt = Annotated[
    bool,
    typer.Option(
        "--local",
        help="Browse the local archive (zaza calls sync) offline: the calls as of the last "
        "sync, no key needed with --archive.",
    ),
]


def ui(
    ctx: typer.Context,
    local: LocalOpt = False,
    archive_file: ArchiveOpt = None,
    include_deleted: IncludeDeletedOpt = False,
    direction: DirectionOpt = None,
    status: StatusOpt = None,
    agent: AgentOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
) -> None:
    """Open the full-screen app: calls live, a call and its transcript.

    The call list (newest first; new calls and status changes appear as `calls tail` finds
    them), enter opens a call with its transcript as a chat, f filters, / searches the
    archive; ? lists every key, q quits. The filter options set the list's first filter.
    With --local, the archive offline.

    \b
    Examples:
      zaza ui
      zaza --sandbox ui --status in_progress,ringing
      zaza ui --local --since 1w
    """
    app_ctx = get_context(ctx)
    out = app_ctx.out
    if not local:
        only_local(include_deleted=include_deleted)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "zaza ui needs a terminal (its input and output)",
            hint="for scripts, use zaza calls list, show and tail",
        )
    filters = call_filter(direction, status, agent, since, until, out.notice)
    from zazacli.ui.app import ZazaUi
    from zazacli.ui.source import ApiSource, ArchiveSource, CallSource

    with contextlib.ExitStack() as stack:
        source: CallSource
        archive: Archive | None
        if local:
            from zazacli.archive.local import opened

            path = archive_path(app_ctx, archive_file)
            store = stack.enter_context(opened(path, out.warn))
            source = ArchiveSource(store, include_deleted=include_deleted)
            archive = store
        else:
            source = ApiSource(app_ctx.api)
            archive = _searched(stack, app_ctx, archive_file)
        # The first page before the screen: a bad key or URL is one error line, not a screen.
        pages = source.pages(filters)
        first = pages.more()
        app = ZazaUi(source, filters=filters, first=(pages, first), archive=archive)
        app.run()
    if app.failure is not None:
        raise app.failure
    if app.return_code:
        raise typer.Exit(app.return_code)


def _searched(
    stack: contextlib.ExitStack[Any], app_ctx: AppContext, archive_file: str | None
) -> Archive | None:
    """The archive that `/` searches beside the live API, when there is one."""
    from zazacli.archive.store import Archive

    try:
        path = archive_path(app_ctx, archive_file)
    except UsageError:  # --sandbox: a private sandbox has no archive
        return None
    if not path.exists():
        return None
    store = Archive.open(path, create=False, warn=app_ctx.out.warn)
    stack.callback(store.close)
    return store


app = single_command("ui", ui)
