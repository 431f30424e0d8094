"""`zaza calls transcript ID`: the transcript alone, as text, JSON or SubRip."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from zazacli.commands.app import get_context
from zazacli.commands.calls.archive import ArchiveOpt
from zazacli.commands.calls.shared import CallId
from zazacli.commands.options import JqOpt, TemplateOpt
from zazacli.errors import UsageError


class TranscriptFormat(StrEnum):
    text = "text"
    json = "json"
    srt = "srt"


def transcript(
    ctx: typer.Context,
    call_id: CallId,
    fmt: Annotated[
        TranscriptFormat,
        typer.Option("--format", "-o", help="text: [mm:ss] ROLE: text; json; srt subtitles."),
    ] = TranscriptFormat.text,
    local: Annotated[
        bool,
        typer.Option(
            "--local",
            help="Read the transcript from the local archive (zaza calls sync), offline.",
        ),
    ] = False,
    archive_file: ArchiveOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
) -> None:
    """Print a call's transcript alone, for grep, files and subtitle tools.

    On a terminal, a transcript taller than the screen goes through the pager. A call
    with no turns prints none, and says so on stderr with its status and failure reason
    (`no transcript: FAILED, CARRIER_ERROR`; exit 0). With --local, from the archive
    `zaza calls sync` keeps (exit 3 if the call is not in it).

    \b
    Examples:
      zaza calls transcript 90494
      zaza calls transcript 90494 -o srt > 90494.srt
      zaza calls transcript 90494 --local | grep -i refund
    """
    app_ctx = get_context(ctx)
    if jq is not None or template is not None:
        # They read the turns as -o json prints them (text, the default, gives way).
        if fmt is TranscriptFormat.srt:
            raise UsageError("--jq and --template work on JSON output: not with -o srt")
        app_ctx.out.view(TranscriptFormat.json.value, jq=jq, template=template)
        fmt = TranscriptFormat.json
    if local:
        from zazacli.commands.calls.show import local_call

        call, _ = local_call(app_ctx, call_id, archive_file, naming=False)
    else:
        call = app_ctx.api.get_call(call_id)
    with app_ctx.out.paged():
        app_ctx.out.transcript(call, fmt.value)
    from zazacli.calls.transcript import no_transcript_note, transcript_turns

    # A call the archive holds without its transcript has had its own note (local_call).
    if not transcript_turns(call) and (not local or "turns" in call):
        app_ctx.out.notice(no_transcript_note(call))
