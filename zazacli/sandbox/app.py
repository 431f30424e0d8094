"""The sandbox API: routes, validation, auth, fault knobs, quirks and dispatch.

Every [assumed] part of the wire contract that the sandbox plays back lives here or in the
modules beside it: GET /calls in `listing.py`, error bodies in `responses.py`, webhooks in
`deliveries.py`, the outcome rule and the call timeline in `data.py`, the quirks (servers
that read the contract differently) in `quirks.py`. `server.py` serves it over HTTP.
"""

from __future__ import annotations

import json
import math
import random
import re
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, urlsplit

from zazacli.sandbox import DEFAULT_API_KEY, ORG_NUMBERS
from zazacli.sandbox.data import (
    STATUSES,
    UNKNOWN_STATUS,
    CallRecord,
    CreatedForm,
    Outcome,
    dumps,
    live_timeline,
    outcome_for_number,
)
from zazacli.sandbox.deliveries import WebhookDispatcher
from zazacli.sandbox.listing import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    int_param,
    parse_query,
    render_page,
    select_calls,
)
from zazacli.sandbox.quirks import Quirks, parse_quirks
from zazacli.sandbox.responses import DROP, BadRequest, Response, error_response
from zazacli.sandbox.seed import generate
from zazacli.sandbox.transcripts import transcript

API_PREFIX = "/api/v1"
RATE_WINDOW = 60.0  # seconds over which `rate_limit` counts requests, as the real API
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


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


def is_e164(value: object) -> bool:
    return isinstance(value, str) and E164.fullmatch(value) is not None


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
        self.webhooks: WebhookDispatcher | None = None
        if config.webhook_url and config.webhook_secret:
            self.webhooks = WebhookDispatcher(
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
        page = int_param(params, "page", 0, 0)
        size = min(int_param(params, "size", DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE)
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
        query = parse_query(params, quirks, self.statuses)
        now = self.now()
        selection = select_calls(self.calls, self._seeded_count, query, quirks, now)
        if quirks.endless_no_total and not selection.calls and query.page > 0 and selection.total:
            # Past the end, endless-no-total answers its last page again.
            last = (selection.total - 1) // query.size
            return self.list_calls({**params, "page": [str(last)]})
        return Response(200, render_page(selection, query, quirks, now, self.created_form()))

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
