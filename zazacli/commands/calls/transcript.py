"""`zaza calls transcript ID`: the transcript alone, as text, JSON or SubRip."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from zazacli.commands.calls.shared import CallId
from zazacli.commands.options import get_context


class TranscriptFormat(StrEnum):
    text = "text"
    json = "json"
    srt = "srt"


def transcript(
    ctx: typer.Context,
    call_id: CallId,
    fmt: Annotated[
        TranscriptFormat,
        typer.Option("--format", "-f", help="text: [mm:ss] ROLE: text; json; srt subtitles."),
    ] = TranscriptFormat.text,
) -> None:
    """Print a call's transcript alone, for grep, files and subtitle tools.

    On a terminal, a transcript taller than the screen goes through the pager.

    \b
    Examples:
      zaza calls transcript 90494
      zaza calls transcript 90494 --format srt > 90494.srt
    """

    app_ctx = get_context(ctx)
    call = app_ctx.api.get_call(call_id)
    with app_ctx.out.paged():
        app_ctx.out.transcript(call, fmt.value)
