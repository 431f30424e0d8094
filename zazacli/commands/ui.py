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
from zazacli.commands.webhooks.common import DEFAULT_PORT, SaveOpt
from zazacli.errors import UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from zazacli.archive.store import Archive
    from zazacli.calls.admission import Dialling
    from zazacli.calls.stats import Rates
    from zazacli.context import AppContext
    from zazacli.ui.events import EventFeed
    from zazacli.ui.source import CallSource

LocalOpt = Annotated[
    bool,
    typer.Option(
        "--local",
        help="Browse the local archive (zaza calls sync) offline: the calls as of the last "
        "sync, no key needed with --archive.",
    ),
]


ListenOpt = Annotated[
    int | None,
    typer.Option(
        "--listen",
        metavar="[PORT]",
        min=0,
        max=65535,
        help="Receive webhook events on this port of 127.0.0.1, as zaza webhooks listen "
        f"does, and show them live (e). PORT left out: {DEFAULT_PORT}, its port; 0: any "
        "free port.",
        show_default=False,
    ),
]


def ui(
    ctx: typer.Context,
    local: LocalOpt = False,
    listen: ListenOpt = None,
    save: SaveOpt = None,
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
    archive, s shows `calls stats` for the filter, d dispatches a call (the dry run's
    verdicts first, then a confirmation), e shows the webhook events of --listen; ? lists
    every key, q quits. The filter options set the list's first filter. With --local, the
    archive offline. --save keeps the events of --listen, as webhooks listen --save does.

    \b
    Examples:
      zaza ui
      zaza --sandbox ui --status in_progress,ringing
      zaza ui --local --since 1w
      zaza ui --listen --save events.jsonl
    """
    app_ctx = get_context(ctx)
    _check_usage(local=local, include_deleted=include_deleted, listen=listen, save=save)
    filters = call_filter(direction, status, agent, since, until, app_ctx.out.notice)
    from zazacli.ui.app import ZazaUi

    with contextlib.ExitStack() as stack:
        source, archive = _sources(stack, app_ctx, local, archive_file, include_deleted)
        feed = None if listen is None else _listening(stack, app_ctx, listen, save)
        # The first page before the screen: a bad key or URL is one error line, not a screen.
        pages = source.pages(filters)
        first = pages.more()
        app = ZazaUi(
            source,
            filters=filters,
            first=(pages, first),
            archive=archive,
            rates=_rates(app_ctx),
            dialling=None if local else lambda: _dialling(app_ctx),
            feed=feed,
        )
        app.run()
    if app.failure is not None:
        raise app.failure
    if app.return_code:
        raise typer.Exit(app.return_code)


def _check_usage(
    *, local: bool, include_deleted: bool, listen: int | None, save: Path | None
) -> None:
    """The options that go together, and a terminal to draw on."""
    if not local:
        only_local(include_deleted=include_deleted)
    if save is not None and listen is None:
        raise UsageError("--save keeps the events of --listen", hint="zaza ui --listen --save FILE")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "zaza ui needs a terminal (its input and output)",
            hint="for scripts, use zaza calls list, show and tail",
        )


def _sources(
    stack: contextlib.ExitStack[Any],
    app_ctx: AppContext,
    local: bool,
    archive_file: str | None,
    include_deleted: bool,
) -> tuple[CallSource, Archive | None]:
    """Where the calls are read (the API, or the archive with --local), and the archive
    `/` searches."""
    from zazacli.ui.source import ApiSource, ArchiveSource

    if local:
        from zazacli.archive.local import opened

        path = archive_path(app_ctx, archive_file)
        store = stack.enter_context(opened(path, app_ctx.out.warn))
        return ArchiveSource(store, include_deleted=include_deleted), store
    return ApiSource(app_ctx.api), _searched(stack, app_ctx, archive_file)


def _listening(
    stack: contextlib.ExitStack[Any], app_ctx: AppContext, port: int, save: Path | None
) -> EventFeed:
    """`webhooks listen`'s listener for the app's lifetime: the profile's secret checks
    signatures, each event is appended to `save` before its 200, and verified opt-out
    texts go on the do-not-call list before it too."""
    from zazacli.commands.webhooks.common import resolve_secret
    from zazacli.commands.webhooks.listen import OptOuts, _listener_config, _start_listener
    from zazacli.ui.events import EventFeed
    from zazacli.webhooks.model import Notice

    secret, _ = resolve_secret(app_ctx, None)
    config = _listener_config("127.0.0.1", port, "/webhooks", secret, None, None, 10.0, save)
    started = OptOuts.start(app_ctx, app_ctx.env.get("ZAZA_DNC") or None)
    opt_outs = started if isinstance(started, OptOuts) else None
    feed = EventFeed("")
    listener = _start_listener(config, feed, opt_outs)
    if opt_outs is not None:
        stack.callback(opt_outs.close)
    stack.callback(listener.close)  # first: nothing reaches the list once it is closed
    feed.url = listener.url
    feed.saved = str(save) if save else None
    if isinstance(started, str):
        feed.notice(Notice(started))
    return feed


def _dialling(app_ctx: AppContext) -> Dialling:
    """What `d` dials with: `calls dispatch`'s own (the profile's calling window and region,
    the contact-policy file of this API and key, or ZAZA_DNC's)."""
    from zazacli.commands.calls.shared import dialling
    from zazacli.commands.policy import DNC_ENV

    return dialling(app_ctx, app_ctx.env.get(DNC_ENV) or None)


def _rates(app_ctx: AppContext) -> Rates:
    """The rates `calls stats` estimates costs with (a profile's, else the list prices)."""
    from zazacli.calls.stats import pick_rates

    settings = app_ctx.settings
    return pick_rates(
        settings.get("rate_outbound"), settings.get("rate_inbound"), settings.profile_name
    )


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
