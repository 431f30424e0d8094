"""Where `zaza ui` reads calls: the API (live, polled as `calls tail` polls) or the archive
(`--local`, offline). No Textual here: both are plain iterators and lookups, read a page at
a time as the list scrolls, so a 100,000-call archive is never loaded whole."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from zazacli.errors import ZazaError

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi
    from zazacli.api.listing import CallFilter
    from zazacli.archive.store import Archive
    from zazacli.calls.stats import Rates
    from zazacli.calls.tail import CallFollower

PAGE = 100  # calls read at a time, as the list scrolls


class CallPages:
    """A filtered list, newest first, read on demand: `more()` gives the next page (an empty
    list at the end)."""

    def __init__(self, calls: Iterator[dict[str, Any]]) -> None:
        self._calls = calls
        self.done = False

    def more(self, count: int = PAGE) -> list[dict[str, Any]]:
        page = list(itertools.islice(self._calls, count))
        if len(page) < count:
            self.done = True
        return page


class CallSource:
    """What every screen asks of the data: pages of calls, one call with its transcript,
    an agent's name. `live` sources can also be followed for new calls and changes."""

    live = False
    label = ""

    def pages(self, filters: CallFilter) -> CallPages:
        raise NotImplementedError

    def call(self, call_id: int) -> dict[str, Any]:
        raise NotImplementedError

    def agent_name(self, agent_id: Any) -> str | None:
        raise NotImplementedError

    def stats(self, filters: CallFilter, by: str, rates: Rates) -> dict[str, Any]:
        """The report `zaza calls stats` prints for these calls (its own code)."""
        raise NotImplementedError

    def follower(
        self,
        filters: CallFilter,
        interval: float,
        *,
        sleep: Callable[[float], None],
        notice: Callable[[str], None],
    ) -> CallFollower | None:
        return None

    def close(self) -> None:
        pass


class ApiSource(CallSource):
    """The API: `GET /calls` read as the list scrolls (checked by listing.CallScan), a call
    from `GET /calls/{id}`, agents named from `GET /agents` once."""

    live = True

    def __init__(self, api: ZazaApi, *, label: str = "") -> None:
        self.api = api
        self.label = label or api.base_url
        self._agents: dict[Any, str] | None = None

    def pages(self, filters: CallFilter) -> CallPages:
        return CallPages(self.api.iter_calls(filters, page_size=PAGE))

    def call(self, call_id: int) -> dict[str, Any]:
        return self.api.get_call(call_id)

    def agent_name(self, agent_id: Any) -> str | None:
        if self._agents is None:
            try:
                agents = self.api.list_agents()
            except ZazaError:  # the call is what was asked for: its agent stays a number
                agents = []
            self._agents = {a.get("id"): str(a.get("name")) for a in agents if a.get("name")}
        return self._agents.get(agent_id)

    def stats(self, filters: CallFilter, by: str, rates: Rates) -> dict[str, Any]:
        from zazacli.calls.stats import api_stats

        return api_stats(self.api, by, filters, rates)

    def follower(
        self,
        filters: CallFilter,
        interval: float,
        *,
        sleep: Callable[[float], None],
        notice: Callable[[str], None],
    ) -> CallFollower | None:
        """New calls and status changes, as `calls tail` finds them (its backoff on 429
        included); None when the filter ends in the past, where nothing new can match."""
        from zazacli.calls.tail import CallFollower

        if filters.until is not None:
            return None
        return CallFollower(
            self.api, filters=filters, backlog=0, interval=interval, sleep=sleep, notice=notice
        )


class ArchiveSource(CallSource):
    """The archive `zaza calls sync` keeps, read on the thread that opened it (SQLite's
    rule): pages from the created-time index, a call with its stored turns."""

    def __init__(self, store: Archive, *, include_deleted: bool = False) -> None:
        from zazacli.archive.local import archived_names

        self.store = store
        self.label = f"archive {store.path}"
        self.include_deleted = include_deleted
        self._agents = archived_names(store, "agent")

    def pages(self, filters: CallFilter) -> CallPages:
        from zazacli.archive.local import archived_calls

        return CallPages(archived_calls(self.store, filters, None, self.include_deleted))

    def call(self, call_id: int) -> dict[str, Any]:
        from zazacli.archive.local import archived_call

        return archived_call(self.store, call_id)[0]

    def agent_name(self, agent_id: Any) -> str | None:
        return self._agents.get(agent_id) if isinstance(agent_id, int) else None

    def stats(self, filters: CallFilter, by: str, rates: Rates) -> dict[str, Any]:
        """Counted on the screen's worker thread (a quarter of a second at 100,000 calls,
        the app answering meanwhile), through a connection of its own: SQLite's rule."""
        from zazacli.archive.local import local_stats, opened

        with opened(self.store.path) as store:
            return local_stats(store, by, filters, rates, include_deleted=self.include_deleted)
