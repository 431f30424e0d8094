"""`zaza dnc add NUMBER…`: put numbers on the do-not-call list."""

from __future__ import annotations

import typer

from zazacli.commands.app import get_context
from zazacli.commands.dnc.common import Numbers, ReasonOpt, RegionOpt, dnc_file, e164_numbers
from zazacli.commands.policy import DncOpt, open_store
from zazacli.commands.values import text_value


def add(
    ctx: typer.Context,
    numbers: Numbers,
    reason: ReasonOpt = None,
    region: RegionOpt = None,
    dnc: DncOpt = None,
) -> None:
    """Put numbers on the do-not-call list: they are never dialled again.

    \b
    Examples:
      zaza dnc add +14155550188 --reason "asked on a call"
      zaza dnc add '(415) 555-0189' --region US
    """
    app_ctx = get_context(ctx)
    wanted = e164_numbers(app_ctx, numbers, region)
    with open_store(app_ctx, dnc_file(ctx, dnc), dialling=False) as store:
        added = store.add(wanted, "manual", reason and text_value(reason, "--reason"))
    for number in wanted:
        state = "added" if number in added else "already listed"
        app_ctx.out.notice(f"{number}: {state}")
