"""`zaza webhooks`: receive, check, trigger, replay and verify ZazaVoice webhook events locally."""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from zazacli.commands.options import (
    COUNT_MAX,
    JsonOpt,
    ReportFormatOpt,
    StreamFormatOpt,
    completer,
    get_context,
    noun_app,
    sigterm_as_interrupt,
)
from zazacli.commands.policy import DncOpt
from zazacli.errors import NetworkError, UsageError, ZazaError, exit_codes_help
from zazacli.times import parse_when

if TYPE_CHECKING:
    from zazacli.context import AppContext

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4242
DEFAULT_PATH = "/webhooks"
DEFAULT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}{DEFAULT_PATH}"
DEFAULT_SEND_TIMEOUT = 10.0

app = noun_app(
    "webhooks",
    epilog=exit_codes_help(
        {
            0: "ok",
            ZazaError.exit_code: "runtime error, a target that answered non-2xx, or (verify) "
            "a signature that does NOT match",
            UsageError.exit_code: "usage error or bad input",
            NetworkError.exit_code: "target unreachable or timed out",
        }
    ),
)

SecretOpt = Annotated[
    str | None,
    typer.Option(
        "--secret",
        envvar="ZAZA_WEBHOOK_SECRET",
        show_envvar=True,
        show_default=False,
        help="The endpoint's signing secret (whsec_…). Prefer ZAZA_WEBHOOK_SECRET or the "
        "profile's webhook_secret, so it stays out of shell history. Never printed.",
    ),
]
ToOpt = Annotated[str, typer.Option("--to", help="URL to POST the event to.")]


def resolve_secret(app_ctx: AppContext, flag: str | None) -> tuple[str | None, str | None]:
    """The secret and where it came from (a name for the banner, never the value)."""
    if flag:
        from_env = app_ctx.env.get("ZAZA_WEBHOOK_SECRET") == flag
        return flag, "ZAZA_WEBHOOK_SECRET" if from_env else "--secret"
    settings = app_ctx.settings
    secret = settings.get("webhook_secret")
    if not secret:
        return None, None
    source = settings.sources.get("webhook_secret") or f"profile {settings.profile_name}"
    return str(secret), source


def _target(url: str, option: str = "--to") -> str:
    from zazacli.webhooks.delivery import check_target_url

    try:
        return check_target_url(url)
    except ValueError as exc:
        hint = "for example http://localhost:3000/webhooks"
        raise UsageError(f"{option}: {exc}", hint=hint) from None


def _event_patterns(value: str | None, out: Any) -> list[str] | None:
    """`--events call.*,sms.received`; unknown names warn (ZazaVoice may add types)."""
    if not value:
        return None
    from fnmatch import fnmatchcase

    from zazacli.webhooks.samples import EVENT_TYPES

    patterns = [p.strip() for p in value.split(",") if p.strip()]
    for pattern in patterns:
        if not any(fnmatchcase(name, pattern) for name in EVENT_TYPES):
            out.warn(f"--events: {pattern!r} matches no known type (see: zaza webhooks events)")
    return patterns or None


def _is_this_listener(url: str, port: int, path: str) -> bool:
    from urllib.parse import urlsplit

    from zazacli.api.urls import is_loopback_host

    parts = urlsplit(url)
    hostname = parts.hostname or ""
    same_host = is_loopback_host(hostname) or hostname == "0.0.0.0"
    same_path = "/" + parts.path.strip("/") == "/" + path.strip("/")
    return same_host and parts.port == port and same_path


