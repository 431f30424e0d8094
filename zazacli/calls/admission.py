"""One call, from the numbers typed to the POST: what `zaza calls dispatch` and the dispatch
form of `zaza ui` both run, so that both read the request, check the contact policy and the
calling window, and dial through the guard in the same way. No printing: notes go through
the `warn` and `notice` callbacks of `Dialling`, which the face builds from its context."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zazacli.errors import NotFoundError, UsageError

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi
    from zazacli.calls.dispatch import Dispatched, DispatchRequest, Recent
    from zazacli.errors import ZazaError
    from zazacli.policy.phones import CallingWindow, LocalTimes
    from zazacli.policy.rules import Guard, Verdict


@dataclass
class Dialling:
    """What dialling needs of the face's context: the API, the contact-policy guard (opened
    when asked for: fail closed), the profile's calling window and its places, the region
    national numbers are read in, and how to wait and say things."""

    connect: Callable[[], ZazaApi]  # the API client, made when first needed
    open_guard: Callable[[], Guard]
    window: CallingWindow
    overrides: dict[str, str]
    region: str | None = None
    sandboxed: bool = False  # --sandbox: a private sandbox, which rings no one
    env: Mapping[str, str] = field(default_factory=dict)  # ZAZA_RECONCILE_WAIT, read at the POST
    sleep: Callable[[float], None] | None = None
    clock: Callable[[], float] | None = None
    warn: Callable[[str], None] = lambda _: None
    notice: Callable[[str], None] = lambda _: None

    @functools.cached_property
    def api(self) -> ZazaApi:
        return self.connect()


def read_request(
    from_number: str,
    to: str,
    agent: int,
    variables: dict[str, str],
    idempotency_key: str | None = None,
    *,
    region: str | None = None,
) -> DispatchRequest:
    """The request as given: numbers in E.164 (national ones read in `region`), a new
    idempotency key unless given."""
    from zazacli.calls import dispatch as dispatching
    from zazacli.policy import phones

    return dispatching.DispatchRequest(
        phones.normalize_number(from_number, region=region, label="--from"),
        phones.normalize_number(to, region=region, label="--to"),
        agent,
        variables,
        idempotency_key or dispatching.new_idempotency_key(),
    )


@dataclass
class Admission:
    """Every verdict on one request: the guard that records the dial, the callee's local
    times and calling window, the contact policy's verdicts, and the calls the API already
    lists for the request (never taken for the new one)."""

    request: DispatchRequest
    guard: Guard
    times: LocalTimes
    window: CallingWindow
    verdicts: list[Verdict]
    may_call: bool
    known: frozenset[int]

    def refusal(self) -> ZazaError | None:
        """Why this call may not be dialled now (None: it may)."""
        from zazacli.policy import phones
        from zazacli.policy.rules import blocked_error

        refused = next((verdict for verdict in self.verdicts if not verdict.allowed), None)
        if refused is not None:
            return blocked_error(self.request.to_number, refused)
        if not self.may_call:
            return phones.quiet_hours_error(self.times, self.window)
        return None


def admit(
    dialling: Dialling, request: DispatchRequest, *, dry_run: bool, allow_quiet_hours: bool
) -> Admission:
    """Every rule that decides whether this number may be called now. Unless `dry_run`, a
    number on the do-not-call list is refused before a single request (the list alone
    decides); the other refusals are the Admission's to say (`refusal()`)."""
    from zazacli.calls.dispatch import before_the_post
    from zazacli.policy import phones
    from zazacli.policy.rules import blocked_error
    from zazacli.policy.windows import window_for

    to = request.to_number
    window = window_for(to, dialling.window, dialling.overrides)
    times = phones.local_times(to, window)
    if not times.known:
        dialling.warn(f"no time zone on record for {to}; quiet hours not checked")
    guard = dialling.open_guard()
    if not dry_run and (listed := guard.store.lookup(to)) is not None:
        raise blocked_error(to, guard.dnc_verdict(to, listed))
    with before_the_post():  # these read the API: a failure there sent nothing
        recent = contact_history(
            dialling.api, guard, {to}, clock=dialling.clock, sandboxed=dialling.sandboxed
        )
        verdicts = guard.verdicts([to])[to]
        may_call = times.allowed or quiet_hours_waived(
            dialling.api, allow_quiet_hours, sandboxed=dialling.sandboxed, notice=dialling.notice
        )
    return Admission(request, guard, times, window, verdicts, may_call, recent.known(request.key))


def send(dialling: Dialling, admission: Admission) -> Dispatched:
    """The POST, through the guard; a lost answer is looked up in GET /calls, never sent
    again."""
    from zazacli.calls import dispatch as dispatching

    options: dict[str, Any] = {"reconcile_wait": dispatching.reconcile_wait(dialling.env)}
    if dialling.sleep is not None:
        options["sleep"] = dialling.sleep
    if dialling.clock is not None:
        options["monotonic"] = dialling.clock
    return dispatching.guarded_dispatch(
        dialling.api,
        admission.guard,
        admission.request,
        source="dispatch",
        known=admission.known,
        **options,
    )


def contact_history(
    api: ZazaApi,
    guard: Guard,
    numbers: set[str],
    *,
    clock: Callable[[], float] | None = None,
    sandboxed: bool = False,
    scans: int = 4,
) -> Recent:
    """One scan of the outbound calls in the cap's window before dialling (a dispatch always
    made one): the calls that already exist to these callees, counted by the cap and never
    taken for a new call. The guard learns what the API lists (a listing that cannot be
    read whole blocks a capped dial), and whether the API is zaza's sandbox, where the cap
    and the repeat window are not applied. `scans` is the time budget, in SCAN_FLOORs."""
    import time

    from zazacli.calls.dispatch import SCAN_FLOOR, recent_outbound
    from zazacli.policy.rules import Listed

    window = guard.cap.window if guard.cap is not None else 0.0
    deadline = (clock or time.monotonic)() + scans * SCAN_FLOOR
    recent = recent_outbound(api, window, deadline=deadline, numbers=numbers)
    guard.listed = Listed(recent.by_number, recent.problem)
    # Known after that answer, at no cost: is this zaza's own sandbox (which rings no one)?
    guard.rings_no_one = bool(sandboxed or api.is_sandbox())
    return recent


def quiet_hours_waived(
    api: ZazaApi,
    allow_quiet_hours: bool,
    *,
    sandboxed: bool = False,
    notice: Callable[[str], None] = lambda _: None,
) -> bool:
    """Quiet hours do not apply with --allow-quiet-hours, or when the API is zaza's own
    sandbox (--sandbox, or a `zaza sandbox` on this machine, which says so in a header): it
    rings no one. Ask only when the window would refuse: it may cost one small request."""
    if allow_quiet_hours:
        return True
    if sandboxed or api.is_sandbox():
        notice("the API is zaza's sandbox: no one is called, so quiet hours are not checked")
        return True
    return False


def fetch_agent(api: ZazaApi, agent_id: int) -> dict[str, Any]:
    """The agent a call would use (a usage error when there is none)."""
    try:
        return api.get_agent(agent_id)
    except NotFoundError:
        raise UsageError(
            f"agent {agent_id} not found", hint="list the agents: zaza agents list"
        ) from None
