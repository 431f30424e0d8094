"""`zaza calls`: the noun and its verbs, one module each, registered here in help order."""

from __future__ import annotations

from zazacli.commands.app import noun_app
from zazacli.commands.calls import (
    archive,
    batch,
    check,
    dispatch,
    export,
    review,
    search,
    show,
    stats,
    sync,
    tail,
    transcript,
    wait,
)
from zazacli.commands.calls import list as list_
from zazacli.errors import exit_codes_help

app = noun_app("calls", epilog=exit_codes_help())
app.command("list")(list_.list_calls)
app.command("show")(show.show_call)
app.command("transcript")(transcript.transcript)
app.command("dispatch", epilog=dispatch.DISPATCH_EPILOG)(dispatch.dispatch)
app.command("wait", epilog=wait.WAIT_EPILOG)(wait.wait)
app.command("batch", epilog=batch.BATCH_EPILOG)(batch.batch)
app.command("tail", epilog=tail.TAIL_EPILOG)(tail.tail)
app.command("stats")(stats.stats)
app.command("check", cls=check.CheckCommand, epilog=check.CHECK_EPILOG)(check.check)
app.command("export-transcripts")(export.export_transcripts)
app.command("sync")(sync.sync)
app.command("search")(search.search)
app.command("review", epilog=review.REVIEW_EPILOG)(review.review)
app.command("archive")(archive.archive)
