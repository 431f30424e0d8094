"""`zaza dnc import FILE`: every number of a file onto the list, all or nothing (the module is
`import_` because `import` is a keyword)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zazacli.commands.app import get_context
from zazacli.commands.dnc.common import ReasonOpt, RegionOpt, dnc_file
from zazacli.commands.policy import DncOpt, open_store
from zazacli.commands.values import text_value
from zazacli.errors import InvalidRowsError, UsageError

if TYPE_CHECKING:
    from zazacli.output import Output
    from zazacli.policy.lists import BadLine

NumbersFileArg = Annotated[
    Path, typer.Argument(help="One number per line, or a CSV with a phone column.")
]
ReplaceOpt = Annotated[
    bool,
    typer.Option(
        "--replace", help="Make the list equal to the file (a nightly export from a CRM)."
    ),
]


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
    with open_store(app_ctx, dnc_file(ctx, dnc), dialling=False) as store:
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
