"""`calls stats --local`: the figures of `calls stats`, counted by SQLite over the archive.

Two queries over the narrow `calls_stats` index, in one read snapshot: one adds up each
group's counters (calls, talk seconds, answered, ended outbound, billed minutes by
direction, calls not priced), the other gives each group's durations above zero, from
which the median and p90 are read by rank. The report is then built by the same
`build_report` as the API path's, from columns read by the same `calls.stats.field_*`
functions, with the same rules (billed minutes as `billed_minutes`): on the same calls,
the same numbers (tests/archive/test_archive_local.py compares them).

Days and hours: the queries group by UTC quarter-hour (every time zone's offset is a whole
number of quarter-hours), each mapped to its local day or hour by the very functions the
API path uses, so a DST change or a +05:30 zone splits the buckets as it does there.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from zazacli.api.listing import created_key
from zazacli.archive.schema import QUARTER
from zazacli.archive.store import filter_sql
from zazacli.archive.tokens import restored
from zazacli.calls.stats import (
    LIST_RATES,
    TIME_GROUPINGS,
    Figures,
    Rates,
    build_report,
    interpolate,
    local_day,
    local_hour,
)

if TYPE_CHECKING:
    from zazacli.api.listing import CallFilter
    from zazacli.archive.store import Archive

# The column (or UTC quarter-hour of creation) each grouping is counted by.
BUCKETS = {
    "status": "status",
    "disposition": "disposition",
    "failure": "failure_reason",
    "agent": "agent_id",
    "campaign": "campaign_id",
    "direction": "direction",
    "day": QUARTER,
}
BUCKETS["hour"] = BUCKETS["day"]
# calls.stats.billed_minutes in SQL (SQLite has no ceil() in every build): a duration >= 0
# rounded up to the whole minute.
_MINUTES = (
    "CAST(duration_seconds / 60.0 AS INTEGER)"
    " + (duration_seconds / 60.0 > CAST(duration_seconds / 60.0 AS INTEGER))"
)
_PRICED = "duration_seconds >= 0 AND direction IN ('OUTBOUND', 'INBOUND')"
_COUNTERS = f"""
    SELECT {{bucket}} AS bucket, count(*),
        total(CASE WHEN duration_seconds > 0 THEN duration_seconds END),
        count(CASE WHEN direction = 'OUTBOUND' AND ended AND status = 'COMPLETED' THEN 1 END),
        count(CASE WHEN direction = 'OUTBOUND' AND ended THEN 1 END),
        total(CASE WHEN duration_seconds >= 0 AND direction = 'OUTBOUND' THEN {_MINUTES} END),
        total(CASE WHEN duration_seconds >= 0 AND direction = 'INBOUND' THEN {_MINUTES} END),
        count(CASE WHEN {_PRICED} THEN NULL ELSE 1 END)
    FROM calls WHERE 1{{where}}
    GROUP BY bucket
"""
# The durations above zero of each group: a histogram for the few groups of a column; for
# quarter-hours, where nearly every duration is one of its kind, the durations as they are
# (grouping them would only cost a sort).
_HISTOGRAM = """
    SELECT {bucket} AS bucket, duration_seconds, count(*)
    FROM calls WHERE duration_seconds > 0{where}
    GROUP BY bucket, duration_seconds
"""
_DURATIONS = """
    SELECT {bucket}, duration_seconds, 1 FROM calls WHERE duration_seconds > 0{where}
"""


class _Tally:
    """One group's figures while they are read: counters, and {duration: calls}."""

    __slots__ = ("counters", "durations")

    def __init__(self) -> None:
        # calls, talk seconds, answered, ended outbound, minutes out, minutes in, unpriced
        self.counters: tuple[Any, ...] = (0, 0, 0, 0, 0, 0, 0)
        self.durations: dict[float, int] = {}

    def add(self, counters: tuple[Any, ...]) -> None:
        self.counters = tuple(a + b for a, b in zip(self.counters, counters, strict=True))

    def figures(self) -> Figures:
        ordered = sorted(self.durations)
        ends = []  # ends[i]: how many durations are <= ordered[i]
        seen = 0
        for seconds in ordered:
            seen += self.durations[seconds]
            ends.append(seen)

        def at(rank: int) -> float:
            return float(ordered[bisect.bisect_right(ends, rank)])

        calls, talk, answered, ended, out, into, unpriced = self.counters
        return Figures(
            calls=calls,
            median=interpolate(seen, 0.5, at),
            p90=interpolate(seen, 0.9, at),
            talk_seconds=talk,
            answered=answered,
            ended_outbound=ended,
            outbound_minutes=int(out),
            inbound_minutes=int(into),
            unpriced=unpriced,
        )


