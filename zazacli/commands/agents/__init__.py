"""`zaza agents`: the org's voice agents (read-only in the API).

The noun and its verbs, one module each, registered here in help order; both verbs are
built by `commands/readonly.py`, the verb modules giving the API call and the help.
"""

from __future__ import annotations

from zazacli.commands.agents import list as list_
from zazacli.commands.agents import show
from zazacli.commands.app import noun_app

app = noun_app("agents")
app.command("list")(list_.list_agents)
app.command("show")(show.show_agent)
