"""What several `zaza webhooks` verbs (and `zaza ui --listen`) share: the listener's address,
--save, --secret, the target check."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zazacli.errors import UsageError

if TYPE_CHECKING:
    from zazacli.context import AppContext

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4242
DEFAULT_PATH = "/webhooks"
DEFAULT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}{DEFAULT_PATH}"
DEFAULT_SEND_TIMEOUT = 10.0

SaveOpt = Annotated[
    Path | None,
    typer.Option(
        "--save",
        dir_okay=False,
        help="Append every event to this JSON-lines file, before acknowledging it.",
    ),
]
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


def check_target(url: str, option: str = "--to") -> str:
    """A URL events may be POSTed to; anything else is a usage error naming the option."""
    from zazacli.webhooks.delivery import check_target_url

    try:
        return check_target_url(url)
    except ValueError as exc:
        hint = "for example http://localhost:3000/webhooks"
        raise UsageError(f"{option}: {exc}", hint=hint) from None


def send_timeout(app_ctx: AppContext) -> float:
    """The global --timeout, else the default a webhook sender gives a receiver."""
    return app_ctx.options.timeout or DEFAULT_SEND_TIMEOUT