@app.command("listen")
def listen(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; 0.0.0.0 exposes it (e.g. to Docker).")
    ] = DEFAULT_HOST,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port; 0 picks a free one.")
    ] = DEFAULT_PORT,
    path: Annotated[str, typer.Option("--path", help="URL path events are POSTed to.")] = (
        DEFAULT_PATH
    ),
    secret: SecretOpt = None,
    events: Annotated[
        str | None,
        typer.Option(
            "--events",
            help="Show and forward only these types, comma-separated; wildcards work (call.*). "
            "Others are still acknowledged and saved.",
        ),
    ] = None,
    forward_to: Annotated[
        str | None,
        typer.Option(
            "--forward-to", help="Re-POST each event (same body and X-ZazaVoice-* headers) here."
        ),
    ] = None,
    forward_timeout: Annotated[
        float, typer.Option("--forward-timeout", min=0.1, help="Seconds to wait for your app.")
    ] = DEFAULT_SEND_TIMEOUT,
    save: Annotated[
        Path | None,
        typer.Option(
            "--save",
            dir_okay=False,
            help="Append every event to this JSON-lines file, before acknowledging it.",
        ),
    ] = None,
    fmt: StreamFormatOpt = None,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="Same as -o jsonl: a JSON object per event.")
    ] = False,
    print_body: Annotated[
        bool, typer.Option("--print-body", help="Also print each body as indented JSON.")
    ] = False,
    no_opt_outs: Annotated[
        bool,
        typer.Option(
            "--no-opt-outs",
            help="Do not add the senders of verified STOP (QUIT, END, …) texts to the "
            "do-not-call list.",
        ),
    ] = False,
    dnc: DncOpt = None,
) -> None:
    """Receive webhook events, check their signatures, show, save and forward them.

    Each event is shown as one line: time, ✓/✗ signature, type and the fields that
    matter. A signature is valid when keyed with the whole whsec_… string or with the
    base64-decoded part after whsec_ (Standard Webhooks); the first event using the latter
    says so once. An event with a bad signature is answered 401, yet shown and saved.
    A verified sms.received whose whole text is an opt-out (STOP, QUIT, END, REVOKE, OPT
    OUT, CANCEL, UNSUBSCRIBE, STOPALL, OPTOUT) puts its sender on the do-not-call list
    (--no-opt-outs: not); an unverified one never does. Stop with Ctrl-C (or SIGTERM) for
    a summary.

    \b
    Examples:
      zaza webhooks listen --save events.jsonl
      zaza webhooks listen --events 'call.*' \\
          --forward-to http://localhost:3000/webhooks
      ZAZA_WEBHOOK_SECRET=whsec_readme_5b1f0c7e2a9d4e86 zaza webhooks listen
    """
    from zazacli.output import Format
    from zazacli.output.webhooks import (
        WebhookPrinter,
        webhook_listen_banner,
        webhook_listen_summary,
    )
    from zazacli.webhooks.listener import ListenerConfig, WebhookListener

    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.choose(fmt, jsonl=jsonl, piped=Format.jsonl)
    secret_value, secret_source = resolve_secret(app_ctx, secret)
    patterns = _event_patterns(events, out)
    config = ListenerConfig(
        host=host,
        port=port,
        path=path,
        secret=secret_value,
        events=tuple(patterns) if patterns else None,
        forward_to=_target(forward_to, "--forward-to") if forward_to else None,
        forward_timeout=forward_timeout,
        save_path=save,
    )
    if config.forward_to and _is_this_listener(config.forward_to, port, path):
        raise UsageError("--forward-to points at this listener: every event would loop forever")
    printer = WebhookPrinter(out, jsonl=chosen is Format.jsonl, print_body=print_body)
    started = None if no_opt_outs else OptOuts.start(app_ctx, dnc)
    opt_outs = started if isinstance(started, OptOuts) else None
    listener = WebhookListener(
        config,
        on_event=printer.event,
        on_notice=printer.notice,
        before_ack=opt_outs.before_ack if opt_outs is not None else None,
    )
    try:
        listener.start()
    except OSError as exc:
        if opt_outs is not None:
            opt_outs.close()
        if exc.filename is not None:
            # Checked at start (a probe of /dev/full, a full disk): one line, nothing answered.
            hint = "nothing is reading that pipe yet" if exc.errno == errno.ENXIO else None
            message = f"--save: cannot write to {exc.filename}: {exc.strerror}"
            raise UsageError(message, hint=hint) from None
        if exc.errno == errno.EADDRINUSE:
            hint = "pick another with --port, or stop the other listener"
            raise UsageError(f"port {port} is in use", hint=hint) from None
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    from zazacli.api.urls import is_loopback_host

    exposed = not is_loopback_host(host)
    if isinstance(started, str):
        out.warn(started)
    if exposed:
        out.warn(f"listening on {host}: anyone who can reach this machine can post events to it")
    webhook_listen_banner(
        out,
        url=listener.url,
        port=listener.port,
        path=listener.path,
        exposed=exposed,
        secret_source=secret_source,
        patterns=patterns,
        save=str(save) if save else None,
        forward_to=config.forward_to,
        opt_outs=str(opt_outs.store.path) if opt_outs is not None else None,
    )
    interrupted = False
    try:
        with sigterm_as_interrupt():
            listener.wait()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        stats = listener.close()
        webhook_listen_summary(out, stats, str(save) if save else None)
        if opt_outs is not None:
            opt_outs.close()
    if not interrupted:
        raise ZazaError("the listener stopped unexpectedly")


