"""`zaza profiles show [NAME]`: a profile's settings and where each one came from."""

from __future__ import annotations

from typing import Any

import typer

from zazacli.commands.app import get_context
from zazacli.commands.options import JqOpt, ReportFormatOpt, TemplateOpt
from zazacli.commands.profiles.common import ActiveNameArg
from zazacli.sanitize import plain_value


def show(
    ctx: typer.Context,
    name: ActiveNameArg = None,
    fmt: ReportFormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
) -> None:
    """Show a profile's settings (secrets masked) and where each came from.

    \b
    Examples:
      zaza profiles show
      zaza profiles show prod --json
    """
    from zazacli import config
    from zazacli.output import Format

    app_ctx = get_context(ctx)
    chosen = app_ctx.out.view(fmt, jq=jq, template=template).format
    if name:
        app_ctx.options.profile = name
    settings = app_ctx.settings
    data: dict[str, Any] = {
        "name": settings.profile_name,
        **_public(settings.profile),
        "api_key": config.mask_secret(settings.api_key),
        "base_url": settings.base_url,
        "sources": settings.sources,
        "config_file": str(app_ctx.config_dir / config.CONFIG_FILE),
    }
    if chosen is Format.json:
        app_ctx.out.json_document(data)
        return
    for key, value in data.items():
        if key == "sources":
            continue
        source = settings.sources.get(key)
        shown = plain_value(value)  # `true`, and nothing for no profile: no Python literals
        app_ctx.out.write(f"{key}\t{shown}" + (f"\t({source})" if source else ""))


def _public(profile: dict[str, Any]) -> dict[str, Any]:
    """The profile's settings with every secret masked, fit to print."""
    from zazacli import config

    return {
        k: (config.mask_secret(v) if k in config.SECRET_KEYS else v) for k, v in profile.items()
    }
