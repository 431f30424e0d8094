"""`zaza dnc list`: the listed numbers, with when, where from and why."""

from __future__ import annotations

import typer

from zazacli.commands.app import get_context
from zazacli.commands.dnc.common import dnc_file
from zazacli.commands.options import FormatOpt, JqOpt, TemplateOpt
from zazacli.commands.policy import DncOpt, open_store


def list_entries(
    ctx: typer.Context,
    fmt: FormatOpt = None,
    dnc: DncOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
) -> None:
    """The listed numbers, with when, where from (manual, import, sms, transcript) and why.

    \b
    Examples:
      zaza dnc list
      zaza dnc list -o csv > dnc.csv
    """
    app_ctx = get_context(ctx)
    out = app_ctx.out
    view = out.view(fmt, jq=jq, template=template)
    with open_store(app_ctx, dnc_file(ctx, dnc), dialling=False) as store:
        entries = [entry.as_dict() for entry in store.entries()]
    with out.paged():
        out.rows(entries, "dnc", view, empty_message="the do-not-call list is empty")
