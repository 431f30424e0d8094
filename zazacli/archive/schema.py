"""The archive's tables, as a list of migrations: migration N takes schema version N to N+1.

The version is SQLite's `user_version`. A new release appends a migration and never edits
an old one, so every archive, however old, is brought up to date in order, each step in one
transaction. Columns beside `raw` are copies for filtering and sorting; `raw` (the call as
the API last sent it, without `turns`) and `turns` (its turns as sent) are the record.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from zazacli.archive.order import renumber_turns
from zazacli.archive.tokens import storable
from zazacli.calls.stats import field_text

# A step is SQL, or a function of the connection when SQL alone cannot say it.
Step = str | Callable[[sqlite3.Connection], None]

# The UTC quarter-hour a call was created in (`2026-11-26T14:2` is 14:30-14:45): what
# `calls stats --local` groups days and hours by. Indexed below, so queries must write it
# exactly so; like a migration, it never changes once released.
QUARTER = "substr(created_at, 1, 14) || (CAST(substr(created_at, 15, 2) AS INTEGER) / 15)"


def _copy_failure_reasons(conn: sqlite3.Connection) -> None:
    """Migration: each held call's `failureReason`, read from its record as the API path
    of `calls stats` reads it (`field_text`), into the new column."""
    rows = conn.execute("SELECT id, raw FROM calls WHERE instr(raw, '\"failureReason\"')")
    updates = []
    for call_id, raw in rows.fetchall():
        record = json.loads(raw)
        reason = record.get("failureReason") if isinstance(record, dict) else None
        if reason is not None:
            updates.append((storable(field_text(reason)), call_id))
    conn.executemany("UPDATE calls SET failure_reason = ? WHERE id = ?", updates)


MIGRATIONS: list[tuple[Step, ...]] = [
    (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID",
        # created_at: `created_key` form (UTC, sorts as time does); ended: call_is_over;
        # turns: NULL until the transcript of the ended call is fetched, then the JSON sent;
        # seen_run: the sync that last read the call (a run skips what it has read);
        # synced_at: when the row last changed.
        """CREATE TABLE calls (
            id INTEGER PRIMARY KEY,
            created_at TEXT,
            status TEXT,
            direction TEXT,
            from_number TEXT,
            to_number TEXT,
            agent_id INTEGER,
            campaign_id INTEGER,
            duration_seconds INTEGER,
            disposition TEXT,
            ended INTEGER NOT NULL,
            raw TEXT NOT NULL,
            turns TEXT,
            n_turns INTEGER,
            seen_run INTEGER,
            synced_at TEXT NOT NULL
        )""",
        "CREATE INDEX calls_created ON calls (created_at)",
        "CREATE INDEX calls_todo ON calls (id) WHERE turns IS NULL",
        # One row per turn, its text as indexed (tokens.index_text); the index reads it.
        """CREATE TABLE turns (
            id INTEGER PRIMARY KEY,
            call_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            role TEXT,
            text TEXT NOT NULL
        )""",
        "CREATE INDEX turns_call ON turns (call_id)",
        """CREATE VIRTUAL TABLE turns_fts USING fts5 (
            text, content='turns', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        )""",
        """CREATE TRIGGER turns_added AFTER INSERT ON turns BEGIN
            INSERT INTO turns_fts (rowid, text) VALUES (new.id, new.text);
        END""",
        """CREATE TRIGGER turns_removed AFTER DELETE ON turns BEGIN
            INSERT INTO turns_fts (turns_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END""",
        # What a sync may take as held: every call of `scope` created after `bottom` (and
        # some at it) up to `top`; `reached_end` when the list was read to its very end.
        """CREATE TABLE coverage (
            scope TEXT PRIMARY KEY,
            top TEXT,
            bottom TEXT,
            reached_end INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID""",
        "CREATE TABLE agents (id INTEGER PRIMARY KEY, name TEXT, raw TEXT NOT NULL)",
        # finished_at NULL: the run was killed (or is still going).
        """CREATE TABLE syncs (
            id INTEGER PRIMARY KEY,
            scope TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            outcome TEXT,
            summary TEXT
        )""",
    ),
    (
        # Campaign names, for `calls stats --local --by campaign`.
        "CREATE TABLE campaigns (id INTEGER PRIMARY KEY, name TEXT, raw TEXT NOT NULL)",
        # Every column `calls stats --local` reads, in quarter-hour order: it scans this
        # narrow index instead of the rows with their JSON, and groups days and hours
        # without a sort (over 100,000 calls, 130 ms become 80).
        f"""CREATE INDEX calls_stats ON calls (
            {QUARTER}, created_at, direction, status, ended, duration_seconds, agent_id,
            campaign_id, disposition
        )""",
    ),
    (
        # A call the API no longer lists (found by `calls sync --refresh`): kept, hidden from
        # --local and search unless --include-deleted; cleared when it is listed again.
        "ALTER TABLE calls ADD COLUMN deleted_at TEXT",
        "DROP INDEX calls_stats",
        f"""CREATE INDEX calls_stats ON calls (
            {QUARTER}, created_at, direction, status, ended, duration_seconds, agent_id,
            campaign_id, disposition
        ) WHERE deleted_at IS NULL""",
        # Each `calls sync --refresh`: the range it read again, and what it found.
        """CREATE TABLE refreshes (
            id INTEGER PRIMARY KEY,
            scope TEXT NOT NULL,
            since TEXT,
            finished_at TEXT NOT NULL,
            listed INTEGER NOT NULL,
            updated INTEGER NOT NULL,
            deleted INTEGER NOT NULL
        )""",
    ),
    (
        # Turn ids in time order (archive/order.py): search ranks and breaks ties inside
        # the index, and finds the newest matches of a very common word, without a join.
        renumber_turns,
        # The hidden calls, which search leaves out by turn id (a handful, looked up once).
        "CREATE INDEX calls_deleted ON calls (id) WHERE deleted_at IS NOT NULL",
    ),
    (
        # Why a call failed, for `calls stats --local --by failure`: a column of its own,
        # filled from the calls already held, and read by the stats index like the others.
        "ALTER TABLE calls ADD COLUMN failure_reason TEXT",
        _copy_failure_reasons,
        "DROP INDEX calls_stats",
        f"""CREATE INDEX calls_stats ON calls (
            {QUARTER}, created_at, direction, status, ended, duration_seconds, agent_id,
            campaign_id, disposition, failure_reason
        ) WHERE deleted_at IS NULL""",
    ),
]

SCHEMA_VERSION = len(MIGRATIONS)
