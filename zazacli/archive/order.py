"""Turn ids in time order: the search index's rowids are the turn ids, so when an id says
where its turn sorts, FTS5 reads the newest turns first and breaks bm25 ties by itself,
with no join to the calls (over a million calls, that join cost more than the ranking).

A turn's id is `(LAST_MS - created_ms) << SLOT_BITS` plus its place: the newest call has
the smallest ids; a call's turns are consecutive, in transcript order; calls created in the
same millisecond share its 32,768 slots. A call that does not fit, or whose `createdAt`
could not be read (sorted after every dated call), takes the next free ids after them,
which only blurs the order among such calls.
"""

from __future__ import annotations

import calendar
import sqlite3
from datetime import datetime

LAST_MS = 253_402_300_800_000  # 10000-01-01T00:00:00Z: later times are refused on reading
SLOT_BITS = 15


def created_ms(created_at: str | None) -> int | None:
    """A stored `created_at` (UTC, `YYYY-MM-DDTHH:MM:SS[.ffffff]`) in ms since 1970."""
    if not created_at:
        return None
    try:
        parsed = datetime.fromisoformat(created_at)
    except ValueError:
        return None
    return calendar.timegm(parsed.timetuple()) * 1000 + parsed.microsecond // 1000


def base(created_at: str | None) -> int:
    """The first id a call created at `created_at` may take."""
    ms = created_ms(created_at)
    ms = 0 if ms is None else min(max(ms, 0), LAST_MS)
    return (LAST_MS - ms) << SLOT_BITS


def first_free(conn: sqlite3.Connection, start: int, count: int, table: str = "turns") -> int:
    """The first id from `start` on with `count` free ids after it (index lookups only)."""
    while True:
        row = conn.execute(
            f"SELECT id FROM {table} WHERE id >= ? ORDER BY id LIMIT 1", (start,)
        ).fetchone()
        if row is None or row[0] >= start + count:
            return start
        taken = conn.execute(
            f"SELECT max(id) FROM {table} WHERE id >= ? AND id < ?", (row[0], start + count)
        ).fetchone()[0]
        start = taken + 1


def renumber_turns(conn: sqlite3.Connection) -> None:
    """Migration: give the turns of an older archive their ids in time order and rebuild
    the search index over them (once; about a minute per million calls)."""
    conn.execute(
        """CREATE TABLE turns_keyed (
            id INTEGER PRIMARY KEY,
            call_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            role TEXT,
            text TEXT NOT NULL
        )"""
    )
    calls = conn.execute(
        "SELECT t.call_id, c.created_at, count(*) FROM turns t "
        "LEFT JOIN calls c ON c.id = t.call_id GROUP BY t.call_id"
    ).fetchall()
    placed: list[tuple[int, int]] = []
    free = 0
    # In id order into an empty table, the first free id is the larger of base and free.
    for call_id, first, count in sorted(
        ((call_id, base(created), count) for call_id, created, count in calls),
        key=lambda item: (item[1], item[0]),
    ):
        start = max(first, free)
        placed.append((call_id, start))
        free = start + count
    conn.execute("CREATE TEMP TABLE turn_starts (call_id INTEGER PRIMARY KEY, start INTEGER)")
    conn.executemany("INSERT INTO turn_starts VALUES (?, ?)", placed)
    conn.execute(
        "INSERT INTO turns_keyed (id, call_id, seq, role, text) "
        "SELECT s.start + row_number() OVER (PARTITION BY t.call_id ORDER BY t.seq) - 1, "
        "t.call_id, t.seq, t.role, t.text FROM turns t JOIN turn_starts s USING (call_id)"
    )
    conn.execute("DROP TABLE turn_starts")
    conn.execute("DROP TABLE turns")  # its index and triggers with it
    conn.execute("ALTER TABLE turns_keyed RENAME TO turns")
    conn.execute("CREATE INDEX turns_call ON turns (call_id)")
    conn.execute(
        """CREATE TRIGGER turns_added AFTER INSERT ON turns BEGIN
            INSERT INTO turns_fts (rowid, text) VALUES (new.id, new.text);
        END"""
    )
    conn.execute(
        """CREATE TRIGGER turns_removed AFTER DELETE ON turns BEGIN
            INSERT INTO turns_fts (turns_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END"""
    )
    conn.execute("INSERT INTO turns_fts (turns_fts) VALUES ('rebuild')")
