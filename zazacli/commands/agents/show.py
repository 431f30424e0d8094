"""`zaza agents show ID`: one voice agent, with its greeting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zazacli.commands.readonly import show_command

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi


@show_command("agent", id_help="Agent id.")
def show_agent(api: ZazaApi, agent_id: int) -> dict[str, Any]:
    """Show one agent, with its greeting.

    \b
    Examples:
      zaza agents show 12
      zaza agents show 12 --json --fields name,greetingMessage
    """
    return api.get_agent(agent_id)
