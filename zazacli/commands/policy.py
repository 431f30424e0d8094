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
    return PolicyStore.open(path, create=not (dialling and named), warn=app_ctx.out.warn)


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
    """One scan of the outbound calls in the cap's window before dialling (a dispatch always
    made one): the calls that already exist to these callees, counted by the cap and never
    taken for a new call. The guard learns what the API lists (a listing that cannot be
    read whole blocks a capped dial), and whether the API is zaza's sandbox, where the cap
    and the repeat window are not applied. `scans` is the time budget, in SCAN_FLOORs."""
    from zazacli.calls.dispatch import SCAN_FLOOR, recent_outbound
    from zazacli.policy.rules import Listed

    window = guard.cap.window if guard.cap is not None else 0.0
    deadline = app_ctx.timing.clock() + scans * SCAN_FLOOR
    recent = recent_outbound(app_ctx.api, window, deadline=deadline, numbers=numbers)
    guard.listed = Listed(recent.by_number, recent.problem)
    # Known after that answer, at no cost: is this zaza's own sandbox (which rings no one)?
    guard.rings_no_one = bool(app_ctx.options.sandbox or app_ctx.api.is_sandbox())
    return recent
