"""`zaza agents`: the org's voice agents (read-only in the API)."""

from __future__ import annotations

from typing import Annotated

import typer

from zazacli.commands.options import (
    ID_MAX,
    CsvOpt,
    FieldsOpt,
    FormatOpt,
    HeaderOpt,
    JsonlOpt,
    JsonOpt,
    WideOpt,
    get_context,
    noun_app,
    pick_fields,
)

app = noun_app("agents")

AgentId = Annotated[int, typer.Argument(help="Agent id.", metavar="ID", min=0, max=ID_MAX)]


@app.command("list")
def list_agents(
    ctx: typer.Context,
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    header: HeaderOpt = False,
    wide: WideOpt = False,
    as_json: JsonOpt = False,
    jsonl: JsonlOpt = False,
    csv: CsvOpt = False,
) -> None:
    """List voice agents.

    \b
    Examples:
      zaza agents list
      zaza agents list --csv > agents.csv
      zaza agents list -o plain --fields id,name,language
    """
    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.choose(fmt, json=as_json, jsonl=jsonl, csv=csv, header=header)
    selected = pick_fields(fields, "agent")
    out.wide = wide
    out.rows(app_ctx.api.list_agents(), "agent", chosen, empty_message="no agents", fields=selected)


@app.command("show")
def show_agent(
    ctx: typer.Context,
    agent_id: AgentId,
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    as_json: JsonOpt = False,
    jsonl: JsonlOpt = False,
    csv: CsvOpt = False,
) -> None:
    """Show one agent, with its greeting.

    \b
    Examples:
      zaza agents show 12
      zaza agents show 12 --json --fields name,greetingMessage
    """
    app_ctx = get_context(ctx)
    chosen = app_ctx.out.choose(fmt, json=as_json, jsonl=jsonl, csv=csv)
    selected = pick_fields(fields, "agent")
    agent = app_ctx.api.get_agent(agent_id)
    app_ctx.out.record(agent, "agent", chosen, fields=selected)
