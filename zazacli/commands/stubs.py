"""Hidden commands that answer for what only the dashboard can do (`zaza sms send`): one
line and exit 2 instead of "No such command". The table is zazacli/api/capabilities.py."""

from __future__ import annotations

from collections.abc import Callable

import typer

from zazacli.api.capabilities import DASHBOARD_ONLY
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


def add_dashboard_stubs(app: typer.Typer, noun: str = "") -> None:
    """Register the hidden stubs below `noun` ("" for the root's whole nouns) on `app`.

    Call it after the app's real commands are registered: a name that exists is left alone,
    so a command the API gains later simply replaces its stub.
    """
    taken = {
        info.name or getattr(info.callback, "__name__", "").replace("_", "-")
        for info in app.registered_commands
    }
    taken |= {info.name for info in app.registered_groups if info.name}
    for path, message in DASHBOARD_ONLY.items():
        parent, _, name = path.rpartition(" ")
        if parent != noun or name in taken:
            continue
        app.command(
            name,
            hidden=True,
            help=f"Not in the API: {message}.",
            context_settings=STUB_SETTINGS,
            add_help_option=False,
        )(_stub(path, message))
