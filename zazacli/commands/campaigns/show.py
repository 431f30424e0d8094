"""`zaza campaigns show ID`: one campaign, then its lead progress and calling hours."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zazacli.commands.readonly import show_command

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi
    from zazacli.output import Output


def _progress(out: Output, campaign: dict[str, Any]) -> None:
    """Below the record: leads by state as bars, and the calling hours."""
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


@show_command("campaign", id_help="Campaign id.", extra=_progress)
def show_campaign(api: ZazaApi, campaign_id: int) -> dict[str, Any]:
    """Show one campaign: lead progress and calling hours.

    With --fields, only those fields are printed (leadStats and callingHours as fields).

    \b
    Examples:
      zaza campaigns show 3
      zaza campaigns show 3 --fields name,status,leadStats
    """
    return api.get_campaign(campaign_id)
