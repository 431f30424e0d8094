"""`zaza calls stats` (zazacli/calls/stats.py computes): on a terminal a Rich table with
bars, and a chart over time for --by day|hour; headerless TSV when piped (the summary line
then goes to stderr); `--json`, `--csv`. Costs are always labelled as estimates, with the
rates they use. And `reading`, the transient count while it reads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from zazacli.output.formats import Format
from zazacli.output.formats.csv import write_csv
from zazacli.output.safe import safe_text
from zazacli.output.values import STATUS_STYLES, duration
from zazacli.sanitize import plain_value, terminal_safe
from zazacli.times import parse_time

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

    from zazacli.output import Output

# The columns of `calls stats --csv`, and of its TSV (headerless) when piped.
STATS_FIELDS = [
    "key",
    "name",
    "count",
    "share",
    "median_duration_s",
    "p90_duration_s",
    "answered",
    "ended_outbound",
    "answer_rate",
    "talk_minutes",
    "billed_minutes",
    "estimated_cost_usd",
]
BLOCKS = " ▁▂▃▄▅▆▇█"
CHART_HEIGHT = 8
BAR_MIN, BAR_MAX = 4, 30  # cells of a group's bar; under BAR_MIN left, none is drawn


def _percent(value: Any) -> str:
    return "-" if value is None else f"{value:.1%}"


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _rate(value: float) -> str:
    """`$0.15`, or `$0.125` for a negotiated rate with more digits."""
    return f"${value:.2f}" if round(value, 2) == value else f"${value:g}"


def cost_notes(report: dict[str, Any]) -> list[str]:
    """What the estimate assumes, and what it leaves out."""
    rates = report["rates"]
    notes = [
        f"Estimated at {_rate(rates['outbound_usd_per_minute'])}/min outbound, "
        f"{_rate(rates['inbound_usd_per_minute'])}/min inbound ({rates['source']}), each "
        "call rounded up to the minute; not an invoice."
    ]
    unpriced = report.get("unpriced_calls")
    if unpriced:
        calls = "call" if unpriced == 1 else "calls"
        notes.append(f"{unpriced:,} {calls} without a duration or direction count $0.")
    return notes


def _stats_key_text(key: Any, by: str) -> str:
    """Table label of a group key: weekday for days, short local time for hours."""
    if key is None:
        return "(no time)" if by in ("day", "hour") else "(none)"
    if by == "day":
        return datetime.fromisoformat(str(key)).strftime("%a %Y-%m-%d")
    if by == "hour":
        return datetime.fromisoformat(str(key)).strftime("%a %m-%d %H:00")
    return terminal_safe(str(key))  # a status, disposition, reason or id, as sent


def _range_text(report: dict[str, Any]) -> str:
    def day(value: Any) -> str:
        parsed = parse_time(value)
        return parsed.astimezone().strftime("%Y-%m-%d %H:%M") if parsed else "?"

    since, until = report.get("since"), report.get("until")
    if since and until:
        return f"{day(since)} → {day(until)}"
    if since:
        return f"since {day(since)}"
    if until:
        return f"before {day(until)}"
    return "all time"


def stats_summary_line(report: dict[str, Any]) -> str:
    """One line: total, answer rate, talk time, median and p90 durations."""
    parts = [f"{report['total']:,} calls"]
    if report.get("ended_outbound"):
        parts.append(
            f"answer rate {_percent(report['answer_rate'])} "
            f"({report['answered']:,} of {report['ended_outbound']:,} ended outbound)"
        )
    else:
        parts.append("answer rate - (no ended outbound calls)")
    parts.append(f"talk {report['talk_minutes']:,.1f} min")
    if report.get("median_duration_s") is not None:
        parts.append(
            f"median {duration(report['median_duration_s'])}, "
            f"p90 {duration(report['p90_duration_s'])}"
        )
    parts.append(f"est. cost {_usd(report['estimated_cost_usd'])}")
    return " · ".join(parts)


def _source_text(report: dict[str, Any]) -> str:
    """` · from the archive (synced 2026-11-26 14:03)` for --local; nothing for the API."""
    if report.get("source") != "archive":
        return ""
    synced = parse_time(report.get("synced_at"))
    when = f"synced {synced.astimezone():%Y-%m-%d %H:%M}" if synced else "no sync finished yet"
    return f" · from the archive ({when})"


def stats_report(out: Output, report: dict[str, Any], fmt: Format) -> None:
    """`calls stats` in the chosen format."""
    if fmt in (Format.json, Format.jsonl):
        out.json_document(report)
        return
    if fmt is Format.csv:
        write_csv(out, report["groups"], STATS_FIELDS)
        return
    if fmt is Format.plain:
        for group in report["groups"]:
            out.write("\t".join(plain_value(group.get(name)) for name in STATS_FIELDS))
        out.notice(stats_summary_line(report))
        return
    _stats_table(out, report)


def _stats_table(out: Output, report: dict[str, Any]) -> None:
    out.console.print(stats_heading(report))
    if report["total"] == 0:
        out.notice("no calls match")
        return
    chart = time_chart(report, out.console.width) if report["by"] in ("day", "hour") else None
    if chart is not None:
        out.console.print()
        if chart:
            out.console.print(chart)
    out.console.print()
    out.console.print(groups_table(report, out.console.width))
    for note in cost_notes(report):
        out.console.print(safe_text(note, "dim"))


def stats_heading(report: dict[str, Any]) -> Text:
    """`Calls by status · since … (local time, zone) · from the archive`, then the summary."""
    from rich.text import Text

    by = report["by"]
    zone = report.get("timezone")
    where = f" (local time, {zone})" if by in ("day", "hour") and zone else ""
    return Text.assemble(
        safe_text(f"Calls by {by}", "bold"),
        safe_text(f" · {_range_text(report)}{where}{_source_text(report)}"),
        "\n",
        safe_text(stats_summary_line(report)),
    )


def groups_table(report: dict[str, Any], console_width: int) -> Table:
    """One row per group: its calls, share and bar, answer rate, durations and cost. The
    bar gets what the figures leave of the width (at most 30 cells), and is left out when
    that is under 4: a figure is never cut short for it."""
    from rich.cells import cell_len
    from rich.table import Table

    from zazacli.output.formats.table import GAP

    by = report["by"]
    groups = report["groups"]
    has_names = any("name" in g for g in groups)
    show_rate = by not in ("status", "disposition", "failure")
    headers = _stats_headers(by, has_names=has_names, show_rate=show_rate)
    rows = [_stats_row(group, by, has_names=has_names, show_rate=show_rate) for group in groups]
    natural = [
        max([cell_len(header)] + [cell_len(str(row[i])) for row in rows])
        for i, header in enumerate(headers)
    ]
    bar = min(BAR_MAX, console_width - sum(natural) - GAP * len(headers))
    drawn = bar >= BAR_MIN
    peak = max((g["count"] for g in groups), default=0) or 1
    table = Table(box=None, header_style="bold", pad_edge=False)
    at = headers.index("SHARE") + 1  # the bar follows the share
    for i, header in enumerate(headers):
        if i == at and drawn:
            table.add_column("", no_wrap=True)
        name = i == 1 and has_names  # the one column that wraps; the figures never do
        table.add_column(header, justify="left" if i == 0 or name else "right", no_wrap=not name)
    for group, row in zip(groups, rows, strict=True):
        if drawn:
            row = [*row[:at], _bar_cell(group, by, bar, peak, _group_style(group, by)), *row[at:]]
        table.add_row(*row)
    return table


def _stats_headers(by: str, *, has_names: bool, show_rate: bool) -> list[str]:
    headers = [by.upper(), *(["NAME"] if has_names else []), "CALLS", "SHARE"]
    headers += ["ANSWERED"] if show_rate else []
    return headers + ["MEDIAN", "P90", "TALK MIN", "EST. COST"]


def _group_style(group: dict[str, Any], by: str) -> str:
    if by == "failure" and group["key"] is not None:
        return "red"
    if by in ("day", "hour"):
        return "cyan"
    return STATUS_STYLES.get(str(group["key"]).upper(), "cyan")


def _stats_row(
    group: dict[str, Any], by: str, *, has_names: bool, show_rate: bool
) -> list[Text | str]:
    """A group's figures, in the order of `_stats_headers` (the bar is added apart)."""
    row: list[Text | str] = [_key_cell(group["key"], by, _group_style(group, by))]
    if has_names:
        row.append(safe_text(group.get("name") or "-"))
    row += [f"{group['count']:,}", f"{group['share']:.0%}"]
    if show_rate:
        row.append(_percent(group["answer_rate"]))
    row += [
        duration(group["median_duration_s"]) if group["median_duration_s"] is not None else "-",
        duration(group["p90_duration_s"]) if group["p90_duration_s"] is not None else "-",
        f"{group['talk_minutes']:,.1f}",
        _usd(group["estimated_cost_usd"]),
    ]
    return row


