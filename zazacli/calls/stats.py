"""`zaza calls stats`: call statistics and cost estimates. No Typer and no printing here.

`CallStats` is fed one call at a time (from the API's streamed pages) and keeps only
counters plus one compact array of durations per group. The archive computes the same
`Figures` per group with SQL (zazacli/archive/stats.py); both hand them to `build_report`,
so the two paths share every rule below, and read each call field through the same
`field_*` functions the archive's indexed columns are made with.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from zazacli.api.values import call_is_over
from zazacli.errors import UsageError
from zazacli.times import parse_time

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi
    from zazacli.api.listing import CallFilter

GROUPINGS = (
    "status",
    "disposition",
    "failure",
    "agent",
    "campaign",
    "direction",
    "day",
    "hour",
)
TIME_GROUPINGS = frozenset({"day", "hour"})
# Call fields behind the categorical groupings, and how each is read.
GROUP_FIELDS = {
    "status": "status",
    "disposition": "disposition",
    "failure": "failureReason",  # calls without one are the group `None` ("(none)")
    "agent": "agentId",
    "campaign": "campaignId",
    "direction": "direction",
}
# Zero-call days/hours are listed so a dip shows; past this many buckets only seen ones are.
MAX_FILLED_BUCKETS = 10_000
HOUR = timedelta(hours=1)
MAX_INT = 2**63 - 1  # what an SQLite INTEGER holds
# Past this (31 years) a duration is an error, read as none: sums of minutes stay exact.
MAX_SECONDS = 10**9
CENT = Decimal("0.01")


# ------------------------------------------------------------ reading a call's fields


def field_text(value: Any) -> str | None:
    """A field as text (numbers and booleans written as Python writes them). A lone
    surrogate is kept as it came: output writes it as the `\\udXXX` it was sent as (JSON)
    or shows it so (text), the one rule everywhere (sanitize.py)."""
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def field_upper(value: Any) -> str | None:
    """Statuses and directions: the API writes them in capitals; any case reads alike."""
    if type(value) is str and value.isascii():
        return value.upper()  # the usual case, read for every call of a report
    text = field_text(value)
    return text.upper() if text is not None else None


def _digits(text: str) -> bool:
    body = text.strip().removeprefix("-")
    return body.isascii() and body.isdigit()


def field_int(value: Any) -> int | None:
    """An id from a number or a numeric string; None for anything else (and for what an
    SQLite INTEGER cannot hold)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _digits(value):
        value = int(value)
    if isinstance(value, int) and -MAX_INT - 1 <= value <= MAX_INT:
        return value
    return None


def field_seconds(value: Any) -> int | float | None:
    """`durationSeconds` as a number: an integer, a float, or a numeric string; None for
    anything else, and for a size no call has (1e400 is valid JSON that reads as
    infinity)."""
    if type(value) is int or type(value) is float:
        number: float | None = value
    else:
        number = field_int(value)
    if number is None or not -MAX_SECONDS <= number <= MAX_SECONDS:
        return None
    return number


def billed_minutes(seconds: float | None) -> int | None:
    """Minutes billed for a call: each call rounded up to the whole minute, 0 s costing
    nothing. None (not priced) when the call has no duration, or a negative one."""
    if seconds is None or seconds < 0:
        return None
    return math.ceil(seconds / 60)


# ------------------------------------------------------------ rates


class Rates(NamedTuple):
    """USD per billed minute, and where the figures come from."""

    outbound: Decimal
    inbound: Decimal
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "outbound_usd_per_minute": float(self.outbound),
            "inbound_usd_per_minute": float(self.inbound),
            "source": self.source,
        }


# ZazaVoice's Billing page.
LIST_RATES = Rates(Decimal("0.15"), Decimal("0.10"), "list prices")


def pick_rates(outbound: Any, inbound: Any, profile: str | None) -> Rates:
    """The list prices, with a profile's `rate_outbound`/`rate_inbound` (negotiated
    prices, validated when the profiles file is read) in their place."""
    if outbound is None and inbound is None:
        return LIST_RATES
    return Rates(
        LIST_RATES.outbound if outbound is None else Decimal(str(outbound)),
        LIST_RATES.inbound if inbound is None else Decimal(str(inbound)),
        f"profile {profile}" if profile else "profile",
    )


def estimated_cost(outbound_minutes: int, inbound_minutes: int, rates: Rates) -> float:
    """USD, to the cent (half a cent rounds up)."""
    cost = outbound_minutes * rates.outbound + inbound_minutes * rates.inbound
    return float(cost.quantize(CENT, rounding=ROUND_HALF_UP))


