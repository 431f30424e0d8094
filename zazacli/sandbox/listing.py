"""GET /calls: the query as read, the calls it selects, and the page as answered.

Each list quirk acts at one of the three steps: ignore-dates, ignore-filters, oldest-first,
stuck-page and page-cap when the query is read; list-lag, created-lag and dup-ids when the
calls are selected; bare-array and endless-no-total when the page is written.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import NamedTuple

from zazacli.sandbox.data import CallRecord, CreatedForm, shown_second
from zazacli.sandbox.quirks import Quirks
from zazacli.sandbox.responses import BadRequest

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# Properties GET /calls can be sorted by (Spring: `sort=createdAt,desc`); `id` orders alike.
SORTABLE = ("createdAt", "id")

Params = dict[str, list[str]]


def param(params: Params, name: str) -> str | None:
    values = params.get(name)
    if not values or not values[0].strip():
        return None
    return values[0].strip()


def int_param(params: Params, name: str, default: int, minimum: int) -> int:
    raw = param(params, name)
    if raw is None:
        return default
    try:
        number = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {raw!r}") from None
    if number < minimum:
        raise BadRequest(f"{name} must be >= {minimum}, got {number}")
    return number


def parse_instant(name: str, value: str) -> float:
    """An ISO-8601 instant (`Z` or offset; no offset means UTC) or a plain date, as epoch."""
    text = value.strip()
    for candidate in (text, text.replace(" ", "+")):  # an unescaped '+' arrives as ' '
        try:
            if len(candidate) == 10:
                day = date.fromisoformat(candidate)
                return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
            parsed = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    raise BadRequest(
        f"{name} must be an ISO-8601 date or instant like 2026-11-26T14:03:11Z, got {value!r}"
    )


def sort_ascending(values: list[str] | None) -> bool:
    """Whether Spring-style `sort` params ask for oldest first (the default is newest first).

    `sort=createdAt,desc`, `sort=createdAt,asc`, `sort=createdAt` (ascending, as in Spring),
    `id` alike; the first `sort` param decides. An unknown property is a 400, as Spring's
    PropertyReferenceException would be, so a client can tell the parameter was read.
    """
    ascending: bool | None = None
    for value in values or ():
        tokens = [token.strip() for token in value.split(",") if token.strip()]
        if not tokens:
            continue
        direction = tokens[-1].lower()
        if direction in ("asc", "desc"):
            tokens.pop()
        else:
            direction = "asc"
        for prop in tokens:
            if prop not in SORTABLE:
                raise BadRequest(
                    f"No property '{prop}' found for type 'Call' "
                    f"(sort by {' or '.join(SORTABLE)}, then ',asc' or ',desc')"
                )
        if ascending is None:
            ascending = direction == "asc"
    return bool(ascending)


# --- the query --------------------------------------------------------------------------


@dataclass(frozen=True)
class CallQuery:
    """GET /calls's parameters as the server read them (None: not given, or ignored)."""

    page: int
    size: int
    oldest_first: bool
    direction: str | None = None
    statuses: frozenset[str] | None = None
    agent_id: int | None = None
    start: float | None = None
    end: float | None = None

    @property
    def filtered(self) -> bool:
        return self.direction is not None or self.statuses is not None or self.agent_id is not None

    def matches(self, call: CallRecord, now: float) -> bool:
        if self.direction is not None and call.direction != self.direction:
            return False
        if self.agent_id is not None and call.agent_id != self.agent_id:
            return False
        return self.statuses is None or call.status_at(now) in self.statuses


def parse_query(params: Params, quirks: Quirks, known_statuses: tuple[str, ...]) -> CallQuery:
    """The query, or BadRequest for the first parameter (in the API's order) that is wrong."""
    # A quirk that ignores a parameter does not even read it, as Spring ignores unknown ones.
    page = 0 if quirks.stuck_page else int_param(params, "page", 0, 0)
    size = min(int_param(params, "size", DEFAULT_PAGE_SIZE, 1), quirks.page_cap or MAX_PAGE_SIZE)
    oldest_first = quirks.oldest_first or sort_ascending(params.get("sort"))
    direction, statuses, agent_id = (
        (None, None, None) if quirks.ignore_filters else _filters(params, known_statuses)
    )
    start, end = (None, None) if quirks.ignore_dates else _dates(params)
    return CallQuery(page, size, oldest_first, direction, statuses, agent_id, start, end)


