"""`zaza calls list`: call history, newest first."""

from __future__ import annotations

import typer

from zazacli.commands.options import (
    AgentOpt,
    AllOpt,
    CsvOpt,
    DirectionOpt,
    FieldsOpt,
    FormatOpt,
    HeaderOpt,
    JsonlOpt,
    JsonOpt,
    LimitOpt,
    SinceOpt,
    StatusOpt,
    UntilOpt,
    WideOpt,
    call_filter,
    exclusive,
    get_context,
    pick_fields,
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
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    header: HeaderOpt = False,
    wide: WideOpt = False,
    as_json: JsonOpt = False,
    jsonl: JsonlOpt = False,
    csv: CsvOpt = False,
) -> None:
    """List calls, newest first: the newest 20 on a terminal, every match when piped.

    On a terminal, a list taller than the screen goes through the pager.

    \b
    Examples:
      zaza calls list --status failed --since today
      zaza calls list --agent 12 --since 1w --all --csv > calls.csv
      zaza calls list --since 1d -o plain --fields id,status,toNumber --header
    """
    exclusive(limit=limit is not None, all=fetch_all)
    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.choose(fmt, json=as_json, jsonl=jsonl, csv=csv, header=header)
    selected = pick_fields(fields, "call")
    out.wide = wide
    filters = call_filter(direction, status, agent, since, until, out.notice)
    # A person at a terminal (whatever the format) gets a page; a pipe gets everything.
    default_limit = limit is None and not fetch_all and out.terminal
    if fetch_all:
        limit = None
    elif default_limit:
        limit = TERMINAL_DEFAULT_LIMIT
    calls = app_ctx.api.iter_calls(filters, limit=limit)
    with out.paged():
        shown = out.rows(calls, "call", chosen, empty_message="no calls match", fields=selected)
    if default_limit and shown == limit:
        out.notice(f"showing the newest {shown}; use --limit N or --all for more")
