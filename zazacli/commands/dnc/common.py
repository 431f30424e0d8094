"""What several `zaza dnc` verbs share: the numbers they take, --reason, --region, and which
list they open."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from zazacli.context import AppContext

# Where `zaza dnc --dnc FILE VERB` leaves FILE for the verb (ctx.meta is shared down the chain).
DNC_META = "zaza_dnc"

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


def dnc_file(ctx: typer.Context, given: str | None) -> str | None:
    """The verb's --dnc, else the one given before the verb."""
    return given or ctx.meta.get(DNC_META)


def e164_numbers(app_ctx: AppContext, raw: list[str], region: str | None) -> list[str]:
    """The numbers in E.164; national ones read in --region, else the profile's region."""
    from zazacli.policy.lists import e164

    if region is None and not app_ctx.options.sandbox:
        region = app_ctx.settings.get("region")
    return [e164(number, region, "NUMBER") for number in raw]
