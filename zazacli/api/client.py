"""The ZazaVoice /v1 endpoints, and every assumption about their wire format.

Objects are kept as the dicts the server sent (a tolerant reader: unknown fields
survive into `--json`); this module only knows which paths, parameters and
fields exist. Where the contract says [assumed], the assumption is named here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from zazacli.api.http import HttpClient
from zazacli.api.values import CALL_STATUSES, DIRECTIONS, TERMINAL_STATUSES
from zazacli.errors import ApiError

# [assumed] Spring-style page parameters; the server may honour a smaller size.
PAGE_PARAM = "page"
SIZE_PARAM = "size"
CURSOR_PARAM = "cursor"  # [assumed] for a {data, nextCursor} list
MAX_PAGE_SIZE = 100

__all__ = ["CALL_STATUSES", "DIRECTIONS", "TERMINAL_STATUSES", "ZazaApi", "parse_page"]


# [assumed] query names of the documented call filters.
CALL_FILTERS = {
    "direction": "direction",
    "status": "status",
    "agent_id": "agentId",
    "since": "startDate",
    "until": "endDate",
}


def parse_page(data: Any, requested_page: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(items, params for the next page or {}) from any list shape the API may send.

    Accepts a bare array (one page, no more), a Spring page, or {data, nextCursor}.
    """
    if isinstance(data, list):
        return data, {}
    if not isinstance(data, dict):
        raise ApiError(f"expected a list or a page from the API, got {type(data).__name__}")
    if "content" in data:
        items = data["content"]
        if not isinstance(items, list):
            raise ApiError("the API sent a page whose 'content' is not a list")
        last = data.get("last")
        number = data.get("number")
        current = number if isinstance(number, int) else requested_page
        if last is None:
            total_pages = data.get("totalPages")
            last = current + 1 >= total_pages if isinstance(total_pages, int) else not items
        # An empty page that claims more would loop forever: stop instead.
        if last or not items:
            return items, {}
        return items, {PAGE_PARAM: current + 1}
    if "data" in data:
        items = data["data"]
        if not isinstance(items, list):
            raise ApiError("the API sent a list whose 'data' is not a list")
        cursor = data.get("nextCursor")
        return items, ({CURSOR_PARAM: cursor} if cursor and items else {})
    raise ApiError("the API sent an object where a list was expected (no 'content' or 'data')")


class ZazaApi:
    """Endpoint methods over one HttpClient. Never prints."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

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

        Memory stays at one page. The next page is asked for from what the server
        said (its `number`/`last`/cursor), never from what we requested.
        """
        if limit is not None and limit <= 0:
            return
        size = min(page_size, limit) if limit else page_size
        query: dict[str, Any] = {**(params or {}), PAGE_PARAM: 0, SIZE_PARAM: size}
        yielded = 0
        while True:
            data = self.http.get_json(path, query)
            items, next_params = parse_page(data, query.get(PAGE_PARAM, 0))
            for item in items:
                yield item
                yielded += 1
                if limit is not None and yielded >= limit:
                    return
            if not next_params:
                return
            if CURSOR_PARAM in next_params:
                query.pop(PAGE_PARAM, None)
            query.update(next_params)

    def _one(self, path: str) -> dict[str, Any]:
        data = self.http.get_json(path)
        if not isinstance(data, dict):
            raise ApiError(f"expected an object from GET {path}, got {type(data).__name__}")
        return data

    # ------------------------------------------------------------ agents

    def list_agents(self) -> list[dict[str, Any]]:
        return list(self.iter_items("agents"))

    def get_agent(self, agent_id: int) -> dict[str, Any]:
        return self._one(f"agents/{agent_id}")

    # ------------------------------------------------------------ campaigns

    def list_campaigns(self) -> list[dict[str, Any]]:
        return list(self.iter_items("campaigns"))

    def get_campaign(self, campaign_id: int) -> dict[str, Any]:
        return self._one(f"campaigns/{campaign_id}")

    # ------------------------------------------------------------ calls

    def iter_calls(
        self,
        *,
        direction: str | None = None,
        status: str | None = None,
        agent_id: int | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Call history, newest first. `since`/`until` are ISO-8601 instants.

        `page_size` is what is asked for per request (`calls tail` asks for small pages
        when it expects to stop early)."""
        values = {
            "direction": direction,
            "status": status,
            "agent_id": agent_id,
            "since": since,
            "until": until,
        }
        params = {CALL_FILTERS[k]: v for k, v in values.items() if v is not None}
        return self.iter_items("calls", params, limit=limit, page_size=page_size)

    def count_calls(self, **filters: Any) -> int | None:
        """How many calls match `iter_calls`' filters: `totalElements` of a one-item page
        [assumed Spring page]; None when the server's list shape does not say."""
        params = {CALL_FILTERS[k]: v for k, v in filters.items() if v is not None}
        data = self.http.get_json("calls", {**params, PAGE_PARAM: 0, SIZE_PARAM: 1})
        total = data.get("totalElements") if isinstance(data, dict) else None
        return total if isinstance(total, int) and not isinstance(total, bool) else None

    def get_call(self, call_id: int) -> dict[str, Any]:
        return self._one(f"calls/{call_id}")

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

        Raises OutcomeUnknownError when the request went out but no answer came;
        the caller reconciles with `find_dispatched_call`. `retry_rate_limited=False`
        raises a 429 at once (RateLimitedError) for callers that pace themselves.
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
        data = self.http.decode(response)
        if not isinstance(data, dict):
            raise ApiError("the API accepted the call but sent no call object back")
        return data

    def find_dispatched_call(
        self,
        *,
        from_number: str,
        to_number: str,
        agent_id: int,
        since: str,
        max_scan: int = 500,
    ) -> dict[str, Any] | None:
        """The newest OUTBOUND call matching a dispatch, created at or after `since`.

        The API cannot filter by number, so pages are scanned client-side.
        """
        key = (to_number, from_number, agent_id)
        found = self.find_dispatched_calls([key], since=since, max_scan=max_scan)
        return found.get(key)

    def find_dispatched_calls(
        self,
        keys: Iterable[tuple[str, str, int]],
        *,
        since: str,
        until: str | None = None,
        max_scan: int | None = None,
    ) -> dict[tuple[str, str, int], dict[str, Any]]:
        """For each (toNumber, fromNumber, agentId), the newest OUTBOUND call created in
        [since, until), in one scan of the history; keys without a call are left out.

        The scan stops early once every key is found (the list is newest first).
        """
        wanted = set(keys)
        found: dict[tuple[str, str, int], dict[str, Any]] = {}
        if not wanted:
            return found
        calls = self.iter_calls(direction="OUTBOUND", since=since, until=until, limit=max_scan)
        for call in calls:
            key = (call.get("toNumber"), call.get("fromNumber"), _as_id(call.get("agentId")))
            if key in wanted and key not in found:
                found[key] = call
                if len(found) == len(wanted):
                    break
        return found


def _as_id(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
