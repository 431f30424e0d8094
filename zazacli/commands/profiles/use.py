"""`zaza profiles use NAME`: make a profile the default."""

from __future__ import annotations

import typer

from zazacli.commands.app import get_context
from zazacli.commands.profiles.common import NameArg


def use(ctx: typer.Context, name: NameArg) -> None:
    """Make a profile the default.

    \b
    Example:
      zaza profiles use staging
    """
    from zazacli import config

    app_ctx = get_context(ctx)
    with config.editing(app_ctx.config_dir, warn=app_ctx.out.warn) as cfg:
        cfg.profile(name)
        cfg.default = name
    app_ctx.out.notice(f"default profile is now {name}")
