"""The call filters as people write them (`--status failed,no_answer`, `--since 1w`), read
into a CallFilter: one parser for every face that filters calls (the commands, `zaza ui`'s
filter bar). Each bad value is a UsageError (exit 2) naming the option."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

from zazacli.api.values import CALL_STATUSES, DIRECTIONS, ID_MAX, looks_like_status
from zazacli.errors import UsageError

T = TypeVar("T")

if TYPE_CHECKING:
    from zazacli.api.listing import CallFilter


def pick_choice(value: str | None, choices: tuple[str, ...], option: str) -> str | None:
    """Case-insensitive choice, with the valid values in the error."""
    if value is None:
        return None
    upper = value.strip().upper().replace("-", "_")
    if upper not in choices:
        raise UsageError(
            f"{option}: unknown value {value!r}",
            hint="valid values: " + ", ".join(c.lower() for c in choices),
        )
    return upper


def pick_status(
    value: str | None, notice: Callable[[str], None], option: str = "--status"
) -> str | None:
    """A known status in any case; an unknown one only when written as the API writes
    statuses (UPPER_SNAKE_CASE, e.g. VOICEMAIL): sent as is, with a note. Else a usage error."""
    if value is None:
        return None
    upper = value.strip().upper().replace("-", "_")
    if upper in CALL_STATUSES:
        return upper
    if looks_like_status(value.strip()):
        notice(f"{option} {value.strip()} is not a status zaza knows; sent as is")
        return value.strip()
    raise UsageError(
        f"{option}: unknown value {value!r}",
        hint="valid values: "
        + ", ".join(c.lower() for c in CALL_STATUSES)
        + "; or another status written as the API writes them (UPPER_SNAKE_CASE, e.g. VOICEMAIL)",
    )


def call_filter(
    direction: Sequence[str] | None,
    status: Sequence[str] | None,
    agent: Sequence[str] | None,
    since: str | None,
    until: str | None,
    notice: Callable[[str], None],
) -> CallFilter:
    """The validated call filters of every command that reads calls. Each of direction,
    status and agent may be repeated or hold commas, and means any of its values. `notice`
    says that an unknown UPPER_SNAKE_CASE `--status` is sent as is."""
    from zazacli.api.listing import CallFilter
    from zazacli.times import parse_when

    since_at = parse_when(since, "--since") if since else None
    until_at = parse_when(until, "--until") if until else None
    # Both are `%Y-%m-%dT%H:%M:%SZ` in UTC: as strings they sort as the times do.
    if since_at and until_at and until_at <= since_at:
        raise UsageError(
            f"--until {until} is not after --since {since}: no call can match",
            hint="--since is the start (inclusive), --until the end (exclusive)",
        )
    directions = [
        pick_choice(v, DIRECTIONS, "--direction") for v in listed(direction, "--direction")
    ]
    statuses = [pick_status(v, notice) for v in listed(status, "--status")]
    return CallFilter(
        directions=_unique(d for d in directions if d is not None),
        statuses=_unique(s for s in statuses if s is not None),
        agent_ids=_unique(pick_id(v, "--agent") for v in listed(agent, "--agent")),
        since=since_at,
        until=until_at,
    )


def listed(given: Sequence[str] | None, option: str) -> list[str]:
    """The values of an option that may be repeated and hold commas. An empty one is a
    usage error: `--status "$S"` with S empty must not come to mean any status."""
    values = []
    for value in given or ():
        for part in value.split(","):
            if not part.strip():
                raise UsageError(
                    f"{option}: empty value in {value!r}",
                    hint=f"give {option} one or more values, separated by commas",
                )
            values.append(part.strip())
    return values


def pick_id(value: str, option: str) -> int:
    """A whole number id (0 up to 2**63-1)."""
    if not (value.isascii() and value.isdigit()) or int(value) > ID_MAX:
        raise UsageError(
            f"{option}: {value!r} is not an id", hint="an id is a whole number, e.g. 12"
        )
    return int(value)


def _unique(values: Iterable[T]) -> tuple[T, ...]:
    """Values in the order given, each once."""
    return tuple(dict.fromkeys(values))
