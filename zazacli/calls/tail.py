"""Following call history as it changes, for `zaza calls tail` (no printing, no Typer).

The API has no event stream to read from (webhooks need a public URL), so this polls
`GET /calls` newest first and turns what changed between two polls into events: a call
not seen before, or a call already shown whose status moved. Memory stays bounded: only
calls created in the last `track_window` seconds (by the server's clock) are remembered,
and those are the only ones a poll ever looks at.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from zazacli.api.listing import CallFilter
from zazacli.api.values import call_is_over
from zazacli.errors import ApiError, NetworkError, RateLimitedError
from zazacli.times import parse_time

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi

DEFAULT_INTERVAL = 5.0
MAX_INTERVAL = 300.0
TRACK_WINDOW = 15 * 60.0  # seconds: state changes are followed this long after a call starts
MAX_SCAN = 1000  # calls looked at per poll, at most
PRESTART_EXTRA = 20  # calls remembered (not shown) at start beyond the backlog, see _first_poll
MAX_FAILURES = 10  # polls in a row that may fail (network, 5xx) before giving up
RELAX_AFTER = 10  # good polls at a raised interval before halving it again
SMALL_PAGE = 20  # page size when a poll expects to stop at the first page


class TailEvent(NamedTuple):
    """("new", call, None) or ("changed", call, previous_status)."""

    kind: str
    call: dict[str, Any]
    previous_status: str | None = None


@dataclass
class TailStats:
    polls: int = 0
    new: int = 0
    changed: int = 0
    rate_limited: int = 0
    failures: int = 0


@dataclass
class _Seen:
    status: Any
    created: float | None
    shown: bool
    first_seen: float
    over: bool = False  # api.values.call_is_over when last seen


@dataclass
class _Scan:
    """What one poll read, before it is applied (a poll that fails changes nothing)."""

    items: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False  # stopped before the end of the list


def created_at(call: dict[str, Any]) -> float | None:
    """`createdAt` as epoch seconds, or None when absent or unreadable."""
    parsed = parse_time(call.get("createdAt"))
    return None if parsed is None else parsed.timestamp()


def _key(call: dict[str, Any]) -> int | str | None:
    value = call.get("id")
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    return value


class CallFollower:
    """Yields TailEvents as polls of `GET /calls` find them.

    `status` is a server-side filter: a call shows up once it has that status, so with a
    status filter a poll reads the whole tracked window (an older call may newly match);
    without one, a poll stops at the first call it already knows once every call still in
    progress has been looked at again.
    """

    def __init__(
        self,
        api: ZazaApi,
        *,
        filters: CallFilter | None = None,
        backlog: int = 10,
        interval: float = DEFAULT_INTERVAL,
        track_window: float = TRACK_WINDOW,
        max_scan: int = MAX_SCAN,
        max_interval: float = MAX_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self.api = api
        # Sent, and checked on every call received (listing.CallScan); `since` is where
        # the backlog starts.
        filters = filters or CallFilter()
        self.filters = filters._replace(since=None, until=None)
        self.since = filters.since
        self.backlog = max(0, backlog)
        self.base_interval = interval
        self.interval = interval
        self.max_interval = max(interval, max_interval)
        self.track_window = track_window
        self.max_scan = max_scan
        self.stats = TailStats()
        self._sleep = sleep
        self._clock = clock
        self._notice = notice or (lambda message: None)
        self._seen: dict[int | str, _Seen] = {}
        self._newest: float | None = None  # newest createdAt seen (server clock)
        self._prestart_floor: float | None = None
        self._good_polls = 0
        self._failures_in_a_row = 0
        self._stop_early = not self.filters.statuses

    # ------------------------------------------------------------ the loop

    def events(self, *, duration: float | None = None) -> Iterator[TailEvent]:
        """The backlog first (oldest first), then events as they happen, until `duration`
        seconds have passed (forever when None). The first poll's errors are raised: a bad
        key or URL should stop the command at once, not be retried for minutes."""
        deadline = None if duration is None else self._clock() + duration
        yield from self._first_poll()
        while True:
            if deadline is not None:
                left = deadline - self._clock()
                if left <= self.interval:
                    if left > 0:
                        self._sleep(left)
                    return
            self._sleep(self.interval)
            yield from self._poll_safely()

    def _first_poll(self) -> list[TailEvent]:
        """Show the newest `backlog` calls (or every call since `since`), and remember the
        rest of the current window silently, so that they never show up as new."""
        if self.since is not None:
            dated = self.filters._replace(since=self.since)
            scan = _Scan(list(self.api.iter_calls(dated, limit=self.max_scan)))
            scan.truncated = len(scan.items) >= self.max_scan
            self._prestart_floor = created_at({"createdAt": self.since})
            shown = len(scan.items)
        else:
            scan = self._scan(first=True)
            shown = self.backlog
        self.stats.polls += 1
        if scan.truncated and scan.items:
            # The history goes on beyond what was read: anything older is from before start.
            self._prestart_floor = created_at(scan.items[-1])
        now = self._clock()
        events: list[TailEvent] = []
        for index, call in enumerate(scan.items):
            key = _key(call)
            if key is None or key in self._seen:
                continue
            created = created_at(call)
            self._note_newest(created)
            self._seen[key] = _Seen(
                call.get("status"), created, index < shown, now, call_is_over(call)
            )
            if index < shown:
                events.append(TailEvent("new", call))
        events.reverse()
        self.stats.new += len(events)
        return events

    def _poll_safely(self) -> list[TailEvent]:
        try:
            scan = self._scan(first=False)
        except RateLimitedError as error:
            self.stats.rate_limited += 1
            self._good_polls = 0
            wait = max(self.interval * 2, error.retry_after or 0.0)
            self.interval = min(wait, self.max_interval)
            self._notice(
                f"rate limited (HTTP 429) after retries; polling every {_seconds(self.interval)} "
                "from now on"
            )
            return []
        except (NetworkError, ApiError) as error:
            # 400/422 (BadRequestError) means our request is wrong: retrying will not help.
            status = getattr(error, "status", None)
            if isinstance(error, ApiError) and status is not None and status < 500:
                raise
            self.stats.failures += 1
            self._failures_in_a_row += 1
            if self._failures_in_a_row >= MAX_FAILURES:
                raise
            self._notice(f"{error.message}; trying again in {_seconds(self.interval)}")
            return []
        self._failures_in_a_row = 0
        self.stats.polls += 1
        self._relax()
        return self._apply(scan)

    def _relax(self) -> None:
        if self.interval <= self.base_interval:
            return
        self._good_polls += 1
        if self._good_polls >= RELAX_AFTER:
            self._good_polls = 0
            self.interval = max(self.base_interval, self.interval / 2)
            self._notice(f"polling every {_seconds(self.interval)} again")

    # ------------------------------------------------------------ one poll

    def _scan(self, *, first: bool) -> _Scan:
        """Read the list newest first, only as far as this poll needs to (read-only)."""
        floor = None if self._newest is None else self._newest - self.track_window
        pending = {key for key, seen in self._seen.items() if seen.shown and not seen.over}
        if first:
            # Without a status filter, older calls never come back as new ones: remembering
            # a few beyond the backlog is enough. With one, remember the whole window.
            enough = self.backlog + PRESTART_EXTRA if self._stop_early else self.max_scan
            size = min(self.max_scan, max(SMALL_PAGE, self.backlog + PRESTART_EXTRA))
        else:
            enough = self.max_scan
            size = SMALL_PAGE if self._stop_early and not pending else 100
        scan = _Scan(truncated=True)
        reached_known = False
        for call in self.api.iter_calls(self.filters, limit=self.max_scan, page_size=size):
            created = created_at(call)
            if first and floor is None and created is not None:
                floor = created - self.track_window  # one window back from the newest call
            old = created is not None and floor is not None and created < floor
            if old and not (first and len(scan.items) < self.backlog):
                return scan
            scan.items.append(call)
            if len(scan.items) >= enough:
                return scan
            key = _key(call)
            if first or key is None:
                continue
            pending.discard(key)
            reached_known = reached_known or key in self._seen
            if self._stop_early and reached_known and not pending:
                return scan
        scan.truncated = len(scan.items) >= self.max_scan
        return scan

    def _apply(self, scan: _Scan) -> list[TailEvent]:
        now = self._clock()
        events: list[TailEvent] = []
        for call in scan.items:
            key = _key(call)
            if key is None:
                continue
            created = created_at(call)
            seen = self._seen.get(key)
            status = call.get("status")
            if seen is None:
                if (
                    self._prestart_floor is not None
                    and created is not None
                    and created < self._prestart_floor
                ):
                    continue
                self._seen[key] = _Seen(status, created, True, now, call_is_over(call))
                self._note_newest(created)
                events.append(TailEvent("new", call))
                self.stats.new += 1
            else:
                seen.over = call_is_over(call)
                if status != seen.status:
                    if seen.shown:
                        events.append(TailEvent("changed", call, _text(seen.status)))
                        self.stats.changed += 1
                    seen.status = status
        self._forget_old(now)
        events.reverse()  # the list is newest first; events read oldest first
        return events

    def _note_newest(self, created: float | None) -> None:
        if created is not None and (self._newest is None or created > self._newest):
            self._newest = created

    def _forget_old(self, now: float) -> None:
        """Drop calls no poll will read again: created before the window (server clock),
        or, without a readable createdAt, first seen more than a window ago; and never more
        than a few scans' worth."""
        floor = None if self._newest is None else self._newest - self.track_window
        stale = [
            key
            for key, seen in self._seen.items()
            if (seen.created is not None and floor is not None and seen.created < floor)
            or (seen.created is None and now - seen.first_seen > self.track_window)
        ]
        for key in stale:
            del self._seen[key]
        excess = len(self._seen) - 4 * self.max_scan
        for key in list(self._seen)[: max(0, excess)]:
            del self._seen[key]


def _text(status: Any) -> str | None:
    return None if status is None else str(status)


def _seconds(value: float) -> str:
    if value >= 60 and value % 60 == 0:
        return f"{int(value // 60)}m"
    return f"{value:g}s"
