"""`zaza profiles remove NAME`: delete a profile and its key."""

from __future__ import annotations

import typer

from zazacli.commands.app import get_context
from zazacli.commands.profiles.common import NameArg


def remove(ctx: typer.Context, name: NameArg) -> None:
    """Delete a profile and its key.

    \b
    Example:
      zaza profiles remove staging
    """
    from zazacli import config

    app_ctx = get_context(ctx)
    with config.editing(app_ctx.config_dir, warn=app_ctx.out.warn) as cfg:
        cfg.profile(name)
        del cfg.profiles[name]
        if cfg.default == name:
            cfg.default = None
    app_ctx.out.notice(f"removed profile {name}")
