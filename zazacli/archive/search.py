"""`zaza calls search`: the archived transcripts' turns that match an FTS5 query, best first.

Ranked by bm25 (FTS5's `rank`), ties newest first. Two steps keep it fast on a large
archive: the ids of the best turns first (the index and the call columns only), then the
snippets and the rest for those alone. Needs no network and no key.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from zazacli.api.listing import CallFilter
from zazacli.archive.store import Archive, filter_sql
from zazacli.archive.tokens import match_query, restored, shown_text
from zazacli.errors import UsageError

MARK_START, MARK_END = "\x02", "\x03"  # around each match in a snippet (never in the index)
SNIPPET_TOKENS = 16
DETAIL_BATCH = 500
FEW_HITS = 200  # up to this many, each hit's snippet is looked up by itself
SYNTAX_HINT = (
    'FTS5 syntax: words (all must match), "a phrase", prefix*, AND, OR, NOT, '
    "NEAR(word word, 10), parentheses; docs/archive.md has examples"
)
# SQLite's messages for a query it cannot read (anything else is a real error).
_QUERY_ERRORS = ("fts5:", "unterminated string", "no such column", "expected integer", "special")


@dataclass(frozen=True)
class Hit:
    call_id: int
    created_at: str | None  # ISO-8601 UTC
    agent_id: int | None
    agent: str | None  # the agent's name, as of the last sync
    role: str | None
    turn: int  # the turn's index in the transcript
    snippet: list[tuple[str, bool]]  # (text, is a match)
    transcript: str | None = field(default=None, repr=False)  # the turns' JSON, as stored

    @property
    def text(self) -> str:
        """The whole turn as the API sent it (read only when asked: the index holds a copy
        made for searching)."""
        try:
            turn = json.loads(self.transcript or "[]")[self.turn]
        except (ValueError, IndexError, TypeError):
            return ""
        text = turn.get("text") if isinstance(turn, dict) else None
        return text if isinstance(text, str) else "" if text is None else str(text)

    def as_dict(self, marker: str = "**") -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "created_at": self.created_at,
            "agent_id": self.agent_id,
            "agent": self.agent,
            "role": self.role,
            "turn": self.turn,
            "snippet": marked(self.snippet, marker),
            "text": self.text,
        }


def marked(snippet: list[tuple[str, bool]], marker: str = "**") -> str:
    return "".join(f"{marker}{text}{marker}" if hit else text for text, hit in snippet)


def search(
    archive: Archive,
    query: str,
    filters: CallFilter,
    *,
    role: str | None = None,
    limit: int | None = None,
    include_deleted: bool = False,
) -> Iterator[Hit]:
    """The matching turns of calls that match `filters`, best first; `role` AGENT/CALLER.
    The query runs here (a bad one raises UsageError before anything is printed); the
    snippets are made as the hits are read."""
    if not query.strip():
        raise UsageError("the search query is empty", hint=SYNTAX_HINT)
    fts = match_query(query)
    where, params = filter_sql(filters, "c", include_deleted=include_deleted)
    if role is not None:
        where += " AND t.role = ?"
        params.append(role)
    sql = (
        "SELECT t.id FROM turns_fts JOIN turns t ON t.id = turns_fts.rowid "
        f"JOIN calls c ON c.id = t.call_id WHERE turns_fts MATCH ?{where} "
        "ORDER BY turns_fts.rank, c.created_at DESC, t.id"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    try:
        ids = [row[0] for row in archive.conn.execute(sql, (fts, *params))]
    except sqlite3.OperationalError as exc:
        if any(text in str(exc) for text in _QUERY_ERRORS):
            message = f"cannot read the search query {query!r}: {exc}"
            raise UsageError(message, hint=SYNTAX_HINT) from None
        raise
    return _in_batches(archive.conn, fts, ids)


def _in_batches(conn: sqlite3.Connection, fts: str, ids: list[int]) -> Iterator[Hit]:
    snippet = f"snippet(turns_fts, 0, ?, ?, '…', {SNIPPET_TOKENS})"
    marks = (MARK_START, MARK_END)
    snippets: dict[int, str] = {}
    if len(ids) > FEW_HITS:
        # Many hits: one pass over every match beats a lookup per hit.
        query = f"SELECT rowid, {snippet} FROM turns_fts WHERE turns_fts MATCH ?"
        snippets = dict(conn.execute(query, (*marks, fts)))
    for start in range(0, len(ids), DETAIL_BATCH):
        batch = ids[start : start + DETAIL_BATCH]
        if len(ids) <= FEW_HITS:
            query = f"SELECT {snippet} FROM turns_fts WHERE turns_fts MATCH ? AND rowid = ?"
            for turn_id in batch:
                row = conn.execute(query, (*marks, fts, turn_id)).fetchone()
                snippets[turn_id] = row[0] if row else ""
        yield from _hits(conn, batch, snippets)


def _hits(conn: sqlite3.Connection, ids: list[int], snippets: dict[int, str]) -> Iterator[Hit]:
    rows = {
        row[0]: row
        for row in conn.execute(
            "SELECT t.id, t.call_id, t.seq, t.role, c.created_at, c.agent_id, a.name, c.turns "
            "FROM turns t JOIN calls c ON c.id = t.call_id LEFT JOIN agents a ON a.id = c.agent_id "
            f"WHERE t.id IN ({', '.join('?' * len(ids))})",
            ids,
        )
    }
    for turn_id in ids:
        _, call_id, seq, role, created, agent_id, agent, turns = rows[turn_id]
        yield Hit(
            call_id=call_id,
            created_at=f"{created}Z" if created else None,
            agent_id=agent_id,
            agent=restored(agent),
            role=restored(role),
            turn=seq,
            snippet=_parts(snippets.get(turn_id, "")),
            transcript=turns,
        )


def _parts(snippet: str) -> list[tuple[str, bool]]:
    """`a \\x02b\\x03 c` as [("a ", False), ("b", True), (" c", False)], separators gone."""
    parts: list[tuple[str, bool]] = []
    for index, piece in enumerate(shown_text(snippet).split(MARK_START)):
        text, _, rest = piece.partition(MARK_END) if index else ("", "", piece)
        if text:
            parts.append((text, True))
        if rest:
            parts.append((rest, False))
    return parts
