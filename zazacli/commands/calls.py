"""`zaza calls`: call history, one call with its transcript, and the transcript alone."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from zazacli.api.values import DIRECTIONS
from zazacli.commands.common import (
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
    get_context,
    new_app,
    pick_choice,
    pick_status,
)
from zazacli.errors import exit_codes_help
from zazacli.times import parse_when

if TYPE_CHECKING:
    from zazacli.api.listing import CallFilter

app = new_app("Call history, transcripts, and dispatching calls.", epilog=exit_codes_help())

TERMINAL_DEFAULT_LIMIT = 20

CallId = Annotated[int, typer.Argument(help="Call id.", metavar="ID")]


class TranscriptFormat(StrEnum):
    text = "text"
    json = "json"
    srt = "srt"


def call_filters(
    direction: str | None,
    status: str | None,
    agent: int | None,
    since: str | None,
    until: str | None,
    notice: Callable[[str], None],
) -> CallFilter:
    """The validated filters of `calls list` (shared by every command that pages calls).

    `notice` says that an unknown UPPER_SNAKE_CASE `--status` is sent as is."""
    from zazacli.api.listing import CallFilter

    return CallFilter(
        direction=pick_choice(direction, DIRECTIONS, "--direction"),
        status=pick_status(status, notice),
        agent_id=agent,
        since=parse_when(since, "--since") if since else None,
        until=parse_when(until, "--until") if until else None,
    )


@app.command("list")
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
    """List calls, newest first: the newest 20 on a terminal, every match when piped."""
    app_ctx = get_context(ctx)
    out = app_ctx.out
    filters = call_filters(direction, status, agent, since, until, out.notice)
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


@app.command("show")
def show_call(ctx: typer.Context, call_id: CallId, as_json: JsonOpt = False) -> None:
    """Show one call: its details and the transcript as a conversation."""
    from zazacli.output import Format

    app_ctx = get_context(ctx)
    out = app_ctx.out
    call = app_ctx.api.get_call(call_id)
    fmt = out.choose(json=as_json)
    out.record(call, "call", fmt)
    if fmt is Format.json:
        return
    variables = call.get("variables")
    if isinstance(variables, dict) and variables:
        out.section("Variables")
        out.key_values((str(k), v) for k, v in variables.items())
    out.section("Transcript")
    out.transcript(call, "chat")


@app.command("transcript")
def transcript(
    ctx: typer.Context,
    call_id: CallId,
    fmt: Annotated[
        TranscriptFormat,
        typer.Option("--format", "-f", help="text: [mm:ss] ROLE: text; json; srt subtitles."),
    ] = TranscriptFormat.text,
) -> None:
    """Print a call's transcript alone, for grep, files and subtitle tools."""

    app_ctx = get_context(ctx)
    call = app_ctx.api.get_call(call_id)
    app_ctx.out.transcript(call, fmt.value)