# ------------------------------------------------------------ groupings and figures


def pick_grouping(value: str) -> str:
    """`--by`, case-insensitive, with the valid values in the error."""
    by = value.strip().lower()
    if by not in GROUPINGS:
        raise UsageError(
            f"--by: unknown value {value!r}", hint="valid values: " + ", ".join(GROUPINGS)
        )
    return by


def named_ids(items: Iterable[Mapping[str, Any]]) -> dict[Any, str]:
    """{id: name} of agents or campaigns, ids as the groups key them."""
    return {
        field_int(item.get("id")): str(field_text(item["name"]))
        for item in items
        if isinstance(item, Mapping) and item.get("name") is not None
    }


def interpolate(count: int, fraction: float, at: Callable[[int], float]) -> float | None:
    """The `fraction` quantile of `count` ordered values, `at(i)` the i-th: linear
    interpolation between closest ranks (numpy's default); None when there are none."""
    if not count:
        return None
    position = (count - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, count - 1)
    low = at(lower)
    return low + (at(upper) - low) * (position - lower)


def percentile(ordered: list[float], fraction: float) -> float | None:
    return interpolate(len(ordered), fraction, ordered.__getitem__)


class Figures(NamedTuple):
    """What a group reports, however it was counted. Durations above zero make the
    median, p90 and talk time; billed minutes are by direction; `unpriced` calls have no
    duration or no direction, and cost nothing in the estimate."""

    calls: int = 0
    median: float | None = None
    p90: float | None = None
    talk_seconds: float = 0
    answered: int = 0
    ended_outbound: int = 0
    outbound_minutes: int = 0
    inbound_minutes: int = 0
    unpriced: int = 0

    def as_dict(self, rates: Rates) -> dict[str, Any]:
        return {
            "median_duration_s": _seconds(self.median),
            "p90_duration_s": _seconds(self.p90),
            "talk_minutes": round(self.talk_seconds / 60, 1),
            "answered": self.answered,
            "ended_outbound": self.ended_outbound,
            "answer_rate": _ratio(self.answered, self.ended_outbound),
            "billed_minutes": self.outbound_minutes + self.inbound_minutes,
            "estimated_cost_usd": estimated_cost(
                self.outbound_minutes, self.inbound_minutes, rates
            ),
        }


