"""The archive file: opening it (WAL, schema migrations), and every read and write of it.

Each write is one transaction (`BEGIN IMMEDIATE`), so a process killed at any instant
leaves the file as it was before the write or after it; WAL lets searches read while a sync
writes, and two syncs at once take turns (each waits up to BUSY_TIMEOUT for the other).
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from zazacli.api.listing import CallFilter, created_key
from zazacli.api.values import call_is_over
from zazacli.archive import order
from zazacli.archive.schema import MIGRATIONS, SCHEMA_VERSION
from zazacli.archive.tokens import index_text, storable
from zazacli.calls.stats import field_int, field_seconds, field_text, field_upper
from zazacli.errors import NotFoundError, UsageError, ZazaError
from zazacli.files import create_private_file, keep_private, sqlite_read, sqlite_wal, sqlite_write

BUSY_TIMEOUT = 30.0  # seconds a writer waits while another one writes
MAX_ID = 2**63 - 1  # SQLite's INTEGER
_SURROGATE = re.compile("[\ud800-\udfff]")
NEW, UPDATED, SAME = "new", "updated", "same"
TRANSCRIPT, NO_TRANSCRIPT, LIVE = "transcript", "no transcript", "live"
ROLES = ("AGENT", "CALLER")


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_json(value: Any) -> str:
    """Compact JSON that SQLite can store: a lone surrogate (from a `\\ud800` the server
    escaped) is written back as the same escape."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if _SURROGATE.search(text):
        text = json.dumps(value, separators=(",", ":"))
    return text


def archive_id(value: Any) -> int | None:
    """A call id the archive can key on: a non-negative integer within SQLite's range."""
    if isinstance(value, str) and value.isascii() and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID:
        return value
    return None


def _columns(call: Mapping[str, Any]) -> tuple[Any, ...]:
    """The indexed copies of a call's fields, in the order of COLUMNS, each read as
    `calls stats` reads it from the API (so SQL over them gives its numbers), text in the
    form SQLite can store (tokens.storable; read back with tokens.restored)."""
    return (
        field_text(created_key(call.get("createdAt"))),
        storable(field_upper(call.get("status"))),
        storable(field_upper(call.get("direction"))),
        storable(field_text(call.get("fromNumber"))),
        storable(field_text(call.get("toNumber"))),
        field_int(call.get("agentId")),
        field_int(call.get("campaignId")),
        field_seconds(call.get("durationSeconds")),
        storable(field_text(call.get("disposition"))),
        int(call_is_over(call)),
        storable(field_text(call.get("failureReason"))),
    )


COLUMNS = (
    "created_at",
    "status",
    "direction",
    "from_number",
    "to_number",
    "agent_id",
    "campaign_id",
    "duration_seconds",
    "disposition",
    "ended",
    "failure_reason",
)
_UPSERT = (
    f"INSERT INTO calls (id, {', '.join(COLUMNS)}, raw, seen_run, synced_at) "
    f"VALUES ({', '.join('?' * (len(COLUMNS) + 4))}) "
    f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in COLUMNS)}, "
    "raw = excluded.raw, seen_run = excluded.seen_run, synced_at = excluded.synced_at, "
    "deleted_at = NULL"
)


@dataclass(frozen=True)
class Coverage:
    top: str | None
    bottom: str | None
    reached_end: bool


@dataclass(frozen=True)
class Listed:
    """What storing one listed call did: NEW, UPDATED or SAME; whether it has ended, and
    whether its transcript is still to be fetched (it has ended and none is held)."""

    call_id: int
    change: str
    ended: bool
    needs_transcript: bool