class OptOuts:
    """`webhooks listen` puts the senders of verified opt-out texts on the do-not-call list
    before it acknowledges them: an opt-out answered "received" is on the list."""

    def __init__(self, store: Any) -> None:
        self.store = store

    @classmethod
    def start(cls, app_ctx: AppContext, given: str | None) -> OptOuts | str:
        """The do-not-call list to add to; when there is none, the warning to give once the
        listener is up (the opt-outs are then only saved, for `zaza dnc import-events`)."""
        from zazacli.commands.policy import open_store

        try:
            return cls(open_store(app_ctx, given, dialling=False))
        except ZazaError as exc:
            return (
                f"opt-out texts will NOT be added to a do-not-call list: {exc.message} "
                "(save events with --save and add them later: zaza dnc import-events FILE)"
            )

    def before_ack(self, signature: str, body: dict[str, Any]) -> str | None:
        """The line to show when the event is an opt-out; raises when it cannot be recorded
        (the listener then answers 500 and the sender retries)."""
        from zazacli.policy.lists import sms_opt_out
        from zazacli.webhooks.listener import VALID

        found = sms_opt_out(body)
        if found is None:
            return None
        number, keyword = found
        said = keyword.upper()
        if signature != VALID:
            return (
                f"opt-out text ({said}) from {number} NOT added to the do-not-call list: its "
                f"signature is {signature} (only verified events change it)"
            )
        added = self.store.add([number], "sms", f"replied {said}")
        state = "added to" if added else "already on"
        return f"opt-out: {number} replied {said}: {state} the do-not-call list"

    def close(self) -> None:
        self.store.close()


@app.command("events")
def list_events(ctx: typer.Context, fmt: ReportFormatOpt = None, as_json: JsonOpt = False) -> None:
    """List the six event types ZazaVoice sends, one line each.

    \b
    Examples:
      zaza webhooks events
      zaza webhooks events --json
    """
    from zazacli.output.webhooks import webhook_event_types
    from zazacli.webhooks.samples import EVENT_TYPES

    out = get_context(ctx).out
    webhook_event_types(out, EVENT_TYPES, out.choose(fmt, json=as_json))


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


def _send_timeout(app_ctx: AppContext) -> float:
    return app_ctx.options.timeout or DEFAULT_SEND_TIMEOUT


def _event_types() -> tuple[str, ...]:
    from zazacli.webhooks.samples import EVENT_TYPES

    return tuple(EVENT_TYPES)


complete_event = completer(_event_types)


