"""`zaza dnc`: the contact policy — the do-not-call list, the frequency cap and the dial
ledger every dispatch and batch goes through."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zazacli.commands.options import (
    FormatOpt,
    ReportFormatOpt,
    get_context,
    noun_app,
    text_value,
)
from zazacli.commands.policy import DncOpt, open_store, policy_path, profile_cap
from zazacli.errors import (
    BlockedError,
    InvalidRowsError,
    UsageError,
    ZazaError,
    exit_codes_help,
)

if TYPE_CHECKING:
    from zazacli.context import AppContext
    from zazacli.output import Output
    from zazacli.policy.lists import BadLine

app = noun_app(
    "dnc",
    no_args_is_help=False,
    invoke_without_command=True,
    epilog=exit_codes_help(
        {
            0: "ok (check: every number may be called)",
            ZazaError.exit_code: "runtime error",
            UsageError.exit_code: "usage error or bad input (nothing changed)",
            InvalidRowsError.exit_code: "import: some lines were not numbers (listed by line; "
            "the others were imported)",
            BlockedError.exit_code: "check: a number may not be called (or the list cannot "
            "be read)",
        }
    ),
)

Numbers = Annotated[
    list[str],
    typer.Argument(help="Phone numbers (E.164, or national with --region).", metavar="NUMBER..."),
]
ReasonOpt = Annotated[
    str | None, typer.Option("--reason", help="Why (kept with each entry).", show_default=False)
]
RegionOpt = Annotated[
    str | None,
    typer.Option(
        "--region", help="Region for national numbers, e.g. US [default: the profile's region]."
    ),
]


def _file(ctx: typer.Context, given: str | None) -> str | None:
    """The verb's --dnc, else the one given before the verb."""
    return given or ctx.meta.get("zaza_dnc")


def _numbers(app_ctx: AppContext, raw: list[str], region: str | None) -> list[str]:
    from zazacli.policy.lists import e164

    if region is None and not app_ctx.options.sandbox:
        region = app_ctx.settings.get("region")
    return [e164(number, region, "NUMBER") for number in raw]


@app.callback()
def summary(
    ctx: typer.Context,
    dnc: DncOpt = None,
    fmt: ReportFormatOpt = None,
) -> None:
    """The contact policy: do-not-call list, frequency cap, dial ledger.

    With no verb: the list's size, the cap, the repeat window and where the list lives.

    \b
    Examples:
      zaza dnc
      zaza dnc add +14155550188 --reason "asked on a call"
    """
    if ctx.invoked_subcommand is not None:
        if fmt is not None:
            raise UsageError("-o goes after the verb", hint="e.g. zaza dnc list -o json")
        ctx.meta["zaza_dnc"] = dnc  # `zaza dnc --dnc FILE add …` means that file
        return
    from zazacli.output.policy import policy_summary
    from zazacli.policy.rules import DEFAULT_REPEAT_AFTER

    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.choose(fmt)
    path, _ = policy_path(app_ctx, dnc)
    with open_store(app_ctx, _file(ctx, dnc), dialling=False) as store:
        policy_summary(
            out,
            chosen,
            path=path,
            listed=store.count(),
            dials=store.ledger_size(),
            cap=profile_cap(app_ctx),
            repeat_after=DEFAULT_REPEAT_AFTER,
        )


@app.command("add")
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
    wanted = _numbers(app_ctx, numbers, region)
    with open_store(app_ctx, _file(ctx, dnc), dialling=False) as store:
        added = store.add(wanted, "manual", reason and text_value(reason, "--reason"))
    for number in wanted:
        state = "added" if number in added else "already listed"
        app_ctx.out.notice(f"{number}: {state}")


@app.command("remove")
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
    wanted = _numbers(app_ctx, numbers, region)
    with open_store(app_ctx, _file(ctx, dnc), dialling=False) as store:
        removed = store.remove(wanted, reason and text_value(reason, "--reason"))
    for number in wanted:
        app_ctx.out.notice(f"{number}: {'removed' if number in removed else 'not listed'}")


@app.command("list")
def list_entries(ctx: typer.Context, fmt: FormatOpt = None, dnc: DncOpt = None) -> None:
    """The listed numbers, with when, where from (manual, import, sms, transcript) and why.

    \b
    Examples:
      zaza dnc list
      zaza dnc list -o csv > dnc.csv
    """
    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.choose(fmt)
    with open_store(app_ctx, _file(ctx, dnc), dialling=False) as store:
        entries = [entry.as_dict() for entry in store.entries()]
    with out.paged():
        out.rows(entries, "dnc", chosen, empty_message="the do-not-call list is empty")


@app.command("export")
def export(ctx: typer.Context, dnc: DncOpt = None) -> None:
    """The listed numbers, one per line (what `zaza dnc import` reads back).

    \b
    Examples:
      zaza dnc export > dnc-backup.txt
    """
    app_ctx = get_context(ctx)
    with open_store(app_ctx, _file(ctx, dnc), dialling=False) as store:
        for entry in store.entries():
            app_ctx.out.write(entry.number)


