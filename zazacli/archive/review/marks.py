"""What each rule matched in the archive, kept in temporary tables of the connection for
the pass over the calls (evaluate.py). A call's turns have consecutive ids in transcript
order (archive/order.py), so the turns before or after one are a range of the index on
call_id.

The archive's full-text index finds the turns a phrase may match (a `re:` phrase reads
every turn of its speaker instead); each is checked by the phrase matcher, unless the
index reads its words exactly as the matcher does (`_as_indexed`). A request not to be
called again is found the same way, through the queries optout.py gives with its patterns.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

from zazacli.api.listing import CallFilter
from zazacli.archive.review.optout import index_query as opt_out_query
from zazacli.archive.review.optout import request_span
from zazacli.archive.review.phrases import Phrase, first_match, fold, original_span
from zazacli.archive.review.rules import OPT_OUT, REQUIRE, Rule
from zazacli.archive.store import filter_sql
from zazacli.archive.tokens import shown_text, storable

MARKS, SKIPPED, CALLS = "temp.review_marks", "temp.review_skipped", "temp.review_calls"
BATCH = 10_000
# Punctuation that the index and the matcher both take for a space between words.
_SEPARATORS = dict.fromkeys(map(ord, "…—–‘’“”«»¡¿\u00a0"))


def _as_indexed(text: str) -> bool:
    """Whether the index reads the words of `text` as the matcher does, so that a turn the
    index matched needs no second look: ASCII, perhaps with punctuation both take for a
    separator, and without `_` (which joins words for the matcher, not for the index)."""
    if "_" in text:
        return False
    return text.isascii() or text.translate(_SEPARATORS).isascii()


def temporary_tables(conn: sqlite3.Connection) -> None:
    """On this connection only. SKIPPED: the calls not reviewed, live at the last sync or
    their transcript not fetched yet (`turns` IS NULL), and those the API no longer lists:
    both few, found through partial indexes (reading `turns` or `deleted_at` of every call
    would walk past its JSON). MARKS: what the rules matched. A row without `seq`: a
    `require` rule is met in the call; with `seq`: a turn with a forbidden phrase, or a
    request not to be called again (`later`: the agent's turns after it). CALLS: by_call."""
    conn.execute(f"CREATE TABLE IF NOT EXISTS {SKIPPED} (id INTEGER PRIMARY KEY)")
    conn.execute(f"DELETE FROM {SKIPPED}")
    conn.execute(
        f"INSERT INTO {SKIPPED} SELECT id FROM calls WHERE turns IS NULL "
        "UNION SELECT id FROM calls WHERE deleted_at IS NOT NULL"
    )
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {MARKS} (call_id INTEGER NOT NULL, rule INTEGER NOT NULL, "
        "seq INTEGER, role TEXT, start INTEGER, stop INTEGER, phrase TEXT, later INTEGER, "
        "text TEXT)"
    )
    conn.execute(f"CREATE INDEX IF NOT EXISTS {MARKS}_call ON review_marks (call_id, rule, seq)")
    conn.execute(f"DELETE FROM {MARKS}")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {CALLS} (call_id INTEGER PRIMARY KEY, met INTEGER, marks TEXT)"
    )
    conn.execute(f"DELETE FROM {CALLS}")


def by_call(conn: sqlite3.Connection) -> None:
    """CALLS: for each call with marks, the `require` rules it meets (bit `1 << rule`) and
    its other marks as a JSON array (NULL: none), so the pass over the calls looks each
    call up once."""
    conn.execute(
        f"INSERT INTO {CALLS} (call_id, met, marks) SELECT call_id, "
        "sum(DISTINCT CASE WHEN seq IS NULL THEN 1 << rule ELSE 0 END), "
        "CASE WHEN count(seq) THEN json_group_array(json_array(rule, seq, role, start, stop, "
        f"phrase, later, text)) FILTER (WHERE seq IS NOT NULL) END FROM {MARKS} GROUP BY call_id"
    )


def roles_sql(roles: tuple[str, ...] | None, alias: str) -> tuple[str, list[str]]:
    """` AND alias.role IN (…)` and its values; nothing for every role."""
    if roles is None:
        return "", []
    return f" AND {alias}.role IN ({', '.join('?' * len(roles))})", list(roles)


def turn_range(conn: sqlite3.Connection, filters: CallFilter) -> tuple[int, int] | None:
    """With --since or --until: the lowest and highest turn id of those calls. Turn ids
    follow the calls' creation time (archive/order.py), so the range is narrow, and the
    index searches it alone instead of every match in the archive: a review of the last
    day costs what the day holds. None without a time filter; (1, 0) for no turn."""
    if filters.since is None and filters.until is None:
        return None
    where, params = filter_sql(filters, "c", include_deleted=True)
    low, high = conn.execute(
        f"SELECT min(t.id), max(t.id) FROM calls c JOIN turns t ON t.call_id = c.id WHERE 1{where}",
        params,
    ).fetchone()
    return (1, 0) if low is None else (low, high)


