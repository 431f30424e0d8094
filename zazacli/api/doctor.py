"""`zaza doctor`: probe the configured API, read-only, against every wire assumption zaza makes.

Each check compares what the server does with what zaza assumed (the **[assumed]** lines of the
API contract) and says what zaza does about a difference. A check is `fatal` when zaza cannot
give right answers against such a server; anything else zaza copes with (client-side filters,
reading pages from the end, the server's clock). Nothing here prints, and nothing is written:
only GETs are sent, a few dozen at most.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from zazacli.api.listing import SORT_NEWEST, SORT_OLDEST, SORT_PARAM, CallFilter
from zazacli.api.paging import PAGE_PARAM, SIZE_PARAM
from zazacli.api.values import TERMINAL_STATUSES, is_known_status
from zazacli.errors import AuthError, NetworkError, NotFoundError, ZazaError
from zazacli.times import parse_time

if TYPE_CHECKING:
    import httpx

    from zazacli.api.client import ZazaApi

OK, DIFFERS, UNKNOWN = "ok", "differs", "unknown"
SAMPLE = 40  # calls read for the filter and order checks: enough variety, one request
SMALL = 5  # page size for the paging check
RATE_HEADER = re.compile(r"^(x-)?rate-?limit|^retry-after$", re.I)


@dataclass
class Check:
    """One assumption: what was seen, and what zaza does about it."""

    name: str
    status: str  # ok | differs | unknown
    detail: str
    action: str = ""
    fatal: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    base_url: str
    checks: list[Check]
    clock_offset: float | None = None
    # Why nothing about the API could be checked: the host cannot be reached (a
    # NetworkError, exit 6) or the key is refused (an AuthError, exit 4). The command
    # ends with it, its exit code and all, rather than blaming the API's shape.
    stopped: ZazaError | None = None

    @property
    def ok(self) -> bool:
        return self.stopped is None and not any(check.fatal for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        stopped = self.stopped
        return {
            "ok": self.ok,
            "baseUrl": self.base_url,
            "clockOffsetSeconds": self.clock_offset,
            "stopped": None
            if stopped is None
            else {"error": stopped.message, "exitCode": stopped.exit_code},
            "checks": [check.as_dict() for check in self.checks],
        }


class _Probe:
    """GETs through the normal client (auth, retries, error map), keeping every response."""

    def __init__(self, api: ZazaApi) -> None:
        self.api = api
        self.rate_headers: dict[str, str] = {}

    def get(self, path: str, **params: Any) -> tuple[Any, httpx.Response]:
        http = self.api.http
        response = http.request("GET", path, params=params, retry=True)
        for name, value in response.headers.items():
            if RATE_HEADER.match(name):
                self.rate_headers.setdefault(name.lower(), value)
        return http.decode(response), response

    def calls(self, page: int, size: int, **params: Any) -> Any:
        """One page of GET /calls, newest first unless `params` asks otherwise."""
        query = {PAGE_PARAM: page, SIZE_PARAM: size, SORT_PARAM: SORT_NEWEST, **params}
        return self.get("calls", **query)[0]


def run_checks(api: ZazaApi, *, on_check: Callable[[Check], None] | None = None) -> Report:
    """Every check, in order; stops early only when the API cannot be read at all."""
    report = Report(api.base_url, [])
    for check in _checks(api, report):
        report.checks.append(check)
        if on_check is not None:
            on_check(check)
    return report


def _checks(api: ZazaApi, report: Report) -> Iterator[Check]:
    yield _base_path(api.base_url)
    probe = _Probe(api)
    try:
        agents, response = probe.get("agents")
    except NetworkError as exc:
        report.stopped = NetworkError(f"the API cannot be reached: {exc.message}", exc.hint)
        yield Check("reachable", DIFFERS, exc.message, exc.hint or "", fatal=True)
        return
    except ZazaError as exc:
        yield from _first_answer_failed(api, report, exc)
        return
    yield _reachable(api.base_url, response)
    yield from _tls(api.base_url)
    yield Check("auth", OK, "the key is accepted (GET /agents answered 200)")
    clock = api.http.server_clock
    report.clock_offset = clock.offset
    yield _clock(clock.offset, clock.uncertainty)
    yield _list_shape("agents", agents, documented="a bare array")
    try:
        campaigns, _ = probe.get("campaigns")
        yield _list_shape("campaigns", campaigns, documented="a bare array or a page")
    except ZazaError as exc:
        yield Check("GET /campaigns", DIFFERS, exc.message, "zaza campaigns fails the same way")
    yield from _calls_checks(probe)
    yield _rate_headers(probe.rate_headers)
    yield Check(
        "POST /calls/outbound",
        UNKNOWN,
        "not tried: doctor only reads",
        "zaza never resends a dispatch: an answer without an id, or none, is looked up in "
        "GET /calls (a new call to the number, whose id was not listed before the attempt)",
    )


def _first_answer_failed(api: ZazaApi, report: Report, exc: ZazaError) -> Iterator[Check]:
    """GET /agents failed with an answer (or, for a missing key, was never sent)."""
    answered = api.http.answers > 0
    if answered:  # the server is there: what failed is what it said
        yield Check("reachable", OK, "the server answers (GET /agents: an error, below)")
        yield from _tls(api.base_url)
    if isinstance(exc, AuthError):
        message = f"the API refused the key: {exc.message}" if answered else exc.message
        report.stopped = AuthError(message, exc.hint)
        yield Check("auth", DIFFERS, exc.message, exc.hint or "", fatal=True)
    elif isinstance(exc, NotFoundError):
        yield Check(
            "base path",
            DIFFERS,
            f"GET /agents: {exc.message}",
            "set the base URL to the API's root, ending in /api/v1",
            fatal=True,
        )
    else:
        yield Check("GET /agents", DIFFERS, exc.message, exc.hint or "", fatal=True)


def _base_path(base_url: str) -> Check:
    """The URL's path, read before any connection: nothing about the server is known yet."""
    parts = urlsplit(base_url)
    scheme = "HTTPS" if parts.scheme == "https" else "plain HTTP, no TLS"
    if parts.path.rstrip("/").endswith("/v1"):
        return Check("base URL", OK, f"{base_url} ends in /v1 ({scheme})")
    return Check(
        "base URL",
        DIFFERS,
        f"{base_url} does not end in /v1 ({scheme})",
        "the public API lives under /api/v1; the dashboard's own routes use another login",
    )


