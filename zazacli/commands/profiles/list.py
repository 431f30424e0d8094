"""`zaza profiles list`: every profile, its base URL and its masked key."""

from __future__ import annotations

import typer

from zazacli.commands.app import get_context
from zazacli.commands.options import JqOpt, ReportFormatOpt, TemplateOpt


def list_profiles(
    ctx: typer.Context,
    fmt: ReportFormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
) -> None:
    """List profiles; keys are masked.

    \b
    Examples:
      zaza profiles list
      zaza profiles list --json
    """
    from zazacli import config
    from zazacli.output import Format

    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.view(fmt, jq=jq, template=template).format
    cfg = config.load(app_ctx.config_dir, warn=app_ctx.out.warn)
    rows = [
        {
            "name": name,
            "default": name == cfg.default,
            "base_url": p.get("base_url") or config.DEFAULT_BASE_URL,
            "api_key": config.mask_secret(p.get("api_key")),
        }
        for name, p in sorted(cfg.profiles.items())
    ]
    if chosen is Format.json:
        out.json_document(rows)
        return
    if not rows:
        out.notice("no profiles yet; add one with: zaza profiles add NAME")
        return
    for row in rows:
        mark = "*" if row["default"] else " "
        if out.drawn:
            out.write(f"{mark} {row['name']:<16} {row['api_key']:<22} {row['base_url']}")
        else:
            default = "default" if row["default"] else ""
            out.write(f"{row['name']}\t{default}\t{row['api_key']}\t{row['base_url']}")
