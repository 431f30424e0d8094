"""What several `zaza profiles` verbs share: the NAME arguments and reading a secret."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from zazacli.errors import UsageError

NameArg = Annotated[str, typer.Argument(help="Profile name.", metavar="NAME")]
ActiveNameArg = Annotated[str | None, typer.Argument(help="Profile [default: the active one].")]


def read_secret(prompt: str) -> str:
    """A secret from a hidden prompt on a terminal, else from stdin; never from argv."""
    if sys.stdin is not None and sys.stdin.isatty():
        value = typer.prompt(prompt, hide_input=True, err=True)
    else:
        value = sys.stdin.read() if sys.stdin is not None else ""
    value = value.strip()
    if not value:
        raise UsageError(
            f"no {prompt.lower()} given",
            hint='type it at the prompt, or pipe it: printf %s "$KEY" | zaza profiles add NAME',
        )
    if any(c.isspace() for c in value) or not value.isprintable():
        raise UsageError(f"the {prompt.lower()} contains spaces or control characters")
    return value
