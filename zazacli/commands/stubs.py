"""Hidden commands that answer for what only the dashboard can do (`zaza sms send`): one
line and exit 2 instead of "No such command". The table is zazacli/api/capabilities.py.

They are made on demand, when a name is not found: a real command always wins, so a
command the API gains later simply replaces its stub, and start-up never reads the table."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperGroup

from zazacli.errors import UsageError

# A stub takes any arguments and options, `--help` included: every invocation gets the line.
STUB_SETTINGS = {"ignore_unknown_options": True, "allow_extra_args": True}


def _stub(path: str, message: str) -> Callable[[typer.Context], None]:
    def not_in_the_api(ctx: typer.Context) -> None:
        typed = f"zaza {path}"
        if " " not in path and ctx.args and not ctx.args[0].startswith("-"):
            typed += f" {ctx.args[0]}"  # the verb tried on a missing noun: `zaza sms send`
        raise UsageError(f"{typed}: {message}")

    return not_in_the_api


class NounGroup(TyperGroup):
    """A noun's group: a name it lacks that users try for a dashboard-only feature
    (`zaza campaigns start`) answers from the capabilities table, read only then; its
    `--help` lists each verb with the whole first line of its help."""

    def get_command(self, ctx: Any, name: str) -> Any:
        command = super().get_command(ctx, name)
        if command is None and self.name:
            command = dashboard_stub(f"{self.name} {name}")
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """Click cuts each description at about 45 characters (`List calls, newest first:
        the newest 20 on a...`); a verb's first line is written to be read whole."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, first_line(command)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def first_line(command: Any) -> str:
    """A command's description in one line: its short help if set, else the first
    paragraph of its help (before any `\\f`), whitespace and `\\b` markers dropped."""
    text = command.short_help or (command.help or "").split("\f", 1)[0]
    paragraph = re.split(r"\n\s*\n", text.strip(), maxsplit=1)[0]
    return " ".join(word for word in paragraph.split() if word != "\b")


def dashboard_stub(path: str) -> Any:
    """The hidden command that answers for `zaza PATH`, or None when PATH is no known try.
    A one-word PATH is a whole noun that does not exist (`zaza sms …`): it swallows any
    subcommand and option."""
    from zazacli.api.capabilities import DASHBOARD_ONLY

    message = DASHBOARD_ONLY.get(path)
    if message is None:
        return None
    single = typer.Typer(add_completion=False, rich_markup_mode=None)
    single.command(
        path.rpartition(" ")[2],
        hidden=True,
        help=f"Not in the API: {message}.",
        context_settings=STUB_SETTINGS,
        add_help_option=False,
    )(_stub(path, message))
    return typer.main.get_command(single)
