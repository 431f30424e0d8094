"""The batch journal: JSON lines, each flushed and fsynced before the next step.

header                   which CSV (path + sha256), --from and --agent it belongs to
extended                 the CSV gained rows at its end: its new sha256 (earlier rows as
                         they were)
attempt                  written *before* each POST: `ts` (ours) and `serverTs` with
                         `clockUncertainty` (the API's clock, from its Date headers), and
                         `knownIds`: the calls to the same number listed before it
queued | reconciled      written after it, with the call id: the row is done
failed                   the API refused the row (4xx): nothing was queued
unknown                  no usable answer and not found in GET /calls (yet)
blocked | repeat         the contact policy held the row (`rule`, `reason`); looked at
                         again by every run
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from zazacli import __version__
from zazacli.calls.batch.csv import CsvBatch
from zazacli.errors import UsageError, ZazaError
from zazacli.times import parse_time

JOURNAL_KIND = "zaza calls batch journal"
JOURNAL_VERSION = 1


# ---------------------------------------------------------------- the journal


def default_journal_path(csv_path: Path) -> Path:
    return csv_path.with_name(csv_path.name + ".journal.jsonl")


def now_stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_ms(epoch: float) -> str:
    stamp = datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _epoch(stamp: Any) -> float | None:
    parsed = parse_time(stamp)
    return None if parsed is None else parsed.timestamp()


@dataclass(frozen=True)
class PendingAttempt:
    """The last attempt of a row with no outcome yet, as journaled."""

    local_ts: float  # our clock
    server_ts: float | None = None  # the API's clock; None in journals before it was recorded
    uncertainty: float | None = None
    known_ids: frozenset[int] = frozenset()  # calls to the number listed before the POST


@dataclass
class JournalState:
    """What earlier runs did, per CSV line."""

    done: dict[int, dict[str, Any]] = field(default_factory=dict)  # line -> outcome event
    pending: dict[int, PendingAttempt] = field(default_factory=dict)  # line -> last attempt
    failed: dict[int, str] = field(default_factory=dict)  # line -> error (not queued)
    numbers: dict[int, str] = field(default_factory=dict)  # line -> number it was for
    extended: bool = False  # the CSV gained rows since the journal's last sha256


def journal_header(batch: CsvBatch, from_number: str, agent_id: int) -> dict[str, Any]:
    return {
        "journal": JOURNAL_KIND,
        "version": JOURNAL_VERSION,
        "ts": now_stamp(),
        "csv": str(batch.path.resolve()),
        "sha256": batch.sha256,
        "fromNumber": from_number,
        "agentId": agent_id,
        "rows": batch.total,
        "zazacli": __version__,
    }


def parse_journal(
    path: Path,
    text: str,
    batch: CsvBatch,
    from_number: str,
    agent_id: int,
    dialled_before: Callable[[], int] = lambda: 0,
) -> JournalState:
    """The state a journal records, after checking it belongs to this CSV and dispatch.

    An empty file is a new journal only when the ledger (`dialled_before`: how many dials
    it holds from this journal) shows none of its rows were ever dialled: emptied by
    `: > file` or a log rotation, it would dial them all again."""
    lines = text.splitlines()
    state = JournalState()
    if not text.strip():
        dialled = dialled_before()
        if dialled:
            raise UsageError(
                f"{path} is empty, but the ledger shows {dialled} dials from it: resuming "
                "from an empty journal would dial those rows again",
                hint="restore the journal (a log rotation may have emptied it), or start a "
                "new --journal PATH (numbers dialled within the repeat window are skipped)",
            )
        return state
    try:
        header = json.loads(lines[0])
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("journal") != JOURNAL_KIND:
        raise UsageError(
            f"{path} is not a zaza calls batch journal (its first line is not a journal "
            "header: cut short, or another file)",
            hint="pass --journal with a new path, or move that file away",
        )
    entries = []
    for raw in lines[1:]:
        try:
            entry = json.loads(raw)
        except ValueError:
            # A line cut short by a crash. Safe to skip: an attempt is always written
            # before its POST, so a lost outcome line only makes the row get looked up.
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    sha = header.get("sha256")
    for entry in entries:
        if entry.get("event") == "extended" and isinstance(entry.get("sha256"), str):
            sha = entry["sha256"]
    state.extended = _check_header(path, {**header, "sha256": sha}, batch, from_number, agent_id)
    for number, entry in enumerate(entries, start=2):
        _apply(state, entry, number)
    for line, to in state.numbers.items():
        row = next((r for r in batch.rows if r.line == line), None)
        if row is not None and row.to != to:
            raise UsageError(
                f"{path} records line {line} as {to}, but the CSV now gives {row.to}",
                hint="re-run with the same --region as before, or start a new --journal",
            )
    return state


def _check_header(
    path: Path, header: dict[str, Any], batch: CsvBatch, from_number: str, agent_id: int
) -> bool:
    """Raises when the journal is not this CSV's; True when the CSV only gained rows at its
    end since (its earlier bytes are the journal's file, unchanged)."""
    csv_path = str(batch.path.resolve())
    extended = False
    if header.get("sha256") != batch.sha256:
        extended = header.get("csv") == csv_path and has_prefix(batch.data, header.get("sha256"))
    if header.get("sha256") != batch.sha256 and not extended:
        if header.get("csv") == csv_path:
            raise UsageError(
                f"{batch.path} has changed since {path} was started; resuming could skip "
                "or re-dial the wrong rows",
                hint="restore the original file, or start over with a new --journal PATH "
                "(the old journal lists who was already called)",
            )
        raise UsageError(
            f"{path} belongs to a different CSV ({header.get('csv')})",
            hint="pass --journal with a new path for this file",
        )
    if header.get("fromNumber") != from_number or header.get("agentId") != agent_id:
        raise UsageError(
            f"{path} was written for --from {header.get('fromNumber')} --agent "
            f"{header.get('agentId')}, not --from {from_number} --agent {agent_id}",
            hint="re-run with the same --from and --agent, or start a new --journal PATH",
        )
    return extended


def has_prefix(data: bytes, sha256: Any) -> bool:
    """Whether the first bytes of `data`, up to a line end, hash to `sha256`: the file the
    journal was started on, with rows appended after it."""
    import hashlib

    if not isinstance(sha256, str):
        return False
    digest = hashlib.sha256()
    start = 0
    while (end := data.find(b"\n", start)) != -1:
        digest.update(data[start:end])
        if digest.hexdigest() == sha256:
            return True  # a file without its last newline
        digest.update(b"\n")
        if digest.hexdigest() == sha256:
            return True
        start = end + 1
    return False


def _apply(state: JournalState, entry: dict[str, Any], number: int) -> None:
    event, line = entry.get("event"), entry.get("line")
    if not isinstance(line, int):
        return
    if isinstance(entry.get("to"), str):
        state.numbers[line] = entry["to"]
    if event == "attempt":
        uncertainty = entry.get("clockUncertainty")
        known = entry.get("knownIds")
        state.pending[line] = PendingAttempt(
            _epoch(entry.get("ts")) or time.time(),
            _epoch(entry.get("serverTs")),
            float(uncertainty) if isinstance(uncertainty, int | float) else None,
            frozenset(i for i in known if isinstance(i, int))
            if isinstance(known, list)
            else (frozenset()),
        )
        state.failed.pop(line, None)
    elif event in ("queued", "reconciled"):
        state.done[line] = entry
        state.pending.pop(line, None)
    elif event == "failed":
        state.failed[line] = str(entry.get("error") or "failed")
        state.pending.pop(line, None)
    # "unknown" leaves the attempt pending: the next run looks the call up again.


class Journal:
    """The append-only journal, locked for one run at a time; every line fsynced."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd
        self._lock = threading.Lock()

    @classmethod
    def read_only(
        cls,
        path: Path,
        batch: CsvBatch,
        from_number: str,
        agent_id: int,
        dialled_before: Callable[[], int] = lambda: 0,
    ) -> JournalState:
        """The state of an existing journal, for --dry-run; nothing is created or locked."""
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return JournalState()
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        return parse_journal(path, text, batch, from_number, agent_id, dialled_before)

    @classmethod
    def open(
        cls,
        path: Path,
        batch: CsvBatch,
        from_number: str,
        agent_id: int,
        dialled_before: Callable[[], int] = lambda: 0,
    ) -> tuple[Journal, JournalState]:
        """Lock (or create) the journal and read what earlier runs did."""
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            raise UsageError(
                f"cannot open the journal {path}: {exc.strerror or exc}",
                hint="pass --journal PATH somewhere writable",
            ) from None
        journal = cls(path, fd)
        try:
            journal._lock_file()
            text = journal._read_all()
            state = parse_journal(path, text, batch, from_number, agent_id, dialled_before)
            if not text.strip():
                journal._write(json.dumps(journal_header(batch, from_number, agent_id)) + "\n")
                _fsync_dir(path.parent)  # the new file's directory entry survives a crash too
            elif not text.endswith("\n"):
                journal._write("\n")  # never glue a new line to one cut short by a crash
            if state.extended:
                journal.record("extended", sha256=batch.sha256, rows=batch.total)
        except BaseException:
            journal.close()
            raise
        return journal, state

    def _lock_file(self) -> None:
        if os.name != "posix":
            return
        import fcntl

        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ZazaError(
                f"another zaza calls batch is running with the journal {self.path}",
                hint="let it finish (two runs on one journal could dial the same numbers)",
            ) from None

    def _read_all(self) -> str:
        chunks = []
        offset = 0
        while chunk := os.pread(self._fd, 1 << 20, offset):
            chunks.append(chunk)
            offset += len(chunk)
        return b"".join(chunks).decode("utf-8", errors="replace")

    def _write(self, text: str) -> None:
        with self._lock:
            try:
                os.write(self._fd, text.encode("utf-8"))  # one write: O_APPEND keeps it whole
                os.fsync(self._fd)
            except OSError as exc:
                # An attempt that cannot be recorded must not be sent: stop the run.
                raise ZazaError(
                    f"cannot write the journal {self.path}: {exc.strerror or exc}",
                    hint="free some space or fix the permissions, then re-run to resume",
                ) from None

    def record(self, event: str, **fields: Any) -> None:
        entry = {"ts": now_stamp(), "event": event, **fields}
        self._write(json.dumps(entry, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # also releases the lock
            self._fd = -1


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
