"""Reading times: the API's ISO-8601 stamps, and what users type after --since/--until."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from zazacli.errors import UsageError

# Patterns as strings: `re` compiles and caches them on first use, so that importing this
# module (every command does) compiles nothing.
_RELATIVE = r"^\s*(\d+)\s*(s|m|min|h|d|w)\s*$"
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from an API time stamp; None when absent or unreadable.

    A tolerant reader: a stamp without an offset is taken as UTC.
    """
    parsed = _iso(value)
    if parsed is None or parsed.tzinfo:
        return parsed
    return parsed.replace(tzinfo=UTC)


def aware_time(value: Any) -> datetime | None:
    """A time stamp that says which instant it is: ISO-8601 with `Z` or an offset. None for
    anything else — absent, unreadable, epoch numbers, or a zone-less local time — so that
    a clock the server did not name never rules a call in or out."""
    parsed = _iso(value)
    return parsed if parsed is not None and parsed.tzinfo else None


def parse_when(value: str, option: str = "--since", now: datetime | None = None) -> str:
    """A user's time (`2h`, `today`, `2026-11-01`, an instant) as an ISO-8601 UTC instant.

    Relative amounts count back from now; dates and naive times are the user's local time.
    """
    now = now or datetime.now(UTC)
    text = value.strip()
    try:
        when = _when(text, now)
    except (OverflowError, ValueError):  # a year past 9999 or before 1 on the way to UTC
        when = EARLIEST - timedelta(days=1)
    if when is None:
        raise UsageError(
            f"{option}: cannot read {value!r} as a time",
            hint="use an ISO date or instant (2026-11-01, 2026-11-01T09:00Z), "
            "or 30m, 2h, 3d, 1w, today, yesterday",
        )
    if not EARLIEST <= when <= LATEST:
        raise UsageError(
            f"{option}: {value!r} is out of range",
            hint=f"a time from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} (UTC)",
        )
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Every time a user gives is between these (the API's instants, SQLite's and Python's
# arithmetic on them all hold there; 0001-01-01 or 9999-12-31-01:00 overflow on the way).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def _when(text: str, now: datetime) -> datetime | None:
    lowered = text.lower()
    local_midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    if lowered == "now":
        return now
    if lowered == "today":
        return local_midnight
    if lowered == "yesterday":
        return local_midnight - timedelta(days=1)
    if match := re.match(_RELATIVE, lowered, re.I):
        return now - timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2).lower()])
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.astimezone(UTC)  # a naive time is the user's local time


_DURATION = r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$"
_DURATION_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(
    value: str, option: str, minimum: float = 0.0, *, zero_ok: bool = False
) -> float:
    """`90`, `90s`, `15m`, `1.5h`, `7d` as seconds (a bare number is seconds); `zero_ok` lets
    `0`/`0s` through (for options where zero means "at once")."""
    match = re.match(_DURATION, value, re.I)
    if not match:
        raise UsageError(f"{option}: cannot read {value!r} as a duration", hint="e.g. 5s, 15m, 1h")
    seconds = float(match.group(1)) * _DURATION_UNITS[(match.group(2) or "s").lower()]
    if zero_ok and seconds == 0:
        return 0.0
    if seconds <= 0 or seconds < minimum:
        raise UsageError(f"{option}: {value!r} is too short; the least is {max(minimum, 1):g}s")
    if seconds > LONGEST:
        # Waits and deadlines past this overflow timers (threading's TIMEOUT_MAX, sleep).
        raise UsageError(f"{option}: {value!r} is too long; the most is 3650d")
    return seconds


LONGEST = 3650 * 86400.0  # ten years
