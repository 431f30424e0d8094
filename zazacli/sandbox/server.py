"""The sandbox HTTP server: routes, validation, auth, fault knobs, quirks and signed webhooks.

Every [assumed] part of the wire contract that the sandbox plays back lives here or in
`data.py`; the outcome rule and the call timeline are documented in `data.py`, the quirks
(servers that read the contract differently) in `quirks.py`. Webhooks follow the Webhooks
page: `call.started` when an outbound call is queued (an inbound one: when it connects),
then `call.completed` or `call.failed` when it ends.
"""

from __future__ import annotations

import http.client
import json
import math
import random
import re
import socket
import socketserver
import sys
import threading
import time
from bisect import bisect_left, bisect_right
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import Message
from heapq import heappop, heappush
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from zazacli import __version__
from zazacli.api.values import SANDBOX_HEADER
from zazacli.sandbox import DEFAULT_API_KEY, ORG_NUMBERS
from zazacli.sandbox.data import (
    STATUSES,
    UNKNOWN_STATUS,
    CallRecord,
    CreatedForm,
    Outcome,
    dumps,
    generate,
    iso,
    live_timeline,
    outcome_for_number,
    shown_second,
    transcript,
)
from zazacli.sandbox.quirks import Quirks, parse_quirks
from zazacli.webhooks.signing import EVENT_HEADER, SIGNATURE_HEADER, sign

API_PREFIX = "/api/v1"
MAX_BODY = 1024 * 1024
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
RATE_WINDOW = 60.0  # seconds over which `rate_limit` counts requests, as the real API
WEBHOOK_TIMEOUT = 5.0
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# Properties GET /calls can be sorted by (Spring: `sort=createdAt,desc`); `id` orders alike.
SORTABLE = ("createdAt", "id")


@dataclass(frozen=True)
class SandboxConfig:
    """Everything `zaza sandbox` can be told; the defaults are the CLI's defaults."""

    host: str = "127.0.0.1"
    port: int = 8081
    api_key: str = DEFAULT_API_KEY
    seed: int = 42
    calls: int = 300
    speed: float = 1.0
    webhook_url: str | None = None
    webhook_secret: str | None = None
    rate_limit: int | None = None
    # A shorter window lets a test see a 429 end without waiting a minute.
    rate_window: float = RATE_WINDOW
    latency_ms: float = 0
    error_rate: float = 0.0
    slow_dispatch: float = 0.0
    quiet: bool = True
    # False: the newest seeded calls have just ended at start instead of being under way, so
    # two reads of the history agree from the first request (tests need not wait them out).
    live_calls: bool = True
    # Names from quirks.QUIRKS, with `=VALUE` where one is taken: ("list-lag=30", "no-id").
    quirks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.port <= 65535:
            problems.append("port must be 0..65535")
        if not self.api_key:
            problems.append("api_key must not be empty")
        if self.calls < 0:
            problems.append("calls must be >= 0")
        if not self.speed > 0:
            problems.append("speed must be > 0")
        if self.rate_limit is not None and self.rate_limit < 1:
            problems.append("rate_limit must be >= 1")
        if not self.rate_window > 0:
            problems.append("rate_window must be > 0")
        if self.latency_ms < 0 or self.slow_dispatch < 0:
            problems.append("latency_ms and slow_dispatch must be >= 0")
        if not 0.0 <= self.error_rate <= 1.0:
            problems.append("error_rate must be between 0 and 1")
        if self.webhook_url:
            scheme = urlsplit(self.webhook_url).scheme
            if scheme not in ("http", "https") or not urlsplit(self.webhook_url).hostname:
                problems.append("webhook_url must be an http:// or https:// URL")
            if not self.webhook_secret:
                problems.append("webhook_url needs a webhook_secret to sign deliveries")
        try:
            parse_quirks(self.quirks)
        except ValueError as exc:
            problems.append(str(exc))
        if problems:
            raise ValueError("; ".join(problems))


class Response(NamedTuple):
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    close: bool = False


