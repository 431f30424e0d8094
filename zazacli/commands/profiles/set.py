"""`zaza profiles set NAME KEY [VALUE]`: change one setting, checked as it will be read."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from zazacli.commands.app import get_context
from zazacli.commands.profiles.common import NameArg, read_secret
from zazacli.errors import UsageError
from zazacli.sanitize import plain_value

SETTABLE = {
    "base_url": "API base URL",
    "region": "default region for national numbers (e.g. US)",
    "confirm": "true/false: ask before dispatching with this profile",
    "quiet_hours": "allowed calling window in the callee's time, e.g. 08:00-21:00",
    "max_calls_per_number": "contact policy: most dials to one number per window, e.g. "
    "3/24h (the default), or off",
    "calling_windows": "stricter windows by place, e.g. US-FL=08:00-20:00 or US-FL=off",
    "webhook_secret": "whsec_… signing secret for `webhooks listen` (read from stdin/prompt)",
    "api_key": "the API key (read from stdin/prompt)",
    "rate_outbound": "USD per outbound minute for `calls stats` cost estimates (list: 0.15)",
    "rate_inbound": "USD per inbound minute for `calls stats` cost estimates (list: 0.10)",
}

SettingArg = Annotated[str, typer.Argument(help="Setting: " + ", ".join(SETTABLE), metavar="KEY")]
ValueArg = Annotated[
    str | None, typer.Argument(help="New value; omit for secrets (read from stdin).")
]


def set_value(ctx: typer.Context, name: NameArg, key: SettingArg, value: ValueArg = None) -> None:
    """Change one setting of a profile (`zaza profiles set prod region US`).

    \b
    Examples:
      zaza profiles set prod region US
      zaza profiles set prod quiet_hours 09:00-20:00
      zaza profiles set prod rate_outbound 0.12
      zaza profiles set prod max_calls_per_number 2/24h
      zaza profiles set prod calling_windows US-FL=09:00-20:00
      printf %s "$ZAZA_WEBHOOK_SECRET" | zaza profiles set prod webhook_secret
    """
    from zazacli import config

    app_ctx = get_context(ctx)
    if key not in SETTABLE:
        raise UsageError(f"unknown setting {key!r}", hint="settable: " + ", ".join(SETTABLE))
    stored = _stored_value(app_ctx, name, key, value)
    with config.editing(app_ctx.config_dir, warn=app_ctx.out.warn) as cfg:
        cfg.profile(name)[key] = stored
    shown = config.mask_secret(stored) if key in config.SECRET_KEYS else plain_value(stored)
    app_ctx.out.notice(f"profile {name}: {key} = {shown}")  # `confirm = true`, as in the file


def _stored_value(app_ctx: Any, name: str, key: str, value: str | None) -> Any:
    """The value as the config file keeps it. A secret is read from a prompt or stdin, never
    from argv (where shell history and `ps` would show it); the rest must be given."""
    from zazacli import config

    if key in config.SECRET_KEYS:
        if value is not None:
            raise UsageError(
                f"{key} is a secret and is not taken on the command line",
                hint=f'pipe it: printf %s "$SECRET" | zaza profiles set {name} {key}',
            )
        return read_secret(key.replace("_", " "))
    if value is None:
        raise UsageError(f"give a value for {key}")
    return _checked_value(app_ctx, key, value)


def _checked_value(app_ctx: Any, key: str, value: str) -> Any:
    """A setting's value checked, and normalised, by the parser every command reads it with,
    so a value saved here never fails later."""
    from zazacli import config

    if key == "confirm":
        if value.lower() not in ("true", "false", "yes", "no", "1", "0"):
            raise UsageError("confirm takes true or false")
        return value.lower() in ("true", "yes", "1")
    if key == "quiet_hours":
        from zazacli.policy.phones import parse_window

        return parse_window(value).text  # the one reading every dispatch uses
    if key == "max_calls_per_number":
        from zazacli.policy.rules import parse_cap

        cap = parse_cap(value)
        return "off" if cap is None else cap.text
    if key == "calling_windows":
        from zazacli.policy.windows import parse_overrides

        return ", ".join(f"{k}={v}" for k, v in parse_overrides(value).items())
    if key in config.RATE_KEYS:
        return _rate(key, value)
    if key == "base_url":
        from zazacli.api.urls import check_base_url

        check_base_url(value, allow_insecure_http=app_ctx.options.allow_insecure_http)
        return value.rstrip("/")
    if key == "region":
        from zazacli.policy.phones import region_code

        return region_code(value)
    return value


def _rate(key: str, value: str) -> float:
    """A price per minute in USD, as a positive number (`0.12`, not `$0.12` or `12c`)."""
    from zazacli import config

    try:
        number = float(value.strip())
    except ValueError:
        number = 0.0
    if not config.is_rate(number) or "_" in value:
        raise UsageError(
            f"{key} takes a positive number of US dollars per minute, got {value!r}",
            hint=f"for example: zaza profiles set NAME {key} 0.12",
        )
    return number
