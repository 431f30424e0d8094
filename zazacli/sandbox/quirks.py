"""Quirks: ways the sandbox can play a real API that reads the contract differently.

The public docs leave much of the wire contract [assumed]; each quirk makes the sandbox
behave like one server the docs allow, so users (and tests) can watch zaza cope. Kept free
of heavy imports: `zaza sandbox --help` lists them without starting a server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

DEFAULT_LIST_LAG = 30.0

# name -> (value it takes, or "" for none; one-line meaning). The order is the help's order.
QUIRKS: dict[str, tuple[str, str]] = {
    "ignore-dates": ("", "GET /calls ignores startDate/endDate"),
    "ignore-filters": ("", "GET /calls ignores direction, status and agentId"),
    "oldest-first": ("", "GET /calls ignores sort and lists oldest first"),
    "bare-array": ("", "GET /calls and /campaigns answer a bare JSON array (no page info)"),
    "stuck-page": ("", "GET /calls ignores page: always page 0"),
    "page-cap": ("N", "GET /calls caps size at N (N >= 1; default cap 100)"),
    "unknown-status": ("", "calls that would end NO_ANSWER end in status VOICEMAIL"),
    "no-id": ("", "POST /calls/outbound answers 201 without the call's id"),
    "lost-answer": ("", "POST /calls/outbound queues the call, then drops the connection"),
    "lose-dispatch": ("", "POST /calls/outbound drops the connection and queues nothing"),
    "clock-skew": ("S", "the server's clock is S seconds ahead of the machine (negative: behind)"),
    "list-lag": ("S", "a new call shows in GET /calls only S seconds after creation (default 30)"),
    "no-sandbox-header": ("", "answers without X-Zaza-Sandbox, as the real API: quiet hours apply"),
    "created-lag": (
        "S",
        "createdAt shows S seconds (>= 0) before real creation; date filters agree",
    ),
    "created-epoch-ms": ("", "createdAt is epoch milliseconds (1764770591000), not ISO-8601"),
    "changed-after-sync": (
        "",
        "an ended call's disposition and transcript change after its first GET /calls/{id}",
    ),
    "deleted": ("", "a call whose id ends in 0 is erased after its first GET /calls/{id}"),
    "dup-ids": (
        "",
        "GET /calls pages overlap by one (a call arriving between reads); the oldest go unseen",
    ),
    "endless-no-total": (
        "",
        "GET /calls pages say no totals and never the last; past the end, the last page again",
    ),
    "redirect": ("", "every request is answered 307 to the same path on another host"),
    "created-local": (
        "ZONE",
        "createdAt is wall-clock time in ZONE, no offset (2026-12-03T11:03:11)",
    ),
}


@dataclass(frozen=True)
class Quirks:
    """The parsed quirks, read by the server; the defaults are an API that honours everything."""

    ignore_dates: bool = False
    ignore_filters: bool = False
    oldest_first: bool = False
    bare_array: bool = False
    stuck_page: bool = False
    page_cap: int | None = None
    unknown_status: bool = False
    no_id: bool = False
    lost_answer: bool = False
    lose_dispatch: bool = False
    clock_skew: float = 0.0
    list_lag: float = 0.0
    no_sandbox_header: bool = False
    # createdAt only: shown this many seconds early (filters read the shown stamp), as epoch
    # milliseconds, or as local wall-clock time in this IANA zone (no offset).
    created_lag: float = 0.0
    created_epoch_ms: bool = False
    created_local: str | None = None
    # What the history does after it was read, and pages that cannot be trusted.
    changed_after_sync: bool = False
    deleted: bool = False
    dup_ids: bool = False
    endless_no_total: bool = False
    redirect: bool = False


def _form(name: str) -> str:
    value = QUIRKS[name][0]
    if not value:
        return name
    return f"{name}[={value}]" if name == "list-lag" else f"{name}={value}"


def quirks_help() -> str:
    """One line per quirk, for `zaza sandbox --help`."""
    width = max(len(_form(name)) for name in QUIRKS) + 1  # two spaces at least
    return "\n".join(f"  {_form(name):<{width}} {meaning}" for name, (_, meaning) in QUIRKS.items())


def _invalid(message: str) -> ValueError:
    return ValueError(f"{message}; valid quirks: {', '.join(_form(name) for name in QUIRKS)}")


def _number(name: str, raw: str) -> float:
    try:
        number = float(raw)
    except ValueError:
        raise _invalid(f"quirk {name} needs a number of seconds, got {raw!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise _invalid(f"quirk {name} needs a finite number of seconds, got {raw!r}")
    return number


def _zone(spec: str, raw: str) -> str:
    if not raw:
        raise _invalid(
            f"quirk created-local needs an IANA zone (created-local=Europe/Paris), got {spec!r}"
        )
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise _invalid(
            f"quirk created-local needs an IANA zone like Europe/Paris, got {spec!r}"
        ) from None
    return raw


def _page_cap(spec: str, raw: str) -> int:
    try:
        cap = int(raw)
    except ValueError:
        cap = 0
    if cap < 1:
        raise _invalid(f"quirk page-cap needs a whole number N >= 1, got {spec!r}")
    return cap


def _clock_skew(spec: str, raw: str) -> float:
    if not raw:
        raise _invalid(f"quirk clock-skew needs seconds (clock-skew=-300), got {spec!r}")
    return _number("clock-skew", raw)


def _created_lag(spec: str, raw: str) -> float:
    if not raw:
        raise _invalid(f"quirk created-lag needs seconds (created-lag=90), got {spec!r}")
    lag = _number("created-lag", raw)
    if lag < 0:
        raise _invalid(f"quirk created-lag needs seconds >= 0, got {spec!r}")
    return lag


def _list_lag(spec: str, raw: str) -> float:
    lag = _number("list-lag", raw) if raw else DEFAULT_LIST_LAG
    if lag < 0:
        raise _invalid(f"quirk list-lag needs seconds >= 0, got {spec!r}")
    return lag


# The quirks that take a value (QUIRKS[name][0]): (the spec, the raw value) -> the value.
_VALUES: dict[str, Callable[[str, str], int | float | str]] = {
    "page-cap": _page_cap,
    "clock-skew": _clock_skew,
    "list-lag": _list_lag,
    "created-lag": _created_lag,
    "created-local": _zone,
}


def _parse_one(spec: str) -> tuple[str, bool | int | float | str]:
    """One `name[=value]` spec as (Quirks field, value)."""
    name, has_value, raw = str(spec).strip().partition("=")
    name, raw = name.strip().lower(), raw.strip()
    if name not in QUIRKS:
        raise _invalid(f"unknown quirk {spec!r}")
    field = name.replace("-", "_")
    if QUIRKS[name][0]:
        return field, _VALUES[name](spec, raw)
    if has_value:
        raise _invalid(f"quirk {name} takes no value, got {spec!r}")
    return field, True


def parse_quirks(specs: Iterable[str]) -> Quirks:
    """`("list-lag=30", "bare-array")` as Quirks; ValueError naming the valid quirks otherwise."""
    values = dict(_parse_one(spec) for spec in specs)
    if values.get("created_epoch_ms") and values.get("created_local"):
        raise _invalid("quirks created-epoch-ms and created-local both render createdAt; pick one")
    return Quirks(**values)  # type: ignore[arg-type]


def describe(quirks: Iterable[str]) -> str:
    """The quirks as one banner line ("" when there are none)."""
    names = [str(q).strip() for q in quirks]
    if not names:
        return ""
    return f"Quirks: {', '.join(names)} (this sandbox differs from the API on purpose)"