@app.command("trigger")
def trigger(
    ctx: typer.Context,
    event: Annotated[
        str,
        typer.Argument(
            help="Event type (see: zaza webhooks events).", autocompletion=complete_event
        ),
    ],
    to: ToOpt = DEFAULT_URL,
    secret: SecretOpt = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="PATH=VALUE",
            help="Change a field, e.g. data.status=FAILED or data.durationSeconds=30; "
            "the value is read as JSON when it is JSON. Repeatable.",
        ),
    ] = None,
    data_file: Annotated[
        str | None,
        typer.Option("--data-file", metavar="FILE", help="JSON for the `data` object (- = stdin)."),
    ] = None,
) -> None:
    """Send a realistic, signed sample event; print the response status and body.

    Signed with the whole whsec_… string as the HMAC key (our reading of the docs; the
    listener also accepts the base64-key form).

    \b
    Examples:
      zaza webhooks trigger call.completed
      zaza webhooks trigger call.failed --to http://localhost:3000/webhooks
      zaza webhooks trigger call.completed --set data.durationSeconds=30
    """
    from zazacli.output.webhooks import response_body, webhook_delivery
    from zazacli.webhooks.delivery import post_webhook, webhook_headers
    from zazacli.webhooks.samples import (
        EVENT_TYPES,
        apply_overrides,
        encode_body,
        event_body,
        sample_data,
    )

    app_ctx = get_context(ctx)
    out = app_ctx.out
    if event not in EVENT_TYPES:
        raise UsageError(f"unknown event type {event!r}", hint="one of: " + ", ".join(EVENT_TYPES))
    url = _target(to)
    data = _read_json_file(data_file) if data_file else sample_data(event)
    if isinstance(data, dict) and "event" in data and "data" in data:
        data = data["data"]  # a whole saved body was given: use its data
    try:
        body = apply_overrides(event_body(event, data), overrides or [])
    except ValueError as exc:
        raise UsageError(f"--set: {exc}") from None
    secret_value, _ = resolve_secret(app_ctx, secret)
    if not secret_value:
        out.warn("no secret: sending unsigned (set ZAZA_WEBHOOK_SECRET or pass --secret)")
    raw = encode_body(body)
    result = post_webhook(
        url, raw, webhook_headers(raw, event, secret=secret_value), _send_timeout(app_ctx)
    )
    if result.status is None:
        hint = f"is `zaza webhooks listen` running? ({DEFAULT_URL} is its default)"
        raise NetworkError(f"{url}: {result.error}", hint=hint)
    webhook_delivery(out, "signed" if secret_value else "unsigned", event, result)
    response_body(out, result)
    if not result.ok:
        raise ZazaError(f"{url} answered {result.status} {result.reason}".rstrip())


