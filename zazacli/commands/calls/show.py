"""`zaza calls show ID`: one call, its details and its transcript."""

from __future__ import annotations

import typer

from zazacli.commands.calls.shared import CallId
from zazacli.commands.options import JsonOpt, get_context


def show_call(ctx: typer.Context, call_id: CallId, as_json: JsonOpt = False) -> None:
    """Show one call: its details and the transcript as a conversation.

    \b
    Examples:
      zaza calls show 90494
      zaza calls show 90494 --json
    """
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
