"""What `zaza calls sync`, `search` and `archive` print.

Sync: a progress bar on a terminal's stderr (a line every 30 s in a log), then one summary
line. Search: a table with each match highlighted on a terminal; tab-separated lines, CSV,
JSON or JSONL otherwise, where a match is marked `**like this**`. Archive: labelled values.
Everything from the API or the archive passes the terminal-safe filter.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from zazacli.output.formats import Format
from zazacli.output.progress import Progress
from zazacli.output.safe import safe_text
from zazacli.output.values import local_time, rfc3339
from zazacli.sanitize import plain_value, terminal_safe

if TYPE_CHECKING:
    from rich.text import Text

    from zazacli.archive.search import Hit
    from zazacli.archive.sync import SyncSummary
    from zazacli.output import Output

SHOW_FAILURES = 20
HIGHLIGHT = "bold yellow"
SEARCH_CSV = ["call_id", "created_at", "agent_id", "agent", "role", "turn", "snippet", "text"]
_FORMULA_STARTS = ("=", "@", "\t", "\r", "+", "-")


# ---------------------------------------------------------------- sync


class SyncProgress(Progress):
    """The bar of sync: calls done (listed, and their transcript fetched if due) against
    the API's count when it gave one."""

    def __init__(self, out: Output, total: int | None) -> None:
        super().__init__(out, total, "calls", transient=True)

    def update(self, summary: SyncSummary) -> None:
        """After each stored batch and transcript (in the syncing thread)."""
        counts = f"{summary.transcripts:,} transcripts"
        if summary.failed:
            counts += f" · [red]{summary.failed:,} failed[/red]"
        self.show(summary.done, counts, _counts(summary))


def sync_plan(out: Output, path: str, expected: int | None, first: bool) -> None:
    """Said before a first sync or a back-fill: how many calls, when the API tells."""
    older = "" if first else "older "
    if expected is None:
        out.notice(f"mirroring the {older}call history into {path}")
    else:
        out.notice(f"mirroring {expected:,} {older}calls (the API's count) into {path}")


def _counts(summary: SyncSummary) -> str:
    text = f"{summary.new:,} new, {summary.updated:,} updated, "
    text += f"{summary.transcripts:,} transcripts fetched"
    if summary.no_transcript:
        text += f" ({summary.no_transcript:,} calls had none)"
    text += f", {summary.failed:,} failed"
    if summary.live:
        text += f", {summary.live:,} still live (read again next sync)"
    if summary.deleted is not None:
        text += f", {summary.deleted:,} no longer listed by the API (marked deleted)"
    return text


def sync_summary(out: Output, summary: SyncSummary, path: str, *, as_json: bool) -> None:
    """The summary line on stderr (and with --json the same facts on stdout)."""
    if as_json:
        out.json_document({"archive": path, **summary.as_dict()})
    out.notice(f"synced: {_counts(summary)}")
    for call_id, reason in summary.failures[:SHOW_FAILURES]:
        out.notice(f"  call {call_id}: {reason}")
    if summary.failed > SHOW_FAILURES:
        out.notice(f"  … and {summary.failed - SHOW_FAILURES:,} more failures")
    if summary.aborted:
        out.notice(f"  stopped early: {summary.aborted}")
    if summary.incomplete:
        out.notice(
            f"  coverage incomplete: {summary.incomplete} calls the API announced were never "
            "listed; the next sync reads that range again"
        )


# ---------------------------------------------------------------- search


def search_results(out: Output, hits: Iterable[Hit], fmt: Format) -> int:
    """Print the hits (streamed, except the table); returns how many."""
    if fmt is Format.table:
        return _search_table(out, list(hits))
    if fmt is Format.json:
        documents = [hit.as_dict() for hit in hits]
        out.json_document(documents)
        return len(documents)
    count = 0
    writer = csv.writer(out.stdout, lineterminator="\r\n") if fmt is Format.csv else None
    if writer is not None:
        writer.writerow(SEARCH_CSV)
    for hit in hits:
        count += 1
        if writer is not None:
            document = hit.as_dict()
            writer.writerow([_csv_cell(document[name]) for name in SEARCH_CSV])
        elif fmt is Format.jsonl:
            document = hit.as_dict()
            out.json_line(
                document, text=json.dumps(document, ensure_ascii=False, separators=(",", ":"))
            )
        else:
            out.write(_plain_line(hit))
    return count


