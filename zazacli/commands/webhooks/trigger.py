"""`zaza webhooks trigger EVENT`: send a realistic, signed sample event to a receiver."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from zazacli.commands.app import get_context
from zazacli.commands.options import JqOpt, ReportFormatOpt, TemplateOpt, completer
from zazacli.commands.webhooks.common import (
    DEFAULT_URL,
    SecretOpt,
    check_target,
    resolve_secret,
    send_timeout,
)
from zazacli.errors import NetworkError, UsageError, ZazaError


def _event_types() -> tuple[str, ...]:
    from zazacli.webhooks.samples import EVENT_TYPES

    return tuple(EVENT_TYPES)


complete_event = completer(_event_types)

EventArg = Annotated[
    str,
    typer.Argument(help="Event type (see: zaza webhooks events).", autocompletion=complete_event),
]
ToOpt = Annotated[str, typer.Option("--to", help="URL to POST the event to.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="PATH=VALUE",
        help="Change a field, e.g. data.status=FAILED or data.durationSeconds=30; "
        "the value is read as JSON when it is JSON. Repeatable.",
    ),
]
DataFileOpt = Annotated[
    str | None,
    typer.Option("--data-file", metavar="FILE", help="JSON for the `data` object (- = stdin)."),
]


def trigger(
    ctx: typer.Context,
    event: EventArg,
    to: ToOpt = DEFAULT_URL,
    secret: SecretOpt = None,
    overrides: SetOpt = None,
    data_file: DataFileOpt = None,
    fmt: ReportFormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
) -> None:
    """Send a realistic, signed sample event; print the response status and body.

    Signed with the whole whsec_… string as the HMAC key (our reading of the docs; the
    listener also accepts the base64-key form). On a terminal: a line saying what was
    sent and what came back, then the answer's body. Piped: one tab-separated line (signed
    or unsigned, event, status, milliseconds, the error or the answer's body on one line);
    -o json: one JSON object, the body as it parsed.

    \b
    Examples:
      zaza webhooks trigger call.completed
      zaza webhooks trigger call.failed --to http://localhost:3000/webhooks
      zaza webhooks trigger call.completed --set data.durationSeconds=30 --json
    """
    from zazacli.output.webhooks import webhook_trigger_result
    from zazacli.webhooks.delivery import post_webhook, webhook_headers
    from zazacli.webhooks.samples import EVENT_TYPES, encode_body

    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.view(fmt, jq=jq, template=template).format
    if event not in EVENT_TYPES:
        raise UsageError(f"unknown event type {event!r}", hint="one of: " + ", ".join(EVENT_TYPES))
    url = check_target(to)
    body = _event_body(event, data_file, overrides or [])
    secret_value, _ = resolve_secret(app_ctx, secret)
    if not secret_value:
        out.warn("no secret: sending unsigned (set ZAZA_WEBHOOK_SECRET or pass --secret)")
    raw = encode_body(body)
    result = post_webhook(
        url, raw, webhook_headers(raw, event, secret=secret_value), send_timeout(app_ctx)
    )
    if result.status is None:
        hint = f"is `zaza webhooks listen` running? ({DEFAULT_URL} is its default)"
        raise NetworkError(f"{url}: {result.error}", hint=hint)
    webhook_trigger_result(out, chosen, "signed" if secret_value else "unsigned", event, result)
    if not result.ok:
        raise ZazaError(f"{url} answered {result.status} {result.reason}".rstrip())


def _event_body(event: str, data_file: str | None, overrides: list[str]) -> dict[str, Any]:
    """The event's body: the sample data (or --data-file's), then each --set applied."""
    from zazacli.webhooks.samples import apply_overrides, event_body, sample_data

    data = _read_json_file(data_file) if data_file else sample_data(event)
    if isinstance(data, dict) and "event" in data and "data" in data:
        data = data["data"]  # a whole saved body was given: use its data
    try:
        return apply_overrides(event_body(event, data), overrides)
    except ValueError as exc:
        raise UsageError(f"--set: {exc}") from None


def _read_json_file(path: str) -> Any:
    import json

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--data-file: cannot read {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"--data-file: {path} is not JSON: {exc}") from None
