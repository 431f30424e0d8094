"""The contact-policy file for a command: the `--dnc` option, where the file is, and the
guard that every dialling command goes through (`calls dispatch`, `calls batch`), built
from the profile's cap and the file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from zazacli.errors import UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from zazacli.calls.dispatch import Recent
    from zazacli.context import AppContext
    from zazacli.policy.rules import Cap, Guard, Listed
    from zazacli.policy.store import PolicyStore

DNC_ENV = "ZAZA_DNC"
DncOpt = Annotated[
    str | None,
    typer.Option(
        "--dnc",
        envvar=DNC_ENV,
        help="The contact-policy file: do-not-call list and dial ledger [default: one per "
        "API and key, in your user data directory].",
        show_default=False,
    ),
]


def policy_path(app_ctx: AppContext, given: str | None) -> tuple[Path, bool]:
    """(the file, whether the user named it): --dnc or ZAZA_DNC, else the file of the
    configured API and key (settings only: no network)."""
    from pathlib import Path

    if given:
        return Path(given).expanduser(), True
    if app_ctx.options.sandbox:
        # A private sandbox rings no one and lives for one command: so does its list.
        return app_ctx.scratch_dir() / "policy.sqlite3", False
    from zazacli.policy.store import default_policy_file

    settings = app_ctx.settings
    if not settings.api_key:
        raise UsageError(
            "which do-not-call list? there is one per API and key, and no API key is configured",
            hint=f"pass --dnc PATH or set {DNC_ENV}, or configure a key (zaza profiles add)",
        )
    return default_policy_file(settings.base_url, settings.api_key), False


def open_store(app_ctx: AppContext, given: str | None, *, dialling: bool) -> PolicyStore:
    """The policy file, open. A file the user named must exist before anything is dialled
    through it (a typo must not mean an empty list); the default one is created."""
    from zazacli.policy.store import PolicyStore

    path, named = policy_path(app_ctx, given)
    from zazacli.policy.store import BUSY_TIMEOUT

    wait = app_ctx.timing.lock_wait
    return PolicyStore.open(
        path,
        create=not (dialling and named),
        warn=app_ctx.out.warn,
        busy_timeout=BUSY_TIMEOUT if wait is None else wait,
    )


CAP_ENV = "ZAZA_MAX_CALLS_PER_NUMBER"


def profile_cap(app_ctx: AppContext) -> Cap | None:
    """The frequency cap: ZAZA_MAX_CALLS_PER_NUMBER, else the profile's
    max_calls_per_number, else 3/24h."""
    from zazacli.policy.rules import parse_cap

    if app_ctx.env.get(CAP_ENV):
        return parse_cap(app_ctx.env[CAP_ENV], CAP_ENV)
    name = app_ctx.settings.profile_name
    source = f"profile {name}: max_calls_per_number" if name else "max_calls_per_number"
    return parse_cap(app_ctx.settings.get("max_calls_per_number"), source)


def open_guard(
    app_ctx: AppContext,
    given: str | None,
    *,
    listed: Listed | None = None,
    repeat_after: float | None = None,
) -> Guard:
    """The contact policy of a dialling command (fail closed: an unreadable file raises)."""
    from zazacli.policy.rules import Guard

    cap = profile_cap(app_ctx)
    store = open_store(app_ctx, given, dialling=True)
    app_ctx.on_close(store.close)
    return Guard(store, cap=cap, repeat_after=repeat_after, listed=listed)


def place_overrides(app_ctx: AppContext) -> dict[str, str]:
    """The profile's `calling_windows` (US-FL=09:00-20:00, US-FL=off)."""
    from zazacli.policy.windows import parse_overrides

    name = app_ctx.settings.profile_name
    source = f"profile {name}: calling_windows" if name else "calling_windows"
    return parse_overrides(app_ctx.settings.get("calling_windows"), source)


def contact_history(
    app_ctx: AppContext, guard: Guard, numbers: set[str], *, scans: int = 4
) -> Recent:
    """The outbound calls already made to these numbers, the guard told (calls/admission.py)."""
    from zazacli.calls.admission import contact_history as history

    return history(
        app_ctx.api,
        guard,
        numbers,
        clock=app_ctx.timing.clock,
        sandboxed=app_ctx.options.sandbox,
        scans=scans,
    )
