"""`zaza agents`: the org's voice agents (read-only in the API)."""

from __future__ import annotations

from typing import Annotated

import typer

from zazacli.commands.options import CsvOpt, JsonlOpt, JsonOpt, get_context, noun_app

app = noun_app("agents")

AgentId = Annotated[int, typer.Argument(help="Agent id.", metavar="ID")]


@app.command("list")
def list_agents(
    ctx: typer.Context, as_json: JsonOpt = False, jsonl: JsonlOpt = False, csv: CsvOpt = False
) -> None:
    """List voice agents.

    \b
    Examples:
      zaza agents list
      zaza agents list --csv > agents.csv
    """
    app_ctx = get_context(ctx)
    fmt = app_ctx.out.choose(json=as_json, jsonl=jsonl, csv=csv)
    app_ctx.out.rows(app_ctx.api.list_agents(), "agent", fmt, empty_message="no agents")


@app.command("show")
def show_agent(ctx: typer.Context, agent_id: AgentId, as_json: JsonOpt = False) -> None:
    """Show one agent, with its greeting.

    \b
    Example:
      zaza agents show 12
    """
    app_ctx = get_context(ctx)
    app_ctx.out.record(app_ctx.api.get_agent(agent_id), "agent", app_ctx.out.choose(json=as_json))
