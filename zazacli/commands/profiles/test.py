"""`zaza profiles test [NAME]`: one cheap authenticated request with a profile's key."""

from __future__ import annotations

import typer

from zazacli.commands.app import get_context
from zazacli.commands.profiles.common import ActiveNameArg


def test(ctx: typer.Context, name: ActiveNameArg = None) -> None:
    """Check that a profile's key and base URL work (one cheap authenticated GET).

    \b
    Examples:
      zaza profiles test
      zaza profiles test prod
    """
    import time

    app_ctx = get_context(ctx)
    if name:
        app_ctx.options.profile = name
    started = time.monotonic()
    agents = app_ctx.api.list_agents()
    elapsed = (time.monotonic() - started) * 1000
    label = app_ctx.settings.profile_name or "(environment)"
    app_ctx.out.write(
        f"OK: {label} reached {app_ctx.settings.base_url} ({len(agents)} agents, {elapsed:.0f} ms)"
    )
