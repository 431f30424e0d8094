"""`zaza campaigns list`: every campaign, with its lead counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zazacli.commands.readonly import list_command

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi


@list_command("campaign", empty_message="no campaigns")
def list_campaigns(api: ZazaApi) -> list[dict[str, Any]]:
    """List campaigns.

    \b
    Examples:
      zaza campaigns list
      zaza campaigns list --json
      zaza campaigns list -o csv --fields id,name,leadStats
    """
    return api.list_campaigns()
