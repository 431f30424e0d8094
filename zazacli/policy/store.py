"""The contact-policy file: the do-not-call list, its history, and the ledger of every dial
zaza attempted. One SQLite file per API (base URL and key fingerprint, never the key),
mode 0600, or wherever `--dnc` / `ZAZA_DNC` point.

Each write is one transaction, so `kill -9` at any instant leaves the file as it was before
the write or after it; a dial is written to the ledger (`BEGIN IMMEDIATE`, after the list and
the cap are read again inside the same transaction) before its POST goes out, so two
processes never both pass the cap. A file that cannot be read — corrupt, not a policy file,
written by a newer zaza, locked past BUSY_TIMEOUT — raises PolicyUnreadable: the caller
dials nothing (fail closed).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from zazacli.errors import BlockedError, UsageError

# A writer waits this long for another one (a batch and a listener share the file).
BUSY_TIMEOUT = 10.0
# Marks the file as zaza's (`PRAGMA application_id`): any other SQLite file is refused.
APPLICATION_ID = 0x7A617A61  # "zaza"
SCHEMA_VERSION = 1
# Outcomes of a dial in the ledger; every one but FAILED counts as a call placed.
PENDING, QUEUED, RECONCILED, UNKNOWN, FAILED = (
    "pending",
    "queued",
    "reconciled",
    "unknown",
    "failed",
)

_SCHEMA = """
CREATE TABLE dnc (
    number TEXT PRIMARY KEY,
    added_at TEXT NOT NULL,
    source TEXT NOT NULL,
    reason TEXT
) WITHOUT ROWID;
CREATE TABLE dnc_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    number TEXT,
    source TEXT,
    reason TEXT
);
CREATE TABLE dials (
    id INTEGER PRIMARY KEY,
    to_number TEXT NOT NULL,
    from_number TEXT,
    agent_id INTEGER,
    at REAL NOT NULL,
    source TEXT NOT NULL,
    journal TEXT,
    line INTEGER,
    outcome TEXT NOT NULL,
    call_id INTEGER
);
CREATE INDEX dials_to ON dials (to_number, at);
CREATE INDEX dials_journal ON dials (journal) WHERE journal IS NOT NULL;
"""


class PolicyUnreadable(BlockedError):
    """The list or the ledger cannot be read or written: nothing may be dialled."""


def default_policy_file(base_url: str, api_key: str) -> Path:
    """`<user data dir>/policy/<host and path>-<key fingerprint>.sqlite3`."""
    import platformdirs

    from zazacli.config import api_scope

    base = Path(platformdirs.user_data_dir("zazacli")) / "policy"
    return base / f"{api_scope(base_url, api_key)}.sqlite3"


def utc_stamp(epoch: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class Entry:
    """One listed number. (Plain classes in this module and rules.py: `zaza dnc check`
    answers before Typer loads, and a dataclass costs ~0.3 ms to define.)"""

    __slots__ = ("added_at", "number", "reason", "source")

    def __init__(self, number: str, added_at: str, source: str, reason: str | None) -> None:
        self.number = number
        self.added_at = added_at
        self.source = source
        self.reason = reason

    def describe(self) -> str:
        """`added 2026-12-03 09:14 UTC (sms: STOP)`."""
        when = self.added_at.replace("T", " ").removesuffix("Z")[:16] + " UTC"
        why = f"{self.source}: {self.reason}" if self.reason else self.source
        return f"added {when} ({why})"

    def as_dict(self) -> dict[str, str | None]:
        return {
            "number": self.number,
            "addedAt": self.added_at,
            "source": self.source,
            "reason": self.reason,
        }


class Dial:
    """One dial zaza attempted, as the ledger holds it."""

    __slots__ = ("at", "call_id", "id", "journal", "line", "outcome", "source", "to_number")

    def __init__(
        self,
        id: int,
        to_number: str,
        at: float,  # our clock, epoch seconds, written before the POST
        source: str,  # `dispatch`, `zaza api`, or the batch's CSV file name
        journal: str | None,
        line: int | None,
        outcome: str,
        call_id: int | None,
    ) -> None:
        self.id = id
        self.to_number = to_number
        self.at = at
        self.source = source
        self.journal = journal
        self.line = line
        self.outcome = outcome
        self.call_id = call_id


@contextlib.contextmanager
def policy_errors(path: Path, waited: float = BUSY_TIMEOUT) -> Iterator[None]:
    """SQLite's failures as one line naming the file; every one of them blocks dialling."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise PolicyUnreadable(
                f"the contact-policy file {path} is locked by another zaza past "
                f"{waited:g} s; nothing was dialled",
                hint="try again when the other command is done",
            ) from None
        raise PolicyUnreadable(
            f"cannot use the contact-policy file {path}: {text}; nothing was dialled"
        ) from None
    except sqlite3.DatabaseError as exc:
        raise PolicyUnreadable(
            f"the contact-policy file {path} is not readable ({exc}); nothing was dialled",
            hint="restore it from a backup (zaza dnc export keeps one as text), or point "
            "--dnc at another file",
        ) from None


