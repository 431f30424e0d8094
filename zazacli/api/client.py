"""The ZazaVoice /v1 endpoints, and every assumption about their wire format.

Objects are kept as the dicts the server sent (a tolerant reader: unknown fields
survive into `--json`); this module only knows which paths, parameters and
fields exist. Where the contract says [assumed], the assumption is named here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from zazacli.api.http import HttpClient
from zazacli.api.paging import (
    MAX_PAGE_SIZE,
    MAX_PAGES_PER_SCAN,
    PAGE_PARAM,
    SIZE_PARAM,
    Pager,
    as_id,
)
from zazacli.errors import ApiError, OutcomeUnknownError

if TYPE_CHECKING:
    from zazacli.api.listing import CallFilter, CallScan

# The list assumptions ([assumed] page, sort and filter names) live in paging.py and
# listing.py, with the checks that catch a server that differs. The call checks load only
# when calls are listed: `agents list` never pays for them.


class ZazaApi:
    """Endpoint methods over one HttpClient. Never prints."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http
        self._page_cap: int | None = None  # the server's page-size cap, once a page told it
        self.max_pages = MAX_PAGES_PER_SCAN  # of any one list (--max-pages)
        self._said: set[str] = set()

    @property
    def base_url(self) -> str:
        return self.http.base_url

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------ lists

    def iter_items(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        limit: int | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, fetched page by page as the caller consumes them.

        Memory stays at one page, plus the ids seen (`paging.SeenIds`: a bit per integer id).
        Paging is checked (see `paging.Pager`): a page that repeats or does not advance, or
        more pages than the first announced or than `max_pages`, raises ScanError; it never
        loops.
        """
        if limit is not None and limit <= 0:
            return
        pager = Pager(
            lambda query: self.http.get_json(path, query),
            params or {},
            size=min(page_size, limit) if limit else page_size,
            what=f"GET /{path.strip('/')}",
            cap=self._page_cap,
            notice=self._debug,
            debug=self._debug,
            max_pages=self.max_pages,
        )
        yielded = 0
        for _page, fresh in pager.pages():
            for item in fresh:
                yield item
                yielded += 1
                if limit is not None and yielded >= limit:
                    return

    def _notice(self, message: str) -> None:
        # Once per process: a reconciliation polls the same scan again every second.
        if message not in self._said:
            self._said.add(message)
            self.http._notice(message)

    def _debug(self, message: str) -> None:
        self.http._log(message)

    def _learn_cap(self, cap: int) -> None:
        self._page_cap = cap

    def _one(self, path: str, ident: int | None = None) -> dict[str, Any]:
        """The object at `path`; with `ident`, checked to be that one: an object with
        another id is refused, never shown as the one asked for (one without an id is the
        path's: nothing to check it against)."""
        data = self.http.get_json(path)
        if not isinstance(data, dict):
            raise ApiError(f"expected an object from GET {path}, got {type(data).__name__}")
        got = data.get("id")
        if ident is not None and got is not None and as_id(got) != ident:
            raise ApiError(
                f"GET {path} answered with id {str(got)[:40]}, not {ident}: not shown as the "
                "one asked for",
                hint="the server answered another object; `zaza doctor` checks what it does",
            )
        return data

    def is_sandbox(self) -> bool:
        """Whether the API is zaza's own sandbox on this machine (one small request when
        nothing has been asked yet)."""
        if self.http.is_sandbox is None:
            self.http.get_json("agents", params={"page": 0, "size": 1})
        return bool(self.http.is_sandbox)

    # ------------------------------------------------------------ agents

    def list_agents(self) -> list[dict[str, Any]]:
        return list(self.iter_items("agents"))

    def get_agent(self, agent_id: int) -> dict[str, Any]:
        return self._one(f"agents/{agent_id}", agent_id)

    # ------------------------------------------------------------ campaigns

    def list_campaigns(self) -> list[dict[str, Any]]:
        return list(self.iter_items("campaigns"))

    def get_campaign(self, campaign_id: int) -> dict[str, Any]:
        return self._one(f"campaigns/{campaign_id}", campaign_id)

    # ------------------------------------------------------------ calls

    def iter_calls(
        self, filters: CallFilter | None = None, **options: Any
    ) -> Iterator[dict[str, Any]]:
        """Call history matching `filters`, newest first, checked: `scan_calls` as an
        iterator (the options are its own). A filter with several values of a kind
        (`--status failed,no_answer`) is one scan per value, merged: each request is one the
        API filters whole, so no page is read only to be dropped."""
        from zazacli.api import listing

        parts = (filters or listing.CallFilter()).split()
        if len(parts) == 1:
            return iter(self.scan_calls(parts[0], **options))
        scans = [self.scan_calls(part, **options) for part in parts]
        return listing.merge_scans(
            scans, limit=options.get("limit"), ordered=options.get("ordered", True)
        )

    def scan_calls(
        self,
        filters: CallFilter | None = None,
        *,
        limit: int | None = None,
        page_size: int = MAX_PAGE_SIZE,
        deadline: float | None = None,
        ordered: bool = True,
        trust_dates: bool = True,
    ) -> CallScan:
        """Call history matching `filters`, newest first, checked (see listing.CallScan);
        a reader may ask it afterwards what it saw (`missing`: calls announced but never
        listed).

        `page_size` is what is asked for per request (`calls tail` asks for small pages
        when it expects to stop early); `deadline` is a time.monotonic() value past which
        the scan raises ScanDeadlineError; `ordered=False` is for readers that aggregate
        and take the calls in any order the server gives; `trust_dates=False` keeps calls
        whose createdAt names no zone."""
        from zazacli.api import listing

        return listing.CallScan(
            lambda query: self.http.get_json("calls", query),
            filters,
            limit=limit,
            page_size=page_size,
            deadline=deadline,
            ordered=ordered,
            trust_dates=trust_dates,
            cap=self._page_cap,
            notice=self._notice,
            debug=self._debug,
            on_cap=self._learn_cap,
            max_pages=self.max_pages,
        )

    def count_calls(self, filters: CallFilter | None = None) -> int | None:
        """How many calls the server says match: `totalElements` of a one-item page
        [assumed Spring page]; None when the server's list shape does not say. Not checked
        (a server that ignores a filter counts too many): for progress bars only."""
        from zazacli.api.listing import CallFilter

        total = 0
        for part in (filters or CallFilter()).split():
            data = self.http.get_json("calls", {**part.query(), PAGE_PARAM: 0, SIZE_PARAM: 1})
            count = data.get("totalElements") if isinstance(data, dict) else None
            if not isinstance(count, int) or isinstance(count, bool):
                return None
            total += count
        return total

    def get_call(self, call_id: int) -> dict[str, Any]:
        return self._one(f"calls/{call_id}", call_id)

    def dispatch_call(
        self,
        *,
        from_number: str,
        to_number: str,
        agent_id: int,
        variables: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        retry_rate_limited: bool = True,
    ) -> dict[str, Any]:
        """POST /calls/outbound, never retried once it may have been sent.

        Raises OutcomeUnknownError when the request went out but no usable answer
        came back: none at all, or a 2xx without a readable body or a call `id` [the
        docs show the Call; assumed to carry its id]. The caller reconciles (see
        `dispatching.reconcile`). `retry_rate_limited=False` raises a 429 at once
        (RateLimitedError) for callers that pace themselves.
        """
        body: dict[str, Any] = {
            "fromNumber": from_number,
            "toNumber": to_number,
            "agentId": agent_id,
        }
        if variables:
            body["variables"] = dict(variables)
        # Harmless today; the API plans to honour it.
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = self.http.request(
            "POST",
            "calls/outbound",
            json_body=body,
            headers=headers,
            retry=False,
            retry_rate_limited=retry_rate_limited,
        )
        status = response.status_code
        try:
            data = self.http.decode(response)
        except ApiError:
            data = None
        if not isinstance(data, dict):
            raise OutcomeUnknownError(f"the API answered HTTP {status} without a readable Call")
        if call_id(data) is None:
            raise OutcomeUnknownError(f"the API answered HTTP {status} without a call id")
        return data

    def server_now(self) -> float:
        """Epoch seconds on the API's clock, from its Date headers; a cheap GET first when
        no answer has told it yet (the local clock when the server sends no Date)."""
        if not self.http.server_clock.known:
            self.http.get_json("calls", {PAGE_PARAM: 0, SIZE_PARAM: 1})
        return self.http.server_clock.now()


def _as_id(value: Any) -> int | None:
    """An id sent as a number or a numeric string (a tolerant reader); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def call_id(call: Mapping[str, Any]) -> int | None:
    """A Call's usable `id`, or None."""
    return _as_id(call.get("id"))
