"""`zaza calls search`: the archived transcripts' turns that match an FTS5 query, best first.

Ranked by bm25 (FTS5's `rank`), ties newest first. Two steps keep it fast on a large
archive: the ids of the best turns first (from the index alone when no filter needs the
calls: turn ids sort newest first), then the snippets and the rest for those alone.
Needs no network and no key.
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
# A --limit search matching more turns than this ranks the newest this many (and says so):
# bm25 costs about 1 µs a match (600,000 matches of a very common word: 0.6 s), counting
# the newest matches 0.03 µs.
CANDIDATES = 25_000
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


@dataclass(frozen=True)
class Found:
    hits: Iterator[Hit]
    ranked: int | None = None  # more turns matched: the newest this many were ranked


def search(
    archive: Archive,
    query: str,
    filters: CallFilter,
    *,
    role: str | None = None,
    limit: int | None = None,
    include_deleted: bool = False,
    rank_all: bool = False,
) -> Found:
    """The matching turns of calls that match `filters`, best first, ties newest first;
    `role` AGENT/CALLER. With a `limit`, a query matching more than CANDIDATES turns is
    ranked among its newest CANDIDATES (unless `rank_all`). The query runs here (a bad one
    raises UsageError before anything is printed); snippets are made as hits are read."""
    if not query.strip():
        raise UsageError("the search query is empty", hint=SYNTAX_HINT)
    fts = match_query(query)
    # Turn ids sort newest first (archive/order.py): without filters on the calls, the
    # index alone ranks, breaks ties and finds the newest matches.
    where, params = filter_sql(filters, "c", include_deleted=True)
    if role is not None:
        where += " AND t.role = ?"
        params.append(role)
    source = "turns_fts"
    if where:
        source += " JOIN turns t ON t.id = turns_fts.rowid JOIN calls c ON c.id = t.call_id"
    if not include_deleted:
        where += (
            " AND turns_fts.rowid NOT IN (SELECT h.id FROM calls d JOIN turns h "
            "ON h.call_id = d.id WHERE d.deleted_at IS NOT NULL)"
        )
    select = f"SELECT turns_fts.rowid FROM {source} WHERE turns_fts MATCH ?{where}"
    ranked = None
    if limit is not None and not rank_all:
        newest = f"{select} ORDER BY turns_fts.rowid LIMIT 1 OFFSET {CANDIDATES}"
        past = _run(archive.conn, newest, (fts, *params), query)
        if past:
            select += " AND turns_fts.rowid < ?"
            params.append(past[0][0])
            ranked = CANDIDATES
    ordered = f"{select} ORDER BY turns_fts.rank, turns_fts.rowid"
    if limit is not None:
        ordered += f" LIMIT {int(limit)}"
    ids = [row[0] for row in _run(archive.conn, ordered, (fts, *params), query)]
    return Found(_in_batches(archive.conn, fts, ids), ranked)


def _run(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...], query: str) -> list[Any]:
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if any(text in str(exc) for text in _QUERY_ERRORS):
            message = f"cannot read the search query {query!r}: {exc}"
            raise UsageError(message, hint=SYNTAX_HINT) from None
        raise


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