def _filters(
    params: Params, known_statuses: tuple[str, ...]
) -> tuple[str | None, frozenset[str] | None, int | None]:
    """(direction, statuses, agentId)."""
    direction = param(params, "direction")
    if direction is not None and direction not in ("INBOUND", "OUTBOUND"):
        raise BadRequest(f"direction must be INBOUND or OUTBOUND, got {direction!r}")
    statuses: frozenset[str] | None = None
    raw_status = param(params, "status")
    if raw_status is not None:
        statuses = frozenset(s.strip() for s in raw_status.split(",") if s.strip())
        if not statuses or statuses - set(known_statuses):
            raise BadRequest(
                f"status must be one or more of {', '.join(known_statuses)} "
                f"(comma-separated), got {raw_status!r}"
            )
    agent_id: int | None = None
    raw_agent = param(params, "agentId")
    if raw_agent is not None:
        try:
            agent_id = int(raw_agent)
        except ValueError:
            raise BadRequest(f"agentId must be an integer, got {raw_agent!r}") from None
    return direction, statuses, agent_id


def _dates(params: Params) -> tuple[float | None, float | None]:
    """(startDate, endDate) as epoch seconds."""
    raw_start, raw_end = param(params, "startDate"), param(params, "endDate")
    start = parse_instant("startDate", raw_start) if raw_start is not None else None
    end = parse_instant("endDate", raw_end) if raw_end is not None else None
    return start, end


# --- the calls it selects -----------------------------------------------------------------


class Selection(NamedTuple):
    calls: list[CallRecord]  # this page's, in the order listed
    total: int  # every call the query matches, on all pages


def select_calls(
    calls: list[CallRecord], seeded_count: int, query: CallQuery, quirks: Quirks, now: float
) -> Selection:
    """The page's calls out of `calls` (oldest first; dispatched ones after `seeded_count`)."""
    lo, hi = _window(calls, seeded_count, query, quirks, now)
    # dup-ids: a call arrives before each page is read, so each starts one item later.
    skip = query.page * query.size - (query.page if quirks.dup_ids else 0)
    size = query.size
    if query.filtered:
        return _scan(calls, range(lo, hi), skip, query, now)
    if query.oldest_first:
        return Selection(calls[min(hi, lo + skip) : min(hi, lo + skip + size)], hi - lo)
    chosen = calls[max(lo, hi - skip - size) : max(lo, hi - skip)]
    chosen.reverse()
    return Selection(chosen, hi - lo)


def _window(
    calls: list[CallRecord], seeded_count: int, query: CallQuery, quirks: Quirks, now: float
) -> tuple[int, int]:
    """The index range of the calls listed at `now` and within the query's dates."""
    hi = len(calls)  # calls only ever get appended, so this prefix is stable
    if quirks.list_lag and hi > seeded_count:
        # Dispatched calls are the tail of the list; those younger than the lag are hidden.
        hi = bisect_right(calls, now - quirks.list_lag, seeded_count, hi, key=_created_exact)
    lo = 0
    # Filters compare against the createdAt second the client is shown (created-lag moves
    # it); whole seconds never reorder calls, so the list stays sorted by this key too.
    key: Callable[[CallRecord], int] = _created_key
    if quirks.created_lag:
        created_lag = quirks.created_lag

        def key(call: CallRecord) -> int:
            return shown_second(call.created, created_lag)

    if query.start is not None:
        lo = bisect_left(calls, query.start, 0, hi, key=key)
    if query.end is not None:
        hi = max(lo, bisect_left(calls, query.end, lo, hi, key=key))
    return lo, hi


def _scan(
    calls: list[CallRecord], window: range, skip: int, query: CallQuery, now: float
) -> Selection:
    """Filtered: every call in the window is tested, to count them all."""
    total = 0
    chosen = []
    for i in window if query.oldest_first else reversed(window):
        call = calls[i]
        if not query.matches(call, now):
            continue
        if skip <= total < skip + query.size:
            chosen.append(call)
        total += 1
    return Selection(chosen, total)


def _created_key(call: CallRecord) -> int:
    return call.created_s


def _created_exact(call: CallRecord) -> float:
    return call.created


# --- the page ---------------------------------------------------------------------------


def render_page(
    selection: Selection, query: CallQuery, quirks: Quirks, now: float, form: CreatedForm | None
) -> bytes:
    """A Spring page, or what bare-array and endless-no-total answer instead."""
    items = b",".join([call.summary_json(now, form) for call in selection.calls])
    page, size = query.page, query.size
    if quirks.bare_array:
        return b"[%b]" % items
    if quirks.endless_no_total:
        return b'{"content":[%b],"number":%d,"size":%d}' % (items, page, size)
    pages = math.ceil(selection.total / size)
    return (
        b'{"content":[%b],"totalElements":%d,"totalPages":%d,"number":%d,"size":%d,'
        b'"first":%b,"last":%b}'
        % (
            items,
            selection.total,
            pages,
            page,
            size,
            b"true" if page == 0 else b"false",
            b"true" if page >= pages - 1 else b"false",
        )
    )
