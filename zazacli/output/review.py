"""What `zaza calls review` prints: one finding per row (a table with the match highlighted
on a terminal; tab-separated lines, CSV, JSON or JSONL otherwise, where the match is
marked `**like this**`), then on stderr the summary and the numbers put on the
do-not-call list. Transcripts are text from outside: every excerpt passes the
terminal-safe filter (JSON keeps it exact, its control characters as escapes).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from zazacli.output.formats import Format
from zazacli.output.safe import safe_text
from zazacli.output.values import local_time
from zazacli.sanitize import json_safe, terminal_safe

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

    from zazacli.archive.review.evaluate import Finding, OptOut, ReviewSummary
    from zazacli.output import Output

HIGHLIGHT = "bold yellow"
REVIEW_CSV = [
    "callId",
    "createdAt",
    "agentId",
    "agent",
    "rule",
    "kind",
    "turn",
    "speaker",
    "excerpt",
    "match",
    "phrase",
    "note",
]


def review_findings(out: Output, findings: Iterable[Finding], fmt: Format) -> int:
    """Print the findings as they come (a table once they are all in); returns how many.
    With --jq or --template, they go through it as the JSON (or JSON lines) they are."""
    if out.query is not None:
        return out.query.rows(out, (finding.as_dict() for finding in findings), fmt)
    if fmt is Format.table:
        return _table(out, list(findings))
    if fmt is Format.json:
        return _json_array(out, findings)
    count = 0
    writer = csv.writer(out.stdout, lineterminator="\r\n") if fmt is Format.csv else None
    if writer is not None:
        from zazacli.output.formats.csv import cell

        writer.writerow(REVIEW_CSV)
    for finding in findings:
        count += 1
        if writer is not None:
            document = finding.as_dict()
            writer.writerow([cell(document[name]) for name in REVIEW_CSV])
        elif fmt is Format.jsonl:
            text = json.dumps(finding.as_dict(), ensure_ascii=False, separators=(",", ":"))
            out.write(json_safe(text))
        else:
            out.write(_plain_line(finding))
    return count


def _json_array(out: Output, findings: Iterable[Finding]) -> int:
    """One JSON document, written a finding at a time (as json.dumps(…, indent=2) would
    write the whole list): a large review is not held in memory to be printed."""
    count = 0
    for finding in findings:
        text = json.dumps(finding.as_dict(), indent=2, ensure_ascii=False)
        indented = "\n".join("  " + line for line in text.splitlines())
        out.stdout.write(("[\n" if count == 0 else ",\n") + json_safe(indented))
        count += 1
    out.write("\n]" if count else "[]")
    return count


def _plain_line(finding: Finding) -> str:
    """id, time (RFC 3339), agent id, rule, turn, speaker, excerpt: tab-separated, the
    text cells terminal-safe (a tab or newline in them written `\\t`, `\\n`)."""
    # The archive keeps `YYYY-MM-DDTHH:MM:SS[.ffffff]` in UTC: RFC 3339 to the second.
    created = f"{finding.created_at[:19]}Z" if finding.created_at else ""
    excerpt = "".join(f"**{text}**" if hit else text for text, hit in finding.excerpt)
    cells = (
        str(finding.call_id),
        created,
        "" if finding.agent_id is None else str(finding.agent_id),
        terminal_safe(finding.rule),
        "" if finding.turn is None else str(finding.turn),
        terminal_safe(finding.speaker or ""),
        terminal_safe(excerpt),
    )
    return "\t".join(cells)


EXCERPT_MIN = 30  # cells the table's excerpt column needs; narrower, a block a finding


def _table(out: Output, findings: list[Finding]) -> int:
    """A table, a finding a row; on a terminal too narrow to leave the excerpt
    EXCERPT_MIN cells (80 columns), each finding as its line of facts with the excerpt
    under it: the words matched are what a person reads the review for."""
    if not findings:
        return 0
    from rich.measure import Measurement

    rows = [_facts(finding) for finding in findings]
    console = out.console
    facts = _facts_table(rows)
    needed = Measurement.get(console, console.options.update_width(10_000), facts).maximum
    if console.width - needed - 2 < EXCERPT_MIN:
        _blocks(out, findings, rows)
    else:
        console.print(_facts_table(rows, [_highlighted(finding) for finding in findings]))
    return len(findings)


def _facts_table(rows: list[list[Text]], excerpts: list[Text] | None = None) -> Table:
    """The findings' facts as a table, and their excerpts as its last column if given."""
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("CALL", no_wrap=True)
    table.add_column("TIME", no_wrap=True)
    # What the server or the rules file named is cut, never given more than its share.
    table.add_column("AGENT", max_width=20, overflow="ellipsis", no_wrap=True)
    table.add_column("RULE", max_width=24, overflow="ellipsis", no_wrap=True)
    table.add_column("TURN", justify="right", no_wrap=True)
    table.add_column("SPEAKER", max_width=8, overflow="ellipsis", no_wrap=True)
    if excerpts is not None:
        table.add_column("EXCERPT", ratio=1)
        rows = [[*row, excerpt] for row, excerpt in zip(rows, excerpts, strict=True)]
    for row in rows:
        table.add_row(*row)
    return table


