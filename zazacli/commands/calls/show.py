"""`zaza calls show ID`: one call, its details and its transcript."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from zazacli.commands.calls.shared import CallId
from zazacli.commands.options import (
    CsvOpt,
    FieldsOpt,
    FormatOpt,
    JsonlOpt,
    JsonOpt,
    get_context,
    pick_fields,
)
from zazacli.errors import ZazaError

if TYPE_CHECKING:
    from zazacli.context import AppContext


def show_call(
    ctx: typer.Context,
    call_id: CallId,
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    as_json: JsonOpt = False,
    jsonl: JsonlOpt = False,
    csv: CsvOpt = False,
) -> None:
    """Show one call: its details and the transcript as a conversation.

    With --fields, only those fields are printed (variables and turns as fields). On a
    terminal, a call taller than the screen goes through the pager.

    \b
    Examples:
      zaza calls show 90494
      zaza calls show 90494 --json
      zaza calls show 90494 -o plain --fields status,durationSeconds,disposition
    """
    from zazacli.output import Format

    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.choose(fmt, json=as_json, jsonl=jsonl, csv=csv)
    selected = pick_fields(fields, "call")
    call = app_ctx.api.get_call(call_id)
    # On a terminal the agent is named: one more request, made before the pager starts.
    named = with_agent_name(app_ctx, call) if chosen is Format.table and not selected else call
    with out.paged():
        out.record(named, "call", chosen, fields=selected)
        if chosen not in (Format.table, Format.plain) or selected is not None:
            return
        variables = call.get("variables")
        if isinstance(variables, dict) and variables:
            out.section("Variables")
            out.key_values((str(k), v) for k, v in variables.items())
        out.section("Transcript")
        out.transcript(call, "chat")


def with_agent_name(app_ctx: AppContext, call: dict[str, Any]) -> dict[str, Any]:
    """The call as the terminal shows it: its agent as `12 (Zara from Acme)`, from
    GET /agents/12. When that fails the id alone: the call is what was asked for."""
    agent_id = call.get("agentId")
    # An id the API sent: only a real integer goes into a request path.
    if not isinstance(agent_id, int) or isinstance(agent_id, bool):
        return call
    try:
        name = app_ctx.api.get_agent(agent_id).get("name")
    except ZazaError:
        return call
    return {**call, "agentId": f"{agent_id} ({name})"} if name else call
