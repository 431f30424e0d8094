"""Reading the API's paged lists, and `GET /calls` checked against what was asked.

Much of the list contract is [assumed] (page shape, sort order, filter names), and a
Spring server silently ignores parameters it does not know. So nothing a list answers
is trusted: pages must advance and never repeat, the order asked for is checked, and
every filter sent is applied again to each item received. What cannot be corrected
raises ScanError rather than print a wrong answer. Nothing here prints: notes go
through the callbacks the caller passes (the HttpClient's notice and debug log).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC
from typing import Any, NamedTuple

from zazacli.api.paging import (
    MAX_PAGE_SIZE,
    Get,
    Note,
    Page,
    Pager,
    SeenIds,
    as_id,
    ignore_note,
)
from zazacli.errors import ApiError, ScanError
from zazacli.times import aware_time, parse_time

# [assumed] query names of the documented call filters.
CALL_FILTERS = {
    "direction": "direction",
    "status": "status",
    "agent_id": "agentId",
    "since": "startDate",
    "until": "endDate",
}
# [assumed] Spring's sort parameter. Asked for explicitly, and checked: a server that
# ignores it is caught by the order check, whatever it does.
SORT_PARAM = "sort"
SORT_NEWEST = "createdAt,desc"
SORT_OLDEST = "createdAt,asc"

# Items a first page needs to show which way the list is sorted (asked even for --limit 1).
ORDER_SAMPLE = 10
# ------------------------------------------------------------------ times


def created_key(value: Any) -> str | None:
    """A `createdAt` as a string that sorts in time order, or None when unreadable.

    The API's usual form (`2026-11-01T09:00:00Z`) is compared as it comes (the per-item
    check stays cheap); anything else is parsed and written in the same UTC form, with
    microseconds appended only when there are some (a shorter prefix sorts first).
    """
    if (
        type(value) is str
        and len(value) == 20
        and value[19] == "Z"
        and value[10] == "T"
        and value[4] == "-"
        and value[13] == ":"
    ):
        return value[:19]
    parsed = parse_time(value)
    if parsed is None:
        return None
    utc = parsed.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{utc.microsecond:06d}" if utc.microsecond else text


def aware_created_key(value: Any) -> str | None:
    """created_key of a stamp that names its zone (`Z` or an offset); None for epoch numbers
    and zone-less local times, which a scan with `trust_dates=False` never filters out."""
    if type(value) is str and len(value) == 20 and value[19] == "Z":
        return created_key(value)
    return created_key(value) if aware_time(value) is not None else None


# ------------------------------------------------------------------ the call filter


class CallFilter(NamedTuple):
    """What `GET /calls` is asked to filter by; the same filter is applied to each item.

    `directions`, `statuses` and `agent_ids` each mean "any of" (empty: any). The API
    filters by one value of each ([assumed] names, see CALL_FILTERS): a filter with several
    is `split()` into one per combination, each asked of the API, and their calls merged
    (`merge_scans`). `since` is inclusive, `until` exclusive (ISO-8601 instants). Statuses
    are sent as given (the API writes them in UPPER_SNAKE_CASE) and compared in any case.
    """

    directions: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    agent_ids: tuple[int, ...] = ()
    since: str | None = None
    until: str | None = None

    def query(self) -> dict[str, str]:
        """The wire parameters: each filter with exactly one value (one with several is
        not sent, and checked on each call instead)."""
        values = {
            "direction": _one(self.directions),
            "status": _one(self.statuses),
            "agent_id": _one(self.agent_ids),
            "since": self.since,
            "until": self.until,
        }
        return {CALL_FILTERS[k]: str(v) for k, v in values.items() if v is not None}

    def split(self) -> list[CallFilter]:
        """One filter per combination of values, each the API can apply whole."""
        return [
            self._replace(directions=d, statuses=s, agent_ids=a)
            for d in _each(self.directions)
            for s in _each(self.statuses)
            for a in _each(self.agent_ids)
        ]

    def report(self) -> dict[str, Any]:
        """The filters as reports print them (`calls stats --json`): direction, status and
        agent_id, each null when not set, the value when one, a list when several."""

        def shown(values: tuple[Any, ...]) -> Any:
            return None if not values else values[0] if len(values) == 1 else list(values)

        return {
            "direction": shown(self.directions),
            "status": shown(self.statuses),
            "agent_id": shown(self.agent_ids),
            "since": self.since,
            "until": self.until,
        }

    def described(self) -> dict[str, str]:
        """The filters set, as a person reads them (`status=FAILED,NO_ANSWER`)."""
        values = {
            "direction": self.directions,
            "status": self.statuses,
            "agent": self.agent_ids,
            "since": (self.since,) if self.since else (),
            "until": (self.until,) if self.until else (),
        }
        return {k: ",".join(map(str, v)) for k, v in values.items() if v}

    @property
    def dated(self) -> bool:
        return self.since is not None or self.until is not None

    def __bool__(self) -> bool:
        return bool(self.directions or self.statuses or self.agent_ids or self.dated)

    def mismatch(self, call: Mapping[str, Any]) -> str | None:
        """The first filter `call` fails (`direction`, `status`, `agent_id`, `since`,
        `until`, or `createdAt` when a date filter is set and its time cannot be read);
        None when it matches."""
        key = created_key(call.get("createdAt")) if self.dated else None
        return _Checker(self).check(call, key)


def _one(values: tuple[Any, ...]) -> Any:
    return values[0] if len(values) == 1 else None


def _each(values: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    return [(value,) for value in values] or [()]


class _Checker:
    """A CallFilter compiled once for a scan: the per-item check does no parsing."""

    __slots__ = ("direction", "status", "agent_id", "since", "until", "dated", "empty", "lenient")

    def __init__(self, filters: CallFilter, lenient: bool = False) -> None:
        self.lenient = lenient
        self.direction = frozenset(d.upper() for d in filters.directions) or None
        self.status = frozenset(s.upper() for s in filters.statuses) or None
        self.agent_id = frozenset(filters.agent_ids) or None
        self.since = created_key(filters.since) if filters.since is not None else None
        self.until = created_key(filters.until) if filters.until is not None else None
        if (filters.since is not None and self.since is None) or (
            filters.until is not None and self.until is None
        ):
            raise ValueError("CallFilter since/until must be ISO-8601 instants")
        self.dated = self.since is not None or self.until is not None
        self.empty = not filters

    def check(self, call: Mapping[str, Any], key: str | None) -> str | None:
        if self.direction is not None and (
            str(call.get("direction") or "").upper() not in self.direction
        ):
            return "direction"
        if self.status is not None and str(call.get("status") or "").upper() not in self.status:
            return "status"
        if self.agent_id is not None and as_id(call.get("agentId")) not in self.agent_id:
            return "agent_id"
        if self.dated:
            if key is None:
                return None if self.lenient else "createdAt"
            if self.since is not None and key < self.since:
                return "since"
            if self.until is not None and key >= self.until:
                return "until"
        return None


# ------------------------------------------------------------------ pages


# ------------------------------------------------------------------ the checked call scan


class CallScan:
    """`GET /calls`, newest first, each item checked against the filters and the order.

    Iterating yields the matching calls. The server is asked for newest first; a server
    that answers oldest first is read from its last page backwards when its pages say how
    many there are, else (with a limit) read whole keeping only the newest `limit`, else
    ScanError. `ordered=False` (readers that aggregate) takes any order the server gives.
    """

    def __init__(
        self,
        get: Get,
        filters: CallFilter | None = None,
        *,
        limit: int | None = None,
        page_size: int = MAX_PAGE_SIZE,
        deadline: float | None = None,
        ordered: bool = True,
        trust_dates: bool = True,
        cap: int | None = None,
        notice: Note = ignore_note,
        debug: Note = ignore_note,
        on_cap: Callable[[int], None] | None = None,
        max_pages: int | None = None,
    ) -> None:
        self.filters = filters or CallFilter()
        # trust_dates=False (finding a dispatched call, counting calls for a cap): a call
        # whose createdAt names no zone, or is a number, is kept, never judged by its time.
        self._check = _Checker(self.filters, lenient=not trust_dates)
        self._key = created_key if trust_dates else aware_created_key
        self.limit = limit
        self.ordered = ordered
        self._notice = notice
        self._debug = debug
        size = min(page_size, max(limit, ORDER_SAMPLE)) if limit else page_size
        params = {**self.filters.query(), SORT_PARAM: SORT_NEWEST}
        self.pager = Pager(
            get,
            params,
            size=max(1, size),
            what="GET /calls",
            deadline=deadline,
            cap=cap,
            notice=notice,
            debug=debug,
            on_cap=on_cap,
            max_pages=max_pages,
        )
        self.dropped: Counter[str] = Counter()
        self.expect = "desc"  # the order being checked
        self.order_known = False  # seen to hold (a strict step the right way, none wrong)
        self._order_broken = False
        self._prev_key: str | None = None
        self._prev_call: Mapping[str, Any] | None = None
        self._need_key = ordered or self._check.dated
        self._wanted = limit  # matches still to hand over (None: no limit)
        self._pending: ApiError | ScanError | None = None  # raised once the batch before it is out

    def __iter__(self) -> Iterator[dict[str, Any]]:
        # Pages are checked whole and handed over as lists (never more than the limit in
        # all), so an item passes through one generator, not one per layer: a 100,000-call
        # list is bound by its pages, not by the hand-over.
        if self.limit is not None and self.limit <= 0:
            return
        try:
            for batch in self._batches():
                yield from batch
                if self._pending is not None:
                    raise self._pending
        finally:
            self._report()

    # ------------------------------------------------------------ strategies

    def _batches(self) -> Iterator[list[dict[str, Any]]]:
        pages = self.pager.pages()
        first = next(pages, None)
        if first is None:
            return
        page, fresh = first
        order = first_order(fresh)
        if order == "asc":
            self.expect = "asc"
            if not self.ordered:
                yield from self._forward([first], pages)
            elif (
                page.kind == "spring" and page.total_pages is not None and page.number in (0, None)
            ):
                self._debug("the server lists calls oldest first: reading its pages from the last")
                yield from self._backward(page, fresh)
            elif self.limit is not None:
                self._debug(
                    f"the server lists calls oldest first without a page count: reading the "
                    f"whole list, keeping the newest {self.limit}"
                )
                newest: deque[dict[str, Any]] = deque(maxlen=self.limit)
                self._wanted = None  # read it whole: the limit applies once reversed
                for batch in self._forward([first], pages):
                    newest.extend(batch)
                if self._pending is not None:
                    raise self._pending  # nothing is shown of a list that broke
                yield list(reversed(newest))
            else:
                raise ScanError(
                    "the server lists calls oldest first and its pages do not say how many "
                    "there are, so zaza cannot list the newest first",
                    hint="use --limit N (zaza reads the whole list and keeps the newest N), "
                    "or narrow it with --since/--until",
                )
            return
        yield from self._forward([first], pages)

    def _forward(
        self,
        head: list[tuple[Page, list[dict[str, Any]]]],
        pages: Iterator[tuple[Page, list[dict[str, Any]]]],
    ) -> Iterator[list[dict[str, Any]]]:
        for source in (head, pages):
            for _page, fresh in source:
                batch, stopped = self._emit(fresh)
                yield batch
                if stopped:
                    return

    def _backward(
        self, first: Page, first_fresh: list[dict[str, Any]]
    ) -> Iterator[list[dict[str, Any]]]:
        """Oldest-first pages, read from the last to the first, each reversed: newest first.
        The pages past the last one the first page announced are read first, until an
        empty one: calls listed since (or late, shifting the pages) are the newest, and a
        list read from its announced end would leave them out without a sign."""
        self.expect = "desc"
        self.order_known = False
        total = first.total_pages or 0
        grown = self._grown(total) if total else []
        for number in [*range(total + len(grown) - 1, total - 1, -1), *range(total - 1, -1, -1)]:
            if number >= total:
                fresh = grown[number - total]
            elif number == 0:
                fresh = first_fresh
            else:
                fresh = self.pager.fresh(self.pager.fetch(number), f"page {number}")
            fresh.reverse()
            batch, stopped = self._emit(fresh)
            yield batch
            if stopped:
                return
        self.pager.finished = True  # read to the end: what never came can be counted

    def _grown(self, total: int) -> list[list[dict[str, Any]]]:
        """The fresh items of the pages from `total` on, until an empty one (past the end
        it announced, a page's `last` says nothing: it is the items that count)."""
        grown = []
        number = total
        while (page := self.pager.fetch(number)).items:
            grown.append(self.pager.fresh(page, f"page {number}"))
            number += 1
        if grown:
            self._debug(
                f"the list grew while it was read: {sum(map(len, grown))} calls past the "
                f"{total} pages its first page announced"
            )
        return grown

    # ------------------------------------------------------------ one page's items

    def _emit(self, items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
        """The items that match, checking the order, and whether the list is done: the
        limit is reached, or the rest cannot match (a date bound passed in a known order).
        An item out of order ends the batch there; the error follows it (`_pending`), so
        what came before it is handed over first, as it would be one by one."""
        check = self._check
        need_key = self._need_key
        wanted = self._wanted
        matches: list[dict[str, Any]] = []
        keep = matches.append
        for call in items:
            if wanted is not None and len(matches) >= wanted:
                break
            if type(call) is not dict:
                self._pending = ApiError(
                    f"GET /calls sent a {type(call).__name__} where a call was expected"
                )
                break
            key = self._key(call.get("createdAt")) if need_key else None
            if key is not None:
                prev = self._prev_key
                if prev is not None and key != prev:
                    if (key > prev) == (self.expect == "desc"):
                        try:
                            self._out_of_order(call)
                        except ScanError as exc:
                            self._pending = exc
                            break
                    elif not self._order_broken:
                        self.order_known = True
                self._prev_key = key
                self._prev_call = call
            reason = None if check.empty else check.check(call, key)
            if reason is None:
                keep(call)
            elif self._dropped(call, reason):
                return self._took(matches), True
        return self._took(matches), self._pending is not None or self._wanted == 0

    def _took(self, matches: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self._wanted is not None:
            self._wanted -= len(matches)
        return matches

    def _dropped(self, call: Mapping[str, Any], reason: str) -> bool:
        """Count a call the filters leave out; True when no later call can match."""
        self.dropped[reason] += 1
        if reason == "createdAt" and self.dropped[reason] == 1:
            self._notice(
                f"call {call.get('id')} has no readable createdAt, so --since/--until "
                "cannot be checked on it: such calls are left out"
            )
        return self.order_known and (
            (reason == "since" and self.expect == "desc")
            or (reason == "until" and self.expect == "asc")
        )

    def _out_of_order(self, call: Mapping[str, Any]) -> None:
        prev = self._prev_call or {}
        wanted = "newest first" if self.expect == "desc" else "oldest first"
        if not self.ordered:
            self._order_broken = True
            self.order_known = False
            return
        raise ScanError(
            f"GET /calls is not {wanted}: call {call.get('id')} (created "
            f"{call.get('createdAt')}) came after call {prev.get('id')} (created "
            f"{prev.get('createdAt')})",
            hint="zaza stopped rather than show calls in a wrong order; "
            "`zaza doctor` shows what the server does",
        )

    @property
    def missing(self) -> int:
        """Calls the first page announced that the list, read to its end, never showed."""
        return self.pager.missing

    def _report(self) -> None:
        """A notice when calls the server announced were never listed; one debug line per
        scan: the filters the server did not apply."""
        if self.missing:
            pager = self.pager
            total = pager.first.total_elements if pager.first is not None else None
            self._notice(
                f"GET /calls announced {total} calls but listed {pager.fresh_count} different "
                f"ones: {self.missing} never came (an id sent twice, with other content, hides "
                "the call it displaced; or calls were removed while listing)"
            )
        if not self.dropped:
            return
        parts = []
        dates = self.dropped["since"] + self.dropped["until"]
        if dates:
            names = "/".join(
                CALL_FILTERS[k] for k in ("since", "until") if getattr(self.filters, k) is not None
            )
            parts.append(f"{names} ({_calls(dates)} outside the range dropped)")
        for name in ("direction", "status", "agent_id"):
            if self.dropped[name]:
                parts.append(f"{CALL_FILTERS[name]} ({_calls(self.dropped[name])} dropped)")
        if parts:
            self._debug(f"the server ignored {', '.join(parts)}; checked client-side")
        if self.dropped["createdAt"]:
            self._debug(
                f"{_calls(self.dropped['createdAt'])} without a readable createdAt left out"
            )


def merge_scans(
    scans: list[CallScan], *, limit: int | None = None, ordered: bool = True
) -> Iterator[dict[str, Any]]:
    """The calls of several scans (one per value of a filter that takes several), each call
    once (a call that changed status between two requests shows up in both): merged newest
    first when the scans are ordered, else one after the other."""
    import heapq
    from itertools import chain, islice

    merged: Iterator[dict[str, Any]]
    if ordered:
        merged = heapq.merge(*scans, key=_merge_key, reverse=True)
    else:
        merged = chain.from_iterable(scans)
    seen = SeenIds()
    unique = (call for call in merged if (ident := _id(call)) is None or seen.add(ident))
    return islice(unique, limit) if limit is not None else unique


def _merge_key(call: Mapping[str, Any]) -> tuple[str, int]:
    """Newest first; calls created in the same instant, the higher id first (as the
    API's counter-style ids were given)."""
    ident = call.get("id")
    return created_key(call.get("createdAt")) or "", ident if type(ident) is int else -1


def _id(call: Mapping[str, Any]) -> Any:
    ident = call.get("id")
    return ident if isinstance(ident, int | str) and not isinstance(ident, bool) else None


def _calls(count: int) -> str:
    return f"{count} call{'s' if count != 1 else ''}"


def first_order(items: list[dict[str, Any]]) -> str | None:
    """ "desc" or "asc" by the first two different createdAt in a page; None if it cannot tell."""
    prev: str | None = None
    for item in items:
        key = created_key(item.get("createdAt"))
        if key is None:
            continue
        if prev is not None and key != prev:
            return "asc" if key > prev else "desc"
        prev = key
    return None