NumbersFileArg = Annotated[
    Path, typer.Argument(help="One number per line, or a CSV with a phone column.")
]
ReplaceOpt = Annotated[
    bool,
    typer.Option(
        "--replace", help="Make the list equal to the file (a nightly export from a CRM)."
    ),
]


@app.command("import")
def import_file(
    ctx: typer.Context,
    file: NumbersFileArg,
    replace: ReplaceOpt = False,
    reason: ReasonOpt = None,
    region: RegionOpt = None,
    dnc: DncOpt = None,
) -> None:
    """Add every number of a file to the list, in one step (all or nothing).

    Lines that are not numbers are reported by line number and not stored (exit 16).
    With --replace, numbers listed but not in the file are removed; a file with any
    invalid line changes nothing then (a garbled line must not unlist a person).

    \b
    Examples:
      zaza dnc import optouts.txt
      zaza dnc import crm-export.csv --region US --replace
    """
    from zazacli.policy.lists import read_numbers

    app_ctx = get_context(ctx)
    out = app_ctx.out
    if not app_ctx.options.sandbox:
        region = region or app_ctx.settings.get("region")
    numbers, bad = read_numbers(file, region=region)
    _name_bad_lines(out, bad)
    if replace and bad:
        raise UsageError(
            f"--replace: {len(bad)} lines of {file} are not numbers; replacing would unlist "
            "whoever they were meant to be: nothing changed",
            hint="fix the lines listed above, or import without --replace",
        )
    with open_store(app_ctx, _file(ctx, dnc), dialling=False) as store:
        added, removed = store.import_numbers(
            numbers,
            label=file.name,
            reason=reason and text_value(reason, "--reason"),
            replace=replace,
        )
        total = store.count()
    gone = f", {removed} removed" if replace else ""
    out.notice(
        f"imported {file.name}: {len(numbers)} numbers, {added} new{gone}; {total} listed in all"
    )
    if bad:
        lines = "1 line" if len(bad) == 1 else f"{len(bad)} lines"
        were = "was not a number and was" if len(bad) == 1 else "were not numbers and were"
        raise InvalidRowsError(
            f"{lines} of {file} {were} not stored",
            hint="fix them (listed above by line) and import again",
        )


def _name_bad_lines(out: Output, bad: list[BadLine]) -> None:
    """The first 20 invalid lines by number, then how many more."""
    for problem in bad[:20]:
        out.notice(f"line {problem.line}: {problem.error}")
    if len(bad) > 20:
        out.notice(f"… and {len(bad) - 20} more invalid lines")


@app.command("import-events")
def import_events(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Events saved by zaza webhooks listen --save (JSON lines).")
    ],
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret",
            envvar="ZAZA_WEBHOOK_SECRET",
            show_default=False,
            help="The signing secret: each event's signature is checked again with it.",
        ),
    ] = None,
    dnc: DncOpt = None,
) -> None:
    """Add the senders of opt-out texts (STOP, QUIT, END, …) from saved webhook events.

    Only events the listener verified are read (and, given the secret, verified again):
    a forged or unsigned event never changes the list.

    \b
    Examples:
      zaza dnc import-events events.jsonl
    """
    from zazacli.commands.webhooks.common import resolve_secret
    from zazacli.policy.lists import sms_opt_out
    from zazacli.webhooks.saved import read_saved

    app_ctx = get_context(ctx)
    out = app_ctx.out
    secret_value, _ = resolve_secret(app_ctx, secret)
    try:
        events, problems = read_saved(file)
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None
    for problem in problems:
        out.notice(f"{file}: {problem}")
    found: dict[str, str] = {}
    skipped = 0
    for event in events:
        opt_out = sms_opt_out(event.body())
        if opt_out is None:
            continue
        if not event.verified or (secret_value and not event.signed_with(secret_value)):
            skipped += 1
            continue
        found.setdefault(opt_out[0], opt_out[1])
    if skipped:
        out.warn(f"{skipped} opt-out events were not verified and were left out")
    with open_store(app_ctx, _file(ctx, dnc), dialling=False) as store:
        added = []
        for number, keyword in found.items():
            added += store.add([number], "sms", f"replied {keyword.upper()}")
    for number in found:
        out.notice(f"{number}: {'added' if number in added else 'already listed'}")
    out.notice(f"{len(found)} opt-outs in {file.name}, {len(added)} new on the list")


@app.command("check")
def check(
    ctx: typer.Context,
    numbers: Numbers,
    region: RegionOpt = None,
    fmt: ReportFormatOpt = None,
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
    chosen = out.choose(fmt, piped=Format.plain)
    wanted = _numbers(app_ctx, numbers, region)
    with open_store(app_ctx, _file(ctx, dnc), dialling=False) as store:
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