class PolicyStore:
    """One open policy file. Threads share it under a lock (a batch's workers)."""

    def __init__(
        self, path: Path, conn: sqlite3.Connection, busy_timeout: float = BUSY_TIMEOUT
    ) -> None:
        import threading

        self.path = path
        self.conn = conn
        self.lock = threading.RLock()
        self.busy_timeout = busy_timeout

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        create: bool = True,
        warn: Callable[[str], None] = lambda _: None,
        readonly: bool = False,
        busy_timeout: float = BUSY_TIMEOUT,
    ) -> PolicyStore:
        """The file at `path`, created (0600) when missing and `create`; `readonly` for
        reading an existing one only (no schema, no WAL set-up)."""
        from zazacli.files import create_private_file, keep_private

        if not path.exists():
            if not create:
                raise PolicyUnreadable(
                    f"there is no contact-policy file at {path}; nothing was dialled",
                    hint="create it with zaza dnc add or zaza dnc import, or leave out --dnc",
                )
            create_private_file(path, "contact-policy file")
        if path.is_dir():
            raise UsageError(f"{path} is a directory, not a contact-policy file")
        keep_private(path, warn)
        with policy_errors(path, busy_timeout):
            target = f"file:{path}?mode=ro" if readonly else str(path)
            conn = sqlite3.connect(
                target,
                isolation_level=None,
                timeout=busy_timeout,
                check_same_thread=False,
                uri=readonly,
            )
            try:
                _prepare(conn, path, readonly, busy_timeout)
            except BaseException:
                conn.close()
                raise
        return cls(path, conn, busy_timeout)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> PolicyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write: all of it lands, or none of it (also when the process is killed)."""
        from zazacli.files import sqlite_write

        with (
            self.lock,
            policy_errors(self.path, self.busy_timeout),
            sqlite_write(self.conn) as conn,
        ):
            yield conn

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        with self.lock, policy_errors(self.path, self.busy_timeout):
            yield self.conn

    # ------------------------------------------------------------ the list

    def lookup(self, number: str) -> Entry | None:
        with self.reading() as conn:
            row = conn.execute(
                "SELECT number, added_at, source, reason FROM dnc WHERE number = ?", (number,)
            ).fetchone()
        return Entry(*row) if row else None

    def lookup_many(self, numbers: Iterable[str]) -> dict[str, Entry]:
        found: dict[str, Entry] = {}
        wanted = list(dict.fromkeys(numbers))
        with self.reading() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = (
                    f"SELECT number, added_at, source, reason FROM dnc WHERE number IN ({marks})"
                )
                for row in conn.execute(query, chunk):
                    found[row[0]] = Entry(*row)
        return found

    def add(self, numbers: Iterable[str], source: str, reason: str | None) -> list[str]:
        """List `numbers`; the ones not listed before are returned (and recorded)."""
        now = utc_stamp()
        added = []
        with self.transaction() as conn:
            for number in dict.fromkeys(numbers):
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO dnc (number, added_at, source, reason) "
                    "VALUES (?, ?, ?, ?)",
                    (number, now, source, reason),
                )
                if cursor.rowcount:
                    added.append(number)
                    conn.execute(
                        "INSERT INTO dnc_log (at, action, number, source, reason) "
                        "VALUES (?, 'add', ?, ?, ?)",
                        (now, number, source, reason),
                    )
        return added

    def remove(self, numbers: Iterable[str], reason: str | None) -> list[str]:
        """Unlist `numbers` (the only way to call them again); each removal is recorded."""
        now = utc_stamp()
        removed = []
        with self.transaction() as conn:
            for number in dict.fromkeys(numbers):
                if conn.execute("DELETE FROM dnc WHERE number = ?", (number,)).rowcount:
                    removed.append(number)
                    conn.execute(
                        "INSERT INTO dnc_log (at, action, number, source, reason) "
                        "VALUES (?, 'remove', ?, 'manual', ?)",
                        (now, number, reason),
                    )
        return removed

    def import_numbers(
        self, numbers: Iterable[str], *, label: str, reason: str | None, replace: bool
    ) -> tuple[int, int]:
        """(added, removed) after one transaction: `kill -9` leaves the list as before.
        With `replace`, numbers listed but not in `numbers` are removed (and recorded)."""
        now = utc_stamp()
        with self.transaction() as conn:
            before = conn.execute("SELECT count(*) FROM dnc").fetchone()[0]
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS incoming (number TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM temp.incoming")
            conn.executemany(
                "INSERT OR IGNORE INTO temp.incoming (number) VALUES (?)",
                ((number,) for number in numbers),
            )
            removed = 0
            if replace:
                conn.execute(
                    "INSERT INTO dnc_log (at, action, number, source, reason) "
                    "SELECT ?, 'remove', number, 'import', ? FROM dnc "
                    "WHERE number NOT IN (SELECT number FROM temp.incoming)",
                    (now, f"not in {label} (--replace)"),
                )
                removed = conn.execute(
                    "DELETE FROM dnc WHERE number NOT IN (SELECT number FROM temp.incoming)"
                ).rowcount
            conn.execute(
                "INSERT OR IGNORE INTO dnc (number, added_at, source, reason) "
                "SELECT number, ?, 'import', ? FROM temp.incoming",
                (now, reason or label),
            )
            after = conn.execute("SELECT count(*) FROM dnc").fetchone()[0]
            added = after - before + removed
            conn.execute(
                "INSERT INTO dnc_log (at, action, number, source, reason) "
                "VALUES (?, 'import', NULL, 'import', ?)",
                (now, f"{label}: {added} added, {removed} removed"),
            )
            conn.execute("DELETE FROM temp.incoming")
        return added, removed

    def entries(self) -> Iterator[Entry]:
        with self.reading() as conn:
            rows = conn.execute(
                "SELECT number, added_at, source, reason FROM dnc ORDER BY number"
            ).fetchall()
        return (Entry(*row) for row in rows)

    def count(self) -> int:
        with self.reading() as conn:
            return int(conn.execute("SELECT count(*) FROM dnc").fetchone()[0])

    # ------------------------------------------------------------ the ledger

    def dials_to(self, numbers: Iterable[str], since: float) -> dict[str, list[Dial]]:
        """Dials (every outcome) to each number at or after `since` (our clock), oldest first."""
        found: dict[str, list[Dial]] = {}
        wanted = list(dict.fromkeys(numbers))
        with self.reading() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for row in conn.execute(
                    "SELECT id, to_number, at, source, journal, line, outcome, call_id "
                    f"FROM dials WHERE to_number IN ({marks}) AND at >= ? ORDER BY at",
                    (*chunk, since),
                ):
                    found.setdefault(row[1], []).append(Dial(*row))
        return found

    def insert_dial(
        self,
        conn: sqlite3.Connection,
        *,
        to_number: str,
        from_number: str,
        agent_id: int,
        source: str,
        journal: str | None,
        line: int | None,
    ) -> int:
        """A dial about to be sent (inside the caller's transaction, after its checks)."""
        cursor = conn.execute(
            "INSERT INTO dials (to_number, from_number, agent_id, at, source, journal, line, "
            "outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (to_number, from_number, agent_id, time.time(), source, journal, line, PENDING),
        )
        return int(cursor.lastrowid or 0)

    def finish_dial(self, dial_id: int, outcome: str, call_id: int | None = None) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE dials SET outcome = ?, call_id = ? WHERE id = ?",
                (outcome, call_id, dial_id),
            )

    def claimed_calls(self, to_number: str) -> set[int]:
        """Call ids the ledger already gives to earlier dials to `to_number`: never taken
        for another dial's call."""
        with self.reading() as conn:
            rows = conn.execute(
                "SELECT call_id FROM dials WHERE to_number = ? AND call_id IS NOT NULL",
                (to_number,),
            ).fetchall()
        return {row[0] for row in rows}

    def journal_dials(self, journal: str) -> int:
        """How many dials a batch journal (its resolved path) sent, by the ledger."""
        with self.reading() as conn:
            row = conn.execute(
                "SELECT count(*) FROM dials WHERE journal = ? AND outcome != ?", (journal, FAILED)
            ).fetchone()
        return int(row[0])

    def ledger_size(self) -> int:
        with self.reading() as conn:
            return int(conn.execute("SELECT count(*) FROM dials").fetchone()[0])


