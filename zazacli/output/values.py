"""How single values read: times for scripts and for people, durations, status colours."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from zazacli.sanitize import plain_value, terminal_safe
from zazacli.times import parse_time


def rfc3339(value: Any) -> str:
    """UTC, second precision, `Z`: sortable and stable for scripts."""
    parsed = parse_time(value)
    if parsed is None:
        return "" if value is None else str(value)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def relative(value: datetime, now: datetime | None = None) -> str:
    seconds = ((now or datetime.now(UTC)) - value).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            text = f"{int(seconds // size)}{unit}"
            break
    else:
        text = f"{int(seconds)}s"
    return f"in {text}" if future else f"{text} ago"


def local_time(value: Any, *, short: bool = False) -> str:
    """Local wall-clock time plus age; `short` drops the year, for table columns."""
    parsed = parse_time(value)
    if parsed is None:
        return "" if value is None else str(value)
    if short:
        age = relative(parsed).removesuffix(" ago")  # `43m`, or `in 1d` ahead
        return f"{parsed.astimezone().strftime('%b %d %H:%M')} · {age}"
    return f"{parsed.astimezone().strftime('%Y-%m-%d %H:%M')} ({relative(parsed)})"


def duration(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "" if value is None else terminal_safe(str(value))
    total = int(value)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def named(noun: str, ident: Any, name: Any) -> str:
    """`agent 12 (Zara from Acme)`, or `agent 12` when the API gave no name: never
    `(None)`. Both come from the API: made terminal-safe."""
    text = f"{noun} {plain_value(ident)}"
    return f"{text} ({plain_value(name)})" if name not in (None, "") else text


STATUS_STYLES = {
    "COMPLETED": "green",
    "RUNNING": "green",
    "ACTIVE": "green",
    "REACHED": "green",
    "FAILED": "red",
    "NO_ANSWER": "yellow",
    "BUSY": "yellow",
    "PAUSED": "yellow",
    "CANCELED": "dim",
    "DRAFT": "dim",
    "IN_PROGRESS": "cyan",
    "IN_CALL": "cyan",
    "RINGING": "cyan",
    "QUEUED": "blue",
    "PENDING": "blue",
}
