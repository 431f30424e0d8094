"""`zaza dnc export`: the listed numbers, one per line."""

from __future__ import annotations

import typer

from zazacli.commands.app import get_context
from zazacli.commands.dnc.common import dnc_file
from zazacli.commands.policy import DncOpt, open_store


def export(ctx: typer.Context, dnc: DncOpt = None) -> None:
    """The listed numbers, one per line (what `zaza dnc import` reads back).

    \b
    Examples:
      zaza dnc export > dnc-backup.txt
    """
    app_ctx = get_context(ctx)
    with open_store(app_ctx, dnc_file(ctx, dnc), dialling=False) as store:
        for entry in store.entries():
            app_ctx.out.write(entry.number)
