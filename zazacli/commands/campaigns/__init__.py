"""`zaza campaigns`: campaigns and their lead progress (read-only in the API).

The noun and its verbs, one module each, registered here in help order; both verbs are
built by `commands/readonly.py`, the verb modules giving the API call and the help.
"""

from __future__ import annotations

from zazacli.commands.app import noun_app
from zazacli.commands.campaigns import list as list_
from zazacli.commands.campaigns import show

app = noun_app("campaigns")
app.command("list")(list_.list_campaigns)
app.command("show")(show.show_campaign)