def _ratio(part: int, whole: int, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


class GroupStats:
    """The counters of one group; durations are the only per-call memory."""

    __slots__ = (
        "count",
        "durations",
        "talk_seconds",
        "answered",
        "ended_outbound",
        "minutes",
        "unpriced",
    )

    def __init__(self) -> None:
        self.count = 0
        self.durations = array("d")  # 8 bytes a connected call
        self.talk_seconds = 0.0
        self.answered = 0
        self.ended_outbound = 0
        self.minutes = {"OUTBOUND": 0, "INBOUND": 0}
        self.unpriced = 0

    def add(
        self,
        seconds: float | None,
        direction: str | None,
        outbound_ended: bool,
        answered: bool,
        minutes: int | None,
    ) -> None:
        self.count += 1
        if seconds is not None and seconds > 0:
            self.durations.append(seconds)
            self.talk_seconds += seconds
        if outbound_ended:
            self.ended_outbound += 1
            if answered:
                self.answered += 1
        if minutes is None or direction not in self.minutes:
            self.unpriced += 1
        else:
            self.minutes[direction] += minutes

    def figures(self) -> Figures:
        ordered = sorted(self.durations)
        return Figures(
            calls=self.count,
            median=percentile(ordered, 0.5),
            p90=percentile(ordered, 0.9),
            talk_seconds=self.talk_seconds,
            answered=self.answered,
            ended_outbound=self.ended_outbound,
            outbound_minutes=self.minutes["OUTBOUND"],
            inbound_minutes=self.minutes["INBOUND"],
            unpriced=self.unpriced,
        )


def local_day(when: datetime) -> str:
    return when.astimezone().date().isoformat()


def local_hour(when: datetime) -> str:
    """The local clock hour `when` falls in, with its UTC offset (unambiguous across DST)."""
    local = when.astimezone()
    return local.replace(minute=0, second=0, microsecond=0).isoformat(timespec="minutes")


def group_key(by: str, call: Mapping[str, Any]) -> Any:
    """A categorical group's key, read as the archive's column of that field is."""
    value = call.get(GROUP_FIELDS[by])
    if by in ("agent", "campaign"):
        return field_int(value)
    if by in ("disposition", "failure"):
        return field_text(value)  # as the server wrote it
    return field_upper(value)


def is_stuck(call: Mapping[str, Any], before: datetime) -> bool:
    """A call not over (by the rule of --wait and tail) that was created before `before`
    (now less `calls check --stuck-after`). A call whose creation time cannot be read is
    not counted: how long it has been going cannot be told."""
    if call_is_over(call):
        return False
    created = parse_time(call.get("createdAt"))
    return created is not None and created < before


class CallStats:
    """Aggregates calls one at a time, grouped by `by`.

    Answer rate: calls that reached COMPLETED among OUTBOUND calls in a terminal state.
    Durations: `durationSeconds` above zero (calls that connected); missing, zero or
    non-numeric durations are left out of the median, p90 and talk time. Days and hours
    are the user's local time zone; every day/hour of the range is listed, also empty ones.
    Statuses and directions are compared and grouped in capitals, whatever their case.
    With `stuck_before`, the report also counts the calls `is_stuck` before then (`stuck`).
    """

    def __init__(
        self,
        by: str,
        *,
        since: str | None = None,
        until: str | None = None,
        stuck_before: datetime | None = None,
    ) -> None:
        self.by = pick_grouping(by)
        self.since = since
        self.until = until
        self.stuck_before = stuck_before
        self.stuck = 0
        self.total = GroupStats()
        self.groups: dict[Any, GroupStats] = {}
        self._first: datetime | None = None
        self._last: datetime | None = None

    def add(self, call: Mapping[str, Any]) -> None:
        direction = field_upper(call.get("direction"))
        # Over by the same rule as --wait and tail: a status zaza does not know counts once
        # the call has an end (endedAt or a duration).
        outbound_ended = direction == "OUTBOUND" and call_is_over(call)
        seconds = field_seconds(call.get("durationSeconds"))
        answered = field_upper(call.get("status")) == "COMPLETED"
        if self.by in TIME_GROUPINGS:
            key = self._time_key(call)
        else:
            key = group_key(self.by, call)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = GroupStats()
        minutes = billed_minutes(seconds)
        group.add(seconds, direction, outbound_ended, answered, minutes)
        self.total.add(seconds, direction, outbound_ended, answered, minutes)
        if self.stuck_before is not None and is_stuck(call, self.stuck_before):
            self.stuck += 1

    def _time_key(self, call: Mapping[str, Any]) -> str | None:
        created = parse_time(call.get("createdAt"))
        if created is None:
            return None
        if self._first is None or created < self._first:
            self._first = created
        if self._last is None or created > self._last:
            self._last = created
        return local_day(created) if self.by == "day" else local_hour(created)

    def feed(self, calls: Iterable[Mapping[str, Any]]) -> CallStats:
        for call in calls:
            self.add(call)
        return self

    def report(
        self,
        *,
        names: Mapping[Any, str] | None = None,
        filters: Mapping[str, Any] | None = None,
        rates: Rates = LIST_RATES,
        source: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        return build_report(
            self.by,
            {key: group.figures() for key, group in self.groups.items()},
            self.total.figures(),
            span=(self._first, self._last),
            since=self.since,
            until=self.until,
            names=names,
            filters=filters,
            rates=rates,
            source=source,
            now=now,
            stuck=None if self.stuck_before is None else self.stuck,
        )


# ------------------------------------------------------------ the result


def time_range(
    since: str | None,
    until: str | None,
    span: tuple[datetime | None, datetime | None],
    now: datetime | None = None,
) -> tuple[datetime, datetime] | None:
    """[start, end] of the buckets to list: --since (or the oldest call) to --until
    (exclusive; or now, or the newest call if that is later). None when there is nothing
    to list. `span` is (oldest, newest) creation time of the calls counted."""
    first, last = span
    start = parse_time(since) or first
    cutoff = parse_time(until)
    end = cutoff - timedelta(microseconds=1) if cutoff else (now or datetime.now(UTC))
    if last is not None and cutoff is None:
        end = max(end, last)
    if start is None or end < start:
        return None
    return start, end


def bucket_keys(by: str, span: tuple[datetime, datetime] | None) -> list[str]:
    """Every day or hour of the range, oldest first (empty past MAX_FILLED_BUCKETS)."""
    if span is None:
        return []
    start, end = span
    keys: list[str] = []
    if by == "day":
        day, last = start.astimezone().date(), end.astimezone().date()
        if (last - day).days >= MAX_FILLED_BUCKETS:
            return []
        while day <= last:
            keys.append(day.isoformat())
            day += timedelta(days=1)
        return keys
    # Step in absolute time from the local hour `start` is in: right across DST changes.
    hour = datetime.fromisoformat(local_hour(start))
    if (end - hour) / HOUR >= MAX_FILLED_BUCKETS:
        return []
    while hour <= end:
        keys.append(local_hour(hour))
        hour += HOUR
    return keys


def ordered_keys(by: str, groups: Mapping[Any, Figures], buckets: list[str]) -> list[Any]:
    """Days and hours in time order, every bucket of the range included, calls without a
    time last; other groups biggest first."""
    if by in TIME_GROUPINGS:
        keys = {k for k in groups if k is not None}
        keys.update(buckets)
        ordered: list[Any] = sorted(keys, key=_time_sort_key)
        if None in groups:
            ordered.append(None)
        return ordered
    return sorted(groups, key=lambda k: (-groups[k].calls, str(k)))


def build_report(
    by: str,
    groups: Mapping[Any, Figures],
    total: Figures,
    *,
    span: tuple[datetime | None, datetime | None] = (None, None),
    since: str | None = None,
    until: str | None = None,
    names: Mapping[Any, str] | None = None,
    filters: Mapping[str, Any] | None = None,
    rates: Rates = LIST_RATES,
    source: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    stuck: int | None = None,
) -> dict[str, Any]:
    """The `--json` document: totals, then one entry per group, with cost estimates (and
    `stuck`, the calls not over long after creation, when they were counted)."""
    buckets = bucket_keys(by, time_range(since, until, span, now)) if by in TIME_GROUPINGS else []
    entries = []
    empty = Figures()
    for key in ordered_keys(by, groups, buckets):
        figures = groups.get(key, empty)
        entry: dict[str, Any] = {"key": key}
        if names is not None:
            entry["name"] = names.get(key)
        entry["count"] = figures.calls
        entry["share"] = _ratio(figures.calls, total.calls) or 0.0
        entry.update(figures.as_dict(rates))
        entries.append(entry)
    overall = total.as_dict(rates)
    local = (now or datetime.now(UTC)).astimezone()
    return {
        "total": total.calls,
        "since": since,
        "until": until,
        "by": by,
        "groups": entries,
        "answer_rate": overall["answer_rate"],
        "answered": overall["answered"],
        "ended_outbound": overall["ended_outbound"],
        "talk_minutes": overall["talk_minutes"],
        "median_duration_s": overall["median_duration_s"],
        "p90_duration_s": overall["p90_duration_s"],
        "billed_minutes": overall["billed_minutes"],
        "estimated_cost_usd": overall["estimated_cost_usd"],
        "unpriced_calls": total.unpriced,
        "rates": rates.as_dict(),
        "timezone": local.tzname() or local.strftime("%z"),
        "filters": {k: v for k, v in (filters or {}).items() if k not in ("since", "until")},
        **(source or {"source": "api"}),
        **({} if stuck is None else {"stuck": stuck}),
    }


def _time_sort_key(key: str) -> datetime | date:
    return date.fromisoformat(key) if len(key) == 10 else datetime.fromisoformat(key)


def api_stats(
    api: ZazaApi,
    grouping: str,
    filters: CallFilter,
    rates: Rates,
    *,
    seen: Callable[[Iterable[dict[str, Any]]], Iterable[dict[str, Any]]] = lambda calls: calls,
    warn: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """The report of `calls stats` from the API: every matching call read once (`seen`
    passes them through, to count them as they come), agents or campaigns named."""
    aggregator = CallStats(grouping, since=filters.since, until=filters.until)
    # Counting needs every matching call, in whatever order the server lists them.
    aggregator.feed(seen(api.iter_calls(filters, ordered=False)))
    names = api_names(api, grouping, warn) if grouping in ("agent", "campaign") else None
    return aggregator.report(names=names, filters=filters.report(), rates=rates)


def api_names(api: ZazaApi, grouping: str, warn: Callable[[str], None]) -> dict[Any, str]:
    """Agent or campaign names by id (one list request); ids alone if that request fails."""
    from zazacli.errors import AuthError, ZazaError

    try:
        if grouping == "agent":
            return named_ids(api.list_agents())
        return named_ids(api.list_campaigns())
    except AuthError:
        raise
    except ZazaError as error:
        warn(f"{grouping} names unavailable, showing ids: {error.message}")
        return {}
