"""`zaza calls export-transcripts`: a progress bar on a terminal's stderr (a line every
30 s in a log), then the summary on stderr; `--json` puts the summary on stdout as well."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zazacli.output.progress import Progress

if TYPE_CHECKING:
    from zazacli.calls.export import ExportSummary, Outcome
    from zazacli.output import Output

SHOW_FAILURES = 20


class ExportProgress(Progress):
    """The bar of export-transcripts: transcripts written against the calls to export."""

    def __init__(self, out: Output, total: int | None) -> None:
        super().__init__(out, total, "transcripts")

    def advance(self, outcome: Outcome, summary: ExportSummary) -> None:
        """One call done (called from the exporting thread only)."""
        self.show(summary.done, _short_counts(summary), _export_counts(summary))


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
