"""`zaza calls wait ID`: follow a call to its end; the exit code tells how it ended."""

from __future__ import annotations

from typing import Annotated

import typer

from zazacli.commands.app import get_context
from zazacli.commands.calls.shared import CallId, TranscriptOpt, follow_and_report
from zazacli.commands.options import JqOpt, ReportFormatOpt, TemplateOpt
from zazacli.errors import (
    CALL_OUTCOME_EXIT,
    INTERRUPTED_EXIT,
    UNKNOWN_STATUS_EXIT,
    WAIT_TIMEOUT_EXIT,
    NotFoundError,
    exit_codes_help,
)

WAIT_EPILOG = exit_codes_help(
    {
        0: "the call ended COMPLETED",
        NotFoundError.exit_code: "no such call",
        CALL_OUTCOME_EXIT["FAILED"]: "FAILED",
        CALL_OUTCOME_EXIT["NO_ANSWER"]: "NO_ANSWER",
        CALL_OUTCOME_EXIT["BUSY"]: "BUSY",
        CALL_OUTCOME_EXIT["CANCELED"]: "CANCELED",
        WAIT_TIMEOUT_EXIT: "timed out before the call ended (it goes on)",
        UNKNOWN_STATUS_EXIT: "the call ended in a status zaza does not know",
        INTERRUPTED_EXIT: "Ctrl-C (the call goes on)",
    }
)


def wait(
    ctx: typer.Context,
    call_id: CallId,
    timeout: Annotated[
        str, typer.Option("--timeout", help="Give up waiting after this long (90s, 15m, 1h).")
    ] = "15m",
    transcript: TranscriptOpt = False,
    fmt: ReportFormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
) -> None:
    """Follow a call until it ends, then print it; the exit code tells how it ended.

    For scripts that dispatch, do other work, then wait: zaza calls wait "$ID".

    \b
    Examples:
      zaza calls wait 90501
      zaza calls wait 90501 --timeout 20m --transcript
    """
    from zazacli.times import parse_duration

    app_ctx = get_context(ctx)
    chosen = app_ctx.out.view(fmt, jq=jq, template=template).format
    follow_and_report(app_ctx, call_id, parse_duration(timeout, "--timeout"), transcript, chosen)
