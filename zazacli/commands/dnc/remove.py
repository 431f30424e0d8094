"""`zaza dnc remove NUMBER…`: take numbers off the list (the removal is recorded)."""

from __future__ import annotations

import typer

from zazacli.commands.app import get_context
from zazacli.commands.dnc.common import Numbers, ReasonOpt, RegionOpt, dnc_file, e164_numbers
from zazacli.commands.policy import DncOpt, open_store
from zazacli.commands.values import text_value


def remove(
    ctx: typer.Context,
    numbers: Numbers,
    reason: ReasonOpt = None,
    region: RegionOpt = None,
    dnc: DncOpt = None,
) -> None:
    """Take numbers off the list: the only way to call them again (the removal is recorded).

    \b
    Examples:
      zaza dnc remove +14155550188 --reason "consented again, ticket 4411"
    """
    app_ctx = get_context(ctx)
    wanted = e164_numbers(app_ctx, numbers, region)
    with open_store(app_ctx, dnc_file(ctx, dnc), dialling=False) as store:
        removed = store.remove(wanted, reason and text_value(reason, "--reason"))
    for number in wanted:
        app_ctx.out.notice(f"{number}: {'removed' if number in removed else 'not listed'}")
