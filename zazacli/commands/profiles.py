"""`zaza profiles`: named API keys and their settings, kept in the config directory."""

from __future__ import annotations

import re
import sys
from typing import Annotated, Any

import typer

from zazacli.commands.options import JsonOpt, ReportFormatOpt, get_context, noun_app
from zazacli.errors import UsageError, ZazaError
from zazacli.sanitize import plain_value

app = noun_app("profiles")

NameArg = Annotated[str, typer.Argument(help="Profile name.", metavar="NAME")]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(
            f"invalid profile name {name!r}",
            hint="use letters, digits, '-', '_' or '.', up to 64 characters",
        )
    return name


def read_secret(prompt: str) -> str:
    """A secret from a hidden prompt on a terminal, else from stdin; never from argv."""
    if sys.stdin is not None and sys.stdin.isatty():
        value = typer.prompt(prompt, hide_input=True, err=True)
    else:
        value = sys.stdin.read() if sys.stdin is not None else ""
    value = value.strip()
    if not value:
        raise UsageError(
            f"no {prompt.lower()} given",
            hint='type it at the prompt, or pipe it: printf %s "$KEY" | zaza profiles add NAME',
        )
    if any(c.isspace() for c in value) or not value.isprintable():
        raise UsageError(f"the {prompt.lower()} contains spaces or control characters")
    return value


@app.command("add")
def add(
    ctx: typer.Context,
    name: NameArg,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="API base URL [default: production].")
    ] = None,
    make_default: Annotated[
        bool, typer.Option("--default", help="Make it the default profile.")
    ] = False,
    region: Annotated[
        str | None, typer.Option("--region", help="Region for national numbers, e.g. US.")
    ] = None,
    confirm: Annotated[
        bool, typer.Option("--confirm", help="Ask before dispatching calls with this profile.")
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify/--no-verify",
            help="Check the key with one authenticated request before saving it.",
        ),
    ] = True,
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
        config.load(
            app_ctx.config_dir, warn=app_ctx.out.warn
        )  # a broken config file is said before any request
        _verify_key(app_ctx, name, key, base_url)
    with config.editing(app_ctx.config_dir, warn=app_ctx.out.warn) as cfg:
        replaced = name in cfg.profiles
        profile: dict[str, Any] = {"api_key": key}
        if base_url:
            profile["base_url"] = base_url.rstrip("/")
        if region:
            profile["region"] = region.upper()
        if confirm:
            profile["confirm"] = True
        # Keep settings the user added with `profiles set` when replacing only the key.
        cfg.profiles[name] = {**cfg.profiles.get(name, {}), **profile}
        if make_default or cfg.default is None:
            cfg.default = name
        is_default = cfg.default == name
    verb = "replaced" if replaced else "added"
    suffix = " (default)" if is_default else ""
    app_ctx.out.notice(f"{verb} profile {name}{suffix}: key {config.mask_secret(key)}")


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


@app.command("set")
def set_value(
    ctx: typer.Context,
    name: NameArg,
    key: Annotated[str, typer.Argument(help="Setting: " + ", ".join(SETTABLE), metavar="KEY")],
    value: Annotated[
        str | None, typer.Argument(help="New value; omit for secrets (read from stdin).")
    ] = None,
) -> None:
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
    stored: Any
    if key in config.SECRET_KEYS:
        if value is not None:
            raise UsageError(
                f"{key} is a secret and is not taken on the command line",
                hint=f'pipe it: printf %s "$SECRET" | zaza profiles set {name} {key}',
            )
        stored = read_secret(key.replace("_", " "))
    elif value is None:
        raise UsageError(f"give a value for {key}")
    elif key == "confirm":
        if value.lower() not in ("true", "false", "yes", "no", "1", "0"):
            raise UsageError("confirm takes true or false")
        stored = value.lower() in ("true", "yes", "1")
    elif key == "quiet_hours":
        from zazacli.policy.phones import parse_window

        stored = parse_window(value).text  # the one reading every dispatch uses
    elif key == "max_calls_per_number":
        from zazacli.policy.rules import parse_cap

        cap = parse_cap(value)
        stored = "off" if cap is None else cap.text
    elif key == "calling_windows":
        from zazacli.policy.windows import parse_overrides

        stored = ", ".join(f"{k}={v}" for k, v in parse_overrides(value).items())
    elif key in config.RATE_KEYS:
        stored = _rate(key, value)
    elif key == "base_url":
        from zazacli.api.urls import check_base_url

        check_base_url(value, allow_insecure_http=app_ctx.options.allow_insecure_http)
        stored = value.rstrip("/")
    else:
        stored = value.upper() if key == "region" else value
    with config.editing(app_ctx.config_dir, warn=app_ctx.out.warn) as cfg:
        cfg.profile(name)[key] = stored
    shown = config.mask_secret(stored) if key in config.SECRET_KEYS else plain_value(stored)
    app_ctx.out.notice(f"profile {name}: {key} = {shown}")  # `confirm = true`, as in the file


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


