"""Everything zazacli prints: lists, records and transcripts as table, plain, json, jsonl or csv.

The rule (after gh): data goes to stdout, everything else to stderr. On a terminal,
Rich tables with local, relative times; when piped, headerless tab-separated lines
with RFC 3339 UTC times and no colour; `--json` one document, `--jsonl` a line per
object. Rich is imported only when a terminal table or panel is drawn.

This module holds the printer and the shapes every command shares; the printing that
belongs to one noun lives beside it: `dispatch.py`, `reports.py`, `webhooks.py`, and
`toolbox.py` (api, calls tail, capabilities).
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import IO, TYPE_CHECKING, Any

from zazacli.calls.transcript import (
    format_offset,
    to_srt,
    transcript_lines,
    transcript_origin,
    transcript_turns,
    turn_offset,
)
from zazacli.output.safe import json_safe, plain_value, safe_text, terminal_safe
from zazacli.times import parse_time

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


class Format(StrEnum):
    table = "table"
    plain = "plain"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


# ---------------------------------------------------------------- value helpers


def rfc3339(value: Any) -> str:
    """UTC, second precision, `Z`: sortable and stable for scripts."""
    parsed = parse_time(value)
    if parsed is None:
        return "" if value is None else str(value)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def relative(value: datetime, now: datetime | None = None) -> str:
    seconds = ((now or datetime.now(UTC)) - value).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            text = f"{int(seconds // size)}{unit}"
            break
    else:
        text = f"{int(seconds)}s"
    return f"in {text}" if future else f"{text} ago"


def local_time(value: Any, *, short: bool = False) -> str:
    """Local wall-clock time plus age; `short` drops the year, for table columns."""
    parsed = parse_time(value)
    if parsed is None:
        return "" if value is None else str(value)
    if short:
        return f"{parsed.astimezone().strftime('%b %d %H:%M')} · {relative(parsed)[:-4]}"
    return f"{parsed.astimezone().strftime('%Y-%m-%d %H:%M')} ({relative(parsed)})"


def duration(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "" if value is None else terminal_safe(str(value))
    total = int(value)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


STATUS_STYLES = {
    "COMPLETED": "green",
    "RUNNING": "green",
    "ACTIVE": "green",
    "REACHED": "green",
    "FAILED": "red",
    "NO_ANSWER": "yellow",
    "BUSY": "yellow",
    "PAUSED": "yellow",
    "CANCELED": "dim",
    "DRAFT": "dim",
    "IN_PROGRESS": "cyan",
    "IN_CALL": "cyan",
    "RINGING": "cyan",
    "QUEUED": "blue",
    "PENDING": "blue",
}


# ---------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    kind: str = "text"  # text | id | status | time | duration | bool | phone
    priority: int = 1  # on a narrow terminal, the highest numbers are dropped first

    def raw(self, item: dict[str, Any]) -> Any:
        value: Any = item
        for part in self.key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def plain(self, item: dict[str, Any]) -> str:
        value = self.raw(item)
        return terminal_safe(rfc3339(value)) if self.kind == "time" else plain_value(value)

    @property
    def no_wrap(self) -> bool:
        """Ids, times and numbers are never folded; free text gives way first."""
        return self.kind in ("id", "time", "status", "phone", "duration")

    def cell(self, item: dict[str, Any], *, short: bool = False) -> Text:
        """One table cell, built from the data as `Text` (never read as markup)."""
        value = self.raw(item)
        if value is None:
            return safe_text("-", "dim")
        if self.kind == "time":
            return safe_text(local_time(value, short=short))
        if self.kind == "duration":
            return safe_text(duration(value))
        if self.kind == "bool":
            return safe_text("yes", "green") if value else safe_text("no", "dim")
        text = plain_value(value)
        if self.kind == "status":
            return safe_text(text, STATUS_STYLES.get(str(value).upper(), ""))
        return safe_text(text)


COLUMNS: dict[str, list[Column]] = {
    "agent": [
        Column("ID", "id", "id"),
        Column("NAME", "name"),
        Column("ACTIVE", "isActive", "bool"),
        Column("PERSONALITY", "personality"),
        Column("VOICE", "voiceType"),
    ],
    "campaign": [
        Column("ID", "id", "id"),
        Column("NAME", "name"),
        Column("STATUS", "status", "status"),
        Column("AGENT", "agentId", "id"),
        Column("FROM", "fromNumber", "phone"),
        Column("LEADS", "totalLeads"),
        Column("CREATED", "createdAt", "time"),
    ],
    "call": [
        Column("ID", "id", "id"),
        Column("CREATED", "createdAt", "time"),
        Column("DIRECTION", "direction", priority=5),
        Column("STATUS", "status", "status"),
        Column("FROM", "fromNumber", "phone", priority=4),
        Column("TO", "toNumber", "phone"),
        Column("AGENT", "agentId", "id", priority=3),
        Column("DURATION", "durationSeconds", "duration", priority=2),
        Column("DISPOSITION", "disposition", priority=2),
    ],
}

# Field order for `show` of one record; unknown fields follow in the server's order.
DETAIL_FIELDS: dict[str, list[Column]] = {
    "agent": COLUMNS["agent"] + [Column("GREETING", "greetingMessage")],
    "campaign": COLUMNS["campaign"],
    "call": [
        Column("ID", "id", "id"),
        Column("STATUS", "status", "status"),
        Column("DIRECTION", "direction"),
        Column("FROM", "fromNumber"),
        Column("TO", "toNumber"),
        Column("AGENT", "agentId", "id"),
        Column("CAMPAIGN", "campaignId", "id"),
        Column("DURATION", "durationSeconds", "duration"),
        Column("DISPOSITION", "disposition", "status"),
        Column("FAILURE", "failureReason"),
        Column("CREATED", "createdAt", "time"),
        Column("STARTED", "startedAt", "time"),
        Column("ENDED", "endedAt", "time"),
        Column("RECORDING", "recordingUrl"),
    ],
}


# CSV columns: each kind's known fields first, in this order, whether present or not;
# `NAME.*` stands for the keys of a nested object, in first-seen order. Unknown fields
# follow in first-seen order. Both are read from the first CSV_HEADER_ROWS rows (one API
# page), because the header is written before the rest streams; a field first seen later
# is left out, with one warning at the end.
CSV_FIELDS: dict[str, list[str]] = {
    "agent": ["id", "name", "personality", "voiceType", "isActive", "greetingMessage"],
    "campaign": [
        "id",
        "name",
        "status",
        "agentId",
        "fromNumber",
        "createdAt",
        "totalLeads",
        "leadStats.*",
        "callingHours.start",
        "callingHours.end",
        "callingHours.timezone",
    ],
    "call": [
        "id",
        "direction",
        "status",
        "fromNumber",
        "toNumber",
        "agentId",
        "campaignId",
        "createdAt",
        "startedAt",
        "endedAt",
        "durationSeconds",
        "disposition",
        "failureReason",
        "variables.*",
        "recordingUrl",
    ],
}
CSV_EXCLUDED = frozenset({"turns"})  # transcripts are files: `zaza calls export-transcripts`
CSV_HEADER_ROWS = 100


def flatten(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted keys (`variables.NAME`), for CSV; empty objects vanish."""
    flat: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def csv_header(known: list[str], rows: list[dict[str, Any]]) -> list[str]:
    """Known fields (families expanded from `rows`), then unknown ones as first seen."""
    header: list[str] = []
    seen: set[str] = set()
    parents = {name.rsplit(".", 1)[0] for name in known if "." in name}
    for name in known:
        fields: Iterable[str] = [name]
        if name.endswith(".*"):
            prefix = name[:-1]
            fields = (k for row in rows for k in row if k.startswith(prefix))
        for field in fields:
            if field not in seen:
                seen.add(field)
                header.append(field)
    for row in rows:
        for field in row:
            if field not in seen and _csv_extra(field, parents):
                seen.add(field)
                header.append(field)
    return header


