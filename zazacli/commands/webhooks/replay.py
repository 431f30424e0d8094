"""`zaza webhooks replay FILE`: re-send events saved by `listen --save` to a receiver."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from zazacli.commands.app import get_context
from zazacli.commands.options import COUNT_MAX
from zazacli.commands.webhooks.common import (
    SecretOpt,
    check_target,
    resolve_secret,
    send_timeout,
)
from zazacli.errors import NetworkError, UsageError, ZazaError
from zazacli.times import parse_when

if TYPE_CHECKING:
    from zazacli.webhooks.saved import SavedEvent

SavedFileArg = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, help="A file saved by `listen --save` (or its --jsonl)."
    ),
]
ToOpt = Annotated[str, typer.Option("--to", help="URL to POST the events to.")]
EventTypeOpt = Annotated[
    list[str] | None,
    typer.Option("--event", help="Only this type (wildcards work: call.*). Repeatable."),
]
ReceivedSinceOpt = Annotated[
    str | None,
    typer.Option("--since", help="Only events received since: 2h, today, an ISO time."),
]
IndexOpt = Annotated[
    list[int] | None,
    typer.Option(
        "--index",
        min=-COUNT_MAX,
        max=COUNT_MAX,
        help="Only the Nth saved event (1 = first, -1 = last). Repeatable.",
    ),
]
IncludeUnverifiedOpt = Annotated[
    bool,
    typer.Option(
        "--include-unverified",
        help="Also re-sign events that did NOT arrive with a valid signature (invalid, "
        "unsigned, unchecked, or saved without a verdict). They are signed with YOUR "
        "secret and will look genuine to your app: only for events you trust.",
    ),
]


def replay(
    ctx: typer.Context,
    file: SavedFileArg,
    to: ToOpt,
    secret: SecretOpt = None,
    event: EventTypeOpt = None,
    since: ReceivedSinceOpt = None,
    index: IndexOpt = None,
    include_unverified: IncludeUnverifiedOpt = False,
) -> None:
    """Re-send saved events in order, exactly as received, and report each answer.

    With a secret (--secret, ZAZA_WEBHOOK_SECRET or the profile) each event is re-signed,
    with the whole whsec_… string as the HMAC key, but only events the listener found
    validly signed when they arrived; the others are skipped with a note (see
    --include-unverified). Without a secret every event is sent with the signature it
    arrived with, which your app checks as it would the original.

    \b
    Examples:
      zaza webhooks replay events.jsonl --to http://localhost:3000/webhooks
      zaza webhooks replay events.jsonl --to http://localhost:3000/webhooks \\
          --event 'call.*' --index -1
    """
    from datetime import datetime

    from zazacli.webhooks.saved import select

    app_ctx = get_context(ctx)
    out = app_ctx.out
    url = check_target(to)
    since_at = datetime.fromisoformat(parse_when(since)) if since else None
    saved = _read_saved_events(out, file)
    chosen = select(saved, types=event or (), since=since_at, indexes=index or ())
    if not chosen:
        out.notice(f"no saved events match in {file} ({len(saved)} in the file)")
        return
    secret_value, secret_source = resolve_secret(app_ctx, secret)
    skipped = 0
    if secret_value:
        chosen, skipped = _withhold_unverified(out, chosen, include_unverified)
    ok, failed = _send_each(out, url, chosen, secret_value, send_timeout(app_ctx))
    how = (
        f"re-signed with the secret from {secret_source}"
        if secret_value
        else ("with their original signatures")
    )
    note = (
        f"; {skipped} skipped, not validly signed when received (--include-unverified sends them)"
        if skipped
        else ""
    )
    out.notice(f"replayed {len(chosen)} to {url} {how}: {ok} ok, {failed} failed{note}")
    if failed:
        raise ZazaError(f"{failed} of {len(chosen)} replayed events got a non-2xx answer")


def _read_saved_events(out: Any, file: Path) -> list[SavedEvent]:
    """Every readable event in the file; each line that is not one is warned about."""
    from zazacli.webhooks.saved import read_saved

    try:
        saved, problems = read_saved(file)
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None
    for problem in problems:
        out.warn(f"{file}: {problem}")
    return saved


def _withhold_unverified(
    out: Any, chosen: list[SavedEvent], include_unverified: bool
) -> tuple[list[SavedEvent], int]:
    """The events to re-sign and how many were skipped. Re-signing vouches for an event:
    never for one that arrived forged or unchecked, unless --include-unverified says so."""
    from zazacli.output.webhooks import webhook_replay_skipped

    unverified = [item for item in chosen if not item.verified]
    if include_unverified and unverified:
        out.warn(
            f"--include-unverified: {len(unverified)} event(s) that did not arrive validly "
            "signed are re-signed with your secret and will look genuine to your app"
        )
        return chosen, 0
    for item in unverified:
        webhook_replay_skipped(out, item.position, item.event, item.verdict)
    return [item for item in chosen if item.verified], len(unverified)


def _send_each(
    out: Any, url: str, chosen: list[SavedEvent], secret: str | None, timeout: float
) -> tuple[int, int]:
    """POST the events in order, showing each answer; how many got a 2xx and how many not.
    An unreachable target stops the run: the events after it would fail the same way."""
    from zazacli.output.webhooks import webhook_delivery
    from zazacli.webhooks.delivery import post_webhook, webhook_headers

    ok = failed = 0
    for item in chosen:
        headers = webhook_headers(item.raw, item.event, secret=secret, signature=item.signature)
        result = post_webhook(url, item.raw, headers, timeout)
        if result.status is None:
            raise NetworkError(
                f"{url}: {result.error}",
                hint=f"{ok + failed} of {len(chosen)} events were sent before this",
            )
        webhook_delivery(out, f"#{item.position}", item.event, result)
        ok, failed = (ok + 1, failed) if result.ok else (ok, failed + 1)
    return ok, failed
