"""Dispatching a call without ever dialling twice, and following a call to its end.

The API has no idempotency keys yet: when `POST /calls/outbound` gets no answer, the
call may have been queued anyway. So a dispatch that may have reached the server is
never resent; it is *reconciled* instead, by looking for the call in `GET /calls`.
`zaza calls dispatch` and `zaza calls batch` share this one path. Nothing here prints.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from zazacli.api.http import OutcomeUnknownError
from zazacli.errors import CALL_OUTCOME_EXIT, WAIT_TIMEOUT_EXIT, ApiError, CallOutcomeError

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi

# How far before our own clock's dispatch time to look: the API's clock may be behind ours.
RECONCILE_MARGIN = 120.0
# How long after a dispatch without an answer a queued call must have appeared in GET /calls;
# past this, a missing call is taken as never queued. ZAZA_RECONCILE_WAIT overrides it.
RECONCILE_WAIT = 10.0
RECONCILE_POLL = 1.0
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
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


@dataclass
class Dispatched:
    """A queued call; `reconciled` when it was found in GET /calls after a lost answer."""

    call: dict[str, Any]
    reconciled: bool = False
    lost_answer: str | None = None  # why the answer was lost, when reconciled
    attempted_at: float | None = None  # epoch seconds the POST was sent

    def created_before_attempt(self, slack: float = 5.0) -> float | None:
        """Seconds by which a reconciled call predates our POST (beyond clock slack): it
        may be an earlier call to the same number rather than ours."""
        from zazacli.times import parse_time

        created = parse_time(self.call.get("createdAt"))
        if not self.reconciled or created is None or self.attempted_at is None:
            return None
        early = self.attempted_at - created.timestamp()
        return early if early > slack else None

    @property
    def call_id(self) -> Any:
        return self.call.get("id")


def dispatch(
    api: ZazaApi,
    request: DispatchRequest,
    *,
    reconcile_wait: float = RECONCILE_WAIT,
    pace_rate_limit: bool = False,
    sleep: Sleep = time.sleep,
    clock: Clock = time.time,
) -> Dispatched:
    """Send one dispatch; if its answer is lost, find the call instead of resending.

    Raises OutcomeUnknownError (exit 6) when the call does not show up within
    `reconcile_wait`;
    with `pace_rate_limit` a 429 is raised (RateLimitedError) for the caller to pace.
    """
    attempted_at = clock()
    try:
        call = api.dispatch_call(
            from_number=request.from_number,
            to_number=request.to_number,
            agent_id=request.agent_id,
            variables=request.variables,
            idempotency_key=request.idempotency_key,
            retry_rate_limited=not pace_rate_limit,
        )
        return Dispatched(call)
    except ApiError as exc:
        # A 5xx may come from a proxy after the API queued the call; a 2xx without a
        # readable body (status None) did queue it. Both are looked up, never resent.
        if exc.status is not None and exc.status < 500:
            raise
        lost = exc.message
    except OutcomeUnknownError as exc:
        # Anything else (could not connect, 429, auth) raises on: nothing was queued.
        lost = exc.message
    found = reconcile(
        api,
        {request.key: attempted_at},
        wait_until=clock() + reconcile_wait,
        sleep=sleep,
        clock=clock,
    )
    if request.key in found:
        return Dispatched(found[request.key], True, lost, attempted_at)
    raise outcome_unknown(request, lost, attempted_at, reconcile_wait)


def reconcile(
    api: ZazaApi,
    attempts: Mapping[CallKey, float],
    *,
    wait_until: float,
    sleep: Sleep = time.sleep,
    clock: Clock = time.time,
) -> dict[CallKey, dict[str, Any]]:
    """The calls that these dispatch attempts (key -> epoch time sent) queued, if any.

    Polls GET /calls until every key is found or `wait_until` (epoch) has passed: a call
    the API queued late must not be taken for one never queued.
    """
    if not attempts:
        return {}
    since = iso_instant(min(attempts.values()) - RECONCILE_MARGIN)
    until = iso_instant(max(attempts.values()) + RECONCILE_MARGIN)
    found: dict[CallKey, dict[str, Any]] = {}
    while True:
        missing = [key for key in attempts if key not in found]
        found.update(api.find_dispatched_calls(missing, since=since, until=until))
        remaining = wait_until - clock()
        if len(found) == len(attempts) or remaining <= 0:
            return found
        sleep(min(RECONCILE_POLL, remaining))


def outcome_unknown(
    request: DispatchRequest, lost: str, attempted_at: float, waited: float
) -> OutcomeUnknownError:
    sent = datetime.fromtimestamp(attempted_at, UTC).strftime("%H:%M:%SZ")
    return OutcomeUnknownError(
        f"the outcome of the call to {request.to_number} is unknown: {lost}; "
        f"no matching call appeared in GET /calls within {waited:.0f}s",
        hint=f"do not simply retry. Check first: zaza calls list --direction outbound "
        f"--since {iso_instant(attempted_at - RECONCILE_MARGIN)} | grep {request.to_number} "
        f"(dispatch sent at {sent})",
    )


# ---------------------------------------------------------------- following a call


def is_terminal(call: Mapping[str, Any]) -> bool:
    from zazacli.api.client import TERMINAL_STATUSES

    return str(call.get("status") or "").upper() in TERMINAL_STATUSES


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
    state already known (the dispatch answer), shown before the first poll.
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
    """The exit for a call that ended other than COMPLETED (FAILED 10 … CANCELED 13)."""
    status = str(call.get("status") or "").upper()
    code = CALL_OUTCOME_EXIT.get(status)
    if code is None:
        return None
    reason = call.get("failureReason")
    detail = f" ({reason})" if reason else ""
    return CallOutcomeError(f"call {call.get('id')} ended {status}{detail}", code)


def format_seconds(seconds: float) -> str:
    """`15m`, `90s`, `1h30m`: durations as people write them."""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{secs}s" if secs or not text else "")