def _plain_line(hit: Hit) -> str:
    from zazacli.archive.search import marked

    cells = [hit.call_id, rfc3339(hit.created_at), hit.agent_id, hit.role, marked(hit.snippet)]
    return "\t".join(plain_value(value) for value in cells)


def _csv_cell(value: Any) -> str:
    """Text with a formula start neutralised and control characters made visible."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = terminal_safe(str(value), multiline=True)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _search_table(out: Output, hits: list[Hit]) -> int:
    if not hits:
        return 0
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("CALL", no_wrap=True)
    table.add_column("TIME", no_wrap=True)
    # Server data never takes more than its share: a name or a role of any length is cut,
    # and CALL and SNIPPET keep their room at any width.
    table.add_column("AGENT", max_width=24, overflow="ellipsis", no_wrap=True)
    table.add_column("ROLE", max_width=8, overflow="ellipsis", no_wrap=True)
    table.add_column("SNIPPET", ratio=1)
    for hit in hits:
        agent = hit.agent or (str(hit.agent_id) if hit.agent_id is not None else "-")
        table.add_row(
            safe_text(str(hit.call_id)),
            safe_text(local_time(hit.created_at, short=True)),
            safe_text(agent),
            safe_text(hit.role or "?"),
            _highlighted(hit.snippet),
        )
    out.console.print(table)
    return len(hits)


def _highlighted(snippet: list[tuple[str, bool]]) -> Text:
    from rich.text import Text

    text = Text()
    for part, matched in snippet:
        # One line per hit: a newline inside a turn is shown, not followed.
        text.append(terminal_safe(part), style=HIGHLIGHT if matched else "")
    return text


# ---------------------------------------------------------------- archive


def archive_status(out: Output, status: dict[str, Any] | None, path: str, fmt: Format) -> None:
    """Where the archive is and what it holds; None: there is none yet."""
    if fmt is Format.json:
        out.json_document(status if status is not None else {"path": path, "calls": 0})
        return
    if status is None:
        out.key_values([("archive", path), ("calls", "none yet: zaza calls sync creates it")])
        return
    when = (lambda v: local_time(v)) if out.drawn else rfc3339
    source = status["base_url"] or "-"
    if status["key_fingerprint"]:
        source += f" (key {status['key_fingerprint']})"
    calls = f"{status['calls']:,}"
    parts = [f"{status['transcripts']:,} with transcripts"]
    for key, label in (("transcripts_pending", "to fetch"), ("live", "live")):
        if status[key]:
            parts.append(f"{status[key]:,} {label}")
    rows: list[tuple[str, Any]] = [
        ("archive", path),
        ("size", _size(status["size_bytes"])),
        ("api", source),
        ("calls", f"{calls} ({', '.join(parts)})"),
        ("turns", f"{status['turns']:,}"),
        ("oldest", when(status["oldest"]) if status["oldest"] else "-"),
        ("newest", when(status["newest"]) if status["newest"] else "-"),
        ("last sync", _last_sync(status["last_sync"], when)),
    ]
    from zazacli.api.listing import CallFilter
    from zazacli.archive.sync import scope_of

    everything = scope_of(CallFilter())
    if status["deleted"]:
        rows.append(("deleted", f"{status['deleted']:,} calls the API no longer lists"))
    for refresh in status["refreshed"]:
        since = f"since {when(refresh['since'])}" if refresh["since"] else "whole history"
        scope = "" if refresh["scope"] == everything else f" ({refresh['scope']})"
        rows.append(("refreshed", f"{since}{scope}: {when(refresh['at'])}"))
    if status["pruned_before"]:
        rows.append(("pruned before", when(status["pruned_before"])))
    out.key_values(rows)


def _last_sync(last: dict[str, Any] | None, when: Any) -> str:
    if last is None:
        return "never"
    outcome = last["outcome"]
    if outcome == "interrupted":
        return f"{when(last['started_at'])}, interrupted (sync again to complete it)"
    return f"{when(last['finished_at'])}, {outcome}"


def pruned(out: Output, count: int, before: str) -> None:
    out.notice(f"pruned {count:,} call{'s' if count != 1 else ''} created before {before}")


def _size(size: int) -> str:
    value, unit = float(size), "B"
    for bigger in ("KiB", "MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