@contextlib.contextmanager
def archive_errors(path: Path) -> Iterator[None]:
    """SQLite's failures as one-line errors that name the archive."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise ZazaError(
                f"the archive {path} is busy: another zaza is writing it",
                hint="try again when it is done",
            ) from None
        raise ZazaError(f"cannot use the archive {path}: {text}") from None
    except sqlite3.DatabaseError as exc:
        raise ZazaError(
            f"{path} is not a readable zaza archive: {exc}",
            hint="point --archive at another file, or move this one away and sync again",
        ) from None


def filter_sql(
    filters: CallFilter, alias: str = "calls", *, include_deleted: bool = False
) -> tuple[str, list[Any]]:
    """` AND …` conditions on the calls table for a CallFilter, and their parameters; calls
    the API no longer lists are left out unless `include_deleted`."""
    conditions: list[str] = [] if include_deleted else [f"{alias}.deleted_at IS NULL"]
    params: list[Any] = []
    for column, values in (
        ("direction", [d.upper() for d in filters.directions]),
        ("status", [s.upper() for s in filters.statuses]),
        ("agent_id", list(filters.agent_ids)),
    ):
        if values:
            conditions.append(f"{alias}.{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    if filters.since is not None:
        conditions.append(f"{alias}.created_at >= ?")
        params.append(created_key(filters.since))
    if filters.until is not None:
        conditions.append(f"{alias}.created_at < ?")
        params.append(created_key(filters.until))
    return "".join(f" AND {c}" for c in conditions), params


class Archive:
    """One open archive. Not shared between threads: a sync writes from its main thread."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn

    # ------------------------------------------------------------ opening

    @classmethod
    def open(
        cls, path: Path, *, create: bool, warn: Callable[[str], None] = lambda _: None
    ) -> Archive:
        """The archive at `path`, its schema brought up to date; with `create`, a new one
        (mode 0600, in a 0700 directory when zaza makes it, never through a link) if there
        is none. One that others can read is tightened (or warned about)."""
        if not path.exists():
            if not create:
                raise NotFoundError(f"no archive at {path}", hint="create it with: zaza calls sync")
            create_private_file(path, "archive")
        if path.is_dir():
            raise UsageError(f"{path} is a directory, not an archive file")
        keep_private(path, warn)
        with archive_errors(path):
            conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT)
            try:
                _prepare(conn, path, warn)
            except BaseException:
                conn.close()
                raise
        return cls(path, conn)

    def close(self) -> None:
        self.conn.close()

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write: all of it lands, or none of it (also when the process is killed)."""
        return sqlite_write(self.conn)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """Reads that all see one state of the archive, whatever a sync writes meanwhile
        (WAL keeps the snapshot)."""
        self.conn.execute("BEGIN")
        try:
            yield self.conn
        finally:
            self.conn.execute("COMMIT")

    # ------------------------------------------------------------ meta

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def claim_source(self, base_url: str, fingerprint: str) -> None:
        """Mark the archive as this API's, or refuse one that mirrors another: calls of two
        organisations must not mix."""
        base_url = base_url.rstrip("/")
        held = self._source(self.conn)
        if held == (None, None):
            with self.transaction() as conn:
                held = self._source(conn)  # another sync may have claimed it meanwhile
                if held == (None, None):
                    conn.executemany(
                        "INSERT INTO meta (key, value) VALUES (?, ?)",
                        [("base_url", base_url), ("key_fingerprint", fingerprint)],
                    )
                    return
        if held != (base_url, fingerprint):
            other = held[0] if held[0] != base_url else f"{held[0]} with another key"
            raise UsageError(
                f"the archive {self.path} mirrors {other}, not {base_url}",
                hint="each API (and key) has its own archive: leave out --archive, or "
                "choose another file",
            )

    @staticmethod
    def _source(conn: sqlite3.Connection) -> tuple[str | None, str | None]:
        """The API and key the archive mirrors, read together (one statement: one state)."""
        rows = dict(
            conn.execute(
                "SELECT key, value FROM meta WHERE key IN ('base_url', 'key_fingerprint')"
            ).fetchall()
        )
        return rows.get("base_url"), rows.get("key_fingerprint")

    # ------------------------------------------------------------ writes of a sync

    def start_run(self, scope: str) -> int:
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO syncs (scope, started_at) VALUES (?, ?)", (scope, utc_now())
            )
        return int(cursor.lastrowid or 0)

    def finish_run(self, run: int, outcome: str, summary: Mapping[str, Any]) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE syncs SET finished_at = ?, outcome = ?, summary = ? WHERE id = ?",
                (utc_now(), outcome, to_json(summary), run),
            )

    def save_agents(self, agents: list[dict[str, Any]]) -> None:
        self._save_named("agents", agents)

    def save_campaigns(self, campaigns: list[dict[str, Any]]) -> None:
        self._save_named("campaigns", campaigns)

    def has_campaign_calls(self) -> bool:
        query = "SELECT 1 FROM calls WHERE campaign_id IS NOT NULL LIMIT 1"
        return self.conn.execute(query).fetchone() is not None

    def _save_named(self, table: str, items: list[dict[str, Any]]) -> None:
        """Agents or campaigns as the API lists them: their names, shown offline."""
        rows = [
            (ident, storable(field_text(item.get("name"))), to_json(item))
            for item in items
            if isinstance(item, dict) and (ident := field_int(item.get("id"))) is not None
        ]
        with self.transaction() as conn:
            conn.executemany(
                f"INSERT OR REPLACE INTO {table} (id, name, raw) VALUES (?, ?, ?)", rows
            )

    def store_listed(
        self,
        calls: list[tuple[int, dict[str, Any]]],
        run: int,
        *,
        top: str | None = None,
        bottom: str | None = None,
        scope: str = "",
        refetch_changed: bool = False,
    ) -> list[Listed]:
        """List items, in one transaction with the coverage they complete (`top` raised to,
        `bottom` lowered to). A held call keeps the fields only its detail had; with
        `refetch_changed` (a refresh), an ended call the list shows changed is fetched again,
        transcript included. A listed call is no longer deleted."""
        ids = [call_id for call_id, _ in calls]
        now = utc_now()
        results = []
        with self.transaction() as conn:
            held = {
                row[0]: (row[1], row[2])
                for row in conn.execute(
                    f"SELECT id, raw, turns IS NULL FROM calls WHERE id IN ({_marks(ids)})", ids
                )
            }
            for call_id, call in calls:
                old = held.get(call_id)
                merged = {**json.loads(old[0]), **call} if old else dict(call)
                merged.pop("turns", None)
                raw = to_json(merged)
                change = NEW if old is None else UPDATED if raw != old[0] else SAME
                if change == SAME:
                    conn.execute(
                        "UPDATE calls SET seen_run = ?, deleted_at = NULL WHERE id = ?",
                        (run, call_id),
                    )
                else:
                    conn.execute(_UPSERT, (call_id, *_columns(merged), raw, run, now))
                ended = call_is_over(merged)
                again = refetch_changed and change == UPDATED
                needs = ended and (old is None or bool(old[1]) or again)
                results.append(Listed(call_id, change, ended, needs))
            if top is not None or bottom is not None:
                _extend(conn, scope, top, bottom)
        return results

    def store_details(
        self, calls: list[tuple[int, dict[str, Any]]], run: int
    ) -> list[tuple[str, bool]]:
        """`GET /calls/{id}` answers, in one transaction: each call, and its transcript once
        it has ended. For each: (TRANSCRIPT, NO_TRANSCRIPT or LIVE, whether the call's
        fields changed)."""
        with self.transaction() as conn:
            return [_store_detail(conn, call_id, call, run) for call_id, call in calls]

    # ------------------------------------------------------------ coverage

    def coverage(self, scope: str) -> Coverage | None:
        row = self.conn.execute(
            "SELECT top, bottom, reached_end FROM coverage WHERE scope = ?", (scope,)
        ).fetchone()
        return Coverage(row[0], row[1], bool(row[2])) if row else None

    def reset_coverage(self, scope: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM coverage WHERE scope = ?", (scope,))
            conn.execute("INSERT INTO coverage (scope) VALUES (?)", (scope,))

    def complete_coverage(
        self, scope: str, *, top: str | None = None, bottom: str | None = None, end: bool = False
    ) -> None:
        """A scan of the list finished: its range is held (and the list's end, if reached)."""
        with self.transaction() as conn:
            _extend(conn, scope, top, bottom)
            if end:
                conn.execute("UPDATE coverage SET reached_end = 1 WHERE scope = ?", (scope,))

    def mark_deleted(self, filters: CallFilter, run: int) -> int:
        """Calls of `filters` (its range) that the run `run`, read whole, did not list: marked
        deleted (kept; hidden from --local and search). Returns how many."""
        where, params = filter_sql(filters)
        with self.transaction() as conn:
            return int(
                conn.execute(
                    f"UPDATE calls SET deleted_at = ? WHERE (seen_run IS NOT ?){where}",
                    (utc_now(), run, *params),
                ).rowcount
            )

    def record_refresh(self, scope: str, since: str | None, counts: Mapping[str, int]) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO refreshes (scope, since, finished_at, listed, updated, deleted) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (scope, since, utc_now(), counts["listed"], counts["updated"], counts["deleted"]),
            )

    # ------------------------------------------------------------ reads of a sync

    def leftovers(self, filters: CallFilter, run: int, batch: int = 500) -> Iterator[int]:
        """Calls of `filters` this run has not read: ended ones whose transcript is missing
        (a failed or interrupted fetch) and live ones (to read again). Fetched in batches by
        id, so writes meanwhile do not disturb the reading."""
        where, params = filter_sql(filters)
        last = MAX_ID
        while True:
            rows = self.conn.execute(
                "SELECT id FROM calls WHERE turns IS NULL AND id <= ? "
                f"AND (seen_run IS NOT ? OR seen_run IS NULL){where} "
                "ORDER BY id DESC LIMIT ?",
                (last, run, *params, batch),
            ).fetchall()
            if not rows:
                return
            for (call_id,) in rows:
                yield call_id
            last = rows[-1][0] - 1

    # ------------------------------------------------------------ archive upkeep

    def prune(self, before: str) -> int:
        """Calls created before `before` (a created_key) and their transcripts removed, and
        the floor below which syncs do not go back recorded; returns how many."""
        with self.transaction() as conn:
            doomed = "SELECT id FROM calls WHERE created_at < ?"
            conn.execute(f"DELETE FROM turns WHERE call_id IN ({doomed})", (before,))
            count = conn.execute("DELETE FROM calls WHERE created_at < ?", (before,)).rowcount
            floor = self.meta("pruned_before")
            if floor is None or before > floor:
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('pruned_before', ?)",
                    (before,),
                )
            # What was held below is gone: a sync with an earlier --since reads it again.
            conn.execute(
                "UPDATE coverage SET bottom = ?, reached_end = 0 "
                "WHERE bottom IS NULL OR bottom < ?",
                (before, before),
            )
        self.conn.execute("PRAGMA incremental_vacuum")
        return count

    def status(self) -> dict[str, Any]:
        """What `zaza calls archive` shows."""
        conn = self.conn
        counts = conn.execute(
            "SELECT count(*), sum(n_turns > 0), sum(n_turns = 0), "
            "sum(turns IS NULL AND ended), sum(NOT ended), min(created_at), max(created_at), "
            "sum(deleted_at IS NOT NULL) FROM calls"
        ).fetchone()
        refreshed = conn.execute(
            "SELECT scope, since, max(finished_at) FROM refreshes GROUP BY scope, since "
            "ORDER BY 3 DESC LIMIT 5"
        ).fetchall()
        turns = conn.execute("SELECT count(*) FROM turns").fetchone()[0]
        last = conn.execute(
            "SELECT started_at, finished_at, outcome, summary FROM syncs ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return {
            "path": str(self.path),
            "size_bytes": _size(self.path),
            "base_url": self.meta("base_url"),
            "key_fingerprint": self.meta("key_fingerprint"),
            "schema_version": conn.execute("PRAGMA user_version").fetchone()[0],
            "calls": counts[0],
            "transcripts": counts[1] or 0,
            "no_transcript": counts[2] or 0,
            "transcripts_pending": counts[3] or 0,
            "live": counts[4] or 0,
            "turns": turns,
            "oldest": _instant(counts[5]),
            "newest": _instant(counts[6]),
            "pruned_before": _instant(self.meta("pruned_before")),
            "last_sync": _last_sync(last),
            "deleted": counts[7] or 0,
            "refreshed": [
                {"scope": scope, "since": _instant(since), "at": at}
                for scope, since, at in refreshed
            ],
        }


