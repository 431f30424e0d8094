"""`zaza dnc check NUMBER…`: may these numbers be called now? (Exit 17 if any may not.)

The plain case (E.164 numbers, no options) is answered before Typer loads, by
policy/quick.py from zazacli/__main__.py, with the same lines; this is the full command."""

from __future__ import annotations

import typer

from zazacli.commands.app import get_context
from zazacli.commands.dnc.common import Numbers, RegionOpt, dnc_file, e164_numbers
from zazacli.commands.options import JqOpt, ReportFormatOpt, TemplateOpt
from zazacli.commands.policy import DncOpt, open_store, profile_cap
from zazacli.errors import BlockedError


def check(
    ctx: typer.Context,
    numbers: Numbers,
    region: RegionOpt = None,
    fmt: ReportFormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
    dnc: DncOpt = None,
) -> None:
    """May these numbers be called now? Exit 0 if every one may, 17 if any may not.

    Reads the list and the ledger only (no network): the cap counts the dials zaza made;
    a dispatch also counts what the API lists.

    \b
    Examples:
      zaza dnc check +14155550188
      zaza dnc check +14155550123 +14155550124 || echo "some are blocked"
    """
    from zazacli.output import Format
    from zazacli.policy.rules import Guard, Listed, check_lines

    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.view(fmt, piped=Format.plain, jq=jq, template=template).format
    wanted = e164_numbers(app_ctx, numbers, region)
    with open_store(app_ctx, dnc_file(ctx, dnc), dialling=False) as store:
        guard = Guard(store, cap=profile_cap(app_ctx), listed=Listed())
        verdicts = guard.verdicts(wanted)
    blocked = any(not v.allowed for found in verdicts.values() for v in found)
    if chosen is Format.json:
        out.json_document(
            [
                {
                    "number": number,
                    "allowed": all(v.allowed for v in found),
                    "verdicts": [v.as_dict() for v in found],
                }
                for number, found in verdicts.items()
            ]
        )
    else:
        for line in check_lines(verdicts):
            out.write(line)
    if blocked:
        raise typer.Exit(BlockedError.exit_code)
