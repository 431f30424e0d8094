"""`zaza campaigns`: campaigns and their lead progress (read-only in the API)."""

from __future__ import annotations

from typing import Annotated, Any

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

app = noun_app("campaigns")

CampaignId = Annotated[int, typer.Argument(help="Campaign id.", metavar="ID", min=0, max=ID_MAX)]


@app.command("list")
def list_campaigns(
    ctx: typer.Context,
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    header: HeaderOpt = False,
    wide: WideOpt = False,
    as_json: JsonOpt = False,
    jsonl: JsonlOpt = False,
    csv: CsvOpt = False,
) -> None:
    """List campaigns.

    \b
    Examples:
      zaza campaigns list
      zaza campaigns list --json
      zaza campaigns list -o csv --fields id,name,leadStats
    """
    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.choose(fmt, json=as_json, jsonl=jsonl, csv=csv, header=header)
    selected = pick_fields(fields, "campaign")
    out.wide = wide
    campaigns = app_ctx.api.list_campaigns()
    out.rows(campaigns, "campaign", chosen, empty_message="no campaigns", fields=selected)


@app.command("show")
def show_campaign(
    ctx: typer.Context,
    campaign_id: CampaignId,
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    as_json: JsonOpt = False,
    jsonl: JsonlOpt = False,
    csv: CsvOpt = False,
) -> None:
    """Show one campaign: lead progress and calling hours.

    With --fields, only those fields are printed (leadStats and callingHours as fields).

    \b
    Examples:
      zaza campaigns show 3
      zaza campaigns show 3 --fields name,status,leadStats
    """
    from zazacli.output import Format

    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.choose(fmt, json=as_json, jsonl=jsonl, csv=csv)
    selected = pick_fields(fields, "campaign")
    campaign = app_ctx.api.get_campaign(campaign_id)
    out.record(campaign, "campaign", chosen, fields=selected)
    if chosen not in (Format.table, Format.plain) or selected is not None:
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
