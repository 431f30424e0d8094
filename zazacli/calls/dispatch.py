"""Dispatching a call without ever dialling twice, and following a call to its end.

The API has no idempotency keys yet: when `POST /calls/outbound` gets no answer (or one
without a call id), the call may have been queued anyway. So a dispatch that may have
reached the server is never resent; it is *reconciled* instead, by looking for the call
in `GET /calls`. A listed call is the dispatch's when it is an OUTBOUND call to the same
(toNumber, fromNumber, agentId) whose id was not listed just before the POST (nor given to
another dial by the ledger). Its `createdAt` is not trusted: it can rule a call out only
when it names its zone and is more than PLAUSIBLE_LAG older than the attempt on the
server's clock (as its Date headers tell it); a stamp that is missing, numeric, zone-less
or just behind the clock never does. `zaza calls dispatch` and `zaza calls batch` share
this one path. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
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
    NetworkError,
    NothingSentError,
    OutcomeUnknownError,
    ScanDeadlineError,
    ScanError,
    UsageError,
    ZazaError,
)
from zazacli.times import aware_time

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi
    from zazacli.api.listing import CallFilter
    from zazacli.policy.rules import Guard

# How far a server's createdAt may trail its own Date clock (a stamp taken before the row is
# committed, a queue in front of the database). A call whose zoned createdAt is older than
# the attempt by more than this cannot be the attempt's: a call from last year is not the
# one just queued. Reconciliation lists calls back to here, and the listing taken before a
# dispatch reaches at least as far, so every older call it can see is known by its id.
PLAUSIBLE_LAG = 600.0
# With no Date header from the server, the attempt's time on its clock is ours, with this
# much doubt.
NO_CLOCK_MARGIN = 120.0
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
    # Calls to the same key listed before the POST, and calls the ledger gives to other dials.
    known_ids: frozenset[int] = frozenset()

    @property
    def earliest(self) -> float:
        """The oldest createdAt (server clock) the call it queued may show, lag included."""
        return self.server_ts - self.uncertainty - PLAUSIBLE_LAG

    def admits(self, call: Mapping[str, Any]) -> bool:
        """Whether `call` can be the one this attempt queued: same key, an id not known
        before the attempt, and no zoned createdAt from before `earliest`."""
        if call_key(call) != self.key:
            return False
        found_id = call_id(call)
        if found_id is None or found_id in self.known_ids:
            return False
        created = aware_time(call.get("createdAt"))
        return created is None or created.timestamp() >= self.earliest


def _nearest(call: Mapping[str, Any]) -> tuple[float, int]:
    """Of several candidates, the one nearest the POST: the oldest zoned createdAt, then
    the lowest id (the API numbers calls in order)."""
    created = aware_time(call.get("createdAt"))
    return (created.timestamp() if created is not None else float("inf"), call_id(call) or 0)


@contextlib.contextmanager
def before_the_post() -> Iterator[None]:
    """A network error in here (a read the dispatch needs) came before its POST: said as
    NothingSentError (exit 1, safe to run again), never as an outcome unknown (exit 6)."""
    try:
        yield
    except OutcomeUnknownError:
        raise
    except NetworkError as exc:
        raise NothingSentError(
            f"{exc.message}; stopped before dispatching: nothing was sent", hint=exc.hint
        ) from None


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
    known: frozenset[int] = frozenset(),
    reconcile_wait: float = RECONCILE_WAIT,
    pace_rate_limit: bool = False,
    on_attempt: Callable[[Attempt], None] | None = None,
    sleep: Sleep = time.sleep,
    monotonic: Clock = time.monotonic,
) -> Dispatched:
    """Send one dispatch; if its answer is lost or has no id, find the call instead of
    resending.

    `known` are the ids of the calls to the same key listed before (recent_outbound) and
    given to other dials by the ledger: none of them is ever taken for this one.
    `on_attempt` is called with the attempt just before the POST (the contact policy
    writes it to the ledger and may refuse it; the batch journals it). Raises
    OutcomeUnknownError (exit 6) when the call does not show up within `reconcile_wait`;
    with `pace_rate_limit` a 429 is raised (RateLimitedError) for the caller to pace.
    """
    with before_the_post():
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
        # A 5xx may come from a proxy after the API queued the call, and a redirect may point
        # at the call it created: looked up, never resent.
        if not exc.maybe_applied:
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


def guarded_dispatch(
    api: ZazaApi,
    guard: Guard,
    request: DispatchRequest,
    *,
    source: str,
    known: frozenset[int] = frozenset(),
    journal: str | None = None,
    line: int | None = None,
    repeat: bool = False,
    on_attempt: Callable[[Attempt], None] | None = None,
    **options: Any,
) -> Dispatched:
    """`dispatch` through the contact policy: just before the POST, the guard checks every
    rule again and writes the dial to the ledger (or raises BlockedError, and nothing is
    sent); after it, the ledger gets the outcome. A dial whose outcome is unknown stays
    counted. `options` go to `dispatch`."""
    from zazacli.policy.store import FAILED, QUEUED, RECONCILED, UNKNOWN

    dials: list[int] = []

    def attempt_hook(attempt: Attempt) -> None:
        dials.append(
            guard.begin_dial(
                to_number=request.to_number,
                from_number=request.from_number,
                agent_id=request.agent_id,
                source=source,
                journal=journal,
                line=line,
                repeat=repeat,
            )
        )
        if on_attempt is not None:
            on_attempt(attempt)

    known = known | guard.store.claimed_calls(request.to_number)
    try:
        result = dispatch(api, request, known=known, on_attempt=attempt_hook, **options)
    except OutcomeUnknownError:
        _finish(guard, dials, UNKNOWN)
        raise
    except ZazaError:
        _finish(guard, dials, FAILED)  # refused, or never sent: nothing was queued
        raise
    _finish(guard, dials, RECONCILED if result.reconciled else QUEUED, result.call_id)
    return result


def _finish(guard: Guard, dials: list[int], outcome: str, call: Any = None) -> None:
    """The ledger's outcome of the last dial; one that cannot be written stays `pending`,
    which counts as placed (the safe side)."""
    if dials:
        with contextlib.suppress(ZazaError):
            guard.finish_dial(dials[-1], outcome, call)


def _outbound(agent_id: int | None, since: str) -> CallFilter:
    from zazacli.api.listing import CallFilter

    agents = () if agent_id is None else (agent_id,)
    return CallFilter(directions=("OUTBOUND",), agent_ids=agents, since=since)


@dataclass
class Recent:
    """The outbound calls the API listed for a window before dialling:
    ids per key (never taken for a new dispatch's call) and per callee (for the cap).
    `problem` says why the listing is not whole, when it is not."""

    by_key: dict[CallKey, set[int]] = field(default_factory=dict)
    by_number: dict[str, set[int]] = field(default_factory=dict)
    problem: str | None = None

    def known(self, key: CallKey) -> frozenset[int]:
        return frozenset(self.by_key.get(key, ()))


def recent_outbound(
    api: ZazaApi, window: float, *, deadline: float, numbers: set[str] | None = None
) -> Recent:
    """One scan of the outbound calls of the last `window` seconds (at least PLAUSIBLE_LAG
    and then some, so that it covers every call a reconciliation could see), for every
    agent and sender. A call whose createdAt cannot be read is kept: the server listed it
    for the window. `numbers` keeps only the calls to those callees."""
    since = api.server_now() - max(window, PLAUSIBLE_LAG + NO_CLOCK_MARGIN)
    recent = Recent()
    try:
        for call in api.iter_calls(
            _outbound(None, iso_instant(since)),
            deadline=deadline,
            ordered=False,
            trust_dates=False,
        ):
            found_id = call_id(call)
            to = call.get("toNumber")
            if not isinstance(to, str) or (numbers is not None and to not in numbers):
                continue
            placed = recent.by_number.setdefault(to, set())
            if found_id is None:
                # Still a call to that person, for the cap: counted under an id of its own
                # (negative, so it never meets a ledger's call id).
                placed.add(-1 - len(placed))
                continue
            placed.add(found_id)
            key = call_key(call)
            if key[2] is not None:
                recent.by_key.setdefault(key, set()).add(found_id)  # type: ignore[arg-type]
    except ScanDeadlineError as exc:
        recent.problem = f"GET /calls could not be read in the time allowed ({exc.message})"
    except ScanError as exc:
        recent.problem = f"GET /calls could not be scanned: {exc.message}"
    return recent


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
    pages forever. Of several candidates for one key, the one nearest the POST wins.
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
            # Order does not matter to find a call: an oldest-first server works too; and
            # a createdAt the scan cannot read as an instant never hides a call.
            for call in api.iter_calls(
                filters, deadline=scan_deadline, ordered=False, trust_dates=False
            ):
                attempt = by_key.get(call_key(call))  # type: ignore[arg-type]
                if attempt is not None and attempt.admits(call):
                    found = result.found.get(attempt.key)
                    if found is None or _nearest(call) < _nearest(found):
                        result.found[attempt.key] = call
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
        problem if problem else f"no new call to it appeared in GET /calls within {waited:.0f}s"
    )
    return OutcomeUnknownError(
        f"the outcome of the call to {request.to_number} is unknown: {lost}; {looked}",
        hint=f"do not simply retry. Check first: zaza calls list --direction outbound "
        f"--since {iso_instant(attempt.server_ts - attempt.uncertainty - 60)} "
        f"| grep {request.to_number} "
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
