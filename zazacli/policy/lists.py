"""Numbers coming into the do-not-call list: files to import (one number a line, or a CSV
with a phone column), and opt-outs in inbound texts (`sms.received` webhooks). Nothing
here prints; invalid lines come back with their line numbers."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zazacli.errors import UsageError
from zazacli.policy.phones import normalize_number

# E.164 as written: taken as it is (phonenumbers costs ~25 µs a number; a million numbers
# from a CRM export are nearly all in this form already).
_E164 = r"^\+[1-9]\d{7,14}$"
PHONE_HEADERS = ("phone", "to", "number", "phone_number", "phonenumber", "mobile", "phone1")
# The FCC's revocation keywords (47 CFR 64.1200(a)(10)), plus two carriers honour too.
OPT_OUT_KEYWORDS = frozenset(
    {"stop", "quit", "end", "revoke", "opt out", "cancel", "unsubscribe", "stopall", "optout"}
)


@dataclass(frozen=True)
class BadLine:
    line: int
    raw: str
    error: str


def e164(raw: str, region: str | None, label: str) -> str:
    """`raw` in E.164: as it is when it already is, else through phonenumbers."""
    text = raw.strip()
    if re.match(_E164, text):
        return text
    return normalize_number(text, region=region, label=label)


def read_numbers(path: Path, *, region: str | None) -> tuple[list[str], list[BadLine]]:
    """The numbers of a file, in E.164, and the lines that are not numbers."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    numbers: list[str] = []
    bad: list[BadLine] = []
    for line, raw in _values(path, text):
        if not raw.strip():
            continue
        try:
            numbers.append(e164(raw, region, f"line {line}"))
        except UsageError as exc:
            bad.append(BadLine(line, raw, exc.message.removeprefix(f"line {line}: ")))
    return numbers, bad


def _values(path: Path, text: str) -> Iterator[tuple[int, str]]:
    """(line number, value) of each row: the whole line, or a CSV's phone column."""
    first = text.split("\n", 1)[0].strip()
    if not first or any(ch.isdigit() for ch in first) and not any(d in first for d in ",;\t|"):
        yield from enumerate(text.splitlines(), start=1)
        return
    delimiter = max(",;\t|", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader)]
    column = next((header.index(h) for h in PHONE_HEADERS if h in header), None)
    if column is None:
        raise UsageError(
            f"{path}: no phone column in its header ({', '.join(header) or 'empty'})",
            hint="one number a line, or a CSV with a 'phone' (or 'to', 'number') column",
        )
    for fields in reader:
        value = fields[column] if column < len(fields) else ""
        if value.strip() or any(f.strip() for f in fields):
            yield reader.line_num, value


def opt_out_keyword(text: Any) -> str | None:
    """The keyword, when the whole trimmed text of a message is one (`STOP`, `Stop.`,
    `opt out`); None otherwise (`stop calling me at work` is for a person to read)."""
    if not isinstance(text, str):
        return None
    words = " ".join(text.strip().strip(".!?,;:'\"()").split()).casefold()
    return words if words in OPT_OUT_KEYWORDS else None


def sms_opt_out(body: Any) -> tuple[str, str] | None:
    """(sender in E.164, keyword) of an `sms.received` event whose text is an opt-out."""
    if not isinstance(body, Mapping) or body.get("event") != "sms.received":
        return None
    data = body.get("data")
    if not isinstance(data, Mapping):
        return None
    keyword = opt_out_keyword(data.get("body"))
    sender = data.get("fromNumber")
    if keyword is None or not isinstance(sender, str):
        return None
    try:
        return e164(sender, None, "fromNumber"), keyword
    except UsageError:
        return None
