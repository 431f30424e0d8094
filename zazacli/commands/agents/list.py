"""`zaza agents list`: every voice agent of the org."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zazacli.commands.readonly import list_command

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi


@list_command("agent", empty_message="no agents")
def list_agents(api: ZazaApi) -> list[dict[str, Any]]:
    """List voice agents.

    \b
    Examples:
      zaza agents list
      zaza agents list --csv > agents.csv
      zaza agents list -o plain --fields id,name,language
    """
    return api.list_agents()
