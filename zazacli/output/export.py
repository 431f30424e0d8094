"""`zaza calls export-transcripts`: a progress bar on a terminal's stderr (a line every
30 s in a log), then the summary on stderr; `--json` puts the summary on stdout as well."""

from __future__ import annotations

import time
from typing import IO, TYPE_CHECKING, Any

from zazacli.output.safe import safe_text

if TYPE_CHECKING:
    from zazacli.calls.export import ExportSummary, Outcome
    from zazacli.output import Output

SHOW_FAILURES = 20


class ExportProgress:
    """A progress bar on a terminal's stderr while transcripts are exported; in a log, a
    line every 30 seconds. API notices (429 retries) are printed above the bar."""

    LOG_EVERY = 30.0

    def __init__(self, out: Output, total: int | None) -> None:
        self.out = out
        self.total = total
        self._progress: Any = None
        self._task: Any = None
        self._saved_stderr: IO[str] | None = None
        self._last_log = time.monotonic()

    def __enter__(self) -> ExportProgress:
        if self.out.err_tty:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            columns: list[Any] = [TextColumn("[bold]transcripts")]
            if self.total is None:
                columns += [SpinnerColumn(), TextColumn("{task.completed:,}"), TimeElapsedColumn()]
            else:
                columns += [BarColumn(bar_width=20), MofNCompleteColumn(), TimeRemainingColumn()]
            columns.append(TextColumn("{task.fields[counts]}"))
            self._progress = Progress(*columns, console=self.out.err_console)
            self._progress.start()
            self._task = self._progress.add_task("export", total=self.total, counts="")
            # Notices of the API client (retries) go above the bar, not through it.
            self._saved_stderr = self.out.stderr
            self.out.stderr = _ConsoleLines(self._progress.console)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if self._saved_stderr is not None:
            self.out.stderr = self._saved_stderr
            self._saved_stderr = None

    def advance(self, outcome: Outcome, summary: ExportSummary) -> None:
        """One call done (called from the exporting thread only)."""
        if self._progress is not None:
            self._progress.update(self._task, advance=1, counts=_short_counts(summary))
        elif time.monotonic() - self._last_log >= self.LOG_EVERY:
            self._last_log = time.monotonic()
            of = f"/{self.total}" if self.total is not None else ""
            self.out.notice(f"progress: {summary.done}{of} calls: {_export_counts(summary)}")


class _ConsoleLines:
    """A text stream that prints whole lines through a Rich console (above a live bar)."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self._partial = ""

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self.console.print(safe_text(line), highlight=False)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def _short_counts(summary: ExportSummary) -> str:
    """For the bar, which has little room: written, then only the counts that are not 0."""
    parts = [f"{summary.written:,} written"]
    for count, label in (
        (summary.skipped, "existed"),
        (summary.no_transcript, "no turns"),
        (summary.in_progress, "live"),
        (summary.failed, "[red]failed[/red]"),
    ):
        if count:
            parts.append(f"{count:,} {label}")
    return " · ".join(parts)


def _export_counts(summary: ExportSummary) -> str:
    text = (
        f"written {summary.written}, skipped {summary.skipped} (exist), "
        f"no transcript {summary.no_transcript}, failed {summary.failed}"
    )
    if summary.in_progress:
        text += f", still in progress {summary.in_progress}"
    return text


def export_summary(
    out: Output, summary: ExportSummary, directory: str, fmt: str, *, as_json: bool
) -> None:
    """The closing lines on stderr (and with --json the same facts as JSON on stdout)."""
    if as_json:
        out.json_document({"directory": directory, "format": fmt, **summary.as_dict()})
    out.notice(_export_counts(summary))
    if summary.in_progress:
        out.notice(f"  {summary.in_progress} call(s) had not ended: no file yet; run again later")
    for call_id, reason in summary.failures[:SHOW_FAILURES]:
        out.notice(f"  call {call_id}: {reason}")
    if summary.failed > SHOW_FAILURES:
        out.notice(f"  … and {summary.failed - SHOW_FAILURES} more failures")
    if summary.stale_temp_removed:
        out.notice(f"  removed {summary.stale_temp_removed} temp file(s) of an interrupted run")
    if summary.aborted:
        out.notice(f"  stopped early: {summary.aborted}")
