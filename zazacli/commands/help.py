"""`zaza help [COMMAND…]`: the help of any command, as `zaza COMMAND… --help` prints it."""

from __future__ import annotations

from typing import Annotated

import typer

from zazacli.commands.app import single_command
from zazacli.errors import UsageError

WordsArg = Annotated[
    list[str] | None, typer.Argument(help="The command, e.g. calls list.", show_default=False)
]


def help_command(ctx: typer.Context, words: WordsArg = None) -> None:
    """Show the help of zaza or of one of its commands.

    \b
    Examples:
      zaza help
      zaza help calls list
    """
    context = ctx.find_root()
    for word in words or []:
        group = context.command
        found = group.get_command(context, word) if hasattr(group, "get_command") else None
        if found is None or getattr(found, "hidden", False):
            where = context.command_path
            raise UsageError(f"no such command: {where} {word}", hint=f"see '{where} --help'")
        context = found.make_context(word, [], parent=context, resilient_parsing=True)
    typer.echo(context.get_help())


app = single_command("help", help_command, no_args_is_help=False)
