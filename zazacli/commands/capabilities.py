"""`zaza capabilities`: what the API can do today, and what is dashboard-only."""

from __future__ import annotations

import typer

from zazacli.commands.app import get_context, single_command
from zazacli.commands.options import JqOpt, ReportFormatOpt, TemplateOpt


def capabilities(
    ctx: typer.Context,
    fmt: ReportFormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
) -> None:
    """What the ZazaVoice API can do today, and what is dashboard-only.

    Written from ZazaVoice's published capabilities; no request is sent.

    \b
    Examples:
      zaza capabilities
      zaza capabilities --json
    """
    from zazacli.api.capabilities import CAPABILITIES
    from zazacli.output import Format
    from zazacli.output.capabilities import capabilities_table

    out = get_context(ctx).out
    chosen = out.view(fmt, jq=jq, template=template).format
    supported = [c for c in CAPABILITIES if not c.dashboard]
    dashboard_only = [c for c in CAPABILITIES if c.dashboard]
    capabilities_table(out, supported, dashboard_only, json=chosen is Format.json)


app = single_command("capabilities", capabilities)
