"""`zaza dnc import-events FILE`: the senders of opt-out texts, from saved webhook events."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zazacli.commands.app import get_context
from zazacli.commands.dnc.common import dnc_file
from zazacli.commands.policy import DncOpt, open_store
from zazacli.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from zazacli.webhooks.saved import SavedEvent

EventsFileArg = Annotated[
    Path, typer.Argument(help="Events saved by zaza webhooks listen --save (JSON lines).")
]
# Not webhooks' SecretOpt: here the secret checks saved events again, and its help says so.
EventsSecretOpt = Annotated[
    str | None,
    typer.Option(
        "--secret",
        envvar="ZAZA_WEBHOOK_SECRET",
        show_default=False,
        help="The signing secret: each event's signature is checked again with it.",
    ),
]


def import_events(
    ctx: typer.Context,
    file: EventsFileArg,
    secret: EventsSecretOpt = None,
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
    found, skipped = _opt_outs(events, secret_value)
    if skipped:
        out.warn(f"{skipped} opt-out events were not verified and were left out")
    with open_store(app_ctx, dnc_file(ctx, dnc), dialling=False) as store:
        added = []
        for number, keyword in found.items():
            added += store.add([number], "sms", f"replied {keyword.upper()}")
    for number in found:
        out.notice(f"{number}: {'added' if number in added else 'already listed'}")
    out.notice(f"{len(found)} opt-outs in {file.name}, {len(added)} new on the list")


def _opt_outs(events: Iterable[SavedEvent], secret: str | None) -> tuple[dict[str, str], int]:
    """The sender and keyword of each verified opt-out text (a sender's first one), and how
    many opt-outs were left out unverified: a forged event must not list a number."""
    from zazacli.policy.lists import sms_opt_out

    found: dict[str, str] = {}
    skipped = 0
    for event in events:
        opt_out = sms_opt_out(event.body())
        if opt_out is None:
            continue
        if not event.verified or (secret and not event.signed_with(secret)):
            skipped += 1
            continue
        found.setdefault(opt_out[0], opt_out[1])
    return found, skipped