def _tls(base_url: str) -> Iterator[Check]:
    """After an answer over https: the handshake completed, the certificate verified (zaza
    never turns verification off). Over http there is no TLS to vouch for."""
    parts = urlsplit(base_url)
    if parts.scheme == "https":
        yield Check("TLS", OK, f"handshake with {parts.hostname} completed, certificate verified")
    elif _loopback(parts.hostname):
        yield Check("TLS", UNKNOWN, "none: plain HTTP to this machine (a local sandbox?)")
    else:
        yield Check(
            "TLS",
            DIFFERS,
            "none: plain HTTP across the network",
            "the key and every call travel unencrypted: use the https:// base URL",
        )


def _loopback(host: str | None) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _reachable(base_url: str, response: httpx.Response) -> Check:
    elapsed = response.elapsed.total_seconds() * 1000
    status = response.status_code
    return Check("reachable", OK, f"GET /agents answered {status} in {elapsed:.0f} ms")


def _clock(offset: float | None, uncertainty: float | None) -> Check:
    if offset is None:
        return Check(
            "server clock",
            UNKNOWN,
            "no Date header in the answers",
            "a lost dispatch answer is reconciled with this machine's clock and a wider margin",
        )
    plus = f" ± {uncertainty:.1f}s" if uncertainty is not None else ""
    detail = f"the server's clock is {offset:+.1f}s{plus} from this machine's"
    if abs(offset) <= 5:
        return Check("server clock", OK, detail)
    return Check(
        "server clock",
        DIFFERS,
        detail,
        "zaza measures 'created after this dispatch' on the server's clock (from Date headers)",
    )


def _shape_of(data: Any) -> str:
    if isinstance(data, list):
        return "a bare array"
    if isinstance(data, dict) and isinstance(data.get("content"), list):
        return "a Spring page"
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        return "a {data, nextCursor} list"
    return "something else (" + type(data).__name__ + ")"