def archive_stats(
    store: Archive,
    by: str,
    filters: CallFilter,
    *,
    rates: Rates = LIST_RATES,
    names: Mapping[Any, str] | None = None,
    source: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    include_deleted: bool = False,
    stuck_before: datetime | None = None,
) -> dict[str, Any]:
    """The report `CallStats(...).report()` gives for the same calls (those the API no
    longer lists only with `include_deleted`); with `stuck_before`, the calls that were not
    over at their last sync and were created before then are counted as `stuck`."""
    where, params = _where(filters, include_deleted)
    bucket = BUCKETS[by]
    durations = _DURATIONS if by in TIME_GROUPINGS else _HISTOGRAM
    tallies: dict[Any, _Tally] = {}
    total = _Tally()
    with store.snapshot() as conn:
        counted = conn.execute(_COUNTERS.format(bucket=bucket, where=where), params).fetchall()
        groups, span = _groups(by, [row[0] for row in counted])
        for row in counted:
            tally = tallies.get(groups[row[0]])
            if tally is None:
                tally = tallies[groups[row[0]]] = _Tally()
            tally.add(row[1:])
            total.add(row[1:])
        # Each bucket's durations go straight into its group's: no per-bucket copies.
        held = {key: tallies[group].durations for key, group in groups.items()}
        every = total.durations
        for key, seconds, calls in conn.execute(
            durations.format(bucket=bucket, where=where), params
        ):
            into = held[key]
            into[seconds] = into.get(seconds, 0) + calls
            every[seconds] = every.get(seconds, 0) + calls
        stuck = _stuck(conn, stuck_before, where, params) if stuck_before else None
    return build_report(
        by,
        {key: tally.figures() for key, tally in tallies.items()},
        total.figures(),
        span=span,
        since=filters.since,
        until=filters.until,
        names=names,
        filters=filters.report(),
        rates=rates,
        source=source,
        now=now,
        stuck=stuck,
    )


def _stuck(conn: Any, before: datetime, where: str, params: list[Any]) -> int:
    """calls.stats.is_stuck in SQL: not over (`ended`, call_is_over at the last sync) and
    created before `before`; a call without a readable creation time is not counted."""
    key = created_key(before.astimezone(UTC).isoformat())
    query = f"SELECT count(*) FROM calls WHERE NOT ended AND created_at < ?{where}"
    return int(conn.execute(query, [key, *params]).fetchone()[0])


def _where(filters: CallFilter, include_deleted: bool) -> tuple[str, list[Any]]:
    """The filters' conditions, and for --since/--until the same range in quarter-hours:
    that one the index (in quarter-hour order) can seek to."""
    where, params = filter_sql(filters, include_deleted=include_deleted)
    for bound, operator in ((filters.since, ">="), (filters.until, "<=")):
        key = created_key(bound) if bound is not None else None
        if key is not None:
            where += f" AND {QUARTER} {operator} ?"
            params.append(f"{key[:14]}{int(key[14:16]) // 15}")
    return where, params


def _groups(
    by: str, buckets: list[Any]
) -> tuple[dict[Any, Any], tuple[datetime | None, datetime | None]]:
    """{bucket: group key}, and for days and hours the first and last quarter-hour seen
    (in the same buckets as the first and last call). A column's value is its own key; a
    UTC quarter-hour goes to its local day or hour."""
    if by not in TIME_GROUPINGS:
        return {key: restored(key) for key in buckets}, (None, None)
    local = local_day if by == "day" else local_hour
    groups: dict[Any, Any] = {}
    starts = []
    for quarter in buckets:
        start = _quarter_start(quarter)
        groups[quarter] = None if start is None else local(start)
        if start is not None:
            starts.append(start)
    return groups, (min(starts), max(starts)) if starts else (None, None)


def _quarter_start(quarter: str | None) -> datetime | None:
    """`2026-11-26T14:2` (the third quarter of 14:00 UTC) as 14:30 UTC; None when the
    call's time could not be read."""
    if quarter is None:
        return None
    try:
        hour = datetime.fromisoformat(quarter[:13]).replace(tzinfo=UTC)
        return hour + timedelta(minutes=15 * int(quarter[14:]))
    except ValueError:
        return None
