"""`zaza profiles add NAME`: save an API key (checked first) under a profile name."""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer

from zazacli.commands.app import get_context
from zazacli.commands.profiles.common import NameArg, read_secret
from zazacli.errors import UsageError, ZazaError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="API base URL [default: production].")
]
DefaultOpt = Annotated[bool, typer.Option("--default", help="Make it the default profile.")]
RegionOpt = Annotated[
    str | None, typer.Option("--region", help="Region for national numbers, e.g. US.")
]
ConfirmOpt = Annotated[
    bool, typer.Option("--confirm", help="Ask before dispatching calls with this profile.")
]
VerifyOpt = Annotated[
    bool,
    typer.Option(
        "--verify/--no-verify",
        help="Check the key with one authenticated request before saving it.",
    ),
]


def add(
    ctx: typer.Context,
    name: NameArg,
    base_url: BaseUrlOpt = None,
    make_default: DefaultOpt = False,
    region: RegionOpt = None,
    confirm: ConfirmOpt = False,
    verify: VerifyOpt = True,
) -> None:
    """Add or replace a profile. The key is read from a hidden prompt or stdin.

    The key is checked first with one small authenticated request (GET /agents) to the
    base URL this profile will use, and nothing is saved if it is refused; --no-verify
    saves it without asking (offline, or an API not up yet).

    \b
    Examples:
      zaza profiles add prod --default --region US
      printf %s "$ZAZA_PROD_KEY" | zaza profiles add prod --default
      zaza profiles add staging --base-url https://staging.example.com/api/v1 \\
          --no-verify
    """
    from zazacli import config

    app_ctx = get_context(ctx)
    _check_name(name)
    if base_url:
        from zazacli.api.urls import check_base_url

        check_base_url(base_url, allow_insecure_http=app_ctx.options.allow_insecure_http)
    key = read_secret("API key")
    if not key.startswith("zaza_"):
        app_ctx.out.warn("the key does not start with 'zaza_'; is it a ZazaVoice API key?")
    if verify:
        # A broken config file is said before any request.
        config.load(app_ctx.config_dir, warn=app_ctx.out.warn)
        _verify_key(app_ctx, name, key, base_url)
    settings = _new_settings(key, base_url, region, confirm)
    replaced, is_default = _save_profile(app_ctx, name, settings, make_default)
    verb = "replaced" if replaced else "added"
    suffix = " (default)" if is_default else ""
    app_ctx.out.notice(f"{verb} profile {name}{suffix}: key {config.mask_secret(key)}")


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(
            f"invalid profile name {name!r}",
            hint="use letters, digits, '-', '_' or '.', up to 64 characters",
        )
    return name


def _verify_key(app_ctx: Any, name: str, key: str, base_url: str | None) -> None:
    """One authenticated GET to the base URL a command with this profile would use (the
    global --base-url, then ZAZA_BASE_URL, then the profile's own, then production)."""
    from zazacli import config

    target = (
        app_ctx.options.base_url
        or app_ctx.env.get("ZAZA_BASE_URL")
        or (base_url.rstrip("/") if base_url else None)
        or config.DEFAULT_BASE_URL
    )
    api = app_ctx.client(target, key, key_hint="check the key you typed or piped")
    try:
        agents = len(api.list_agents())
    except ZazaError as error:
        unchecked = f"nothing was saved; to save it unchecked: zaza profiles add {name} --no-verify"
        error.hint = f"{error.hint}; {unchecked}" if error.hint else unchecked
        raise
    finally:
        api.close()
    app_ctx.out.notice(f"the key works: {target} answered ({agents} agents)")


def _new_settings(
    key: str, base_url: str | None, region: str | None, confirm: bool
) -> dict[str, Any]:
    """The settings this command sets, as the config file keeps them; options not given
    are left out, so they do not overwrite what the profile already has."""
    profile: dict[str, Any] = {"api_key": key}
    if base_url:
        profile["base_url"] = base_url.rstrip("/")
    if region:
        from zazacli.policy.phones import region_code

        profile["region"] = region_code(region, "--region")
    if confirm:
        profile["confirm"] = True
    return profile


def _save_profile(
    app_ctx: Any, name: str, settings: dict[str, Any], make_default: bool
) -> tuple[bool, bool]:
    """Write the profile (the first one becomes the default); whether it replaced one of
    that name, and whether it is now the default."""
    from zazacli import config

    with config.editing(app_ctx.config_dir, warn=app_ctx.out.warn) as cfg:
        replaced = name in cfg.profiles
        # Keep settings the user added with `profiles set` when replacing only the key.
        cfg.profiles[name] = {**cfg.profiles.get(name, {}), **settings}
        if make_default or cfg.default is None:
            cfg.default = name
        is_default = cfg.default == name
    return replaced, is_default
