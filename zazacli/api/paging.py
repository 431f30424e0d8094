"""Reading the API's paged lists so that no scan can loop, stop early or run forever.

Any list endpoint (agents, campaigns, calls) goes through `Pager`: pages must advance
and never repeat, and their number is bounded. Call-specific checks (filters, order) are
in listing.py. Nothing here prints: notes go through the callbacks the caller passes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from zazacli.errors import ApiError, ScanDeadlineError, ScanError

# [assumed] Spring-style page parameters; the server may honour a smaller size.
PAGE_PARAM = "page"
SIZE_PARAM = "size"
CURSOR_PARAM = "cursor"  # [assumed] for a {data, nextCursor} list
MAX_PAGE_SIZE = 100


# A scan may read this many times the pages the first one announced, plus a few, before it is
# taken for a loop: calls created meanwhile shift offset pages, but not by that much.
PAGE_BOUND_FACTOR = 2
PAGE_BOUND_EXTRA = 5
# Whatever the first page announced (or if it announced nothing and `last` never comes):
# no scan reads more pages than this (10 million calls at 100 a page).
MAX_PAGES_PER_SCAN = 100_000


Get = Callable[[Mapping[str, Any]], Any]
Note = Callable[[str], None]


def ignore_note(message: str) -> None:
    pass


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class Page(NamedTuple):
    """One answer of a list endpoint, whatever its shape."""

    items: list[dict[str, Any]]
    kind: str  # "spring" ({content, number, …}), "bare" (a JSON array), "cursor" ({data, …})
    number: int | None = None
    total_pages: int | None = None
    total_elements: int | None = None
    size: int | None = None
    last: bool | None = None
    cursor: Any = None


def read_page(data: Any) -> Page:
    """A Page from any list shape the API may send; anything else is an ApiError."""
    if isinstance(data, list):
        return Page(data, "bare")
    if not isinstance(data, dict):
        raise ApiError(f"expected a list or a page from the API, got {type(data).__name__}")
    if "content" in data:
        items = data["content"]
        if not isinstance(items, list):
            raise ApiError("the API sent a page whose 'content' is not a list")
        last = data.get("last")
        return Page(
            items,
            "spring",
            number=_int(data.get("number")),
            total_pages=_int(data.get("totalPages")),
            total_elements=_int(data.get("totalElements")),
            size=_int(data.get("size")),
            last=last if isinstance(last, bool) else None,
        )
    if "data" in data:
        items = data["data"]
        if not isinstance(items, list):
            raise ApiError("the API sent a list whose 'data' is not a list")
        return Page(items, "cursor", cursor=data.get("nextCursor") or None)
    raise ApiError("the API sent an object where a list was expected (no 'content' or 'data')")


def _id_of(item: Any) -> Any:
    if not isinstance(item, dict):
        return None
    value = item.get("id")
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


class SeenIds:
    """The ids one scan has seen, so that none is listed twice, in memory that does not grow
    with the list: integer ids (the API's count up) are bits over the range they span, one
    bit a call (a million calls: about 128 KiB, where a set of ints takes about 60 MiB);
    anything else (strings, ids far from the others) goes in a plain set."""

    # Bits the ids may span; growing by doubling, the bitmap stays under 2 x this (32 MiB).
    MAX_SPAN = 1 << 27

    __slots__ = ("_base", "_bits", "_other")

    def __init__(self) -> None:
        self._base = 0  # the id of the bitmap's first bit (a multiple of 8)
        self._bits = bytearray()
        self._other: set[Any] = set()

    def add(self, ident: Any) -> bool:
        """Record `ident`; False when it was seen before."""
        if type(ident) is int and ident >= 0 and self._cover(ident):
            offset = ident - self._base
            index, mask = offset >> 3, 1 << (offset & 7)
            if self._bits[index] & mask:
                return False
            self._bits[index] |= mask
            return True
        if ident in self._other:
            return False
        self._other.add(ident)
        return True

    def _cover(self, ident: int) -> bool:
        """Grow the bitmap to take `ident` (doubling, so growing costs O(1) an id), unless
        the range would pass MAX_SPAN."""
        bits = self._bits
        if not bits:
            self._base = ident & ~7
            self._bits = bytearray(8)
            return True
        start, end = self._base, self._base + len(bits) * 8
        if start <= ident < end:
            return True
        low, high = min(start, ident & ~7), max(end, ident + 1)
        if high - low > self.MAX_SPAN:
            return False
        span = len(bits) * 8
        if ident < start:
            low = max(0, min(low, start - span)) & ~7
            self._bits = bytearray((start - low) >> 3) + bits
            self._base = low
        else:
            grow = max(high - end, span)
            self._bits = bits + bytearray((grow + 7) >> 3)
        return True


class Pager:
    """The pages of one list, each only with the items not seen before, in server order.

    It cannot loop: a page number that does not advance, a page made only of items already
    seen, a cursor sent twice, or far more pages than the first page announced raise
    ScanError; `deadline` (time.monotonic) raises ScanDeadlineError. It cannot stop early:
    a bare array as long as a full page is followed by the next one, and a short first
    one too (the server may cap the size below what was asked).
    """

    def __init__(
        self,
        get: Get,
        params: Mapping[str, Any],
        *,
        size: int,
        what: str,
        deadline: float | None = None,
        cap: int | None = None,
        notice: Note = ignore_note,
        debug: Note = ignore_note,
        on_cap: Callable[[int], None] | None = None,
        max_pages: int | None = None,
    ) -> None:
        self._get = get
        self.query: dict[str, Any] = {**params, PAGE_PARAM: 0, SIZE_PARAM: size}
        self.size = size
        self.what = what
        self.deadline = deadline
        self.cap = cap
        self._notice = notice
        self._debug = debug
        self._on_cap = on_cap
        self.seen = SeenIds()
        self.fresh_count = 0  # distinct items listed (and items without an id)
        self.finished = False  # read to the list's end (not stopped by a caller or a limit)
        self.pages_read = 0
        self.max_pages = MAX_PAGES_PER_SCAN if max_pages is None else max_pages
        self.bound: int | None = None
        self.first: Page | None = None

    def fetch(self, number: int) -> Page:
        """Page `number` (Spring or bare paging), checked to be the page asked for."""
        self.query[PAGE_PARAM] = number
        return self._fetch(number)

    def _fetch(self, number: int | None) -> Page:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ScanDeadlineError(
                f"reading {self.what} ran past its time budget after {self.pages_read} pages",
                hint="the server keeps answering more pages; try a narrower --since/--until",
            )
        if self.pages_read >= self.max_pages:
            raise ScanError(
                f"{self.what} went on for {self.pages_read} pages, more than zaza reads in "
                "one scan: stopped rather than read forever",
                hint="narrow the list (--since/--until, filters) or raise --max-pages; if the "
                "server never says `last`, `zaza doctor` shows what it does",
            )
        if self.bound is not None and self.pages_read >= self.bound:
            raise ScanError(
                f"{self.what} went on for {self.pages_read} pages where its first page "
                f"announced {self._announced()}: stopped rather than loop",
                hint="the server's paging is not stable; `zaza doctor` shows what it does",
            )
        page = read_page(self._get(self.query))
        self.pages_read += 1
        if page.kind == "spring" and number is not None and page.number not in (None, number):
            raise ScanError(
                f"the server answered page {page.number} again when asked for page {number} "
                f"of {self.what}: it ignores `{PAGE_PARAM}`, or repeats its last page past the end",
                hint="zaza stopped rather than list the same calls again; "
                "`zaza doctor` shows what the server honours",
            )
        if self.first is None:
            self.first = page
            self._learn(page)
        return page

    def _announced(self) -> str:
        first = self.first
        if first is not None and first.total_pages is not None:
            return f"{first.total_pages} pages"
        if first is not None and first.total_elements is not None:
            return f"{first.total_elements} items"
        return "fewer"

    def _learn(self, page: Page) -> None:
        """The bound on pages and the server's size cap, from the first page's totals."""
        pages = page.total_pages
        if pages is None and page.total_elements is not None and page.items:
            pages = math.ceil(page.total_elements / len(page.items))
        if pages is not None:
            self.bound = PAGE_BOUND_FACTOR * pages + PAGE_BOUND_EXTRA
        if page.kind == "spring" and page.size is not None and 0 < page.size < self.size:
            self.cap = page.size
            if self._on_cap is not None:
                self._on_cap(page.size)

    def fresh(self, page: Page, label: str) -> list[dict[str, Any]]:
        """The page's items not seen before; a page made only of seen items is a loop."""
        add = self.seen.add
        fresh: list[Any] = []
        keep = fresh.append
        repeated = 0
        for item in page.items:  # _id_of, written out: this runs once per item listed
            ident = item.get("id") if type(item) is dict else None
            if ident is None or type(ident) is bool or not isinstance(ident, int | str):
                keep(item)
            elif add(ident):
                keep(item)
            else:
                repeated += 1
        if repeated and not fresh:
            raise ScanError(
                f"{label} of {self.what} held only items already listed: "
                f"the server does not advance `{PAGE_PARAM}`",
                hint="zaza stopped rather than list the same items again; "
                "`zaza doctor` shows what the server honours",
            )
        if repeated:
            self._debug(
                f"{label} of {self.what} repeated {repeated} items of the previous one "
                "(new items shifted the pages); dropped"
            )
        self.fresh_count += len(fresh)
        return fresh

    @property
    def missing(self) -> int:
        """Once read to the end: how many fewer distinct items came than the first page
        announced (an id sent twice with other content hides the item it displaced)."""
        total = self.first.total_elements if self.first is not None else None
        if not self.finished or total is None:
            return 0
        return max(0, total - self.fresh_count)

    def pages(self) -> Iterator[tuple[Page, list[dict[str, Any]]]]:
        """(page, its fresh items) from the first page on, until the list ends."""
        number = 0
        cursors: set[Any] = set()
        previous: int | None = None  # length of the previous bare page
        while True:
            page = self._fetch(number if CURSOR_PARAM not in self.query else None)
            label = f"page {number}"
            if page.kind == "bare" and previous is not None and self._repeats_short(page):
                self.finished = True
                return
            fresh = self.fresh(page, label)
            yield page, fresh
            if not self._has_more(page, number, previous):
                self.finished = True
                return
            if page.kind == "cursor":
                if page.cursor in cursors:
                    raise ScanError(
                        f"the server sent the same next cursor twice for {self.what}",
                        hint="zaza stopped rather than loop",
                    )
                cursors.add(page.cursor)
                self.query.pop(PAGE_PARAM, None)
                self.query[CURSOR_PARAM] = page.cursor
                number += 1
                continue
            previous = len(page.items)
            number += 1
            self.query[PAGE_PARAM] = number

    def _has_more(self, page: Page, number: int, previous: int | None) -> bool:
        if not page.items:
            return False
        if page.kind == "cursor":
            return bool(page.cursor)
        if page.kind == "spring":
            return self._spring_has_more(page, number)
        if page.kind == "bare":
            return self._bare_has_more(len(page.items), previous)
        return True

    def _spring_has_more(self, page: Page, number: int) -> bool:
        if page.last is not None:
            return not page.last
        if page.total_pages is not None:
            return number + 1 < page.total_pages
        return len(page.items) >= (page.size or self.cap or self.size)

    def _bare_has_more(self, length: int, previous: int | None) -> bool:
        full = min(self.size, self.cap) if self.cap else self.size
        if length >= full:
            return True
        if previous is None:
            # Short of what was asked: the end, or a cap the server did not tell. Ask once more.
            return self.cap is None
        return length >= previous  # as long as the pages before it: the server's cap

    def _repeats_short(self, page: Page) -> bool:
        """A bare answer repeating the first, short page: the server ignores `page`, and that
        short first page was most likely the whole list (it cannot be told apart from a
        capped one, so say so)."""
        if self.pages_read != 2 or not page.items:
            return False
        first = self.first.items if self.first is not None else []
        if len(first) >= self.size or [_id_of(i) for i in page.items] != [_id_of(i) for i in first]:
            return False
        self._notice(
            f"the server answered page 1 of {self.what} with page 0 again (it ignores "
            f"`{PAGE_PARAM}`); its first answer held {len(first)} items, fewer than the "
            f"{self.size} asked for, so that is taken as the whole list"
        )
        return True
