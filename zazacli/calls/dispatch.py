"""Dispatching a call without ever dialling twice, and following a call to its end.

The API has no idempotency keys yet: when `POST /calls/outbound` gets no answer (or one
without a call id), the call may have been queued anyway. So a dispatch that may have
reached the server is never resent; it is *reconciled* instead, by looking for the call
in `GET /calls`. Only a call that cannot be an older one is taken: to the same
(toNumber, fromNumber, agentId), created after the attempt *on the server's clock* (as
its Date headers tell it), and not among the calls listed just before the POST.
`zaza calls dispatch` and `zaza calls batch` share this one path. Nothing here prints.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zazacli.api.client import call_id
from zazacli.errors import (
    CALL_OUTCOME_EXIT,
    UNKNOWN_STATUS_EXIT,
    WAIT_TIMEOUT_EXIT,
    ApiError,
    CallOutcomeError,
    OutcomeUnknownError,
    ScanDeadlineError,
    ScanError,
    UsageError,
)
from zazacli.times import parse_time

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi
    from zazacli.api.listing import CallFilter

# Before a single dispatch, the calls to the same callee created this long before it (on
# the server's clock) are listed once, so that none of them is ever taken for the new one.
PRECHECK_WINDOW = 60.0
# With no Date header from the server, "after the attempt" is judged on our own clock
# with this much slack.
NO_CLOCK_MARGIN = 120.0
# createdAt may be truncated to the second.
CREATED_RESOLUTION = 1.0
# How long after a dispatch without an answer a queued call must have appeared in GET /calls;
# past this, a single dispatch says "outcome unknown". ZAZA_RECONCILE_WAIT overrides it.
RECONCILE_WAIT = 10.0
RECONCILE_POLL = 1.0
# Every scan of GET /calls gets at least this long, even when the wait is 0 or nearly over;
# no scan gets longer than max(its wait, this), whatever the server pages.
SCAN_FLOOR = 3.0
# Following a call: poll soon (calls ring within seconds), then back off to spare the limit.
POLL_FIRST = 0.5
POLL_MAX = 5.0
POLL_GROWTH = 1.5
DEFAULT_WAIT_TIMEOUT = 15 * 60.0

CallKey = tuple[str, str, int]  # (toNumber, fromNumber, agentId): how a dispatch is found again
Sleep = Callable[[float], None]
Clock = Callable[[], float]


def new_idempotency_key() -> str:
    return f"zaza-{uuid.uuid4().hex}"


def iso_instant(epoch: float) -> str:
    """Whole seconds, rounded down (so a `since` made from it never excludes `epoch`)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def call_key(call: Mapping[str, Any]) -> tuple[Any, Any, int | None]:
    agent = call.get("agentId")
    return (call.get("toNumber"), call.get("fromNumber"), call_id({"id": agent}))


@dataclass(frozen=True)
class DispatchRequest:
    """One outbound call to place, with numbers already normalised to E.164."""

    from_number: str
    to_number: str
    agent_id: int
    variables: dict[str, str] = field(default_factory=dict)
    idempotency_key: str = field(default_factory=new_idempotency_key)

    @property
    def key(self) -> CallKey:
        return (self.to_number, self.from_number, self.agent_id)

    def body(self) -> dict[str, Any]:
        """What goes over the wire (for --dry-run; the API module builds the real one)."""
        body: dict[str, Any] = {
            "fromNumber": self.from_number,
            "toNumber": self.to_number,
            "agentId": self.agent_id,
        }
        if self.variables:
            body["variables"] = dict(self.variables)
        return body