def _public(profile: dict[str, Any]) -> dict[str, Any]:
    from zazacli import config

    return {
        k: (config.mask_secret(v) if k in config.SECRET_KEYS else v) for k, v in profile.items()
    }


@app.command("list")
def list_profiles(
    ctx: typer.Context, fmt: ReportFormatOpt = None, as_json: JsonOpt = False
) -> None:
    """List profiles; keys are masked.

    \b
    Examples:
      zaza profiles list
      zaza profiles list --json
    """
    from zazacli import config
    from zazacli.output import Format

    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.choose(fmt, json=as_json)
    cfg = config.load(app_ctx.config_dir, warn=app_ctx.out.warn)
    rows = [
        {
            "name": name,
            "default": name == cfg.default,
            "base_url": p.get("base_url") or config.DEFAULT_BASE_URL,
            "api_key": config.mask_secret(p.get("api_key")),
        }
        for name, p in sorted(cfg.profiles.items())
    ]
    if chosen is Format.json:
        out.json_document(rows)
        return
    if not rows:
        out.notice("no profiles yet; add one with: zaza profiles add NAME")
        return
    for row in rows:
        mark = "*" if row["default"] else " "
        if out.is_tty:
            out.write(f"{mark} {row['name']:<16} {row['api_key']:<22} {row['base_url']}")
        else:
            default = "default" if row["default"] else ""
            out.write(f"{row['name']}\t{default}\t{row['api_key']}\t{row['base_url']}")


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Profile [default: the active one].")] = None,
    fmt: ReportFormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a profile's settings (secrets masked) and where each came from.

    \b
    Examples:
      zaza profiles show
      zaza profiles show prod --json
    """
    from zazacli import config
    from zazacli.output import Format

    app_ctx = get_context(ctx)
    chosen = app_ctx.out.choose(fmt, json=as_json)
    if name:
        app_ctx.options.profile = name
    settings = app_ctx.settings
    data: dict[str, Any] = {
        "name": settings.profile_name,
        **_public(settings.profile),
        "api_key": config.mask_secret(settings.api_key),
        "base_url": settings.base_url,
        "sources": settings.sources,
        "config_file": str(app_ctx.config_dir / config.CONFIG_FILE),
    }
    if chosen is Format.json:
        app_ctx.out.json_document(data)
        return
    for key, value in data.items():
        if key == "sources":
            continue
        source = settings.sources.get(key)
        shown = plain_value(value)  # `true`, and nothing for no profile: no Python literals
        app_ctx.out.write(f"{key}\t{shown}" + (f"\t({source})" if source else ""))


@app.command("use")
def use(ctx: typer.Context, name: NameArg) -> None:
    """Make a profile the default.

    \b
    Example:
      zaza profiles use staging
    """
    from zazacli import config

    app_ctx = get_context(ctx)
    with config.editing(app_ctx.config_dir, warn=app_ctx.out.warn) as cfg:
        cfg.profile(name)
        cfg.default = name
    app_ctx.out.notice(f"default profile is now {name}")


@app.command("remove")
def remove(ctx: typer.Context, name: NameArg) -> None:
    """Delete a profile and its key.

    \b
    Example:
      zaza profiles remove staging
    """
    from zazacli import config

    app_ctx = get_context(ctx)
    with config.editing(app_ctx.config_dir, warn=app_ctx.out.warn) as cfg:
        cfg.profile(name)
        del cfg.profiles[name]
        if cfg.default == name:
            cfg.default = None
    app_ctx.out.notice(f"removed profile {name}")


@app.command("test")
def test(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Profile [default: the active one].")] = None,
) -> None:
    """Check that a profile's key and base URL work (one cheap authenticated GET).

    \b
    Examples:
      zaza profiles test
      zaza profiles test prod
    """
    import time

    app_ctx = get_context(ctx)
    if name:
        app_ctx.options.profile = name
    started = time.monotonic()
    agents = app_ctx.api.list_agents()
    elapsed = (time.monotonic() - started) * 1000
    label = app_ctx.settings.profile_name or "(environment)"
    app_ctx.out.write(
        f"OK: {label} reached {app_ctx.settings.base_url} ({len(agents)} agents, {elapsed:.0f} ms)"
    )
