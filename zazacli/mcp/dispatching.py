"""`dispatch_call`: one outbound call through exactly the path of `zaza calls dispatch`
(calls/admission.py): the numbers read as E.164, the contact policy (do-not-call list,
frequency cap, repeat window), the callee's calling window, then the POST through the
policy's guard, and a lost answer looked up in GET /calls, never sent again. There is no
prompt (stdin is the protocol): `--allow-dispatch` was the consent, `--max-dispatches`
caps the calls that reach the POST in one server run."""

from __future__ import annotations

from zazacli.errors import BlockedError, UsageError, ZazaError
from zazacli.mcp.args import Args
from zazacli.mcp.tools import Backing, Result


class DispatchCapError(ZazaError):
    """--max-dispatches reached: nothing more is dialled in this server run."""

    exit_code = UsageError.exit_code


def dispatch_call(args: Args, backing: Backing) -> Result:
    from zazacli.calls.admission import admit, read_request, send

    if backing.dialling is None:  # never listed then; a client that calls it anyway
        raise UsageError("dispatch_call needs zaza mcp --allow-dispatch")
    if backing.dispatched >= backing.max_dispatches:
        raise DispatchCapError(
            f"this server has dispatched {backing.dispatched} calls, its --max-dispatches: "
            "nothing more is dialled until it is restarted",
            hint="restart zaza mcp with a higher --max-dispatches",
        )
    from_number = args.required_text("fromNumber")
    to_number = args.required_text("toNumber")
    agent_id = args.required_id("agentId")
    variables = args.mapping("variables")
    dialling = backing.dialling()
    dialling.warn = dialling.notice = backing.notes.append
    request = read_request(from_number, to_number, agent_id, variables, region=backing.region)
    admission = admit(dialling, request, dry_run=False, allow_quiet_hours=False)
    refusal = admission.refusal()
    if refusal is not None:
        if not isinstance(refusal, BlockedError):  # quiet hours: no waiving them from here
            refusal.hint = (
                "call later; the window is the profile's quiet_hours "
                "(zaza profiles set NAME quiet_hours HH:MM-HH:MM)"
            )
        raise refusal
    # From here the POST may go out: counted whatever its outcome (refused by the API,
    # queued, found after a lost answer, or unknown).
    backing.dispatched += 1
    result = send(dialling, admission)
    extra = {
        "callId": result.call_id,
        "reconciled": result.reconciled,
        "dispatchesLeft": backing.max_dispatches - backing.dispatched,
    }
    if result.reconciled:
        backing.notes.append(
            f"the API's answer was lost ({result.lost_answer}), but GET /calls shows the "
            f"call was queued as {result.call_id}; it was not sent again"
        )
    about = f"queued call {result.call_id}: {request.from_number} -> {request.to_number}"
    return Result(about, result.call, extra)
