"""`--csv`: RFC 4180 (CRLF, minimal quoting) in UTF-8 with a header row, streamed.

Columns: each kind's known fields first (`Layout.csv`), in that order, whether present or
not; `NAME.*` stands for the keys of a nested object, in first-seen order. Unknown fields
follow in first-seen order. Both are read from the first HEADER_ROWS rows (one API page),
because the header is written before the rest streams; a field first seen later is left
out, with one warning at the end.

Cells are the API's text with a spreadsheet formula neutralised and control characters
written visibly. After the header, a row whose fields are the header's and whose cells
need none of that (the usual case) is written by `_FastRows` without a function call per
cell; any other row takes the exact path. Both give the same bytes.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from itertools import islice
from operator import itemgetter
from typing import IO, TYPE_CHECKING, Any

from zazacli.output.columns import LAYOUTS
from zazacli.sanitize import terminal_safe

if TYPE_CHECKING:
    from zazacli.output import Output
    from zazacli.output.formats import View

EXCLUDED = frozenset({"turns"})  # transcripts are files: `zaza calls export-transcripts`
HEADER_ROWS = 100


def rows(
    out: Output, items: Iterable[dict[str, Any]], kind: str, view: View, *, empty_message: str
) -> int:
    return write_csv(out, items, LAYOUTS[kind].csv)


def record(out: Output, item: dict[str, Any], kind: str) -> None:
    write_csv(out, [item], LAYOUTS[kind].csv)


def write_csv(
    out: Output,
    items: Iterable[dict[str, Any]],
    known: list[str],
    *,
    header_rows: int = HEADER_ROWS,
) -> int:
    """The header, then a row per item; returns how many rows. Only the first
    `header_rows` items are buffered (they fix the header); fields first seen later are
    left out, named in a warning."""
    iterator: Iterator[dict[str, Any]] = iter(items)
    first = [flatten(item) for item in islice(iterator, header_rows)]
    header = csv_header(known, first)
    parents = {name.rsplit(".", 1)[0] for name in known if "." in name}
    _ensure_utf8(out.stdout)
    writer = csv.writer(out.stdout, lineterminator="\r\n")
    writer.writerow([cell(name) for name in header])
    for flat in first:
        writer.writerow([cell(flat.get(name)) for name in header])
    rest = _FastRows(header, parents, writer)
    count = len(first) + rest.write(iterator, out.stdout)
    if rest.late:
        names = list(rest.late)
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        out.warn(
            f"{len(names)} field(s) first seen after row {header_rows} are not in the CSV "
            f"header: {shown} (--jsonl keeps every field)"
        )
    return count


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
            if field not in seen and _extra(field, parents):
                seen.add(field)
                header.append(field)
    return header


def _extra(field: str, parents: set[str]) -> bool:
    """An unknown field gets a column, unless it is a transcript or a known object's parent
    (`variables: null` is not a column: its keys are)."""
    return field.split(".", 1)[0] not in EXCLUDED and field not in parents


def cell(value: Any) -> str:
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
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_PLAIN_NUMBER = re.compile(rf"[+-]{_NUMBER}")


def spreadsheet_safe(text: str) -> str:
    """`'=HYPERLINK(…)`: a cell that would start a formula gets a leading `'`, which
    spreadsheets show as text. `+14155550100`, `-3` and `-1.5` are plain numbers, kept."""
    if not text.startswith(_FORMULA_STARTS):
        return text
    if text[0] in "+-" and _PLAIN_NUMBER.fullmatch(text):
        return text
    return "'" + text


# In a row joined with commas (and no comma inside a cell), a cell `cell` would change:
# a formula start that is not a plain number, and what str() writes unlike `cell`: a
# boolean (`True`), an object or a list (`{`, `[`). Strings that merely look like these
# only take the exact path, which writes them the same.
_SUSPECT = re.compile(
    rf",(?:[=@\[{{]|\+(?!{_NUMBER}(?:,|$))|-(?!{_NUMBER}(?:,|$))|True(?:,|$)|False(?:,|$))"
)
_BLANK = {None: ""}.get  # None as an empty cell, any other (hashable) value as itself
_ABSENT = object()
_EMPTY: dict[str, Any] = {}


class _FastRows:
    """Writes the rows after the header. The header, read as paths (`variables.NAME` is
    `item["variables"]["NAME"]`), gives runs of (object path, keys); a row is fetched run
    by run with C-level `map(dict.get, keys)` and formatted with one `%`.

    That line is written as is when the row fits the header (`_Node.fits`: no field the
    header lacks, no dotted key) and passes four C-speed checks: one comma per column
    boundary, printable, no quote, nothing `_SUSPECT`. Then it is exactly what
    `csv.writer` writes for `cell()` of each value. Any other row is flattened and written
    cell by cell, and its fields missing from the header are collected in `late`."""

    def __init__(self, header: list[str], parents: set[str], writer: Any) -> None:
        self.header = header
        self.parents = parents
        self.columns = set(header)
        self.writer = writer
        self.late: dict[str, None] = {}
        runs: list[tuple[tuple[str, ...], list[str]]] = []
        self.tree = _Node((), self.columns | parents)
        for name in header:
            *path, key = name.split(".")
            if not runs or runs[-1][0] != tuple(path):
                runs.append((tuple(path), []))
            runs[-1][1].append(key)
            self.tree.add(path).keys.add(key)
        # (path, keys, picker): an itemgetter for two top-level keys or more (it returns a
        # tuple then); None where `dict.get` must be mapped.
        self.runs = [
            (path, keys, itemgetter(*keys) if not path and len(keys) > 1 else None)
            for path, keys in runs
        ]
        for parent in parents:
            self.tree.add(parent.split("."))
        self.tree.keys |= EXCLUDED

    def write(self, items: Iterator[dict[str, Any]], stream: IO[str]) -> int:
        """Every remaining item; returns how many."""
        write, fits, runs, slow = stream.write, self.tree.fits, self.runs, self._slow
        line_format = ",".join(["%s"] * len(self.header))
        commas = len(self.header) - 1
        # A one-column row of an empty cell is `""` in CSV: the fast line would differ.
        fast = commas > 0
        count = 0
        for item in items:
            count += 1
            if fast and fits(item):
                values: list[Any] = []
                for path, keys, pick in runs:
                    if pick is not None:  # top-level keys: one C call while all are there
                        try:
                            values += pick(item)
                            continue
                        except KeyError:
                            pass
                    found = _lookup(item, path) if path else item
                    values += map((found if isinstance(found, dict) else _EMPTY).get, keys)
                try:
                    line = line_format % tuple(map(_BLANK, values, values))
                except TypeError:  # a list or an object among the values: unhashable
                    line = ""
                if (
                    line.count(",") == commas
                    and line.isprintable()
                    and '"' not in line
                    and _SUSPECT.search("," + line) is None
                ):
                    write(line + "\r\n")
                    continue
            slow(item)
        return count

    def _slow(self, item: dict[str, Any]) -> None:
        flat = flatten(item)
        self.writer.writerow([cell(flat.get(name)) for name in self.header])
        for field in flat:
            if field not in self.columns and field not in self.late:
                if _extra(field, self.parents):
                    self.late[field] = None


def _lookup(item: dict[str, Any], path: tuple[str, ...]) -> Any:
    """What is at `path`, None where there is nothing."""
    found: Any = item
    for key in path:
        found = found.get(key) if isinstance(found, dict) else None
    return found


class _Node:
    """One level of the header's paths: the keys a row may have there, and the objects
    below (`variables` under the root). `named`: the header or the known parents name
    this path itself, so a value other than an object here is no new field."""

    def __init__(self, path: tuple[str, ...], names: set[str]) -> None:
        self.path = path
        self.named = ".".join(path) in names
        self.names = names
        self.keys: set[str] = set()
        self.children: dict[str, _Node] = {}

    def add(self, path: list[str]) -> _Node:
        node = self
        for key in path:
            node.keys.add(key)
            if key not in node.children:
                node.children[key] = _Node((*node.path, key), self.names)
            node = node.children[key]
        return node

    def fits(self, obj: dict[str, Any]) -> bool:
        """True when flattening `obj` yields only header fields, known parents and
        transcripts, each from exactly the path the header names."""
        if not obj.keys() <= self.keys:
            return False
        for key, child in self.children.items():
            value = obj.get(key, _ABSENT)
            if isinstance(value, dict):
                # `variables` (no objects below it) needs no call: the common case.
                if not (child.fits(value) if child.children else value.keys() <= child.keys):
                    return False
            elif value is not _ABSENT and not child.named:
                return False  # `extra: "x"` where the header has `extra.deep`: a new field
        return True


def _ensure_utf8(stream: IO[str]) -> None:
    """CSV is promised in UTF-8 whatever the locale (PYTHONIOENCODING, LANG=…ISO-8859-1)."""
    encoding = str(getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "")
    reconfigure = getattr(stream, "reconfigure", None)
    if encoding.replace("_", "") != "utf8" and reconfigure is not None:
        try:
            reconfigure(encoding="utf-8")
        except (ValueError, OSError):
            pass