def _key_cell(key: Any, by: str, style: str) -> Text:
    """The group's label: weekend days dim, statuses and dispositions in their colour."""
    key_text = _stats_key_text(key, by)
    coloured = by in ("status", "disposition", "failure") and key is not None
    weekend = by == "day" and key_text[:3] in ("Sat", "Sun")
    return safe_text(key_text, "dim" if weekend else style if coloured else "")


def _bar_cell(group: dict[str, Any], by: str, width: int, peak: int, style: str) -> Text:
    count = group["count"]
    # Over time each bar is against the busiest bucket, so a dip stands out; otherwise
    # against the total, so the bars read as shares.
    fraction = count / peak if by in ("day", "hour") else group["share"]
    cells = round(fraction * width)
    return safe_text("█" * cells, style) if cells else safe_text("·" if not count else "", "dim")


def time_chart(report: dict[str, Any], console_width: int) -> Text:
    """Calls per day or hour as columns, oldest left; a note instead when it would not fit."""
    from rich.text import Text

    by = report["by"]
    groups = [g for g in report["groups"] if g["key"] is not None]
    counts = [int(g["count"]) for g in groups]
    if not counts:
        return Text()
    peak = max(counts)
    axis = max(len(f"{peak:,}"), 1)
    room = console_width - axis - 2
    if len(counts) > room:
        return safe_text("(too many buckets for a chart; the bars below are in order)", "dim")
    step = 2 if len(counts) * 2 <= room else 1
    eighths = [0 if not c else max(1, round(c / (peak or 1) * CHART_HEIGHT * 8)) for c in counts]
    chart = Text()
    for level in range(CHART_HEIGHT, 0, -1):
        label = f"{peak:,}" if level == CHART_HEIGHT else ""
        chart.append(label.rjust(axis) + (" ┤" if level == CHART_HEIGHT else " │"), "dim")
        for filled in eighths:
            part = min(8, max(0, filled - (level - 1) * 8))
            chart.append(BLOCKS[part] + (" " if step == 2 else ""), "cyan")
        chart.append("\n")
    chart.append("0".rjust(axis) + " └" + "─" * (len(counts) * step) + "\n", "dim")
    first, last = (_stats_key_text(groups[i]["key"], by)[4:] for i in (0, -1))
    span = len(counts) * step
    if len(first) + len(last) + 1 <= span:
        labels = first + last.rjust(span - len(first))
    else:
        labels = first
    chart.append(" " * (axis + 2) + labels, "dim")
    return chart


def reading(out: Output, items: Iterable[dict[str, Any]], what: str) -> Iterator[dict[str, Any]]:
    """Pass items through; on a terminal, a transient `reading calls… 12,300` on stderr."""
    if not out.err_tty:
        yield from items
        return
    count = 0
    with out.err_console.status(f"reading {what}…") as status:
        for item in items:
            yield item
            count += 1
            if count % 500 == 0:
                status.update(f"reading {what}… {count:,}")