def _prepare(conn: sqlite3.Connection, path: Path, readonly: bool, busy_timeout: float) -> None:
    """WAL, then the schema; any SQLite file that is not ours is refused."""
    from zazacli.files import sqlite_read, sqlite_wal, sqlite_write

    with sqlite_read(conn):  # two dials making a new file at once: the other's tables and id
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        empty = conn.execute("SELECT 1 FROM sqlite_master").fetchone() is None
    if not empty and app_id != APPLICATION_ID:
        raise PolicyUnreadable(
            f"{path} is not a zaza contact-policy file; nothing was dialled",
            hint="point --dnc (or ZAZA_DNC) at a zaza do-not-call file, or at a new path",
        )
    if version > SCHEMA_VERSION:
        raise PolicyUnreadable(
            f"the contact-policy file {path} was written by a newer zaza (schema {version}); "
            "nothing was dialled",
            hint="upgrade zaza: pip install -U zazacli",
        )
    if readonly:
        if empty:
            raise PolicyUnreadable(f"{path} holds no contact policy yet")
        return
    sqlite_wal(conn, busy_timeout)
    # FULL: a dial in the ledger survives a power cut, not only a crash.
    conn.execute("PRAGMA synchronous = FULL")
    if empty:
        with sqlite_write(conn):
            # Another zaza may have made it meanwhile: look again inside the write lock.
            if conn.execute("SELECT 1 FROM sqlite_master").fetchone() is None:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
