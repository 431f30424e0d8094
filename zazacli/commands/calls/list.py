"""`zaza calls list`: call history, newest first."""

from __future__ import annotations

import typer

from zazacli.commands.options import (
    AgentOpt,
    AllOpt,
    CsvOpt,
    DirectionOpt,
    JsonlOpt,
    JsonOpt,
    LimitOpt,
    SinceOpt,
    StatusOpt,
    UntilOpt,
    call_filter,
    exclusive,
    get_context,
)

TERMINAL_DEFAULT_LIMIT = 20


def list_calls(
    ctx: typer.Context,
    direction: DirectionOpt = None,
    status: StatusOpt = None,
    agent: AgentOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: LimitOpt = None,
    fetch_all: AllOpt = False,
    as_json: JsonOpt = False,
    jsonl: JsonlOpt = False,
    csv: CsvOpt = False,
) -> None:
    """List calls, newest first: the newest 20 on a terminal, every match when piped.

    \b
    Examples:
      zaza calls list --status failed --since today
      zaza calls list --agent 12 --since 1w --all --csv > calls.csv
    """
    exclusive(limit=limit is not None, all=fetch_all)
    app_ctx = get_context(ctx)
    out = app_ctx.out
    filters = call_filter(direction, status, agent, since, until, out.notice)
    fmt = out.choose(json=as_json, jsonl=jsonl, csv=csv)
    # A person at a terminal (whatever the format) gets a page; a pipe gets everything.
    default_limit = limit is None and not fetch_all and out.is_tty
    if fetch_all:
        limit = None
    elif default_limit:
        limit = TERMINAL_DEFAULT_LIMIT
    calls = app_ctx.api.iter_calls(filters, limit=limit)
    shown = out.rows(calls, "call", fmt, empty_message="no calls match")
    if default_limit and shown == limit:
        out.notice(f"showing the newest {shown}; use --limit N or --all for more")
