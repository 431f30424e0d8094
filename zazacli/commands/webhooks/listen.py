"""`zaza webhooks listen`: receive events, check their signatures, show, save and forward them."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from zazacli.commands.app import get_context, sigterm_as_interrupt
from zazacli.commands.options import JqOpt, StreamFormatOpt, TemplateOpt
from zazacli.commands.policy import DncOpt
from zazacli.commands.webhooks.common import (
    DEFAULT_HOST,
    DEFAULT_PATH,
    DEFAULT_PORT,
    DEFAULT_SEND_TIMEOUT,
    SaveOpt,
    SecretOpt,
    check_target,
    resolve_secret,
)
from zazacli.errors import UsageError, ZazaError

if TYPE_CHECKING:
    from zazacli.context import AppContext
    from zazacli.webhooks.listener import WebhookListener
    from zazacli.webhooks.model import ListenerConfig

HostOpt = Annotated[
    str, typer.Option("--host", help="Address to bind; 0.0.0.0 exposes it (e.g. to Docker).")
]
PortOpt = Annotated[int, typer.Option("--port", min=0, max=65535, help="Port; 0 picks a free one.")]
PathOpt = Annotated[str, typer.Option("--path", help="URL path events are POSTed to.")]
EventsOpt = Annotated[
    str | None,
    typer.Option(
        "--events",
        help="Show and forward only these types, comma-separated; wildcards work (call.*). "
        "Others are still acknowledged and saved.",
    ),
]
ForwardToOpt = Annotated[
    str | None,
    typer.Option(
        "--forward-to", help="Re-POST each event (same body and X-ZazaVoice-* headers) here."
    ),
]
ForwardTimeoutOpt = Annotated[
    float, typer.Option("--forward-timeout", min=0.1, help="Seconds to wait for your app.")
]
PrintBodyOpt = Annotated[
    bool, typer.Option("--print-body", help="Also print each body as indented JSON.")
]
NoOptOutsOpt = Annotated[
    bool,
    typer.Option(
        "--no-opt-outs",
        help="Do not add the senders of verified STOP (QUIT, END, …) texts to the "
        "do-not-call list.",
    ),
]


def listen(
    ctx: typer.Context,
    host: HostOpt = DEFAULT_HOST,
    port: PortOpt = DEFAULT_PORT,
    path: PathOpt = DEFAULT_PATH,
    secret: SecretOpt = None,
    events: EventsOpt = None,
    forward_to: ForwardToOpt = None,
    forward_timeout: ForwardTimeoutOpt = DEFAULT_SEND_TIMEOUT,
    save: SaveOpt = None,
    fmt: StreamFormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
    print_body: PrintBodyOpt = False,
    no_opt_outs: NoOptOutsOpt = False,
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
    from zazacli.output.webhooks import WebhookPrinter

    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.view(fmt, piped=Format.jsonl, jq=jq, template=template).format
    secret_value, secret_source = resolve_secret(app_ctx, secret)
    patterns = _event_patterns(events, out)
    config = _listener_config(
        host, port, path, secret_value, patterns, forward_to, forward_timeout, save
    )
    printer = WebhookPrinter(out, jsonl=chosen is Format.jsonl, print_body=print_body)
    started = None if no_opt_outs else OptOuts.start(app_ctx, dnc)
    opt_outs = started if isinstance(started, OptOuts) else None
    listener = _start_listener(config, printer, opt_outs)
    if isinstance(started, str):
        out.warn(started)
    _announce(out, listener, config, secret_source, patterns, opt_outs)
    _serve_until_stopped(out, listener, save, opt_outs)


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


def _listener_config(
    host: str,
    port: int,
    path: str,
    secret: str | None,
    patterns: list[str] | None,
    forward_to: str | None,
    forward_timeout: float,
    save: Path | None,
) -> ListenerConfig:
    """The listener's settings, checked: --forward-to must not point back at the listener."""
    from zazacli.webhooks.model import ListenerConfig

    config = ListenerConfig(
        host=host,
        port=port,
        path=path,
        secret=secret,
        events=tuple(patterns) if patterns else None,
        forward_to=check_target(forward_to, "--forward-to") if forward_to else None,
        forward_timeout=forward_timeout,
        save_path=save,
    )
    if config.forward_to and _is_this_listener(config.forward_to, port, path):
        raise UsageError("--forward-to points at this listener: every event would loop forever")
    return config


def _is_this_listener(url: str, port: int, path: str) -> bool:
    from urllib.parse import urlsplit

    from zazacli.api.urls import is_loopback_host

    parts = urlsplit(url)
    hostname = parts.hostname or ""
    same_host = is_loopback_host(hostname) or hostname == "0.0.0.0"
    same_path = "/" + parts.path.strip("/") == "/" + path.strip("/")
    return same_host and parts.port == port and same_path


def _start_listener(
    config: ListenerConfig, printer: Any, opt_outs: OptOuts | None
) -> WebhookListener:
    """The listener, bound and serving; one that cannot start is a usage error, said before
    any event is answered (the do-not-call list is closed first)."""
    from zazacli.webhooks.listener import WebhookListener

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
        raise _cannot_start(exc, config.host, config.port) from None
    return listener


def _cannot_start(exc: OSError, host: str, port: int) -> UsageError:
    """Why the listener could not start, as the one line the user sees."""
    if exc.filename is not None:
        # Checked at start (a probe of /dev/full, a full disk): one line, nothing answered.
        hint = "nothing is reading that pipe yet" if exc.errno == errno.ENXIO else None
        message = f"--save: cannot write to {exc.filename}: {exc.strerror}"
        return UsageError(message, hint=hint)
    if exc.errno == errno.EADDRINUSE:
        hint = "pick another with --port, or stop the other listener"
        return UsageError(f"port {port} is in use", hint=hint)
    return UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def _announce(
    out: Any,
    listener: WebhookListener,
    config: ListenerConfig,
    secret_source: str | None,
    patterns: list[str] | None,
    opt_outs: OptOuts | None,
) -> None:
    """The banner: where to send events and what happens to them; a warning first when
    the address is reachable from other machines."""
    from zazacli.api.urls import is_loopback_host
    from zazacli.output.webhooks import webhook_listen_banner

    exposed = not is_loopback_host(config.host)
    if exposed:
        out.warn(
            f"listening on {config.host}: anyone who can reach this machine can post events to it"
        )
    webhook_listen_banner(
        out,
        url=listener.url,
        port=listener.port,
        path=listener.path,
        exposed=exposed,
        secret_source=secret_source,
        patterns=patterns,
        save=str(config.save_path) if config.save_path else None,
        forward_to=config.forward_to,
        opt_outs=str(opt_outs.store.path) if opt_outs is not None else None,
    )


def _serve_until_stopped(
    out: Any, listener: WebhookListener, save: Path | None, opt_outs: OptOuts | None
) -> None:
    """Serve until Ctrl-C or SIGTERM, then print the summary; any other end is an error."""
    from zazacli.output.webhooks import webhook_listen_summary

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
        from zazacli.webhooks.model import VALID

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