def _facts(finding: Finding) -> list[Text]:
    agent = finding.agent or (str(finding.agent_id) if finding.agent_id is not None else "-")
    return [
        safe_text(str(finding.call_id)),
        safe_text(local_time(finding.created_at, short=True)),
        safe_text(agent),
        safe_text(finding.rule),
        safe_text("-" if finding.turn is None else str(finding.turn)),
        safe_text(finding.speaker or "-"),
    ]


def _blocks(out: Output, findings: list[Finding], rows: list[list[Text]]) -> None:
    from rich.text import Text

    for finding, row in zip(findings, rows, strict=True):
        call, time, agent, rule, turn, speaker = row
        # The agent last: a line too long for the terminal is cut there.
        facts = Text.assemble(call, "  ", time, "  ", rule, "  turn ", turn, "  ", speaker)
        facts.append_text(Text.assemble("  ", agent))
        facts.stylize("bold", 0, len(call.plain))
        out.console.print(facts, no_wrap=True, overflow="ellipsis")
        for line in _highlighted(finding).wrap(out.console, max(20, out.console.width - 2)):
            line.rstrip()  # the excerpt under its facts, two cells in, no trailing spaces
            out.console.print(Text.assemble("  ", line), no_wrap=True)


def _highlighted(finding: Finding) -> Text:
    from rich.text import Text

    text = Text()
    for part, matched in finding.excerpt:
        # One line per finding: a newline inside a turn is shown, not followed.
        text.append(terminal_safe(part), style=HIGHLIGHT if matched else "")
    if not finding.excerpt:
        text.append(terminal_safe(finding.note), style="dim")
    return text


def review_summary(out: Output, summary: ReviewSummary) -> None:
    """On stderr: the calls reviewed and the findings of each rule; the calls left out;
    the callers who asked not to be called again."""
    counts = ", ".join(f"{rule} {summary.findings[rule]:,}" for rule in summary.rules)
    calls = f"{summary.calls:,} call{'s' if summary.calls != 1 else ''}"
    total = summary.total
    out.notice(f"reviewed {calls}: {total:,} finding{'s' if total != 1 else ''} ({counts})")
    if summary.not_reviewed:
        out.notice(
            f"{summary.not_reviewed:,} calls not reviewed: under way at the last sync, or "
            "their transcript not fetched yet (zaza calls sync reads them again)"
        )
    if summary.opt_outs:
        talked = sum(not opt_out.honoured for opt_out in summary.opt_outs)
        asked = f"{len(summary.opt_outs):,} call{'s' if len(summary.opt_outs) != 1 else ''}"
        out.notice(
            f"callers asked not to be called again in {asked} (kept talking to in {talked:,})"
        )


def opt_outs_pending(out: Output, numbers: int, listed: int | None) -> None:
    """Without --apply: how many numbers --apply would add (all of them when the list
    cannot be read)."""
    new = numbers - (listed or 0)
    already = f"; {listed:,} already listed" if listed else ""
    out.notice(
        f"{new:,} number{'s' if new != 1 else ''} to add to the do-not-call list{already} "
        "(--apply adds them)"
    )


def opt_out_added(out: Output, number: str, opt_out: OptOut, added: bool) -> None:
    state = "added to the do-not-call list" if added else "already on the do-not-call list"
    out.notice(f"{number}: {state} (asked in call {opt_out.call_id})")


def opt_out_unknown_number(out: Output, opt_out: OptOut) -> None:
    number = opt_out.number
    what = f"{number!r} is not a phone number" if number else "the call does not say their number"
    out.warn(
        f"call {opt_out.call_id}: the caller asked not to be called again, but {what}: "
        "add their number yourself (zaza dnc add)"
    )