def _csv_extra(field: str, parents: set[str]) -> bool:
    """An unknown field gets a column, unless it is a transcript or a known object's parent
    (`variables: null` is not a column: its keys are)."""
    return field.split(".", 1)[0] not in CSV_EXCLUDED and field not in parents


# ---------------------------------------------------------------- the printer


class Output:
    """Built once per command by the context; reads the streams at call time."""

    def __init__(
        self,
        *,
        no_color: bool = False,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
    ) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        forced = os.environ.get("ZAZA_FORCE_TTY", "") not in ("", "0")
        self.is_tty = forced or _isatty(self.stdout)
        self.err_tty = _isatty(self.stderr)
        self.color = not (no_color or os.environ.get("NO_COLOR"))
        self._console: Console | None = None
        self._err_console: Console | None = None

    # ------------------------------------------------------------ streams

    @property
    def console(self) -> Console:
        if self._console is None:
            self._console = self._make_console(self.stdout, self.is_tty)
        return self._console

    @property
    def err_console(self) -> Console:
        if self._err_console is None:
            self._err_console = self._make_console(self.stderr, self.err_tty)
        return self._err_console

    def _make_console(self, file: IO[str], tty: bool) -> Console:
        from rich.console import Console

        return Console(
            file=file,
            force_terminal=tty,
            no_color=not self.color,
            highlight=False,
            emoji=False,
            soft_wrap=not tty,
        )

    def write(self, line: str = "") -> None:
        self.stdout.write(line + "\n")

    def notice(self, message: str) -> None:
        """A human-facing line on stderr (never part of the data). Messages often quote the
        server (retry reasons, skipped rows), so they pass the terminal-safe filter."""
        self.stderr.write(terminal_safe(message, multiline=True) + "\n")
        self.stderr.flush()

    def warn(self, message: str) -> None:
        prefix = "\x1b[33mwarning:\x1b[0m" if self.err_tty and self.color else "warning:"
        self.stderr.write(f"{prefix} {terminal_safe(message, multiline=True)}\n")
        self.stderr.flush()

    def choose(self, *, json: bool = False, jsonl: bool = False, csv: bool = False) -> Format:
        if json:
            return Format.json
        if jsonl:
            return Format.jsonl
        if csv:
            return Format.csv
        return Format.table if self.is_tty else Format.plain

    # ------------------------------------------------------------ data

    def json_document(self, data: Any) -> None:
        self.write(json_safe(json.dumps(data, indent=2, ensure_ascii=False)))

    def rows(
        self,
        items: Iterable[dict[str, Any]],
        kind: str,
        fmt: Format,
        *,
        empty_message: str = "no results",
    ) -> int:
        """Print a list; returns how many items were printed. Streams except for tables."""
        columns = COLUMNS[kind]
        count = 0
        if fmt is Format.table:
            rows = list(items)
            count = len(rows)
            if not rows:
                self.notice(empty_message)
                return 0
            from rich.table import Table

            cells = [[column.cell(item, short=True) for column in columns] for item in rows]
            keep = self._fitting_columns(columns, cells)
            table = Table(box=None, header_style="bold", pad_edge=False)
            for index in keep:
                table.add_column(columns[index].header, no_wrap=columns[index].no_wrap)
            for row in cells:
                table.add_row(*(row[index] for index in keep))
            self.console.print(table)
            return count
        if fmt is Format.json:
            # A streamed array: valid JSON, constant memory, `[]` when empty.
            self.stdout.write("[")
            for item in items:
                self.stdout.write(",\n" if count else "\n")
                self.stdout.write(json_safe(json.dumps(item, ensure_ascii=False)))
                count += 1
            self.stdout.write("\n]\n" if count else "]\n")
            return count
        if fmt is Format.jsonl:
            for item in items:
                self.stdout.write(json_safe(json.dumps(item, ensure_ascii=False)) + "\n")
                count += 1
            return count
        if fmt is Format.csv:
            return self.csv_rows(items, CSV_FIELDS.get(kind, [c.key for c in columns]))
        for item in items:
            self.stdout.write("\t".join(column.plain(item) for column in columns) + "\n")
            count += 1
        return count

    def _fitting_columns(self, columns: list[Column], cells: list[list[Text]]) -> list[int]:
        """Indexes of the columns to show: drop low-priority ones until the rest fit."""
        widths = [
            max([len(column.header)] + [row[i].cell_len for row in cells]) + 2
            for i, column in enumerate(columns)
        ]
        keep = list(range(len(columns)))
        by_priority = sorted(keep, key=lambda i: (-columns[i].priority, -i))
        for index in by_priority:
            if sum(widths[i] for i in keep) <= self.console.width or columns[index].priority == 1:
                break
            keep.remove(index)
        return keep

    def csv_rows(
        self,
        items: Iterable[dict[str, Any]],
        known: list[str],
        *,
        header_rows: int = CSV_HEADER_ROWS,
    ) -> int:
        """RFC 4180 (CRLF, minimal quoting) in UTF-8 with a header row; streams.

        The header (see CSV_FIELDS) is fixed from the first `header_rows` rows, which are
        the only ones buffered; fields first seen later are left out, named in a warning.
        """
        from itertools import chain, islice

        iterator: Iterator[dict[str, Any]] = iter(items)
        first_rows = [flatten(item) for item in islice(iterator, header_rows)]
        header = csv_header(known, first_rows)
        columns = set(header)
        parents = {name.rsplit(".", 1)[0] for name in known if "." in name}
        late: dict[str, None] = {}
        _ensure_utf8(self.stdout)
        writer = csv.writer(self.stdout, lineterminator="\r\n")
        writer.writerow([_csv_cell(name) for name in header])
        count = 0
        for flat in chain(first_rows, (flatten(item) for item in iterator)):
            writer.writerow([_csv_cell(flat.get(name)) for name in header])
            count += 1
            if count > header_rows:
                for field in flat:
                    if field not in columns and field not in late and _csv_extra(field, parents):
                        late[field] = None
        if late:
            names = list(late)
            shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
            self.warn(
                f"{len(names)} field(s) first seen after row {header_rows} are not in the CSV "
                f"header: {shown} (--jsonl keeps every field)"
            )
        return count

    def record(self, item: dict[str, Any], kind: str, fmt: Format) -> None:
        """One object: key/value lines when piped, a Rich panel on a terminal."""
        if fmt in (Format.json, Format.jsonl):
            if fmt is Format.jsonl:
                self.write(json_safe(json.dumps(item, ensure_ascii=False)))
            else:
                self.json_document(item)
            return
        if fmt is Format.csv:
            self.csv_rows([item], CSV_FIELDS.get(kind, [c.key for c in COLUMNS[kind]]))
            return
        fields = DETAIL_FIELDS[kind]
        shown = {c.key.split(".")[0] for c in fields}
        extra = [
            Column(k, k)
            for k, v in item.items()
            if k not in shown and k != "turns" and not isinstance(v, dict | list)
        ]
        if fmt is Format.plain:
            for column in fields + extra:
                self.write(f"{plain_value(column.key)}\t{column.plain(item)}")
            return
        from rich.table import Table

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for column in fields + extra:
            if column.raw(item) is not None:
                # Extra labels are the server's field names: data, like the values.
                label = column.header.title() if column in fields else column.header
                grid.add_row(safe_text(label), column.cell(item))
        from rich.panel import Panel

        title = safe_text(f"{kind} {plain_value(item.get('id'))}", "bold")
        self.console.print(Panel(grid, title=title, title_align="left", expand=False))

    def section(self, title: str) -> None:
        if self.is_tty:
            self.console.print()
            self.console.print(safe_text(title, "bold"))
        else:
            self.write(f"\n# {terminal_safe(title)}")

    def key_values(self, pairs: Iterable[tuple[str, Any]], *, style: str = "") -> None:
        """Small labelled tables (lead stats, calling hours, variables). Keys and values are
        data: shown literally (a `[link=…]` stays text), never read as markup."""
        pairs = [(k, v) for k, v in pairs]
        if not self.is_tty:
            for key, value in pairs:
                self.write(f"{plain_value(key)}\t{plain_value(value)}")
            return
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for key, value in pairs:
            grid.add_row(
                key if isinstance(key, Text) else safe_text(plain_value(key)),
                value if isinstance(value, Text) else safe_text(plain_value(value)),
            )
        self.console.print(grid)

    def bars(
        self, counts: list[tuple[str, int]], total: int | None = None, width: int = 30
    ) -> None:
        """Horizontal bars with count and share; plain TSV when piped."""
        total = total if total else sum(n for _, n in counts) or 1
        if not self.is_tty:
            for key, value in counts:
                self.write(f"{plain_value(key)}\t{value}\t{value / total:.4f}")
            return
        from rich.table import Table

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column(justify="right")
        grid.add_column(justify="right")
        grid.add_column()
        for key, value in counts:
            share = value / total
            bar = "█" * round(share * width)
            style = STATUS_STYLES.get(key.upper(), "cyan")
            grid.add_row(
                safe_text(plain_value(key)), str(value), f"{share:.0%}", safe_text(bar, style)
            )
        self.console.print(grid)

    # ------------------------------------------------------------ transcripts

    def transcript(self, call: dict[str, Any], fmt: str) -> None:
        """`text`, `json` or `srt` for files and tools; `chat` is the terminal view."""
        turns = transcript_turns(call)
        if fmt == "json":
            self.json_document(turns)
        elif fmt == "srt":
            self.stdout.write(to_srt(call, turns))
        elif fmt == "chat" and self.is_tty:
            self._chat(call, turns)
        else:
            for line in transcript_lines(call, turns):
                self.write(line)

    def _chat(self, call: dict[str, Any], turns: list[dict[str, Any]]) -> None:
        from rich.padding import Padding
        from rich.text import Text

        if not turns:
            self.console.print(safe_text("(no transcript)", "dim"))
            return
        width = self.console.width
        indent = max(4, width // 4)
        origin = transcript_origin(call, turns)
        for turn in turns:
            role = plain_value(turn.get("role") or "?")
            offset = format_offset(turn_offset(turn, origin))
            # A turn is what someone said: lines stay lines, control codes become visible.
            text = terminal_safe(str(turn.get("text") or ""), multiline=True)
            if role.upper() == "AGENT":
                head = Text.assemble((f"{role} ", "bold cyan"), (offset, "dim"))
                body = Text(text)
                self.console.print(Padding(head, (0, indent, 0, 0)))
                self.console.print(Padding(body, (0, indent, 1, 2)))
            elif role.upper() in ("CALLER", "USER", "CUSTOMER", "HUMAN"):
                head = Text.assemble((offset, "dim"), (f" {role}", "bold magenta"), justify="right")
                body = Text(text, justify="right")
                self.console.print(Padding(head, (0, 0, 0, indent)))
                self.console.print(Padding(body, (0, 2, 1, indent)))
            else:
                line = Text.assemble((f"{offset} {role}: ", "dim bold"), (text, "dim italic"))
                self.console.print(Padding(line, (0, indent // 2, 1, indent // 2)))


def _ensure_utf8(stream: IO[str]) -> None:
    """CSV is promised in UTF-8 whatever the locale (PYTHONIOENCODING, LANG=…ISO-8859-1)."""
    encoding = str(getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "")
    reconfigure = getattr(stream, "reconfigure", None)
    if encoding.replace("_", "") != "utf8" and reconfigure is not None:
        try:
            reconfigure(encoding="utf-8")
        except (ValueError, OSError):
            pass


def _csv_cell(value: Any) -> str:
    """The API's text with a formula start neutralised, and control characters other than
    newline and tab written visibly (`\\x1b`): a CSV gets `cat` and opened in editors, and
    no spreadsheet needs an escape sequence. Newlines stay: CSV quotes them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)  # a number from the API is a number, never a formula
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    # The formula check sees the text as the server sent it (a leading CR counts).
    quote = "'" if spreadsheet_safe(text) != text else ""
    if text.isprintable():
        return quote + text
    # CRLF inside a cell is a line break a spreadsheet keeps; a lone CR is a control code.
    return quote + "\r\n".join(terminal_safe(part, multiline=True) for part in text.split("\r\n"))


# A cell a spreadsheet would run as a formula starts with one of these (OWASP CSV injection).
_FORMULA_STARTS = ("=", "@", "\t", "\r", "+", "-")
_PLAIN_NUMBER = re.compile(r"[+-](?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_safe(text: str) -> str:
    """`'=HYPERLINK(…)`: a cell that would start a formula gets a leading `'`, which
    spreadsheets show as text. `+14155550100`, `-3` and `-1.5` are plain numbers, kept."""
    if not text.startswith(_FORMULA_STARTS):
        return text
    if text[0] in "+-" and _PLAIN_NUMBER.fullmatch(text):
        return text
    return "'" + text


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
