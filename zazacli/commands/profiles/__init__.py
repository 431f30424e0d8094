"""`zaza profiles`: named API keys and their settings, kept in the config directory.

The noun and its verbs, one module each, registered here in help order.
"""

from __future__ import annotations

from zazacli.commands.app import noun_app
from zazacli.commands.profiles import add, remove, show, test, use
from zazacli.commands.profiles import list as list_
from zazacli.commands.profiles import set as set_

app = noun_app("profiles")
app.command("add")(add.add)
app.command("set")(set_.set_value)
app.command("list")(list_.list_profiles)
app.command("show")(show.show)
app.command("use")(use.use)
app.command("remove")(remove.remove)
app.command("test")(test.test)