def _store_detail(
    conn: sqlite3.Connection, call_id: int, call: dict[str, Any], run: int
) -> tuple[str, bool]:
    record = {k: v for k, v in call.items() if k != "turns"}
    raw = to_json(record)
    row = conn.execute("SELECT raw FROM calls WHERE id = ?", (call_id,)).fetchone()
    changed = row is None or row[0] != raw
    columns = _columns(record)
    conn.execute(_UPSERT, (call_id, *columns, raw, run, utc_now()))
    if not call_is_over(record):
        return LIVE, changed
    turns = call.get("turns")
    turns = turns if isinstance(turns, list) else []
    rows = [
        (
            call_id,
            seq,
            storable(field_upper(turn.get("role"))),
            index_text(field_text(turn.get("text")) or ""),
        )
        for seq, turn in enumerate(turns)
        if isinstance(turn, dict)
    ]
    conn.execute("DELETE FROM turns WHERE call_id = ?", (call_id,))
    first = order.first_free(conn, order.base(columns[0]), len(rows))
    conn.executemany(
        "INSERT INTO turns (id, call_id, seq, role, text) VALUES (?, ?, ?, ?, ?)",
        [(first + index, *row) for index, row in enumerate(rows)],
    )
    conn.execute(
        "UPDATE calls SET turns = ?, n_turns = ? WHERE id = ?",
        (to_json(turns), len(rows), call_id),
    )
    return (TRANSCRIPT if rows else NO_TRANSCRIPT), changed