@dataclass(frozen=True)
class Attempt:
    """One POST /calls/outbound, as sent: what a listed call must be to be the one it queued."""

    key: CallKey
    server_ts: float  # epoch seconds on the server's clock when the POST was sent
    uncertainty: float  # how far server_ts may be off, in seconds
    known_ids: frozenset[int] = frozenset()  # calls to the same key listed before the POST

    @property
    def earliest(self) -> float:
        """The earliest createdAt (server clock) the call it queued can carry."""
        return self.server_ts - self.uncertainty - CREATED_RESOLUTION

    def admits(self, call: Mapping[str, Any]) -> bool:
        """Whether `call` can be the one this attempt queued. A call without a readable
        createdAt cannot be shown to be newer, so it is not taken."""
        if call_key(call) != self.key:
            return False
        found_id = call_id(call)
        if found_id is None or found_id in self.known_ids:
            return False
        created = parse_time(call.get("createdAt"))
        return created is not None and created.timestamp() >= self.earliest


def _created(call: Mapping[str, Any]) -> float:
    created = parse_time(call.get("createdAt"))
    return created.timestamp() if created is not None else float("inf")


def attempt_now(api: ZazaApi, key: CallKey, known_ids: frozenset[int] = frozenset()) -> Attempt:
    """An attempt stamped now on the server's clock (ours, with a wide margin, if unknown)."""
    clock = api.http.server_clock
    uncertainty = clock.uncertainty
    return Attempt(
        key, clock.now(), NO_CLOCK_MARGIN if uncertainty is None else uncertainty, known_ids
    )


@dataclass
class Dispatched:
    """A queued call; `reconciled` when it was found in GET /calls after a lost answer."""

    call: dict[str, Any]
    reconciled: bool = False
    lost_answer: str | None = None  # why the answer was lost (or unusable), when reconciled
    attempt: Attempt | None = None

    @property
    def call_id(self) -> Any:
        return self.call.get("id")


@dataclass
class Reconciled:
    """What a look-up found: key -> call, and why it could not look everywhere, if so."""

    found: dict[CallKey, dict[str, Any]] = field(default_factory=dict)
    problem: str | None = None


def dispatch(
    api: ZazaApi,
    request: DispatchRequest,
    *,
    reconcile_wait: float = RECONCILE_WAIT,
    pace_rate_limit: bool = False,
    precheck: bool = True,
    on_attempt: Callable[[Attempt], None] | None = None,
    sleep: Sleep = time.sleep,
    monotonic: Clock = time.monotonic,
) -> Dispatched:
    """Send one dispatch; if its answer is lost or has no id, find the call instead of
    resending.

    With `precheck` (a single dispatch), one GET /calls first measures the server's clock
    and lists the calls to the same callee that already exist. `on_attempt` is called
    with the attempt just before the POST (the batch journals it). Raises
    OutcomeUnknownError (exit 6) when the call does not show up within `reconcile_wait`;
    with `pace_rate_limit` a 429 is raised (RateLimitedError) for the caller to pace.
    """
    known: frozenset[int] = frozenset()
    if precheck:
        known = existing_calls(api, request, deadline=monotonic() + SCAN_FLOOR)
    attempt = attempt_now(api, request.key, known)
    if on_attempt is not None:
        on_attempt(attempt)
    try:
        call = api.dispatch_call(
            from_number=request.from_number,
            to_number=request.to_number,
            agent_id=request.agent_id,
            variables=request.variables,
            idempotency_key=request.idempotency_key,
            retry_rate_limited=not pace_rate_limit,
        )
        return Dispatched(call, attempt=attempt)
    except ApiError as exc:
        # A 5xx may come from a proxy after the API queued the call: looked up, never resent.
        if exc.status is not None and exc.status < 500:
            raise
        lost = exc.message
    except OutcomeUnknownError as exc:
        # No answer, or a 2xx without a readable Call or id. Anything else (could not
        # connect, 429, auth) raises on: nothing was queued.
        lost = exc.message
    result = reconcile(
        api, [attempt], deadline=monotonic() + reconcile_wait, sleep=sleep, monotonic=monotonic
    )
    found = result.found.get(request.key)
    if found is not None:
        return Dispatched(found, True, lost, attempt)
    raise outcome_unknown(request, lost, attempt, reconcile_wait, result.problem)