@app.command("replay")
def replay(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="A file saved by `listen --save` (or its --jsonl)."
        ),
    ],
    to: Annotated[str, typer.Option("--to", help="URL to POST the events to.")],
    secret: SecretOpt = None,
    event: Annotated[
        list[str] | None,
        typer.Option("--event", help="Only this type (wildcards work: call.*). Repeatable."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only events received since: 2h, today, an ISO time."),
    ] = None,
    index: Annotated[
        list[int] | None,
        typer.Option(
            "--index",
            min=-COUNT_MAX,
            max=COUNT_MAX,
            help="Only the Nth saved event (1 = first, -1 = last). Repeatable.",
        ),
    ] = None,
    include_unverified: Annotated[
        bool,
        typer.Option(
            "--include-unverified",
            help="Also re-sign events that did NOT arrive with a valid signature (invalid, "
            "unsigned, unchecked, or saved without a verdict). They are signed with YOUR "
            "secret and will look genuine to your app: only for events you trust.",
        ),
    ] = False,
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

    from zazacli.output.webhooks import webhook_delivery, webhook_replay_skipped
    from zazacli.webhooks.delivery import post_webhook, webhook_headers
    from zazacli.webhooks.saved import read_saved, select

    app_ctx = get_context(ctx)
    out = app_ctx.out
    url = _target(to)
    since_at = datetime.fromisoformat(parse_when(since)) if since else None
    try:
        saved, problems = read_saved(file)
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None
    for problem in problems:
        out.warn(f"{file}: {problem}")
    chosen = select(saved, types=event or (), since=since_at, indexes=index or ())
    if not chosen:
        out.notice(f"no saved events match in {file} ({len(saved)} in the file)")
        return
    secret_value, secret_source = resolve_secret(app_ctx, secret)
    skipped = 0
    if secret_value:
        # Re-signing vouches for an event: never for one that arrived forged or unchecked.
        unverified = [item for item in chosen if not item.verified]
        if include_unverified and unverified:
            out.warn(
                f"--include-unverified: {len(unverified)} event(s) that did not arrive validly "
                "signed are re-signed with your secret and will look genuine to your app"
            )
        elif unverified:
            for item in unverified:
                webhook_replay_skipped(out, item.position, item.event, item.verdict)
            skipped = len(unverified)
            chosen = [item for item in chosen if item.verified]
    ok = failed = 0
    for item in chosen:
        headers = webhook_headers(
            item.raw, item.event, secret=secret_value, signature=item.signature
        )
        result = post_webhook(url, item.raw, headers, _send_timeout(app_ctx))
        if result.status is None:
            raise NetworkError(
                f"{url}: {result.error}",
                hint=f"{ok + failed} of {len(chosen)} events were sent before this",
            )
        webhook_delivery(out, f"#{item.position}", item.event, result)
        ok, failed = (ok + 1, failed) if result.ok else (ok, failed + 1)
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


@app.command("verify")
def verify(
    ctx: typer.Context,
    signature: Annotated[
        str, typer.Option("--signature", help="The X-ZazaVoice-Signature value (hex).")
    ],
    file: Annotated[
        str, typer.Argument(help="The raw body, byte for byte (- or nothing = stdin).")
    ] = "-",
    secret: SecretOpt = None,
    fmt: ReportFormatOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Same as -o json: {"matches": …, "form": …}.')
    ] = False,
) -> None:
    """Check that SIGNATURE is the signature of a saved body (exit 0), or not (exit 1).

    Both key forms are tried: the whole whsec_… string (form whole-secret), then the
    base64-decoded part after whsec_ (form base64-key, the Standard Webhooks convention);
    the answer says which one matched.

    \b
    Examples:
      zaza webhooks verify body.json --signature "$SIGNATURE"
      zaza webhooks verify body.json --signature "$SIGNATURE" --json
    """
    from zazacli.output import Format
    from zazacli.output.webhooks import webhook_verify_result
    from zazacli.webhooks.signing import signature_form

    app_ctx = get_context(ctx)
    chosen = app_ctx.out.choose(fmt, json=as_json)
    secret_value, _ = resolve_secret(app_ctx, secret)
    if not secret_value:
        raise UsageError(
            "no secret to check with",
            hint="pass --secret, or set ZAZA_WEBHOOK_SECRET or the profile's webhook_secret",
        )
    try:
        body = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None
    form = signature_form(secret_value, body, signature)
    webhook_verify_result(app_ctx.out, form, as_json=chosen is Format.json)
    if form is None:
        raise ZazaError(
            "signature does NOT match", hint=_mismatch_hint(secret_value, body, signature)
        )


def _mismatch_hint(secret: str, body: bytes, signature: str) -> str:
    """The usual reasons a handler's check fails, when we can tell which one it is."""
    from zazacli.webhooks.signing import verify_signature

    if verify_signature(secret, body.rstrip(b"\r\n"), signature):
        return "it matches without the trailing newline: the file gained one (editors add it)"
    if not secret.startswith("whsec_"):
        return "the secret does not start with whsec_: copy the endpoint's secret whole"
    if b'"raw"' in body and b'"received_at"' in body:
        return 'this looks like a line saved by `listen`; check its "raw" string instead'
    return (
        "sign the raw bytes as received (not re-serialised JSON), with this endpoint's "
        "secret (both key forms were tried)"
    )
