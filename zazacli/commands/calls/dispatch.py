"""`zaza calls dispatch`: one outbound AI call, never twice."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zazacli.commands.app import get_context
from zazacli.commands.calls.shared import (
    AllowQuietOpt,
    DispatchAgentOpt,
    DryRunOpt,
    FromOpt,
    RegionOpt,
    TranscriptOpt,
    YesOpt,
    calling_window,
    confirm_dispatch,
    fetch_agent,
    follow_and_report,
    quiet_hours_waived,
)
from zazacli.commands.options import JqOpt, ReportFormatOpt, TemplateOpt
from zazacli.commands.policy import DncOpt, contact_history, open_guard, place_overrides
from zazacli.errors import (
    CALL_OUTCOME_EXIT,
    INTERRUPTED_EXIT,
    UNKNOWN_STATUS_EXIT,
    WAIT_TIMEOUT_EXIT,
    BlockedError,
    NetworkError,
    NothingSentError,
    UsageError,
    exit_codes_help,
)

if TYPE_CHECKING:
    from zazacli.calls.dispatch import Dispatched, DispatchRequest
    from zazacli.context import AppContext
    from zazacli.policy.phones import CallingWindow, LocalTimes
    from zazacli.policy.rules import Guard, Verdict

DISPATCH_EPILOG = exit_codes_help(
    {
        0: "queued (with --wait: the call ended COMPLETED)",
        NothingSentError.exit_code: "the API failed, or could not be reached before the "
        "dispatch: nothing was sent",
        UsageError.exit_code: "bad input, quiet hours, or refused by the API: nothing was queued",
        NetworkError.exit_code: "outcome unknown: the answer was lost and GET /calls does not "
        "show the call",
        CALL_OUTCOME_EXIT["FAILED"]: "--wait: the call FAILED",
        CALL_OUTCOME_EXIT["NO_ANSWER"]: "--wait: NO_ANSWER",
        CALL_OUTCOME_EXIT["BUSY"]: "--wait: BUSY",
        CALL_OUTCOME_EXIT["CANCELED"]: "--wait: CANCELED",
        WAIT_TIMEOUT_EXIT: "--wait: timed out (the call goes on: zaza calls wait ID)",
        UNKNOWN_STATUS_EXIT: "--wait: the call ended in a status zaza does not know",
        BlockedError.exit_code: "blocked by the contact policy (do-not-call list, frequency "
        "cap, or a list that cannot be read): nothing was sent",
        INTERRUPTED_EXIT: "Ctrl-C (while waiting, the call goes on: zaza calls wait ID)",
    }
)


ToOpt = Annotated[str, typer.Option("--to", help="Number to call.", show_default=False)]
VarOpt = Annotated[
    list[str] | None,
    typer.Option("--var", help="KEY=VALUE for the agent's {{KEY}} placeholders; repeat."),
]
VarsFileOpt = Annotated[
    Path | None,
    typer.Option("--vars-file", help="JSON object of variables (--var wins).", dir_okay=False),
]
IdempotencyOpt = Annotated[
    str | None,
    typer.Option("--idempotency-key", help="Idempotency-Key header [default: a new one]."),
]
WaitOpt = Annotated[
    bool, typer.Option("--wait", help="Follow the call until it ends; exit by outcome.")
]
WaitTimeoutOpt = Annotated[
    str | None,
    typer.Option(
        "--wait-timeout",
        help="With --wait: give up waiting after this long (90s, 15m).",
        show_default="15m",
    ),
]


def dispatch(
    ctx: typer.Context,
    from_number: FromOpt,
    to: ToOpt,
    agent: DispatchAgentOpt,
    var: VarOpt = None,
    vars_file: VarsFileOpt = None,
    region: RegionOpt = None,
    idempotency_key: IdempotencyOpt = None,
    dry_run: DryRunOpt = False,
    allow_quiet_hours: AllowQuietOpt = False,
    yes: YesOpt = False,
    wait: WaitOpt = False,
    wait_timeout: WaitTimeoutOpt = None,
    transcript: TranscriptOpt = False,
    dnc: DncOpt = None,
    fmt: ReportFormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
) -> None:
    """Dispatch one outbound AI call, never twice.

    Prints the new call id, or the Call with --json. If the API's answer is lost
    (timeout, dropped connection), the call is looked up in GET /calls instead of being
    sent again. The contact policy applies first: a number on the do-not-call list, or
    called max_calls_per_number times in the window (3/24h by default), is not dialled
    (exit 17); neither is any number when the list cannot be read.

    \b
    Examples:
      zaza calls dispatch --from +14155550100 --to +14155550124 --agent 12 \\
          --var NAME=Alex
      zaza calls dispatch --from +14155550100 --to +14155550124 --agent 12 --dry-run
      zaza calls dispatch --from +14155550100 --to +14155550124 --agent 12 \\
          --wait --transcript
      ID=$(zaza calls dispatch --from +14155550100 --to +14155550124 --agent 12)
    """
    from zazacli.output import Format

    app_ctx = get_context(ctx)
    chosen = app_ctx.out.view(fmt, jq=jq, template=template).format
    timeout = _wait_timeout(wait, transcript, wait_timeout)
    request = _read_request(
        app_ctx, from_number, to, agent, var or [], vars_file, region, idempotency_key
    )
    guard, known = _admit(app_ctx, request, dnc, allow_quiet_hours, dry_run, chosen is Format.json)
    if dry_run:
        return
    confirm_dispatch(
        app_ctx, yes, f"Call {request.to_number} from {request.from_number} with agent {agent}"
    )
    result = _send(app_ctx, guard, request, known)
    if wait:
        first = result.call
        follow_and_report(app_ctx, int(result.call_id), timeout, transcript, chosen, first=first)
    elif chosen is Format.json:
        app_ctx.out.json_document(result.call)
    else:
        app_ctx.out.write(str(result.call_id))


def _wait_timeout(wait: bool, transcript: bool, wait_timeout: str | None) -> float:
    from zazacli.times import parse_duration

    for needs_wait, option in ((transcript, "--transcript"), (wait_timeout, "--wait-timeout")):
        if needs_wait and not wait:
            raise UsageError(f"{option} needs --wait", hint="add --wait to follow the call")
    return parse_duration(wait_timeout or "15m", "--wait-timeout")


def _read_request(
    app_ctx: AppContext,
    from_number: str,
    to: str,
    agent: int,
    var: list[str],
    vars_file: Path | None,
    region: str | None,
    idempotency_key: str | None,
) -> DispatchRequest:
    """The request as the options give it: numbers in E.164 (read in --region or the
    profile's), variables from --vars-file then --var, a new idempotency key unless given."""
    from zazacli.calls import dispatch as dispatching
    from zazacli.policy import phones

    variables = dispatching.parse_variables(var, vars_file)
    region = region or app_ctx.settings.get("region")
    return dispatching.DispatchRequest(
        phones.normalize_number(from_number, region=region, label="--from"),
        phones.normalize_number(to, region=region, label="--to"),
        agent,
        variables,
        idempotency_key or dispatching.new_idempotency_key(),
    )


def _admit(
    app_ctx: AppContext,
    request: DispatchRequest,
    dnc: str | None,
    allow_quiet_hours: bool,
    dry_run: bool,
    as_json: bool,
) -> tuple[Guard, frozenset[int]]:
    """Every rule that decides whether this number may be called now (the dry run shows
    each verdict); raises when one refuses. Returns the guard that records the dial, and
    the calls the API already lists for the request (never taken for the new one)."""
    from zazacli.calls.dispatch import before_the_post
    from zazacli.policy import phones
    from zazacli.policy.rules import blocked_error
    from zazacli.policy.windows import window_for

    to = request.to_number
    window = window_for(to, calling_window(app_ctx), place_overrides(app_ctx))
    times = phones.local_times(to, window)
    if not times.known:
        app_ctx.out.warn(f"no time zone on record for {to}; quiet hours not checked")
    guard = open_guard(app_ctx, dnc)
    if not dry_run and (listed := guard.store.lookup(to)) is not None:
        # Refused before a single request: the list alone decides.
        raise blocked_error(to, guard.dnc_verdict(to, listed))
    with before_the_post():  # these read the API: a failure there sent nothing
        recent = contact_history(app_ctx, guard, {to})
        verdicts = guard.verdicts([to])[to]
        may_call = times.allowed or quiet_hours_waived(app_ctx, allow_quiet_hours)
        if dry_run:
            show_dispatch_plan(app_ctx, request, times, window, may_call, verdicts, as_json)
    refused = next((verdict for verdict in verdicts if not verdict.allowed), None)
    if refused is not None:
        raise blocked_error(to, refused)
    if not may_call:
        raise phones.quiet_hours_error(times, window)
    return guard, recent.known(request.key)


def _send(
    app_ctx: AppContext, guard: Guard, request: DispatchRequest, known: frozenset[int]
) -> Dispatched:
    """The POST, through the guard; a lost answer is looked up in GET /calls, never sent
    again."""
    from zazacli.calls import dispatch as dispatching

    out = app_ctx.out
    try:
        result = dispatching.guarded_dispatch(
            app_ctx.api,
            guard,
            request,
            source="dispatch",
            known=known,
            reconcile_wait=dispatching.reconcile_wait(app_ctx.env),
            sleep=app_ctx.timing.sleep,
            monotonic=app_ctx.timing.clock,
        )
    except KeyboardInterrupt:
        out.notice(
            "\ninterrupted while dispatching: the call may have been queued. Check before "
            "retrying: zaza calls list --direction outbound --since 10m"
        )
        raise typer.Exit(INTERRUPTED_EXIT) from None
    if result.reconciled:
        out.notice(
            f"the API's answer was lost or unusable ({result.lost_answer}), but GET /calls "
            f"shows the call was queued as {result.call_id}"
        )
    else:
        out.notice(f"queued call {result.call_id}: {request.from_number} -> {request.to_number}")
    return result


def show_dispatch_plan(
    app_ctx: AppContext,
    request: DispatchRequest,
    times: LocalTimes,
    window: CallingWindow,
    may_call: bool,
    verdicts: list[Verdict],
    as_json: bool,
) -> None:
    from zazacli.output.dispatch import dispatch_plan

    out = app_ctx.out
    agent = fetch_agent(app_ctx, request.agent_id)
    active = bool(agent.get("isActive", True))
    if not active:
        out.warn(f"agent {request.agent_id} is not active; the API would refuse this call")
    settings = app_ctx.settings
    within = "yes" if times.allowed else "no" + (" (not enforced)" if may_call else "")
    if as_json:
        out.json_document(
            {
                "dryRun": True,
                "request": request.body(),
                "idempotencyKey": request.idempotency_key,
                "agent": agent,
                "profile": settings.profile_name,
                "baseUrl": settings.base_url,
                "calleeLocalTimes": times.as_dict(),
                "callingWindow": window.text,
                "callingWindowRule": window.why or "quiet_hours",
                "withinCallingWindow": times.allowed,
                "policy": [verdict.as_dict() for verdict in verdicts],
            }
        )
        return
    out.notice("dry run: nothing is sent")
    dispatch_plan(
        out,
        [
            ("from", request.from_number),
            ("to", request.to_number),
            (
                "agent",
                f"{request.agent_id} {agent.get('name') or ''}".strip()
                + ("" if active else " (INACTIVE)"),
            ),
            ("variables", request.variables or "(none)"),
            ("profile", settings.profile_name or "(none)"),
            ("base URL", settings.base_url),
            ("callee local time", times.describe()),
            ("calling window", f"{window.described}, within: {within}"),
            *policy_rows(verdicts),
            ("idempotency key", request.idempotency_key),
        ],
    )


def policy_rows(verdicts: list[Verdict]) -> list[tuple[str, str]]:
    """Each contact-policy rule's verdict, as plan rows."""
    names = {"dnc": "do-not-call", "cap": "frequency cap", "repeat": "repeat window"}
    return [
        (names.get(v.rule, v.rule), ("ok: " if v.allowed else "BLOCKED: ") + v.detail)
        for v in verdicts
    ]