def _outbound(agent_id: int | None, since: str) -> CallFilter:
    from zazacli.api.listing import CallFilter

    return CallFilter(direction="OUTBOUND", agent_id=agent_id, since=since)


def existing_calls(api: ZazaApi, request: DispatchRequest, *, deadline: float) -> frozenset[int]:
    """Ids of the calls to the same (to, from, agent) created in the last PRECHECK_WINDOW
    on the server's clock. A scan that cannot finish in time lists what it saw: the
    created-after rule still guards the rest."""
    since = iso_instant(api.server_now() - PRECHECK_WINDOW)
    ids: set[int] = set()
    try:
        for call in api.iter_calls(
            _outbound(request.agent_id, since), page_size=50, deadline=deadline, ordered=False
        ):
            found_id = call_id(call)
            if found_id is not None and call_key(call) == request.key:
                ids.add(found_id)
    except (ScanDeadlineError, ScanError):
        pass
    return frozenset(ids)


def reconcile(
    api: ZazaApi,
    attempts: Iterable[Attempt],
    *,
    deadline: float,
    sleep: Sleep = time.sleep,
    monotonic: Clock = time.monotonic,
) -> Reconciled:
    """The calls that these dispatch attempts (one per key) queued, if any are listed.

    Polls GET /calls until every key is found or `deadline` (monotonic) has passed; each
    scan is bounded by the deadline (at least SCAN_FLOOR), even against a server that
    pages forever. Of several candidates for one key, the oldest (nearest the POST) wins.
    """
    by_key = {attempt.key: attempt for attempt in attempts}
    result = Reconciled()
    if not by_key:
        return result
    agents = {key[2] for key in by_key}
    filters = _outbound(
        next(iter(agents)) if len(agents) == 1 else None,
        iso_instant(min(attempt.earliest for attempt in by_key.values())),
    )
    while True:
        try:
            scan_deadline = max(deadline, monotonic() + SCAN_FLOOR)
            # Order does not matter to find a call: an oldest-first server works too.
            for call in api.iter_calls(filters, deadline=scan_deadline, ordered=False):
                attempt = by_key.get(call_key(call))  # type: ignore[arg-type]
                if attempt is not None and attempt.admits(call):
                    found = result.found.get(attempt.key)
                    if found is None or _created(call) < _created(found):
                        result.found[attempt.key] = call  # the oldest candidate is nearest the POST
            result.problem = None
        except ScanDeadlineError as exc:
            result.problem = f"GET /calls could not be read in the time allowed ({exc.message})"
        except ScanError as exc:
            result.problem = f"GET /calls could not be scanned: {exc.message}"
            return result
        remaining = deadline - monotonic()
        if len(result.found) == len(by_key) or remaining <= 0:
            return result
        sleep(min(RECONCILE_POLL, remaining))


def outcome_unknown(
    request: DispatchRequest,
    lost: str,
    attempt: Attempt,
    waited: float,
    problem: str | None = None,
) -> OutcomeUnknownError:
    sent = datetime.fromtimestamp(attempt.server_ts, UTC).strftime("%H:%M:%SZ")
    looked = (
        problem
        if problem
        else f"no call created after it appeared in GET /calls within {waited:.0f}s"
    )
    return OutcomeUnknownError(
        f"the outcome of the call to {request.to_number} is unknown: {lost}; {looked}",
        hint=f"do not simply retry. Check first: zaza calls list --direction outbound "
        f"--since {iso_instant(attempt.earliest - 60)} | grep {request.to_number} "
        f"(dispatch sent at {sent} on the API's clock)",
    )


# ---------------------------------------------------------------- following a call


def is_terminal(call: Mapping[str, Any]) -> bool:
    """Over by the one rule (api.values.call_is_over): a final status, or an end time
    whatever the status says, so a status zaza does not know never waits for the timeout."""
    from zazacli.api.values import call_is_over

    return call_is_over(call)


