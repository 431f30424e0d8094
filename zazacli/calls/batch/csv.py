"""The batch CSV: rows to call, from a `to`/`phone` file or the dashboard's lead CSV.

Decoding, delimiter sniffing, header normalisation and one problem per bad row; nothing
here prints or sends.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from zazacli.errors import UsageError
from zazacli.policy.phones import normalize_number

PHONE_COLUMNS = ("to", "phone")
# The dashboard's lead CSV: phone1 … phone10, tried in order; the first valid one is called.
LEAD_PHONE = re.compile(r"^phone(10|[1-9])$", re.IGNORECASE)
# Variables every row sends, empty when the file has no such column (the guide's tokens).
ALWAYS_VARIABLES = ("NAME", "EMAIL")
DELIMITERS = ",;\t|"


# ---------------------------------------------------------------- the CSV


@dataclass(frozen=True)
class CsvRow:
    line: int
    raw: str
    to: str
    variables: dict[str, str]
    column: str = "to"  # the header of the number column this row is called on
    note: str | None = None  # earlier phone columns skipped as invalid, if any


@dataclass(frozen=True)
class RowProblem:
    """A row that is never sent: an invalid number, or a number already on an earlier line."""

    line: int
    raw: str
    status: str  # invalid | duplicate
    error: str
    to: str | None = None
    column: str | None = None


@dataclass
class CsvBatch:
    path: Path
    sha256: str
    phone_column: str  # e.g. `to`, or `phone1/phone2/phone3` for a lead CSV
    rows: list[CsvRow]
    problems: list[RowProblem]
    data: bytes = field(default=b"", repr=False)  # the file as read (a journal's prefix check)

    @property
    def total(self) -> int:
        return len(self.rows) + len(self.problems)


def variable_name(header: str) -> str:
    """A header as the API's {{TOKEN}}: upper case, runs of anything but A-Z0-9 as `_`
    (`case number` -> `CASE_NUMBER`)."""
    return re.sub(r"[^A-Z0-9]+", "_", header.strip().upper()).strip("_")


@dataclass(frozen=True)
class Columns:
    phones: list[tuple[int, str]]  # (index, header) in the order they are tried
    variables: list[tuple[int, str]]  # (index, variable name)
    lead: bool  # phone1 … phone10 (the dashboard's lead CSV) rather than one `to` column


def read_csv(path: Path, *, region: str | None) -> CsvBatch:
    """Read, validate and dedupe a batch file; raises UsageError when the file is unusable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory, expected a CSV file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    text = _decode(path, data)
    if not text.strip():
        raise UsageError(
            f"{path} is empty", hint="the first line must be a header with a 'to' or 'phone' column"
        )
    header_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=header_line.count)
    if not header_line.count(delimiter):
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        names = [name.strip() for name in next(reader)]
        columns = _columns(path, names)
        rows: list[CsvRow] = []
        problems: list[RowProblem] = []
        first_line: dict[str, int] = {}
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue  # blank lines are not rows
            values = [fields[i].strip() if i < len(fields) else "" for i, _ in columns.phones]
            raw = next((v for v in values if v), "")
            if any(f.strip() for f in fields[len(names) :]):
                error = f"{len(fields)} fields, but the header has {len(names)}"
                problems.append(RowProblem(line, raw, "invalid", error))
                continue
            chosen, skipped = _pick_number(columns, values, line, region)
            if chosen is None:
                problems.append(RowProblem(line, raw, "invalid", "; ".join(skipped)))
                continue
            column, raw, to = chosen
            note = "; ".join(skipped) + f"; called on {column}" if skipped else None
            if to in first_line:
                error = f"{to} is also on line {first_line[to]}; it is called once"
                problems.append(RowProblem(line, raw, "duplicate", error, to, column))
                continue
            first_line[to] = line
            variables = dict.fromkeys(ALWAYS_VARIABLES, "")
            variables.update(
                (name, fields[i].strip() if i < len(fields) else "")
                for i, name in columns.variables
            )
            rows.append(CsvRow(line, raw, to, variables, column, note))
    except csv.Error as exc:
        raise UsageError(f"{path}, line {reader.line_num}: not readable as CSV: {exc}") from None
    if not rows and not problems:
        raise UsageError(f"{path} has a header but no rows")
    phone_column = "/".join(header for _, header in columns.phones)
    return CsvBatch(path, hashlib.sha256(data).hexdigest(), phone_column, rows, problems, data)


def _pick_number(
    columns: Columns, values: list[str], line: int, region: str | None
) -> tuple[tuple[str, str, str] | None, list[str]]:
    """(column, raw, E.164) of the first valid number in the row's phone columns, and what
    was wrong with the ones before it."""
    skipped: list[str] = []
    for (_, header), raw in zip(columns.phones, values, strict=True):
        if columns.lead and not raw:
            continue  # an empty phone2 … in a lead CSV: nothing to try
        try:
            to = normalize_number(raw, region=region, label=f"line {line}")
        except UsageError as exc:
            error = exc.message.removeprefix(f"line {line}: ")
            if "country code" in error:
                error += " (pass --region, e.g. --region US)"
            skipped.append(f"{header}: {error}" if columns.lead else error)
            continue
        return (header, raw, to), skipped
    if not skipped:
        skipped.append(f"no number in {'/'.join(h for _, h in columns.phones)}")
    return None, skipped


def _decode(path: Path, data: bytes) -> str:
    for bom, name in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if data.startswith(bom):
            raise UsageError(
                f"{path} is {name} text; zaza reads UTF-8 CSV",
                hint=f"save it as 'CSV UTF-8', or convert it: iconv -f {name} -t UTF-8",
            )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UsageError(
            f"{path} is not UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); "
            "is it Latin-1 or Windows-1252?",
            hint=f"save it as 'CSV UTF-8', or convert it: iconv -f WINDOWS-1252 -t UTF-8 "
            f"{path} > {path.stem}.utf8.csv",
        ) from None


def _columns(path: Path, names: list[str]) -> Columns:
    """Which columns hold numbers, and the variable each other column becomes."""
    lowered = [name.lower() for name in names]
    wanted = next((w for w in PHONE_COLUMNS if w in lowered), None)
    if wanted is not None:
        index = lowered.index(wanted)
        phones = [(index, names[index])]
    else:
        leads = [(i, name) for i, name in enumerate(names) if LEAD_PHONE.match(name)]
        phones = sorted(leads, key=lambda item: int(item[1][5:]))
    if not phones:
        raise UsageError(
            f"{path} has no 'to' or 'phone' column (its header: {', '.join(names) or 'empty'})",
            hint="name the column of numbers 'to' or 'phone' (or phone1 … phone10, as the "
            "dashboard's lead CSV does); other columns become variables",
        )
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            raise UsageError(f"{path}: the column {name!r} appears twice in the header")
        seen.add(name)
    lead = wanted is None
    phone_indexes = {i for i, _ in phones}
    variables: list[tuple[int, str]] = []
    origin: dict[str, str] = {}
    for i, name in enumerate(names):
        token = variable_name(name)
        if i in phone_indexes or not token or (lead and LEAD_PHONE.match(name)):
            continue
        if token in origin:
            raise UsageError(
                f"{path}: the columns {origin[token]!r} and {name!r} both become the "
                f"variable {token}",
                hint="rename one of them (variables are upper case, with _ for spaces)",
            )
        origin[token] = name
        variables.append((i, token))
    return Columns(phones, variables, lead)
