"""`zaza doctor`: check the configured API against every assumption zaza makes (read-only)."""

from __future__ import annotations

import typer

from zazacli.commands.options import JsonOpt, ReportFormatOpt, get_context, single_command
from zazacli.errors import ZazaError, exit_codes_help

DOCTOR_EPILOG = exit_codes_help(
    {
        0: "zaza can work correctly against this API (differences it copes with included)",
        ZazaError.exit_code: "an assumption fails in a way zaza cannot work around (marked "
        "'cannot work correctly')",
    }
)


def doctor(ctx: typer.Context, fmt: ReportFormatOpt = None, as_json: JsonOpt = False) -> None:
    """Check the configured API against every assumption zaza makes.

    Read-only: a few dozen GETs, no dispatch. One line per assumption: ✓ as assumed,
    ✗ different (and what zaza does about it), ? cannot tell. Run it first against a new
    API or base URL, and paste its output into bug reports; the key is never printed.

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
    json_report = out.choose(fmt, json=as_json) is Format.json
    on_check = None if json_report else (lambda check: doctor_line(out, check))
    report = run_checks(app_ctx.api, on_check=on_check)
    if json_report:
        out.json_document(report.as_dict())
    else:
        doctor_summary(out, report)
    if not report.ok:
        raise ZazaError(
            "the API differs from what zaza assumes in a way it cannot work around",
            hint="see the lines marked 'cannot work correctly' above",
        )


app = single_command("doctor", doctor, epilog=DOCTOR_EPILOG)