def follow(
    api: ZazaApi,
    call_id: int,
    *,
    timeout: float = DEFAULT_WAIT_TIMEOUT,
    on_update: Callable[[dict[str, Any]], None] | None = None,
    call: dict[str, Any] | None = None,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
) -> dict[str, Any]:
    """Poll GET /calls/{id} with backoff until the call ends; the final Call (with turns).

    Raises CallOutcomeError (exit 14) when `timeout` seconds pass first. `call` is a
    state already known (the dispatch answer), shown before the first poll. A call over
    in a status zaza does not know is returned at once (outcome_error gives it exit 15).
    """
    deadline = clock() + timeout
    interval = POLL_FIRST
    if call is not None and on_update is not None:
        on_update(call)
    while True:
        call = api.get_call(call_id)
        if on_update is not None:
            on_update(call)
        if is_terminal(call):
            return call
        remaining = deadline - clock()
        if remaining <= 0:
            status = call.get("status") or "in an unknown state"
            raise CallOutcomeError(
                f"call {call_id} is still {status} after waiting {format_seconds(timeout)}",
                WAIT_TIMEOUT_EXIT,
                hint=f"the call goes on; follow it again with: zaza calls wait {call_id}",
            )
        sleep(min(interval, remaining))
        interval = min(POLL_MAX, interval * POLL_GROWTH)


def outcome_error(call: Mapping[str, Any]) -> CallOutcomeError | None:
    """The exit for a call that ended other than COMPLETED (FAILED 10 … CANCELED 13), or
    in a status zaza does not know (15; also a call that has an end but a live status)."""
    from zazacli.api.values import TERMINAL_STATUSES

    raw = call.get("status")
    status = str(raw or "").upper()
    reason = call.get("failureReason")
    detail = f" ({reason})" if reason else ""
    code = CALL_OUTCOME_EXIT.get(status)
    if code is not None:
        return CallOutcomeError(f"call {call.get('id')} ended {status}{detail}", code)
    if status in TERMINAL_STATUSES or not is_terminal(call):
        return None  # COMPLETED, or not over yet
    shown = raw if raw else "no status"
    return CallOutcomeError(
        f"call {call.get('id')} ended in status {shown}{detail}, which zaza does not know",
        UNKNOWN_STATUS_EXIT,
        hint="the call is over (it has an end time); its status is printed as the API sent it",
    )


def format_seconds(seconds: float) -> str:
    """`15m`, `90s`, `1h30m`: durations as people write them."""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{secs}s" if secs or not text else "")


def parse_variables(pairs: list[str], vars_file: Path | None) -> dict[str, str]:
    """`--vars-file` first, then each `--var KEY=VALUE` over it."""
    variables: dict[str, str] = {}
    if vars_file is not None:
        try:
            data = json.loads(vars_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(
                f"--vars-file: cannot read {vars_file}: {exc.strerror or exc}"
            ) from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise UsageError(f"--vars-file: {vars_file} is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise UsageError(f"--vars-file: {vars_file} must hold a JSON object of KEY: value")
        for key, value in data.items():
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise UsageError(f"--vars-file: the value of {key!r} must be a string or a number")
            variables[key] = str(value)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--var {pair!r}: expected KEY=VALUE", hint="e.g. --var NAME=Alex")
        variables[key.strip()] = value
    return variables


def reconcile_wait(env: Mapping[str, str]) -> float:
    """Seconds to look for a call whose dispatch answer was lost (ZAZA_RECONCILE_WAIT)."""
    raw = env.get("ZAZA_RECONCILE_WAIT")
    if not raw:
        return RECONCILE_WAIT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 600:
        raise UsageError(f"ZAZA_RECONCILE_WAIT must be 0 to 600 seconds, got {raw!r}")
    return value
