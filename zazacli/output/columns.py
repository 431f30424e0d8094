"""What each noun shows: its list columns, the fields of `show`, and its CSV columns.

One `Layout` per kind of object (`call`, `agent`, `campaign`); the formats read it and
never name a field themselves, so a new noun is a new entry here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zazacli.output.safe import safe_text
from zazacli.output.values import STATUS_STYLES, duration, local_time, rfc3339
from zazacli.sanitize import plain_value, terminal_safe

if TYPE_CHECKING:
    from rich.text import Text


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    kind: str = "text"  # text | id | status | time | duration | bool | phone
    # On a narrow terminal the highest numbers are hidden first; 1: always shown.
    priority: int = 1
    # The cells it needs in a table (its header, its usual values): which columns fit is
    # decided from these, never from the data, so every page shows the same columns.
    width: int = 0
    # A field shown in the table, in red, when `key` has no value (OUTCOME: the failure
    # reason of a call without a disposition). Plain lines and CSV show `key` alone.
    fallback: str = ""
    # Exactly `width` cells in a table, a longer value cut with `…` (not with --wide).
    fixed: bool = False

    @property
    def room(self) -> int:
        return max(self.width, len(self.header))

    @property
    def label(self) -> str:
        """`Disposition`, `Some new field`: a detail view's label, from the header."""
        return self.header.replace("_", " ").capitalize()

    def raw(self, item: dict[str, Any]) -> Any:
        return _lookup(item, self.key)

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
        if value is None and self.fallback:
            other = _lookup(item, self.fallback)
            if other is not None:
                return safe_text(plain_value(other), "red")
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


def _lookup(item: dict[str, Any], key: str) -> Any:
    """`item[key]`, a dotted key (`callingHours.start`) read inside its object."""
    value: Any = item
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@dataclass(frozen=True)
class Layout:
    """`columns` for lists (table and TSV), `detail` for one record (unknown fields follow
    in the server's order), `csv` for `--csv` (see formats/csv.py: `NAME.*` stands for the
    keys of a nested object). `drawn`, when set, replaces `columns` in a table only: a
    person reads one OUTCOME where a script reads each field by its name."""

    columns: list[Column]
    detail: list[Column]
    csv: list[str]
    drawn: list[Column] | None = None

    @property
    def table(self) -> list[Column]:
        """The columns of a table on a terminal."""
        return self.drawn or self.columns

    def detail_of(self, item: dict[str, Any]) -> tuple[list[Column], list[Column]]:
        """The known fields, then the item's other flat fields (objects and lists, like
        transcripts, have views of their own)."""
        shown = {column.key.split(".")[0] for column in self.detail}
        extra = [
            Column(header(key), key)
            for key, value in item.items()
            if key not in shown and key != "turns" and not isinstance(value, dict | list)
        ]
        return self.detail, extra


def header(key: str) -> str:
    """A field's header from its key, as the known ones read: `someNewField` and
    `some_new_field` are `SOME_NEW_FIELD` (labelled `Some new field`)."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", key)
    return re.sub(r"[\s_-]+", "_", words).upper()


_AGENT_COLUMNS = [
    Column("ID", "id", "id", width=3),
    Column("NAME", "name", width=20),
    Column("ACTIVE", "isActive", "bool", priority=2),
    Column("PERSONALITY", "personality", priority=4, width=12),
    Column("VOICE", "voiceType", priority=3, width=8),
]

_CAMPAIGN_COLUMNS = [
    Column("ID", "id", "id", width=3),
    Column("NAME", "name", width=20),
    Column("STATUS", "status", "status", width=9),
    Column("AGENT", "agentId", "id", priority=3),
    Column("FROM", "fromNumber", "phone", priority=5, width=12),
    Column("LEADS", "totalLeads", priority=4),
    Column("CREATED", "createdAt", "time", priority=2, width=18),
]

_DNC_COLUMNS = [
    Column("NUMBER", "number", "phone", width=12),
    Column("ADDED", "addedAt", "time", width=18),
    Column("SOURCE", "source", width=10),
    Column("REASON", "reason", priority=2, width=20),
]

_CALL_COLUMNS = [
    Column("ID", "id", "id", width=5),
    Column("CREATED", "createdAt", "time", width=18),
    Column("DIRECTION", "direction", priority=6),
    Column("STATUS", "status", "status", width=11),
    Column("FROM", "fromNumber", "phone", priority=7, width=12),
    Column("TO", "toNumber", "phone", width=12),
    Column("AGENT", "agentId", "id", priority=4),
    Column("DURATION", "durationSeconds", "duration", priority=5),
    Column("DISPOSITION", "disposition", priority=3, width=18),
]

LAYOUTS: dict[str, Layout] = {
    "dnc": Layout(
        columns=_DNC_COLUMNS, detail=_DNC_COLUMNS, csv=["number", "addedAt", "source", "reason"]
    ),
    "agent": Layout(
        columns=_AGENT_COLUMNS,
        detail=[*_AGENT_COLUMNS, Column("GREETING", "greetingMessage")],
        csv=["id", "name", "personality", "voiceType", "isActive", "greetingMessage"],
    ),
    "campaign": Layout(
        columns=_CAMPAIGN_COLUMNS,
        detail=_CAMPAIGN_COLUMNS,
        csv=[
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
    ),
    "call": Layout(
        columns=_CALL_COLUMNS,
        # How the call ended, in one column: its disposition, else why it failed.
        drawn=[
            *_CALL_COLUMNS[:-1],
            Column(
                "OUTCOME",
                "disposition",
                priority=3,
                width=18,  # APPOINTMENT_BOOKED, CALLBACK_REQUESTED
                fallback="failureReason",
                fixed=True,
            ),
        ],
        detail=[
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
        csv=[
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
    ),
}