def _marks(values: list[Any]) -> str:
    return ", ".join("?" * len(values))


def _extend(conn: sqlite3.Connection, scope: str, top: str | None, bottom: str | None) -> None:
    """Coverage only grows: `top` up, `bottom` down (each as given when unset)."""
    conn.execute("INSERT OR IGNORE INTO coverage (scope) VALUES (?)", (scope,))
    if top is not None:
        conn.execute(
            "UPDATE coverage SET top = ? WHERE scope = ? AND (top IS NULL OR top < ?)",
            (top, scope, top),
        )
    if bottom is not None:
        conn.execute(
            "UPDATE coverage SET bottom = ? WHERE scope = ? AND (bottom IS NULL OR bottom > ?)",
            (bottom, scope, bottom),
        )


def _instant(key: str | None) -> str | None:
    return f"{key}Z" if key else None


def _size(path: Path) -> int:
    """The file and its write-ahead log (what the archive takes on disk)."""
    total = 0
    for name in (path, Path(f"{path}-wal")):
        with contextlib.suppress(OSError):
            total += name.stat().st_size
    return total


def _last_sync(row: tuple[Any, ...] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    started, finished, outcome, summary = row
    return {
        "started_at": started,
        "finished_at": finished,
        "outcome": outcome if finished else "interrupted",
        "summary": json.loads(summary) if summary else None,
    }


def _prepare(conn: sqlite3.Connection, path: Path, warn: Callable[[str], None]) -> None:
    """WAL, then every migration not yet applied, each in one transaction. Another
    program's database is refused before anything is written to it."""
    with sqlite_read(conn):  # two syncs of a new archive at once: the other's first tables
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        foreign = version == 0 and conn.execute("SELECT 1 FROM sqlite_master").fetchone()
    if foreign:
        raise UsageError(
            f"{path} is a SQLite database, but not a zaza archive: zaza will not write its "
            "tables into it",
            hint="point --archive (or ZAZA_ARCHIVE) at a new file, or leave it out",
        )
    sqlite_wal(conn, BUSY_TIMEOUT)
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL: a crash loses no committed write
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise ZazaError(
            f"the archive was written by a newer zaza (schema {version}; this one reads up "
            f"to {SCHEMA_VERSION})",
            hint="upgrade zaza: pip install -U zazacli",
        )
    if version == 0 and not conn.execute("SELECT 1 FROM sqlite_master").fetchone():
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only before the first table
    if 0 < version < SCHEMA_VERSION:
        warn(
            f"updating the archive {path} from schema {version} to {SCHEMA_VERSION}, once "
            "(about a minute per million calls)"
        )
    for step in range(version, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] == step:
                for statement in MIGRATIONS[step]:
                    statement(conn) if callable(statement) else conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {step + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
