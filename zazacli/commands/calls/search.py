"""`zaza calls search QUERY`: full-text search over the archived transcripts (offline)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from zazacli.api.filters import call_filter, pick_choice
from zazacli.commands.app import get_context
from zazacli.commands.calls.archive import ArchiveOpt, IncludeDeletedOpt, archive_path
from zazacli.commands.options import (
    COUNT_MAX,
    AgentOpt,
    DirectionOpt,
    FormatOpt,
    JqOpt,
    SinceOpt,
    StatusOpt,
    TemplateOpt,
    UntilOpt,
    completer,
)
from zazacli.commands.values import text_value

if TYPE_CHECKING:
    from zazacli.context import AppContext
    from zazacli.output import Format

TERMINAL_DEFAULT_LIMIT = 20
ROLES = ("AGENT", "CALLER")

QueryArg = Annotated[
    str,
    typer.Argument(
        help='Words (all must match), "a phrase", prefix*, AND, OR, NOT, NEAR(a b, 10).',
        metavar="QUERY",
        show_default=False,
    ),
]
RoleOpt = Annotated[
    str | None,
    typer.Option(
        "--role",
        help="agent or caller: only what that side said.",
        autocompletion=completer(lambda: ("agent", "caller")),
        show_default=False,
    ),
]
SearchLimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "-L",
        min=1,
        max=COUNT_MAX,
        help="At most N hits [default: 20 on a terminal, else all].",
    ),
]
RankAllOpt = Annotated[
    bool,
    typer.Option(
        "--rank-all",
        help="With a limit, rank every match of a very common query, not only its newest "
        "matches (slower).",
    ),
]


def search(
    ctx: typer.Context,
    query: QueryArg,
    since: SinceOpt = None,
    until: UntilOpt = None,
    agent: AgentOpt = None,
    status: StatusOpt = None,
    direction: DirectionOpt = None,
    role: RoleOpt = None,
    limit: SearchLimitOpt = None,
    rank_all: RankAllOpt = False,
    fmt: FormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
    include_deleted: IncludeDeletedOpt = False,
    archive_file: ArchiveOpt = None,
) -> None:
    """Search the archived transcripts, best match first (SQLite FTS5, bm25).

    Each hit is one turn: the call id, its time, the agent, who spoke, and a snippet with
    the match highlighted (marked **like this** when not on a terminal). Case and accents
    are ignored; Chinese and Japanese are matched character by character. Works offline,
    on what `zaza calls sync` archived. A query FTS5 cannot read is a usage error (exit 2).
    On a terminal, a list taller than the screen goes through the pager.

    \b
    Examples:
      zaza calls search refund --since 1w
      zaza calls search '"move it to thursday" OR reschedul*' --role caller
      zaza calls search 'NEAR(price plan, 5)' --agent 12 -o csv > pricing.csv
    """
    from zazacli.output import Format

    app_ctx = get_context(ctx)
    out = app_ctx.out
    query = text_value(query, "the query")
    filters = call_filter(direction, status, agent, since, until, out.notice)
    speaker = pick_choice(role, ROLES, "--role")
    chosen = out.view(fmt, jq=jq, template=template).format
    # A person at a terminal (whatever the format) gets the best 20; a pipe gets every hit.
    default_limit = limit is None and out.terminal
    # One hit more than shown on a terminal tells whether there are more.
    wanted = TERMINAL_DEFAULT_LIMIT + 1 if default_limit else limit
    shown, more, ranked = _print_hits(
        app_ctx,
        archive_path(app_ctx, archive_file),
        chosen,
        default_limit,
        query=query,
        filters=filters,
        role=speaker,
        limit=wanted,
        include_deleted=include_deleted,
        rank_all=rank_all,
    )
    _say_what_was_left_out(app_ctx, shown == 0 and chosen is not Format.json, more, ranked)


def _print_hits(
    app_ctx: AppContext, path: Path, chosen: Format, default_limit: bool, **query: Any
) -> tuple[int, bool, int | None]:
    """Search the archive and print the hits: (how many were shown, whether a terminal's
    default limit left more out, how many of the newest matches were ranked if not all)."""
    from zazacli.archive.search import search as run_search
    from zazacli.archive.store import Archive, archive_errors
    from zazacli.output.archive import search_results

    out = app_ctx.out
    with archive_errors(path):
        store = Archive.open(path, create=False, warn=out.warn)
        try:
            found = run_search(store, **query)
            hits, more = found.hits, False
            if default_limit:
                best = list(hits)
                more = len(best) > TERMINAL_DEFAULT_LIMIT
                hits = iter(best[:TERMINAL_DEFAULT_LIMIT])
            with out.paged():
                return search_results(out, hits, chosen), more, found.ranked
        finally:
            store.close()


def _say_what_was_left_out(app_ctx: AppContext, none: bool, more: bool, ranked: int | None) -> None:
    out = app_ctx.out
    if none:
        out.notice("no matches")
    elif more:
        out.notice(f"showing the best {TERMINAL_DEFAULT_LIMIT}; use --limit N for more")
    if ranked is not None:
        out.notice(
            f"more than {ranked:,} turns match: the best of the newest {ranked:,} are shown "
            "(--rank-all ranks every match, slower)"
        )