class Marker:
    """Fills the marks of one rule (the `index`-th) over the calls of `filters`, whose
    turns are within `turns` (turn_range)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        filters: CallFilter,
        index: int,
        rule: Rule,
        turns: tuple[int, int] | None = None,
    ) -> None:
        self.conn = conn
        self.index = index
        self.rule = rule
        self.turns = turns
        self.where, self.params = filter_sql(filters, "c", include_deleted=True)
        # The calls table is read only when a filter needs it: without, turns suffice.
        self.calls = " JOIN calls c ON c.id = t.call_id" if self.where else ""
        self.where += f" AND t.call_id NOT IN (SELECT id FROM {SKIPPED})"
        roles, values = roles_sql(rule.roles, "t")
        self.where += roles
        self.params += values

    def mark(self) -> None:
        if self.rule.kind == OPT_OUT:
            self._requests()
        elif self.rule.kind == REQUIRE:
            self._met()
        elif self.rule.indexed:
            for phrase in self.rule.phrases:
                self._forbidden((phrase,), phrase.index_query)
        else:
            self._forbidden(self.rule.phrases, None)

    def _candidates(self, query: str | None) -> tuple[str, list[Any]]:
        """The turns a rule may match (call, seq, role, text) and their parameters: from
        the full-text index (`query`), or every turn of the speaker; for a rule that looks
        at the speaker's first turns only, those."""
        source = "turns t"
        if query is not None:
            source = "turns_fts JOIN turns t ON t.id = turns_fts.rowid"
        within, values = "", list[Any]()
        if self.rule.kind != OPT_OUT and self.rule.within_turns is not None:
            first = int(self.rule.within_turns)
            roles, values = roles_sql(self.rule.roles, "s")
            rank = "SELECT count(*) FROM turns s WHERE s.call_id = t.call_id AND s.id < t.id"
            # A turn's place among the speaker's is at most its place in the call: most
            # turns near the start need no count.
            within = f" AND CASE WHEN t.seq < {first} THEN 1 ELSE ({rank}{roles}) < {first} END"
        match = "turns_fts MATCH ? AND " if query is not None else ""
        if self.turns is not None:
            within += f" AND {'turns_fts.rowid' if query else 't.id'} BETWEEN ? AND ?"
            values = [*values, *self.turns]
        sql = (
            f"SELECT t.call_id, t.seq, t.role, t.text FROM {source}{self.calls} "
            f"WHERE {match}1{self.where}{within}"
        )
        return sql, [*([query] if query is not None else []), *self.params, *values]

    def _met(self) -> None:
        """`require`: the calls where a phrase is said where the rule wants it."""
        query = None
        if self.rule.indexed:
            query = " OR ".join(f"({phrase.index_query})" for phrase in self.rule.phrases)
        rows = self.conn.execute(*self._candidates(query))
        phrases = self.rule.phrases
        met = (
            call_id
            for call_id, _, _, text in rows
            # A turn the index matched stands when the index reads it as the matcher does.
            if (query is not None and _as_indexed(text))
            or first_match(phrases, fold(shown_text(text)))
        )
        # A statement per batch (a JSON array) costs a seventh of a statement per row.
        while batch := list(itertools.islice(met, BATCH)):
            self.conn.execute(
                f"INSERT INTO {MARKS} (call_id, rule) SELECT value, {self.index} FROM json_each(?)",
                (json.dumps(batch),),
            )

    def _forbidden(self, phrases: tuple[Phrase, ...], query: str | None) -> None:
        """`forbid`: each turn where one of `phrases` is said (a turn matched by several
        phrases gets a mark for each; the earliest match makes the finding)."""
        rows = self.conn.execute(*self._candidates(query))
        self.conn.executemany(
            f"INSERT INTO {MARKS} (call_id, rule, seq, role, start, stop, phrase, text) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            self._matched(rows, phrases),
        )

    def _matched(
        self, rows: Iterator[tuple[Any, ...]], phrases: tuple[Phrase, ...]
    ) -> Iterator[tuple[Any, ...]]:
        for call_id, seq, role, stored in rows:
            text = shown_text(stored)
            found = first_match(phrases, fold(text))
            if found is not None:
                phrase, start, stop = found
                start, stop = original_span(text, start, stop)
                # As SQLite can store it (a lone surrogate the API sent cannot be).
                kept = storable(text)
                yield (call_id, self.index, seq, role, start, stop, phrase.source, kept)

    def _requests(self) -> None:
        """`opt-out`: each call's first request not to be called again, and how many turns
        the agent said after it."""
        later = (
            "(SELECT count(*) FROM turns s WHERE s.call_id = t.call_id AND s.id > t.id "
            "AND s.role = 'AGENT')"
        )
        sql, params = self._candidates(opt_out_query())
        sql = sql.replace("t.text FROM", f"t.text, {later} FROM", 1)
        rows = self.conn.execute(f"{sql} ORDER BY t.call_id, t.seq", params)
        self.conn.executemany(
            f"INSERT INTO {MARKS} (call_id, rule, seq, role, start, stop, later, text) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            self._first_requests(rows),
        )

    def _first_requests(self, rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """The first request of each call (rows come call by call, in turn order)."""
        marked = None
        for call_id, seq, role, stored, after in rows:
            if call_id == marked:
                continue
            text = shown_text(stored)
            span = request_span(fold(text))
            if span is not None:
                marked = call_id
                start, stop = original_span(text, *span)
                yield (call_id, self.index, seq, role, start, stop, after, storable(text))
