"""`zaza calls stats`: streaming call statistics. No Typer and no printing here.

`CallStats` is fed one call at a time (from the API's streamed pages) and keeps only
counters plus one compact array of durations per group.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from zazacli.api.values import call_is_over
from zazacli.errors import UsageError
from zazacli.times import parse_time

GROUPINGS = ("status", "disposition", "agent", "campaign", "direction", "day", "hour")
TIME_GROUPINGS = frozenset({"day", "hour"})
# Call fields behind the categorical groupings.
GROUP_FIELDS = {
    "status": "status",
    "disposition": "disposition",
    "agent": "agentId",
    "campaign": "campaignId",
    "direction": "direction",
}
# Zero-call days/hours are listed so a dip shows; past this many buckets only seen ones are.
MAX_FILLED_BUCKETS = 10_000
HOUR = timedelta(hours=1)


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
        _as_id(item.get("id")): str(item["name"])
        for item in items
        if isinstance(item, Mapping) and item.get("name") is not None
    }


def percentile(ordered: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None when empty."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _ratio(part: int, whole: int, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _as_id(value: Any) -> Any:
    """Agent and campaign ids as ints when they are numbers (the API may send strings)."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _positive_duration(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    # 1e400 is valid JSON that reads as infinity: no duration (and no NaN in the totals).
    return float(value) if 0 < value < float("inf") else None


class GroupStats:
    """The counters of one group; durations are the only per-call memory."""

    __slots__ = ("count", "durations", "talk_seconds", "answered", "ended_outbound")

    def __init__(self) -> None:
        self.count = 0
        self.durations = array("d")  # 8 bytes a connected call
        self.talk_seconds = 0.0
        self.answered = 0
        self.ended_outbound = 0

    def add(self, duration: float | None, outbound_ended: bool, answered: bool) -> None:
        self.count += 1
        if duration is not None:
            self.durations.append(duration)
            self.talk_seconds += duration
        if outbound_ended:
            self.ended_outbound += 1
            if answered:
                self.answered += 1

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.durations)
        return {
            "median_duration_s": _seconds(percentile(ordered, 0.5)),
            "p90_duration_s": _seconds(percentile(ordered, 0.9)),
            "talk_minutes": round(self.talk_seconds / 60, 1),
            "answered": self.answered,
            "ended_outbound": self.ended_outbound,
            "answer_rate": _ratio(self.answered, self.ended_outbound),
        }


def local_day(when: datetime) -> str:
    return when.astimezone().date().isoformat()


def local_hour(when: datetime) -> str:
    """The local clock hour `when` falls in, with its UTC offset (unambiguous across DST)."""
    local = when.astimezone()
    return local.replace(minute=0, second=0, microsecond=0).isoformat(timespec="minutes")


class CallStats:
    """Aggregates calls one at a time, grouped by `by`.

    Answer rate: calls that reached COMPLETED among OUTBOUND calls in a terminal state.
    Durations: `durationSeconds` above zero (calls that connected); missing, zero or
    non-numeric durations are left out of the median, p90 and talk time. Days and hours
    are the user's local time zone; every day/hour of the range is listed, also empty ones.
    """

    def __init__(self, by: str, *, since: str | None = None, until: str | None = None) -> None:
        self.by = pick_grouping(by)
        self.since = since
        self.until = until
        self.total = GroupStats()
        self.groups: dict[Any, GroupStats] = {}
        self._first: datetime | None = None
        self._last: datetime | None = None
        self._field = GROUP_FIELDS.get(self.by)

    def add(self, call: Mapping[str, Any]) -> None:
        status = call.get("status")
        # Over by the same rule as --wait and tail: a status zaza does not know counts once
        # the call has an end (endedAt or a duration).
        outbound_ended = call.get("direction") == "OUTBOUND" and call_is_over(call)
        duration = _positive_duration(call.get("durationSeconds"))
        answered = status == "COMPLETED"
        if self._field is not None:
            key = call.get(self._field)
            if self.by in ("agent", "campaign"):
                key = _as_id(key)
            elif key is not None and not isinstance(key, str | int | float | bool):
                key = str(key)
        else:
            created = parse_time(call.get("createdAt"))
            if created is None:
                key = None
            else:
                key = local_day(created) if self.by == "day" else local_hour(created)
                if self._first is None or created < self._first:
                    self._first = created
                if self._last is None or created > self._last:
                    self._last = created
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = GroupStats()
        group.add(duration, outbound_ended, answered)
        self.total.add(duration, outbound_ended, answered)

    def feed(self, calls: Iterable[Mapping[str, Any]]) -> CallStats:
        for call in calls:
            self.add(call)
        return self

    # ------------------------------------------------------------ the result

    def time_range(self, now: datetime | None = None) -> tuple[datetime, datetime] | None:
        """[start, end] of the buckets to list: --since (or the oldest call) to --until
        (exclusive; or now). None when there is nothing to list."""
        start = parse_time(self.since) or self._first
        until = parse_time(self.until)
        end = until - timedelta(microseconds=1) if until else (now or datetime.now(UTC))
        if self._last is not None and until is None:
            end = max(end, self._last)
        if start is None or end < start:
            return None
        return start, end

    def bucket_keys(self, now: datetime | None = None) -> list[str]:
        """Every day or hour of the range, oldest first (empty past MAX_FILLED_BUCKETS)."""
        span = self.time_range(now)
        if span is None:
            return []
        start, end = span
        keys: list[str] = []
        if self.by == "day":
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

    def ordered_keys(self, now: datetime | None = None) -> list[Any]:
        if self.by in TIME_GROUPINGS:
            keys = {k for k in self.groups if k is not None}
            keys.update(self.bucket_keys(now))
            ordered: list[Any] = sorted(keys, key=_time_sort_key)
            if None in self.groups:
                ordered.append(None)
            return ordered
        return sorted(self.groups, key=lambda k: (-self.groups[k].count, str(k)))

    def report(
        self,
        *,
        names: Mapping[Any, str] | None = None,
        filters: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """The `--json` document: the issue's shape plus answered/ended_outbound and more."""
        total = self.total.count
        groups = []
        for key in self.ordered_keys(now):
            group = self.groups.get(key) or GroupStats()
            entry: dict[str, Any] = {"key": key}
            if names is not None:
                entry["name"] = names.get(key)
            entry["count"] = group.count
            entry["share"] = _ratio(group.count, total) or 0.0
            entry.update(group.summary())
            groups.append(entry)
        overall = self.total.summary()
        local = (now or datetime.now(UTC)).astimezone()
        return {
            "total": total,
            "since": self.since,
            "until": self.until,
            "by": self.by,
            "groups": groups,
            "answer_rate": overall["answer_rate"],
            "answered": overall["answered"],
            "ended_outbound": overall["ended_outbound"],
            "talk_minutes": overall["talk_minutes"],
            "median_duration_s": overall["median_duration_s"],
            "p90_duration_s": overall["p90_duration_s"],
            "timezone": local.tzname() or local.strftime("%z"),
            "filters": {k: v for k, v in (filters or {}).items() if k not in ("since", "until")},
        }


def _time_sort_key(key: str) -> datetime | date:
    return date.fromisoformat(key) if len(key) == 10 else datetime.fromisoformat(key)
