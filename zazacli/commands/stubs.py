"""Hidden commands that answer for what only the dashboard can do (`zaza sms send`): one
line and exit 2 instead of "No such command". The table is zazacli/api/capabilities.py.

They are made on demand, when a name is not found: a real command always wins, so a
command the API gains later simply replaces its stub, and start-up never reads the table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

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