def _list_shape(noun: str, data: Any, *, documented: str) -> Check:
    shape = _shape_of(data)
    if shape.startswith("something else"):
        return Check(
            f"GET /{noun} shape",
            DIFFERS,
            f"answered {shape}",
            f"zaza {noun} list cannot read it",
            fatal=True,
        )
    status = OK if shape in documented else DIFFERS
    return Check(f"GET /{noun} shape", status, shape, "" if status == OK else "zaza reads it too")


# ---------------------------------------------------------------- GET /calls


def _items(data: Any) -> list[dict[str, Any]]:
    items: Any = data
    if isinstance(data, dict):
        items = data.get("content", data.get("data"))
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _ids(items: list[dict[str, Any]]) -> list[Any]:
    return [item.get("id") for item in items]


def _order(items: list[dict[str, Any]]) -> str | None:
    """'newest first', 'oldest first', or None when the sample cannot tell."""
    times = [parse_time(item.get("createdAt")) for item in items]
    stamps = [t.timestamp() for t in times if t is not None]
    pairs = list(zip(stamps, stamps[1:], strict=False))
    down = sum(1 for a, b in pairs if a > b)
    up = sum(1 for a, b in pairs if a < b)
    if down and not up:
        return "newest first"
    if up and not down:
        return "oldest first"
    return None if not (up or down) else "unordered"


def _calls_checks(probe: _Probe) -> Iterator[Check]:
    try:
        first = probe.calls(0, SAMPLE)
    except ZazaError as exc:
        yield Check("GET /calls", DIFFERS, exc.message, "zaza calls cannot work", fatal=True)
        return
    shape = _shape_of(first)
    paged = shape == "a Spring page"
    yield Check(
        "GET /calls shape",
        OK if paged else DIFFERS,
        shape
        + (
            f", {first.get('totalElements')} calls in {first.get('totalPages')} pages of "
            f"{SAMPLE} (size={SAMPLE} asked)"
            if paged
            else ""
        ),
        "" if paged else "zaza pages on until a short or empty page",
        fatal=shape.startswith("something"),
    )
    if shape.startswith("something"):
        return
    sample = _items(first)
    if not sample:
        yield Check(
            "GET /calls data",
            UNKNOWN,
            "the history is empty",
            "paging, order and filters cannot be checked until there are calls",
        )
        return
    yield from _page_checks(probe, first, paged)
    yield _sort_check(probe, sample, paged)
    yield from _filter_checks(probe, sample)
    yield _status_check(sample)


def _page_checks(probe: _Probe, first: Any, paged: bool) -> Iterator[Check]:
    asked = 100
    data = probe.calls(0, asked)
    got = len(_items(data))
    size = data.get("size") if isinstance(data, dict) else None
    if isinstance(size, int) and size < asked:
        yield Check(
            "page size",
            DIFFERS,
            f"capped at {size} (asked {asked})",
            "zaza pages by what the server says",
        )
    elif isinstance(size, int) or got >= asked:
        yield Check("page size", OK, f"size={asked} honoured")
    else:
        yield Check(
            "page size",
            UNKNOWN,
            f"{got} calls for a page of {asked}: the whole history, or a silent cap",
            "zaza asks for the next page whenever one may follow",
        )
    zero, one = probe.calls(0, SMALL), probe.calls(1, SMALL)
    ids0, ids1 = _ids(_items(zero)), _ids(_items(one))
    number = one.get("number") if isinstance(one, dict) else None
    if len(ids0) < SMALL:
        yield Check("page", UNKNOWN, f"fewer than {SMALL + 1} calls: one page of {SMALL} only")
    elif ids1 and set(ids1) <= set(ids0) or (isinstance(number, int) and number != 1):
        yield Check(
            "page",
            DIFFERS,
            f"asked for page 1 (size={SMALL}), the server answered page 0 again",
            "zaza stops such a scan with an error instead of looping: only one page can be read",
            fatal=True,
        )
    elif not ids1:
        yield Check("page", UNKNOWN, f"page 1 (size {SMALL}) is empty")
    else:
        yield Check("page", OK, f"page 1 follows page 0 with other calls (size={SMALL})")


