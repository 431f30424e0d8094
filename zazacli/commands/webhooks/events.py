"""`zaza webhooks events`: the event types ZazaVoice sends."""

from __future__ import annotations

import typer

from zazacli.commands.app import get_context
from zazacli.commands.options import JqOpt, ReportFormatOpt, TemplateOpt


def list_events(
    ctx: typer.Context,
    fmt: ReportFormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
) -> None:
    """List the six event types ZazaVoice sends, one line each.

    \b
    Examples:
      zaza webhooks events
      zaza webhooks events --json
    """
    from zazacli.output.webhooks import webhook_event_types
    from zazacli.webhooks.samples import EVENT_TYPES

    out = get_context(ctx).out
    webhook_event_types(out, EVENT_TYPES, out.view(fmt, jq=jq, template=template).format)
