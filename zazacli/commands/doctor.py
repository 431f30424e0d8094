"""`zaza doctor`: check the configured API against every assumption zaza makes (read-only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from zazacli.commands.app import get_context, single_command
from zazacli.commands.options import JqOpt, ReportFormatOpt, TemplateOpt
from zazacli.commands.policy import DncOpt
from zazacli.errors import AuthError, NetworkError, ZazaError, exit_codes_help

if TYPE_CHECKING:
    from zazacli.api.doctor import Check
    from zazacli.context import AppContext

DOCTOR_EPILOG = exit_codes_help(
    {
        0: "zaza can work correctly against this API (differences it copes with included)",
        ZazaError.exit_code: "an assumption fails in a way zaza cannot work around (marked "
        "'cannot work correctly')",
        AuthError.exit_code: "the key is missing or refused (401/403): nothing was checked",
        NetworkError.exit_code: "the API cannot be reached (no such host, connection refused, "
        "no answer in time): nothing was checked",
    }
)


def doctor(
    ctx: typer.Context,
    fmt: ReportFormatOpt = None,
    dnc: DncOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
) -> None:
    """Check the configured API against every assumption zaza makes.

    Read-only: a few dozen GETs, no dispatch. One line per assumption: ✓ as assumed (and
    checked), ✗ different (and what zaza does about it), ? cannot tell. A host that cannot
    be reached (exit 6) or a key that is refused (exit 4) stops it early, and is what it
    ends with: nothing about the API could be checked. The last line says whether
    the contact policy (do-not-call list and dial ledger) can be read: when it cannot,
    nothing is dialled. Run it first against a new API or base URL, and paste its output
    into bug reports; the key is never printed.

    \b
    Examples:
      zaza doctor
      zaza --profile prod doctor
      zaza --profile staging doctor --json > doctor.json
    """
    from zazacli.api.doctor import run_checks
    from zazacli.output import Format
    from zazacli.output.doctor import doctor_line, doctor_summary

    app_ctx = get_context(ctx)
    out = app_ctx.out
    json_report = out.view(fmt, jq=jq, template=template).format is Format.json
    on_check = None if json_report else (lambda check: doctor_line(out, check))
    report = run_checks(app_ctx.api, on_check=on_check)
    policy = policy_check(app_ctx, dnc)
    report.checks.append(policy)
    if on_check is not None:
        on_check(policy)
    if json_report:
        out.json_document(report.as_dict())
    else:
        doctor_summary(out, report)
    if report.stopped is not None:
        raise report.stopped
    if not report.ok:
        raise ZazaError(
            "the API differs from what zaza assumes in a way it cannot work around",
            hint="see the lines marked 'cannot work correctly' above",
        )


def policy_check(app_ctx: AppContext, given: str | None) -> Check:
    """Whether the do-not-call list and the ledger can be read (fatal when not: every
    dispatch would be refused)."""
    from zazacli.api.doctor import DIFFERS, OK, Check
    from zazacli.commands.policy import open_store, profile_cap

    try:
        with open_store(app_ctx, given, dialling=True) as store:
            listed, dials = store.count(), store.ledger_size()
            path = store.path
        cap = profile_cap(app_ctx)
    except ZazaError as exc:
        return Check(
            "contact policy", DIFFERS, exc.message, "nothing is dialled until it is fixed", True
        )
    limit = f"cap {cap.text}" if cap else "no cap"
    return Check(
        "contact policy",
        OK,
        f"do-not-call list ({listed} numbers) and dial ledger ({dials} dials) readable, "
        f"{limit}: {path}",
    )


app = single_command("doctor", doctor, epilog=DOCTOR_EPILOG)
