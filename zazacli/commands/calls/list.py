"""`zaza calls list`: call history, newest first."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
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
    AllOpt,
    DirectionOpt,
    FieldsOpt,
    FormatOpt,
    HeaderOpt,
    JqOpt,
    LimitOpt,
    SinceOpt,
    StatusOpt,
    TemplateOpt,
    UntilOpt,
    WideOpt,
)
from zazacli.commands.values import exclusive, pick_fields

if TYPE_CHECKING:
    from zazacli.api.listing import CallFilter
    from zazacli.context import AppContext

TERMINAL_DEFAULT_LIMIT = 20
LocalOpt = Annotated[
    bool,
    typer.Option(
        "--local",
        help="List from the local archive (zaza calls sync), offline: the calls as of the "
        "last sync.",
    ),
]


def list_calls(
    ctx: typer.Context,
    direction: DirectionOpt = None,
    status: StatusOpt = None,
    agent: AgentOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: LimitOpt = None,
    fetch_all: AllOpt = False,
    fmt: FormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
    fields: FieldsOpt = None,
    header: HeaderOpt = False,
    wide: WideOpt = False,
    local: LocalOpt = False,
    include_deleted: IncludeDeletedOpt = False,
    archive_file: ArchiveOpt = None,
) -> None:
    """List calls, newest first: the newest 20 on a terminal, every match when piped.

    On a terminal, a list taller than the screen goes through the pager. With --local,
    the same list from the archive `zaza calls sync` keeps: no network, and no key when
    --archive (or ZAZA_ARCHIVE) names the file.

    \b
    Examples:
      zaza calls list --status failed --since today
      zaza calls list --agent 12 --since 1w --all --csv > calls.csv
      zaza calls list --since 1d -o plain --fields id,status,toNumber --header
      zaza calls list --local --status failed --since 1w
    """
    exclusive(limit=limit is not None, all=fetch_all)
    app_ctx = get_context(ctx)
    out = app_ctx.out
    view = out.view(fmt, header=header, wide=wide, jq=jq, template=template)
    selected = pick_fields(fields, "call")
    filters = call_filter(direction, status, agent, since, until, out.notice)
    # A person at a terminal (whatever the format) gets a page; a pipe gets everything.
    default_limit = limit is None and not fetch_all and out.terminal
    if fetch_all:
        limit = None
    elif default_limit:
        limit = TERMINAL_DEFAULT_LIMIT
    with contextlib.ExitStack() as stack:
        if local:
            calls = _archived(stack, app_ctx, archive_file, filters, limit, include_deleted)
        else:
            only_local(include_deleted=include_deleted)
            calls = app_ctx.api.iter_calls(filters, limit=limit)
        with out.paged():
            shown = out.rows(calls, "call", view, empty_message="no calls match", fields=selected)
    if default_limit and shown == limit:
        out.notice(f"showing the newest {shown}; use --limit N or --all for more")


def _archived(
    stack: contextlib.ExitStack[Any],
    app_ctx: AppContext,
    archive_file: str | None,
    filters: CallFilter,
    limit: int | None,
    include_deleted: bool,
) -> Iterator[dict[str, Any]]:
    """The calls as of the last sync, from the archive (open until the stack closes)."""
    from zazacli.archive.local import archived_calls, opened

    store = stack.enter_context(opened(archive_path(app_ctx, archive_file), app_ctx.out.warn))
    return archived_calls(store, filters, limit, include_deleted)
