"""`zaza dnc` with no verb: the list's size, the cap, the repeat window and the file."""

from __future__ import annotations

import typer

from zazacli.commands.app import get_context
from zazacli.commands.dnc.common import DNC_META, dnc_file
from zazacli.commands.options import JqOpt, ReportFormatOpt, TemplateOpt
from zazacli.commands.policy import DncOpt, open_store, policy_path, profile_cap
from zazacli.errors import UsageError


def summary(
    ctx: typer.Context,
    dnc: DncOpt = None,
    fmt: ReportFormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
) -> None:
    """The contact policy: do-not-call list, frequency cap, dial ledger.

    With no verb: the list's size, the cap, the repeat window and where the list lives.

    \b
    Examples:
      zaza dnc
      zaza dnc add +14155550188 --reason "asked on a call"
    """
    if ctx.invoked_subcommand is not None:
        if fmt is not None or jq is not None or template is not None:
            given = "-o" if fmt is not None else "--jq" if jq is not None else "--template"
            raise UsageError(f"{given} goes after the verb", hint="e.g. zaza dnc list -o json")
        ctx.meta[DNC_META] = dnc  # `zaza dnc --dnc FILE add …` means that file
        return
    from zazacli.output.policy import policy_summary
    from zazacli.policy.rules import DEFAULT_REPEAT_AFTER

    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.view(fmt, jq=jq, template=template).format
    path, _ = policy_path(app_ctx, dnc)
    with open_store(app_ctx, dnc_file(ctx, dnc), dialling=False) as store:
        policy_summary(
            out,
            chosen,
            path=path,
            listed=store.count(),
            dials=store.ledger_size(),
            cap=profile_cap(app_ctx),
            repeat_after=DEFAULT_REPEAT_AFTER,
        )