def _sort_check(probe: _Probe, sample: list[dict[str, Any]], paged: bool) -> Check:
    order = _order(sample)
    if order == "newest first":
        oldest = probe.calls(0, SMALL, **{SORT_PARAM: SORT_OLDEST})
        honoured = _order(_items(oldest)) == "oldest first"
        how = "honoured" if honoured else "newest first whatever is asked"
        return Check("sort", OK, f"{SORT_PARAM}={SORT_NEWEST}: newest first ({SORT_PARAM} {how})")
    if order == "oldest first":
        if paged:
            return Check(
                "sort",
                DIFFERS,
                f"oldest first, even with {SORT_PARAM}={SORT_NEWEST}",
                "zaza reads the last pages first, so the newest still come first",
            )
        return Check(
            "sort",
            DIFFERS,
            f"oldest first, even with {SORT_PARAM}={SORT_NEWEST}, and no page count",
            "--limit N reads the whole history to show the newest; --all cannot list newest "
            "first and stops with an error",
            fatal=True,
        )
    if order == "unordered":
        return Check(
            "sort",
            DIFFERS,
            "calls come in no time order",
            "zaza stops a scan with an error when the order breaks",
            fatal=True,
        )
    return Check("sort", UNKNOWN, "every sampled call has the same createdAt, or none")


def _filter_checks(probe: _Probe, sample: list[dict[str, Any]]) -> Iterator[Check]:
    """For each filter: a value that some sampled calls fail, asked for; do the answers obey?"""
    trials: list[tuple[str, CallFilter]] = []
    directions = {str(c.get("direction") or "").upper() for c in sample} - {""}
    if directions:
        value = "OUTBOUND" if "OUTBOUND" in directions else min(directions)
        trials.append(("direction", CallFilter(directions=(value,))))
    statuses = [str(c.get("status") or "").upper() for c in sample]
    terminal = [s for s in statuses if s in TERMINAL_STATUSES] or [s for s in statuses if s]
    if terminal:
        trials.append(("status", CallFilter(statuses=(min(set(terminal), key=terminal.count),))))
    agents: list[int] = [a for c in sample if isinstance(a := c.get("agentId"), int)]
    if agents:
        trials.append(("agentId", CallFilter(agent_ids=(min(set(agents), key=agents.count),))))
    stamps = sorted({str(c.get("createdAt")) for c in sample if parse_time(c.get("createdAt"))})
    if len(stamps) >= 3:
        middle = stamps[len(stamps) // 2]
        trials.append(("startDate", CallFilter(since=middle)))
        trials.append(("endDate", CallFilter(until=middle)))
    for name, trial in trials:
        wire = trial.query()
        asked = ", ".join(f"{k}={v}" for k, v in wire.items())
        would_fail = sum(1 for call in sample if trial.mismatch(call) is not None)
        answered = _items(probe.calls(0, SAMPLE, **wire))
        wrong = sum(1 for call in answered if trial.mismatch(call) is not None)
        if wrong:
            yield Check(
                f"filter {name}",
                DIFFERS,
                f"ignored: {asked} answered {wrong} of {len(answered)} calls that do not match",
                "zaza checks every call client-side and drops those (reads more pages)",
            )
        elif would_fail:
            yield Check(f"filter {name}", OK, f"honoured ({asked})")
        else:
            yield Check(
                f"filter {name}",
                UNKNOWN,
                f"the sample has no call that {asked} excludes",
                "zaza checks every call client-side anyway",
            )
    names = {"direction", "status", "agentId", "startDate", "endDate"}
    untested = sorted(names - {name for name, _ in trials})
    for name in untested:
        yield Check(
            f"filter {name}",
            UNKNOWN,
            f"no sample value to try {name} with",
            "zaza checks every call client-side anyway",
        )


def _status_check(sample: list[dict[str, Any]]) -> Check:
    seen = sorted({str(c.get("status")) for c in sample if c.get("status")})
    unknown = [s for s in seen if not is_known_status(s)]
    if unknown:
        return Check(
            "statuses",
            DIFFERS,
            f"seen {', '.join(seen)}; not in zaza's list: {', '.join(unknown)}",
            "shown as they come; a call with endedAt counts as over (--wait exits 15)",
        )
    return Check("statuses", OK, f"seen {', '.join(seen)}: all known")


def _rate_headers(headers: dict[str, str]) -> Check:
    if not headers:
        return Check(
            "rate-limit headers",
            UNKNOWN,
            "none seen",
            "zaza backs off on 429, honouring Retry-After when sent",
        )
    shown = ", ".join(f"{name}: {value}" for name, value in sorted(headers.items()))
    return Check("rate-limit headers", OK, shown)