# Not an answer: the connection is closed without a byte written (lost-answer, lose-dispatch).
DROP = Response(0, b"", (), True)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_response(
    status: int,
    message: str,
    path: str,
    headers: tuple[tuple[str, str], ...] = (),
    close: bool = False,
    now: float | None = None,
) -> Response:
    """Spring Boot's default error body (`now`: the server's clock, when it is skewed)."""
    body = dumps(
        {
            "timestamp": iso(time.time() if now is None else now),
            "status": status,
            "error": _reason(status),
            "message": message,
            "path": path,
        }
    )
    return Response(status, body, headers, close)


class BadRequest(Exception):
    """A request the API rejects with 400 (or `status`) and a Spring error body."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def is_e164(value: object) -> bool:
    return isinstance(value, str) and E164.fullmatch(value) is not None


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


def _int_param(params: dict[str, list[str]], name: str, default: int, minimum: int) -> int:
    raw = _param(params, name)
    if raw is None:
        return default
    try:
        number = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {raw!r}") from None
    if number < minimum:
        raise BadRequest(f"{name} must be >= {minimum}, got {number}")
    return number


def _param(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values or not values[0].strip():
        return None
    return values[0].strip()


class _WebhookDispatcher:
    """One thread that posts `call.*` events, signed, when each call reaches them.

    Due times are on the sandbox's clock (`clock`), like the call timestamps they carry.
    """

    def __init__(
        self,
        url: str,
        secret: str,
        log: Any,
        clock: Callable[[], float],
        created_form: Callable[[], CreatedForm | None] = lambda: None,
    ) -> None:
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._url = url
        self._secret = secret
        self._log = log
        self._clock = clock
        self._created_form = created_form
        self._heap: list[tuple[float, int, str, CallRecord]] = []
        self._order = count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def schedule(self, call: CallRecord, now: float) -> None:
        """Queue the events this call has yet to reach (a call created at `now` has all)."""
        events = []
        # The Webhooks page: "an outbound call has been queued at the carrier; an inbound call
        # has connected" -- so it also fires for outbound calls that then fail or ring out.
        started = call.created if call.direction == "OUTBOUND" else call.answer_at
        if started is not None and started >= now:
            events.append((started, "call.started"))
        if call.end_at > now:
            final = "call.completed" if call.outcome.status == "COMPLETED" else "call.failed"
            events.append((call.end_at, final))
        if not events:
            return
        with self._cond:
            for due, event in events:
                heappush(self._heap, (due, next(self._order), event, call))
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify_all()
        self._thread.join(timeout=1.0)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    if self._heap:
                        wait = self._heap[0][0] - self._clock()
                        if wait <= 0:
                            break
                        self._cond.wait(wait)
                    else:
                        self._cond.wait()
                if self._stopped:
                    return
                due, _, event, call = heappop(self._heap)
            try:
                self.deliver(event, call, due)
            except Exception as exc:  # a bad delivery must never stop later ones
                self._log(f"webhook {event} for call {call.id}: unexpected error {exc!r}")

    def deliver(self, event: str, call: CallRecord, at: float) -> None:
        # The data is the call as it was when the event happened, even if delivery lags.
        data = call.to_dict(at, self._created_form())
        body = dumps({"event": event, "data": data, "timestamp": iso(at)})
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"ZazaVoice-Sandbox/{__version__}",
            EVENT_HEADER: event,
            SIGNATURE_HEADER: sign(self._secret, body),
        }
        conn: http.client.HTTPConnection
        if self._https:
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=WEBHOOK_TIMEOUT)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=WEBHOOK_TIMEOUT)
        try:
            conn.request("POST", self._target, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            outcome = f"answered {response.status}"
            if response.status >= 300:
                outcome += " (not delivered)"
        except (OSError, http.client.HTTPException) as exc:
            outcome = f"failed: {exc}"
        finally:
            conn.close()
        self._log(f"webhook {event} for call {call.id} -> {self._url} {outcome}")


class SandboxApp:
    """The API's state and behaviour, independent of HTTP plumbing; thread-safe."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.quirks = parse_quirks(config.quirks)
        self._skew = self.quirks.clock_skew
        self.started_at = self.now()
        seeded = generate(
            config.seed, config.calls, self.started_at, config.speed, live=config.live_calls
        )
        self.agents = {agent["id"]: agent for agent in seeded.agents}
        self.campaigns = {campaign["id"]: campaign for campaign in seeded.campaigns}
        self._agents_json = dumps(seeded.agents)
        self._campaigns_json = dumps(seeded.campaigns)
        self._agent_json = {a["id"]: dumps(a) for a in seeded.agents}
        self._campaign_json = {c["id"]: dumps(c) for c in seeded.campaigns}
        self.calls = seeded.calls  # oldest first, append-only
        # Dispatched calls come after this index (list-lag hides only those).
        self._seeded_count = len(self.calls)
        self.statuses: tuple[str, ...] = STATUSES
        if self.quirks.unknown_status:
            self.statuses = (*STATUSES, UNKNOWN_STATUS)
            for call in self.calls:
                call.outcome = self._final_outcome(call.outcome)
        self.by_id = {call.id: call for call in self.calls}
        self._amended_turns: dict[int, list[dict[str, str]]] = {}
        # "METHOD /template" -> how many requests came in, for tests to count the wire.
        self.requests: Counter[str] = Counter()
        self._requests_lock = threading.Lock()
        self._date_cache: tuple[int, str] = (0, "")
        self._form_cache: tuple[Quirks | None, CreatedForm | None] = (None, None)
        self._next_id = seeded.next_call_id
        self._lock = threading.Lock()
        self._rate_lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        # Faults draw from their own generator, so they never disturb the seeded data.
        self._fault_rng = random.Random(f"faults:{config.seed}")
        self._fault_lock = threading.Lock()
        self.webhooks: _WebhookDispatcher | None = None
        if config.webhook_url and config.webhook_secret:
            self.webhooks = _WebhookDispatcher(
                config.webhook_url, config.webhook_secret, self.log, self.now, self.created_form
            )
            for call in self.calls[-3:]:
                self.webhooks.schedule(call, self.started_at)

    def now(self) -> float:
        """The sandbox's clock: the machine's, shifted by the clock-skew quirk."""
        return time.time() + self._skew

    def http_date(self) -> str:
        """The `Date` header on the sandbox's clock (formatted once a second)."""
        now = int(self.now())
        cached = self._date_cache
        if cached[0] != now:
            cached = (now, time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now)))
            self._date_cache = cached
        return cached[1]

    def created_form(self) -> CreatedForm | None:
        """How createdAt is rendered under the created-* quirks (None: ISO-8601 UTC).

        Rebuilt whenever `self.quirks` is replaced (tests swap it between commands), so one
        object serves every request meanwhile and the list cache can key on it.
        """
        quirks = self.quirks
        cached = self._form_cache
        if cached[0] is quirks:
            return cached[1]
        form: CreatedForm | None = None
        if quirks.created_lag or quirks.created_epoch_ms or quirks.created_local:
            zone = None
            if quirks.created_local:
                from zoneinfo import ZoneInfo

                zone = ZoneInfo(quirks.created_local)
            form = CreatedForm(quirks.created_lag, quirks.created_epoch_ms, zone)
        self._form_cache = (quirks, form)
        return form

    def _final_outcome(self, outcome: Outcome) -> Outcome:
        if self.quirks.unknown_status and outcome.status == "NO_ANSWER":
            return Outcome(UNKNOWN_STATUS)
        return outcome

    def log(self, message: str) -> None:
        if not self.config.quiet:
            try:
                sys.stderr.write(message + "\n")
                sys.stderr.flush()
            except (OSError, ValueError):
                pass

    def close(self) -> None:
        if self.webhooks is not None:
            self.webhooks.close()

    # --- request entry point ------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, headers: Message, body: bytes) -> Response:
        if path != API_PREFIX and not path.startswith(API_PREFIX + "/"):
            self.count(f"{method} {path}")
            return error_response(
                404,
                f"No endpoint {method} {path}; the API lives under {API_PREFIX}",
                path,
                now=self.now(),
            )
        route = self._route(path[len(API_PREFIX) :])
        self.count(f"{method} {route[3] if route else path[len(API_PREFIX) :]}")
        if self.quirks.redirect:
            return Response(307, b"", (("Location", f"https://elsewhere.invalid{path}"),))
        if not self._authorized(headers.get("Authorization")):
            return error_response(
                401,
                "Invalid or missing API key",
                path,
                (("WWW-Authenticate", 'Bearer realm="zazavoice"'),),
                now=self.now(),
            )
        limited = self._rate_limited(path)
        if limited is not None:
            return limited
        if route is None:
            return error_response(404, f"No endpoint {method} {path}", path, now=self.now())
        allowed, action, arg, _ = route
        if method not in allowed:
            return error_response(
                405,
                f"Method {method} is not supported for {path}",
                path,
                (("Allow", ", ".join(allowed)),),
                now=self.now(),
            )
        if method == "GET" and self.config.error_rate > 0:
            fault = self._injected_fault(path)
            if fault is not None:
                return fault
        try:
            if action == "dispatch":
                return self.dispatch(body, headers, path)
            if action == "list_calls":
                return self.list_calls(parse_qs(query, keep_blank_values=True))
            if action == "list_campaigns" and self.quirks.bare_array:
                return self._campaign_page(parse_qs(query, keep_blank_values=True))
            return self._read_one(action, arg, path)
        except BadRequest as exc:
            return error_response(exc.status, exc.message, path, now=self.now())

    def count(self, request: str) -> None:
        with self._requests_lock:
            self.requests[request] += 1

    def _authorized(self, header: str | None) -> bool:
        if not header:
            return False
        # The scheme is case-insensitive (RFC 7235); the key must match exactly.
        scheme, _, key = header.strip().partition(" ")
        return scheme.lower() == "bearer" and key.strip() == self.config.api_key

    def _rate_limited(self, path: str) -> Response | None:
        limit = self.config.rate_limit
        if limit is None:
            return None
        now = time.monotonic()
        with self._rate_lock:
            # One key is valid, but the window is kept per key as the real filter does.
            window = self._windows.setdefault(self.config.api_key, deque())
            span = self.config.rate_window
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) >= limit:
                retry = max(1, math.ceil(window[0] + span - now))
                return error_response(
                    429,
                    f"Rate limit exceeded: {limit} requests per minute per API key",
                    path,
                    (("Retry-After", str(retry)),),
                    now=self.now(),
                )
            window.append(now)
        return None

    def _injected_fault(self, path: str) -> Response | None:
        with self._fault_lock:
            if self._fault_rng.random() >= self.config.error_rate:
                return None
            status = 500 if self._fault_rng.random() < 0.5 else 503
        headers = (("Retry-After", "1"),) if status == 503 else ()
        return error_response(
            status, "Injected fault (sandbox --error-rate)", path, headers, now=self.now()
        )

    @staticmethod
    def _route(rest: str) -> tuple[tuple[str, ...], str, str, str] | None:
        """(allowed methods, action, id, path template) for a path below the API prefix."""
        parts = rest.strip("/").split("/")
        match parts:
            case ["agents"]:
                return ("GET",), "list_agents", "", "/agents"
            case ["agents", ident]:
                return ("GET",), "agent", ident, "/agents/{id}"
            case ["calls"]:
                return ("GET",), "list_calls", "", "/calls"
            case ["calls", "outbound"]:
                return ("POST",), "dispatch", "", "/calls/outbound"
            case ["calls", ident]:
                return ("GET",), "call", ident, "/calls/{id}"
            case ["campaigns"]:
                return ("GET",), "list_campaigns", "", "/campaigns"
            case ["campaigns", ident]:
                return ("GET",), "campaign", ident, "/campaigns/{id}"
        return None

    # --- reads --------------------------------------------------------------------------

    def _read_one(self, action: str, ident: str, path: str) -> Response:
        if action == "list_agents":
            return Response(200, self._agents_json)
        if action == "list_campaigns":
            return Response(200, self._campaigns_json)
        noun = {"agent": "Agent", "call": "Call", "campaign": "Campaign"}[action]
        if not ident.isascii() or not ident.isdigit():
            raise BadRequest(f"{noun} id must be an integer, got {ident!r}")
        key = int(ident)
        if action == "agent" and key in self._agent_json:
            return Response(200, self._agent_json[key])
        if action == "campaign" and key in self._campaign_json:
            return Response(200, self._campaign_json[key])
        if action == "call" and key in self.by_id:
            call = self.by_id[key]
            body = self.call_detail(call)
            self._after_read(call)
            return Response(200, body)
        return error_response(404, f"{noun} {key} not found", path, now=self.now())

    def _campaign_page(self, params: dict[str, list[str]]) -> Response:
        """bare-array: GET /campaigns pages like /calls does, but answers only the items."""
        page = _int_param(params, "page", 0, 0)
        size = min(_int_param(params, "size", DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE)
        campaigns = list(self.campaigns.values())
        return Response(200, dumps(campaigns[page * size : (page + 1) * size]))

    def call_detail(self, call: CallRecord) -> bytes:
        now = self.now()
        detail = call.to_dict(now, self.created_form())
        turns = self._amended_turns.get(call.id)
        if turns is None:
            turns = transcript(call, self.agents.get(call.agent_id), self.config.seed, now)
        detail["turns"] = turns
        return dumps(detail)

    def _after_read(self, call: CallRecord) -> None:
        """changed-after-sync and deleted: the history moves once a call has been read."""
        quirks = self.quirks
        if quirks.deleted and call.id % 10 == 0:
            self.delete_call(call.id)
        elif (
            quirks.changed_after_sync
            and call.id not in self._amended_turns
            and self.now() >= call.end_at
        ):
            turns = json.loads(self.call_detail(call))["turns"]
            note = {"role": "SYSTEM", "text": "transcript re-run after review"}
            self.amend_call(call.id, disposition="AMENDED", turns=[*turns, note])

    # --- what a real API does to its history, on demand (for tests and demos) ---------

    def amend_call(
        self, call_id: int, *, disposition: str, turns: list[dict[str, str]] | None = None
    ) -> None:
        """Change an ended call after the fact, as a real API may (a disposition corrected,
        a transcript re-run): its list item and its detail change."""
        with self._lock:
            call = self.by_id[call_id]
            call.outcome = call.outcome._replace(disposition=disposition)
            call._json = None  # the cached list item is stale
            if turns is not None:
                self._amended_turns[call_id] = turns

    def delete_call(self, call_id: int) -> None:
        """Remove a call from the history, as a real API may (a GDPR erasure)."""
        with self._lock:
            call = self.by_id.pop(call_id)
            index = self.calls.index(call)
            del self.calls[index]
            if index < self._seeded_count:
                self._seeded_count -= 1

    def list_calls(self, params: dict[str, list[str]]) -> Response:
        quirks = self.quirks
        # A quirk that ignores a parameter does not even read it, as Spring ignores unknown ones.
        page = 0 if quirks.stuck_page else _int_param(params, "page", 0, 0)
        cap = quirks.page_cap or MAX_PAGE_SIZE
        size = min(_int_param(params, "size", DEFAULT_PAGE_SIZE, 1), cap)
        oldest_first = quirks.oldest_first or _sort_ascending(params.get("sort"))
        direction: str | None = None
        statuses: frozenset[str] | None = None
        agent_id: int | None = None
        if not quirks.ignore_filters:
            direction = _param(params, "direction")
            if direction is not None and direction not in ("INBOUND", "OUTBOUND"):
                raise BadRequest(f"direction must be INBOUND or OUTBOUND, got {direction!r}")
            raw_status = _param(params, "status")
            if raw_status is not None:
                statuses = frozenset(s.strip() for s in raw_status.split(",") if s.strip())
                unknown = sorted(statuses - set(self.statuses))
                if unknown or not statuses:
                    raise BadRequest(
                        f"status must be one or more of {', '.join(self.statuses)} "
                        f"(comma-separated), got {raw_status!r}"
                    )
            raw_agent = _param(params, "agentId")
            if raw_agent is not None:
                try:
                    agent_id = int(raw_agent)
                except ValueError:
                    raise BadRequest(f"agentId must be an integer, got {raw_agent!r}") from None
        start = end = None
        if not quirks.ignore_dates:
            raw_start, raw_end = _param(params, "startDate"), _param(params, "endDate")
            start = parse_instant("startDate", raw_start) if raw_start is not None else None
            end = parse_instant("endDate", raw_end) if raw_end is not None else None

        now = self.now()
        calls = self.calls
        hi = len(calls)  # calls only ever get appended, so this prefix is stable
        if quirks.list_lag and hi > self._seeded_count:
            # Dispatched calls are the tail of the list; those younger than the lag are hidden.
            seeded = self._seeded_count
            hi = bisect_right(calls, now - quirks.list_lag, seeded, hi, key=_created_exact)
        lo = 0
        # Filters compare against the createdAt second the client is shown (created-lag moves
        # it); whole seconds never reorder calls, so the list stays sorted by this key too.
        key: Callable[[CallRecord], int] = _created_key
        if quirks.created_lag:
            created_lag = quirks.created_lag

            def key(call: CallRecord) -> int:
                return shown_second(call.created, created_lag)

        if start is not None:
            lo = bisect_left(calls, start, 0, hi, key=key)
        if end is not None:
            hi = max(lo, bisect_left(calls, end, lo, hi, key=key))
        # dup-ids: a call arrives before each page is read, so each starts one item later.
        skip = page * size - (page if quirks.dup_ids else 0)
        if direction is None and statuses is None and agent_id is None:
            total = hi - lo
            if oldest_first:
                chosen = calls[min(hi, lo + skip) : min(hi, lo + skip + size)]
            else:
                chosen = calls[max(lo, hi - skip - size) : max(lo, hi - skip)]
                chosen.reverse()
        else:
            total = 0
            chosen = []
            order = range(lo, hi) if oldest_first else range(hi - 1, lo - 1, -1)
            for i in order:
                call = calls[i]
                if direction is not None and call.direction != direction:
                    continue
                if agent_id is not None and call.agent_id != agent_id:
                    continue
                if statuses is not None and call.status_at(now) not in statuses:
                    continue
                if skip <= total < skip + size:
                    chosen.append(call)
                total += 1
        if quirks.endless_no_total and not chosen and page > 0 and total > 0:
            return self.list_calls({**params, "page": [str((total - 1) // size)]})
        form = self.created_form()
        items = b",".join([call.summary_json(now, form) for call in chosen])
        if quirks.bare_array:
            return Response(200, b"[%b]" % items)
        if quirks.endless_no_total:
            return Response(200, b'{"content":[%b],"number":%d,"size":%d}' % (items, page, size))
        pages = math.ceil(total / size)
        body = (
            b'{"content":[%b],"totalElements":%d,"totalPages":%d,"number":%d,"size":%d,'
            b'"first":%b,"last":%b}'
            % (
                items,
                total,
                pages,
                page,
                size,
                b"true" if page == 0 else b"false",
                b"true" if page >= pages - 1 else b"false",
            )
        )
        return Response(200, body)

    # --- dispatch -----------------------------------------------------------------------

    def dispatch(self, body: bytes, headers: Message, path: str) -> Response:
        request = self._dispatch_request(body)
        agent = self.agents.get(request["agentId"])
        if agent is None:
            raise BadRequest(f"Agent {request['agentId']} not found", 422)
        if not agent.get("isActive"):
            raise BadRequest(f"Agent {request['agentId']} is not active", 422)
        if request["fromNumber"] not in ORG_NUMBERS:
            raise BadRequest(
                f"fromNumber {request['fromNumber']} is not one of this "
                f"organization's numbers ({', '.join(ORG_NUMBERS)})",
                422,
            )
        if self.quirks.lose_dispatch:
            self.log(f"lose-dispatch: dropped a dispatch to {request['toNumber']}, queued nothing")
            return DROP
        outcome = self._final_outcome(outcome_for_number(request["toNumber"]))
        with self._lock:
            # Never older than the newest call, so the list stays sorted by creation.
            created = max(self.now(), self.calls[-1].created if self.calls else 0.0)
            ring, answer, end = live_timeline(created, outcome, self.config.speed)
            call = CallRecord(
                id=self._next_id,
                direction="OUTBOUND",
                from_number=request["fromNumber"],
                to_number=request["toNumber"],
                agent_id=agent["id"],
                campaign_id=None,
                created=created,
                ring_at=ring,
                answer_at=answer,
                end_at=end,
                outcome=outcome,
                variables=request["variables"],
            )
            self._next_id += 1
            self.calls.append(call)
            self.by_id[call.id] = call
        if self.webhooks is not None:
            self.webhooks.schedule(call, created)
        self.log(
            f"dispatched call {call.id} to {call.to_number}: will end "
            f"{outcome.status}" + (f" ({outcome.disposition})" if outcome.disposition else "")
        )
        if self.quirks.lost_answer:
            self.log(f"lost-answer: call {call.id} is queued; dropping the answer")
            return DROP
        reply = call.to_dict(created, self.created_form())
        location: tuple[tuple[str, str], ...] = (("Location", f"{API_PREFIX}/calls/{call.id}"),)
        if self.quirks.no_id:
            del reply["id"]
            location = ()
        if self.config.slow_dispatch:
            # The call is committed; only the answer is late (the "maybe queued" case).
            time.sleep(self.config.slow_dispatch)
        return Response(201, dumps(reply), location)

    @staticmethod
    def _dispatch_request(body: bytes) -> dict[str, Any]:
        if not body.strip():
            raise BadRequest("Required request body is missing")
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"Malformed JSON request body: {exc}") from None
        if not isinstance(data, dict):
            raise BadRequest("Request body must be a JSON object")
        missing = [k for k in ("fromNumber", "toNumber", "agentId") if data.get(k) is None]
        if missing:
            raise BadRequest(f"Missing required field(s): {', '.join(missing)}")
        for key in ("fromNumber", "toNumber"):
            if not is_e164(data[key]):
                raise BadRequest(
                    f"{key} must be an E.164 number like +14155550123, got {data[key]!r}"
                )
        agent_id = data["agentId"]
        if isinstance(agent_id, str) and agent_id.isascii() and agent_id.isdigit():
            agent_id = int(agent_id)  # Jackson coerces numeric strings; so do we
        if isinstance(agent_id, bool) or not isinstance(agent_id, int):
            raise BadRequest(f"agentId must be an integer, got {data['agentId']!r}")
        variables = data.get("variables")
        if variables is None:
            variables = {}
        if not isinstance(variables, dict) or not all(
            isinstance(v, str) for v in variables.values()
        ):
            raise BadRequest("variables must be an object of string values")
        return {
            "fromNumber": data["fromNumber"],
            "toNumber": data["toNumber"],
            "agentId": agent_id,
            "variables": variables,
        }


def _created_key(call: CallRecord) -> int:
    return call.created_s


def _created_exact(call: CallRecord) -> float:
    return call.created


def _sort_ascending(values: list[str] | None) -> bool:
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


# --- HTTP plumbing --------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Otherwise a keep-alive response can wait ~40 ms on Nagle + the client's delayed ACK.
    disable_nagle_algorithm = True
    timeout = 30.0  # idle or slow clients must not hold a thread forever
    server_version = f"ZazaVoiceSandbox/{__version__}"
    server: _SandboxHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def _handle(self) -> None:
        app = self.server.app
        started = time.perf_counter()
        path = self.path.partition("?")[0]
        try:
            read = self._read_body(path)
            if isinstance(read, Response):
                response = read
            else:
                response = app.handle(
                    self.command, path, self.path.partition("?")[2], self.headers, read
                )
        except (ConnectionError, TimeoutError):
            raise
        except Exception as exc:
            app.log(f"sandbox: internal error on {self.command} {path}: {exc!r}")
            response = error_response(500, "Internal sandbox error", path, close=True)
        if response is DROP:
            # Close without a byte of answer: the client sees the connection drop.
            self.close_connection = True
            app.log(f"{self.command} {self.path} dropped without an answer")
            return
        self._write(response)
        if not app.config.quiet:
            elapsed = (time.perf_counter() - started) * 1000
            app.log(f"{self.command} {self.path} {response.status} {elapsed:.1f}ms")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

    def _read_body(self, path: str) -> bytes | Response:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked(path)
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw)
            if length < 0:
                raise ValueError
        except ValueError:
            return error_response(400, f"Invalid Content-Length {raw!r}", path, close=True)
        if length > MAX_BODY:
            # Unread bytes would be taken for the next request, so the connection ends here.
            return error_response(
                413, f"Request body of {length} bytes is over the 1 MiB limit", path, close=True
            )
        return self.rfile.read(length) if length else b""

    def _read_chunked(self, path: str) -> bytes | Response:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
                if size < 0:
                    raise ValueError
            except ValueError:
                return error_response(400, "Malformed chunked body", path, close=True)
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                return error_response(413, "Request body is over the 1 MiB limit", path, close=True)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)

    def _write(self, response: Response) -> None:
        latency = self.server.app.config.latency_ms
        if latency:
            time.sleep(latency / 1000)
        lines = [
            f"HTTP/1.1 {response.status} {_reason(response.status)}",
            f"Server: {self.server_version}",
            f"Date: {self.server.app.http_date()}",
            "Content-Type: application/json",
            f"Content-Length: {len(response.body)}",
        ]
        if not self.server.app.quirks.no_sandbox_header:
            lines.append(f"{SANDBOX_HEADER}: zazacli {__version__}")
        lines.extend(f"{name}: {value}" for name, value in response.headers)
        if response.close or self.close_connection:
            lines.append("Connection: close")
            self.close_connection = True
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # One write per response: headers and body leave in the same segment.
        self.wfile.write(head if self.command == "HEAD" else head + response.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests get a Spring-style body too, then the connection is closed."""
        path = (getattr(self, "path", "") or "").partition("?")[0]
        self.close_connection = True
        try:
            self._write(error_response(code, message or _reason(code), path, close=True))
        except OSError:
            pass
        self.server.app.log(f"{self.command or '-'} {path or '-'} {code} (malformed request)")

    def handle_expect_100(self) -> bool:
        raw = self.headers.get("Content-Length") or ""
        if raw.isdigit() and int(raw) > MAX_BODY:
            self.send_error(413, f"Request body of {raw} bytes is over the 1 MiB limit")
            return False
        return super().handle_expect_100()

    def log_message(self, format: str, *args: Any) -> None:
        self.server.app.log(format % args)


class _SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can take seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def drop_connections(self) -> None:
        """End keep-alive connections, so nothing is served after close()."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return  # clients that hang up are routine
        self.app.log(f"sandbox: error serving {client_address}: {error!r}")


class Sandbox:
    """A running sandbox; close() (or `with`) stops the server, its connections and timers."""

    def __init__(
        self,
        config: SandboxConfig,
        server: _SandboxHTTPServer,
        app: SandboxApp,
        thread: threading.Thread,
    ) -> None:
        self.config = config
        self.app = app
        self._server = server
        self._thread = thread
        self._closed = threading.Event()
        self._close_lock = threading.Lock()
        self.host = config.host
        self.port = int(server.server_address[1])
        shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(config.host, config.host)
        if ":" in shown:
            shown = f"[{shown}]"
        self.base_url = f"http://{shown}:{self.port}{API_PREFIX}"
        self.api_key = config.api_key

    def close(self) -> None:
        with self._close_lock:
            if self._closed.is_set():
                return
            self._stop_accept_loop()
            self._server.drop_connections()
            self._server.server_close()
            self.app.close()
            self._thread.join(timeout=2.0)
            self._closed.set()

    def _stop_accept_loop(self) -> None:
        stopper = threading.Thread(target=self._server.shutdown, daemon=True)
        stopper.start()
        # The accept loop only notices shutdown between polls; a connection wakes it at once,
        # which keeps close() (and so every test using a sandbox) fast.
        host = self.base_url.split("//", 1)[1].rsplit(":", 1)[0].strip("[]")
        while stopper.is_alive():
            try:
                socket.create_connection((host, self.port), timeout=0.2).close()
            except OSError:
                pass
            stopper.join(0.02)

    def serve_forever(self) -> None:
        """Block until Ctrl-C (or close() from another thread), then stop cleanly."""
        try:
            while not self._closed.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def start_sandbox(config: SandboxConfig | None = None) -> Sandbox:
    """Generate the data, bind the port and serve from a daemon thread; returns at once.

    Raises OSError when the address cannot be bound (errno EADDRINUSE: port in use).
    """
    config = config or SandboxConfig()
    app = SandboxApp(config)
    try:
        server = _SandboxHTTPServer((config.host, config.port), app)
    except BaseException:
        app.close()
        raise
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name=f"sandbox-{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    return Sandbox(config, server, app, thread)
