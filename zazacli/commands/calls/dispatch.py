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
    confirm_dispatch,
    dialling,
    follow_and_report,
)
from zazacli.commands.options import JqOpt, ReportFormatOpt, TemplateOpt
from zazacli.commands.policy import DncOpt
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
    from zazacli.calls.admission import Admission, Dialling
    from zazacli.calls.dispatch import Dispatched, DispatchRequest
    from zazacli.context import AppContext

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
    dialler = dialling(app_ctx, dnc)
    admission = _admit(app_ctx, dialler, request, allow_quiet_hours, dry_run, chosen is Format.json)
    if dry_run:
        return
    confirm_dispatch(
        app_ctx, yes, f"Call {request.to_number} from {request.from_number} with agent {agent}"
    )
    result = _send(app_ctx, dialler, admission)
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
    from zazacli.calls.admission import read_request
    from zazacli.calls.dispatch import parse_variables

    variables = parse_variables(var, vars_file)
    region = region or app_ctx.settings.get("region")
    return read_request(from_number, to, agent, variables, idempotency_key, region=region)


def _admit(
    app_ctx: AppContext,
    dialler: Dialling,
    request: DispatchRequest,
    allow_quiet_hours: bool,
    dry_run: bool,
    as_json: bool,
) -> Admission:
    """Every rule that decides whether this number may be called now (the dry run shows
    each verdict); raises when one refuses."""
    from zazacli.calls.admission import admit
    from zazacli.calls.dispatch import before_the_post

    admission = admit(dialler, request, dry_run=dry_run, allow_quiet_hours=allow_quiet_hours)
    if dry_run:
        with before_the_post():  # the agent is read from the API: a failure sent nothing
            show_dispatch_plan(app_ctx, admission, as_json)
    refusal = admission.refusal()
    if refusal is not None:
        raise refusal
    return admission


def _send(app_ctx: AppContext, dialler: Dialling, admission: Admission) -> Dispatched:
    """The POST, through the guard; a lost answer is looked up in GET /calls, never sent
    again."""
    from zazacli.calls.admission import send

    out = app_ctx.out
    request = admission.request
    try:
        result = send(dialler, admission)
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


def show_dispatch_plan(app_ctx: AppContext, admission: Admission, as_json: bool) -> None:
    from zazacli.calls.admission import fetch_agent
    from zazacli.output.dispatch import dispatch_plan, plan_json, plan_rows

    out = app_ctx.out
    request = admission.request
    agent = fetch_agent(app_ctx.api, request.agent_id)
    if not agent.get("isActive", True):
        out.warn(f"agent {request.agent_id} is not active; the API would refuse this call")
    settings = app_ctx.settings
    if as_json:
        out.json_document(plan_json(admission, agent, settings.profile_name, settings.base_url))
        return
    out.notice("dry run: nothing is sent")
    dispatch_plan(out, plan_rows(admission, agent, settings.profile_name, settings.base_url))
