"""`zaza sandbox`: run the bundled ZazaVoice-compatible API server on a local port."""

from __future__ import annotations

import errno
import secrets
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from zazacli.commands.app import sigterm_as_interrupt, single_command
from zazacli.errors import UsageError
from zazacli.sandbox import DEFAULT_API_KEY
from zazacli.sandbox.quirks import describe, quirks_help

if TYPE_CHECKING:
    from zazacli.sandbox import Sandbox, SandboxConfig

OUTCOME_NOTE = (
    "Dispatched calls end by the last digit of toNumber: 0 FAILED, 1 NO_ANSWER, 2 BUSY, "
    "3 CANCELED, 4-9 COMPLETED (4 INTERESTED, 5 NOT_INTERESTED, 6 CALLBACK_REQUESTED, "
    "7 VOICEMAIL, 8 APPOINTMENT_BOOKED, 9 DO_NOT_CALL)."
)
# `\b` keeps Click from rewrapping the table.
SANDBOX_EPILOG = (
    "\b\nQuirks (--quirk, repeatable): act like an API that reads the contract differently\n"
    + quirks_help()
)


HostOpt = Annotated[str, typer.Option("--host", help="Address to listen on.")]
PortOpt = Annotated[int, typer.Option("--port", min=0, max=65535, help="Port; 0 picks a free one.")]
KeyOpt = Annotated[
    str, typer.Option("--api-key", help="The key clients must send as a Bearer token.")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed for the generated data.")]
CallsOpt = Annotated[
    int, typer.Option("--calls", min=0, max=2_000_000, help="Seeded calls to generate.")
]
SpeedOpt = Annotated[
    float,
    typer.Option("--speed", min=0.01, help="Time scale of live calls: 10 = ten times faster."),
]
WebhookUrlOpt = Annotated[
    str | None,
    typer.Option("--webhook-url", help="POST signed call.* events here as calls move."),
]
WebhookSecretOpt = Annotated[
    str | None,
    typer.Option(
        "--webhook-secret",
        envvar="ZAZA_WEBHOOK_SECRET",
        help="Signing secret (whsec_…) for --webhook-url [default: a new random one].",
    ),
]
RateLimitOpt = Annotated[
    int | None,
    typer.Option("--rate-limit", min=1, max=10**9, help="Requests per minute per key, then 429."),
]
LatencyOpt = Annotated[
    float, typer.Option("--latency", min=0, help="Milliseconds added to every response.")
]
ErrorRateOpt = Annotated[
    float,
    typer.Option("--error-rate", min=0.0, max=1.0, help="Share of GETs answered 500/503."),
]
SlowDispatchOpt = Annotated[
    float,
    typer.Option(
        "--slow-dispatch",
        min=0,
        help="Seconds to hold a dispatch's answer after the call is queued.",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Do not log each request to stderr.")]
QuirkOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--quirk",
        metavar="NAME[=VALUE]",
        help="Behave like a server that differs from the sandbox (repeatable; see below).",
    ),
]


def sandbox(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8081,
    api_key: KeyOpt = DEFAULT_API_KEY,
    seed: SeedOpt = 42,
    calls: CallsOpt = 300,
    speed: SpeedOpt = 1.0,
    webhook_url: WebhookUrlOpt = None,
    webhook_secret: WebhookSecretOpt = None,
    rate_limit: RateLimitOpt = None,
    latency: LatencyOpt = 0,
    error_rate: ErrorRateOpt = 0.0,
    slow_dispatch: SlowDispatchOpt = 0.0,
    quiet: QuietOpt = False,
    quirk: QuirkOpt = None,
) -> None:
    """Run a local ZazaVoice-compatible API with seeded agents, campaigns and calls.

    Point zaza (or any client) at it by pasting the `export ZAZA_…` lines
    it prints. Stop it with Ctrl-C.

    \b
    Examples:
      zaza sandbox
      zaza sandbox --port 0 --calls 2000 --quiet
      zaza sandbox --speed 10 --webhook-url http://127.0.0.1:4242/webhooks
      zaza sandbox --quirk oldest-first --quirk page-cap=50
    """
    from zazacli.sandbox import SandboxConfig

    generated_secret = bool(webhook_url) and not webhook_secret
    if generated_secret:
        webhook_secret = "whsec_" + secrets.token_hex(16)
    try:
        config = SandboxConfig(
            host=host,
            port=port,
            api_key=api_key,
            seed=seed,
            calls=calls,
            speed=speed,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            rate_limit=rate_limit,
            latency_ms=latency,
            error_rate=error_rate,
            slow_dispatch=slow_dispatch,
            quiet=quiet,
            quirks=tuple(quirk or ()),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _serve(_start(config), config, webhook_secret if generated_secret else None)


def _serve(running: Sandbox, config: SandboxConfig, new_secret: str | None) -> None:
    try:
        with sigterm_as_interrupt():
            # A client may read the banner and press Ctrl-C before serve_forever begins.
            _banner(running, config, new_secret)
            running.serve_forever()
    except KeyboardInterrupt:
        running.close()
    sys.stderr.write("sandbox stopped\n")
    sys.stderr.flush()


def _start(config: SandboxConfig) -> Sandbox:
    from zazacli.sandbox import start_sandbox

    try:
        return start_sandbox(config)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            hint = "pass --port 0 for a free port"
            raise UsageError(f"port {config.port} is in use", hint=hint) from None
        raise UsageError(
            f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}"
        ) from None


def _banner(running: Sandbox, config: SandboxConfig, new_secret: str | None) -> None:
    """Where it listens, as lines ready to paste into a shell (or to `eval`): exported, so
    `zaza` sees them."""
    from zazacli.terminal import fold, terminal_columns

    out = sys.stdout
    out.write(f"ZazaVoice sandbox listening on {running.base_url}\n")
    out.write(f"API key: {running.api_key}\n\n")
    out.write(f"export ZAZA_BASE_URL={running.base_url}\n")
    out.write(f"export ZAZA_API_KEY={running.api_key}\n")
    if new_secret:
        out.write(f"export ZAZA_WEBHOOK_SECRET={new_secret}\n")
    # The prose folds between words on a terminal; the lines above stay whole to paste.
    width = terminal_columns(out) if out.isatty() else None
    out.write(f"\n{fold(OUTCOME_NOTE, width)}\n")
    if config.webhook_url:
        hooks = f"Webhooks: call.started, call.completed, call.failed -> {config.webhook_url}"
        out.write(fold(hooks, width) + "\n")
    if config.quirks:
        out.write(fold(describe(config.quirks), width) + "\n")
    out.flush()
    sys.stderr.write("Press Ctrl-C to stop.\n")
    sys.stderr.flush()


app = single_command("sandbox", sandbox, epilog=SANDBOX_EPILOG)
