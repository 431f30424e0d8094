"""`zaza campaigns`: campaigns and their lead progress (read-only in the API)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from zazacli.commands.options import CsvOpt, JsonlOpt, JsonOpt, get_context, noun_app

app = noun_app("campaigns")

CampaignId = Annotated[int, typer.Argument(help="Campaign id.", metavar="ID")]


@app.command("list")
def list_campaigns(
    ctx: typer.Context, as_json: JsonOpt = False, jsonl: JsonlOpt = False, csv: CsvOpt = False
) -> None:
    """List campaigns.

    \b
    Examples:
      zaza campaigns list
      zaza campaigns list --json
    """
    app_ctx = get_context(ctx)
    fmt = app_ctx.out.choose(json=as_json, jsonl=jsonl, csv=csv)
    app_ctx.out.rows(app_ctx.api.list_campaigns(), "campaign", fmt, empty_message="no campaigns")


@app.command("show")
def show_campaign(ctx: typer.Context, campaign_id: CampaignId, as_json: JsonOpt = False) -> None:
    """Show one campaign: lead progress and calling hours.

    \b
    Example:
      zaza campaigns show 3
    """
    from zazacli.output import Format

    app_ctx = get_context(ctx)
    out = app_ctx.out
    campaign = app_ctx.api.get_campaign(campaign_id)
    fmt = out.choose(json=as_json)
    out.record(campaign, "campaign", fmt)
    if fmt is Format.json:
        return
    stats: Any = campaign.get("leadStats")
    if isinstance(stats, dict) and stats:
        counts = [(str(k), v) for k, v in stats.items() if isinstance(v, int)]
        total = campaign.get("totalLeads")
        out.section("Leads")
        out.bars(counts, total if isinstance(total, int) and total > 0 else None)
    hours: Any = campaign.get("callingHours")
    if isinstance(hours, dict) and hours:
        out.section("Calling hours")
        out.key_values((str(k), v) for k, v in hours.items())
