"""`zaza calls batch`: many dispatches from a CSV, paced under the rate limit, and journaled
so that a re-run after any crash (even `kill -9`) resumes without dialling anyone twice.

The journal is JSON lines, each flushed and fsynced before the next step:
  header                   which CSV (path + sha256), --from and --agent it belongs to
  attempt                  written *before* each POST: `ts` (ours) and `serverTs` with
                           `clockUncertainty` (the API's clock, from its Date headers)
  queued | reconciled      written after it, with the call id: the row is done
  failed                   the API refused the row (4xx): nothing was queued
  unknown                  no usable answer and not found in GET /calls (yet)
A re-run skips done rows and looks up every row with an attempt but no call id in
GET /calls (only calls created after the attempt, on the API's clock, can be its call).
Such a row is sent again only once it is certain the API never queued it: not listed,
and the attempt older than the settle time (the list may show a call late). Until then
it stays unknown. Nothing here prints; results go to callbacks.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zazacli import __version__
from zazacli.api.http import (
    RETRY_AFTER_CAP,
    BadRequestError,
    OutcomeUnknownError,
    retry_time,
)
from zazacli.dispatching import (
    NO_CLOCK_MARGIN,
    RECONCILE_WAIT,
    Attempt,
    DispatchRequest,
    format_seconds,
    reconcile,
)
from zazacli.dispatching import dispatch as dispatch_one
from zazacli.errors import RateLimitedError, UsageError, ZazaError
from zazacli.phones import CallingWindow, local_times, normalize_number
from zazacli.times import parse_time

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi

PHONE_COLUMNS = ("to", "phone")
# The dashboard's lead CSV: phone1 … phone10, tried in order; the first valid one is called.
LEAD_PHONE = re.compile(r"^phone(10|[1-9])$", re.IGNORECASE)
# Variables every row sends, empty when the file has no such column (the guide's tokens).
ALWAYS_VARIABLES = ("NAME", "EMAIL")
DELIMITERS = ",;\t|"
JOURNAL_KIND = "zaza calls batch journal"
JOURNAL_VERSION = 1
DEFAULT_RATE = 2.0  # calls per second: well under any per-key limit we know of
DEFAULT_CONCURRENCY = 4
MAX_RATE_LIMITED_TRIES = 10  # 429s in a row for one row before the run gives up
# A row whose outcome is unknown is sent again only when its attempt is older than this (on
# the API's clock) and its call is still not listed: time enough for a late listing.
DEFAULT_SETTLE = 300.0
# Statuses that mean "this row's call is queued" (now, or in an earlier run).
QUEUED_STATUSES = frozenset({"queued", "reconciled", "skipped"})


# ---------------------------------------------------------------- the CSV


@dataclass(frozen=True)
class CsvRow:
    line: int
    raw: str
    to: str
    variables: dict[str, str]
    column: str = "to"  # the header of the number column this row is called on
    note: str | None = None  # earlier phone columns skipped as invalid, if any


@dataclass(frozen=True)
class RowProblem:
    """A row that is never sent: an invalid number, or a number already on an earlier line."""

    line: int
    raw: str
    status: str  # invalid | duplicate
    error: str
    to: str | None = None
    column: str | None = None


@dataclass
class CsvBatch:
    path: Path
    sha256: str
    phone_column: str  # e.g. `to`, or `phone1/phone2/phone3` for a lead CSV
    rows: list[CsvRow]
    problems: list[RowProblem]

    @property
    def total(self) -> int:
        return len(self.rows) + len(self.problems)


def variable_name(header: str) -> str:
    """A header as the API's {{TOKEN}}: upper case, runs of anything but A-Z0-9 as `_`
    (`case number` -> `CASE_NUMBER`)."""
    return re.sub(r"[^A-Z0-9]+", "_", header.strip().upper()).strip("_")


@dataclass(frozen=True)
class Columns:
    phones: list[tuple[int, str]]  # (index, header) in the order they are tried
    variables: list[tuple[int, str]]  # (index, variable name)
    lead: bool  # phone1 … phone10 (the dashboard's lead CSV) rather than one `to` column


def read_csv(path: Path, *, region: str | None) -> CsvBatch:
    """Read, validate and dedupe a batch file; raises UsageError when the file is unusable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory, expected a CSV file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    text = _decode(path, data)
    if not text.strip():
        raise UsageError(
            f"{path} is empty", hint="the first line must be a header with a 'to' or 'phone' column"
        )
    header_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=header_line.count)
    if not header_line.count(delimiter):
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        names = [name.strip() for name in next(reader)]
        columns = _columns(path, names)
        rows: list[CsvRow] = []
        problems: list[RowProblem] = []
        first_line: dict[str, int] = {}
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue  # blank lines are not rows
            values = [fields[i].strip() if i < len(fields) else "" for i, _ in columns.phones]
            raw = next((v for v in values if v), "")
            if any(f.strip() for f in fields[len(names) :]):
                error = f"{len(fields)} fields, but the header has {len(names)}"
                problems.append(RowProblem(line, raw, "invalid", error))
                continue
            chosen, skipped = _pick_number(columns, values, line, region)
            if chosen is None:
                problems.append(RowProblem(line, raw, "invalid", "; ".join(skipped)))
                continue
            column, raw, to = chosen
            note = "; ".join(skipped) + f"; called on {column}" if skipped else None
            if to in first_line:
                error = f"{to} is also on line {first_line[to]}; it is called once"
                problems.append(RowProblem(line, raw, "duplicate", error, to, column))
                continue
            first_line[to] = line
            variables = dict.fromkeys(ALWAYS_VARIABLES, "")
            variables.update(
                (name, fields[i].strip() if i < len(fields) else "")
                for i, name in columns.variables
            )
            rows.append(CsvRow(line, raw, to, variables, column, note))
    except csv.Error as exc:
        raise UsageError(f"{path}, line {reader.line_num}: not readable as CSV: {exc}") from None
    if not rows and not problems:
        raise UsageError(f"{path} has a header but no rows")
    phone_column = "/".join(header for _, header in columns.phones)
    return CsvBatch(path, hashlib.sha256(data).hexdigest(), phone_column, rows, problems)


def _pick_number(
    columns: Columns, values: list[str], line: int, region: str | None
) -> tuple[tuple[str, str, str] | None, list[str]]:
    """(column, raw, E.164) of the first valid number in the row's phone columns, and what
    was wrong with the ones before it."""
    skipped: list[str] = []
    for (_, header), raw in zip(columns.phones, values, strict=True):
        if columns.lead and not raw:
            continue  # an empty phone2 … in a lead CSV: nothing to try
        try:
            to = normalize_number(raw, region=region, label=f"line {line}")
        except UsageError as exc:
            error = exc.message.removeprefix(f"line {line}: ")
            if "country code" in error:
                error += " (pass --region, e.g. --region US)"
            skipped.append(f"{header}: {error}" if columns.lead else error)
            continue
        return (header, raw, to), skipped
    if not skipped:
        skipped.append(f"no number in {'/'.join(h for _, h in columns.phones)}")
    return None, skipped


def _decode(path: Path, data: bytes) -> str:
    for bom, name in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if data.startswith(bom):
            raise UsageError(
                f"{path} is {name} text; zaza reads UTF-8 CSV",
                hint=f"save it as 'CSV UTF-8', or convert it: iconv -f {name} -t UTF-8",
            )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UsageError(
            f"{path} is not UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); "
            "is it Latin-1 or Windows-1252?",
            hint=f"save it as 'CSV UTF-8', or convert it: iconv -f WINDOWS-1252 -t UTF-8 "
            f"{path} > {path.stem}.utf8.csv",
        ) from None


def _columns(path: Path, names: list[str]) -> Columns:
    """Which columns hold numbers, and the variable each other column becomes."""
    lowered = [name.lower() for name in names]
    wanted = next((w for w in PHONE_COLUMNS if w in lowered), None)
    if wanted is not None:
        index = lowered.index(wanted)
        phones = [(index, names[index])]
    else:
        leads = [(i, name) for i, name in enumerate(names) if LEAD_PHONE.match(name)]
        phones = sorted(leads, key=lambda item: int(item[1][5:]))
    if not phones:
        raise UsageError(
            f"{path} has no 'to' or 'phone' column (its header: {', '.join(names) or 'empty'})",
            hint="name the column of numbers 'to' or 'phone' (or phone1 … phone10, as the "
            "dashboard's lead CSV does); other columns become variables",
        )
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            raise UsageError(f"{path}: the column {name!r} appears twice in the header")
        seen.add(name)
    lead = wanted is None
    phone_indexes = {i for i, _ in phones}
    variables: list[tuple[int, str]] = []
    origin: dict[str, str] = {}
    for i, name in enumerate(names):
        token = variable_name(name)
        if i in phone_indexes or not token or (lead and LEAD_PHONE.match(name)):
            continue
        if token in origin:
            raise UsageError(
                f"{path}: the columns {origin[token]!r} and {name!r} both become the "
                f"variable {token}",
                hint="rename one of them (variables are upper case, with _ for spaces)",
            )
        origin[token] = name
        variables.append((i, token))
    return Columns(phones, variables, lead)


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


@dataclass
class JournalState:
    """What earlier runs did, per CSV line."""

    done: dict[int, dict[str, Any]] = field(default_factory=dict)  # line -> outcome event
    pending: dict[int, PendingAttempt] = field(default_factory=dict)  # line -> last attempt
    failed: dict[int, str] = field(default_factory=dict)  # line -> error (not queued)
    numbers: dict[int, str] = field(default_factory=dict)  # line -> number it was for
    runs: int = 0
    unreadable: int = 0


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
    path: Path, text: str, batch: CsvBatch, from_number: str, agent_id: int
) -> JournalState:
    """The state a journal records, after checking it belongs to this CSV and dispatch."""
    lines = text.splitlines()
    state = JournalState()
    if not lines:
        return state
    try:
        header = json.loads(lines[0])
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("journal") != JOURNAL_KIND:
        raise UsageError(
            f"{path} is not a zaza calls batch journal",
            hint="pass --journal with a new path, or move that file away",
        )
    _check_header(path, header, batch, from_number, agent_id)
    for number, raw in enumerate(lines[1:], start=2):
        try:
            entry = json.loads(raw)
        except ValueError:
            # A line cut short by a crash. Safe to skip: an attempt is always written
            # before its POST, so a lost outcome line only makes the row get looked up.
            state.unreadable += 1
            continue
        if not isinstance(entry, dict):
            state.unreadable += 1
            continue
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
) -> None:
    csv_path = str(batch.path.resolve())
    if header.get("sha256") != batch.sha256:
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


def _apply(state: JournalState, entry: dict[str, Any], number: int) -> None:
    event, line = entry.get("event"), entry.get("line")
    if event == "run":
        state.runs += 1
    if not isinstance(line, int):
        return
    if isinstance(entry.get("to"), str):
        state.numbers[line] = entry["to"]
    if event == "attempt":
        uncertainty = entry.get("clockUncertainty")
        state.pending[line] = PendingAttempt(
            _epoch(entry.get("ts")) or time.time(),
            _epoch(entry.get("serverTs")),
            float(uncertainty) if isinstance(uncertainty, int | float) else None,
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
        cls, path: Path, batch: CsvBatch, from_number: str, agent_id: int
    ) -> JournalState:
        """The state of an existing journal, for --dry-run; nothing is created or locked."""
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return JournalState()
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        return parse_journal(path, text, batch, from_number, agent_id)

    @classmethod
    def open(
        cls, path: Path, batch: CsvBatch, from_number: str, agent_id: int
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
            state = parse_journal(path, text, batch, from_number, agent_id)
            if not text.strip():
                journal._write(json.dumps(journal_header(batch, from_number, agent_id)) + "\n")
                _fsync_dir(path.parent)  # the new file's directory entry survives a crash too
            elif not text.endswith("\n"):
                journal._write("\n")  # never glue a new line to one cut short by a crash
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


# ---------------------------------------------------------------- pacing


class Pacer:
    """Spaces request starts 1/rate apart across threads. On a 429 it halves the rate and
    pauses everyone for the Retry-After; each success then climbs back toward the target."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.target = rate
        self.rate = rate
        self.min_rate = min(rate, 0.1)
        self.rate_limited_count = 0
        self.slowdowns = 0
        self._clock = clock
        self._next = 0.0
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """The next free start time (monotonic clock), taken by this caller."""
        with self._lock:
            slot = max(self._clock(), self._next, self._paused_until)
            self._next = slot + 1.0 / self.rate
            return slot

    def wait(self, slot: float, stop: threading.Event) -> bool:
        """Block until `slot` (or later, after a 429); False when `stop` was set meanwhile."""
        while True:
            with self._lock:
                due = max(slot, self._paused_until)  # a 429 after our turn was given
            delay = due - self._clock()
            if delay <= 0:
                return not stop.is_set()
            if stop.wait(min(delay, 0.2)):
                return False

    def rate_limited(self, retry_after: float | None) -> None:
        with self._lock:
            now = self._clock()
            self.rate_limited_count += 1
            if now >= self._paused_until:  # requests in flight share one slowdown
                self.rate = max(self.min_rate, self.rate / 2)
                self.slowdowns += 1
            pause = min(RETRY_AFTER_CAP, retry_after if retry_after is not None else 1.0)
            self._paused_until = max(self._paused_until, now + pause)
            self._next = max(self._next, self._paused_until)

    def succeeded(self) -> None:
        with self._lock:
            if self.rate < self.target:
                self.rate = min(self.target, self.rate + self.target / 10)


# ---------------------------------------------------------------- the run


@dataclass
class RowResult:
    line: int
    to: str
    status: str  # queued reconciled skipped failed unknown deferred invalid duplicate
    call_id: Any = None
    error: str | None = None
    column: str | None = None  # the CSV column the number came from
    note: str | None = None  # e.g. an invalid phone1 skipped for phone2
    decide_after: float | None = None  # unknown rows: when a re-run can decide (our clock)

    def as_dict(self) -> dict[str, Any]:
        row = {
            "line": self.line,
            "to": self.to,
            "status": self.status,
            "callId": self.call_id,
            "error": self.error,
            "phoneColumn": self.column,
            "note": self.note,
        }
        if self.decide_after is not None:
            row["decideAfter"] = iso_ms(self.decide_after)
        return row


@dataclass
class BatchReport:
    csv_path: Path
    journal_path: Path
    rows: int
    valid: int
    target_rate: float
    counts: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    first_post: float | None = None  # start of the first answered POST (monotonic)
    last_post: float | None = None  # start of the last one
    posts: int = 0  # POSTs answered (429s aside)
    sent_new: int = 0  # rows queued by a POST in this run
    rate_limited: int = 0
    slowdowns: int = 0
    interrupted: bool = False
    fatal: ZazaError | None = None
    resumed: int = 0  # rows already done in earlier runs
    decide_after: float | None = None  # unknown rows: the latest time one can be decided
    settle: float = DEFAULT_SETTLE

    @property
    def queued(self) -> int:
        return sum(self.counts[s] for s in QUEUED_STATUSES)

    @property
    def not_sent(self) -> int:
        handled = sum(n for s, n in self.counts.items() if s not in ("invalid", "duplicate"))
        return max(0, self.valid - handled)

    @property
    def ok(self) -> bool:
        return self.fatal is None and not self.interrupted and self.queued == self.valid

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def achieved_rate(self) -> float | None:
        """Dispatches started per second, between the first answered POST and the last."""
        if self.first_post is None or self.last_post is None or self.posts < 2:
            return None
        span = self.last_post - self.first_post
        return (self.posts - 1) / span if span > 0 else None


ResultCallback = Callable[[RowResult], None]
NoticeCallback = Callable[[str], None]


class BatchRun:
    """One run of a batch: resume from the journal, then send the rest, paced and bounded."""

    def __init__(
        self,
        api: ZazaApi,
        batch: CsvBatch,
        journal: Journal,
        state: JournalState,
        *,
        from_number: str,
        agent_id: int,
        rate: float = DEFAULT_RATE,
        concurrency: int = DEFAULT_CONCURRENCY,
        window: CallingWindow | None = None,
        reconcile_wait: float = RECONCILE_WAIT,
        settle: float = DEFAULT_SETTLE,
        redial_unknown: bool = False,
        on_result: ResultCallback,
        on_notice: NoticeCallback,
    ) -> None:
        self.api = api
        self.batch = batch
        self.journal = journal
        self.state = state
        self.from_number = from_number
        self.agent_id = agent_id
        self.concurrency = max(1, concurrency)
        self.window = window
        self.reconcile_wait = reconcile_wait
        self.settle = settle
        self.redial_unknown = redial_unknown
        self.on_result = on_result
        self.on_notice = on_notice
        self.pacer = Pacer(rate)
        self.stop = threading.Event()
        self.report = BatchReport(
            batch.path, journal.path, batch.total, len(batch.rows), target_rate=rate, settle=settle
        )
        self._lock = threading.Lock()
        self._queue_lock = threading.Lock()

    def request_for(self, row: CsvRow) -> DispatchRequest:
        # One key per row and journal, so a resent row carries the same key once the API
        # honours Idempotency-Key.
        digest = hashlib.sha256(f"{self.batch.sha256}:{row.line}:{row.to}".encode()).hexdigest()
        return DispatchRequest(
            self.from_number, row.to, self.agent_id, row.variables, f"zaza-batch-{digest[:32]}"
        )

    def _emit(self, result: RowResult) -> None:
        with self._lock:
            self.report.counts[result.status] += 1
            if result.decide_after is not None:
                latest = self.report.decide_after or result.decide_after
                self.report.decide_after = max(latest, result.decide_after)
        self.on_result(result)

    def _row_result(self, row: CsvRow, status: str, **fields: Any) -> RowResult:
        return RowResult(row.line, row.to, status, column=row.column, note=row.note, **fields)

    def run(self) -> BatchReport:
        try:
            self.journal.record(
                "run", pid=os.getpid(), rate=self.pacer.target, concurrency=self.concurrency
            )
            for problem in self.batch.problems:
                self._emit(
                    RowResult(
                        problem.line,
                        problem.to or problem.raw,
                        problem.status,
                        error=problem.error,
                        column=problem.column,
                    )
                )
            todo = self._resume()
            self._send_all(todo)
        except KeyboardInterrupt:
            self.report.interrupted = True
        finally:
            self.report.finished = time.monotonic()
            self.report.rate_limited = self.pacer.rate_limited_count
            self.report.slowdowns = self.pacer.slowdowns
            self._record_end()
        return self.report

    def _record_end(self) -> None:
        try:
            self.journal.record(
                "end",
                counts=dict(self.report.counts),
                notSent=self.report.not_sent,
                interrupted=self.report.interrupted,
                error=self.report.fatal.message if self.report.fatal else None,
            )
        except ZazaError:
            pass  # the summary still reports; the journal's state lines are what count

    def _resume(self) -> list[CsvRow]:
        """Skip rows done earlier; look up rows in doubt; the rest is to send."""
        todo: list[CsvRow] = []
        in_doubt: list[CsvRow] = []
        for row in self.batch.rows:
            done = self.state.done.get(row.line)
            if done is not None:
                self.report.resumed += 1
                self._emit(self._row_result(row, "skipped", call_id=done.get("callId")))
            elif row.line in self.state.pending:
                in_doubt.append(row)
            else:
                todo.append(row)
        retried = sum(1 for row in todo if row.line in self.state.failed)
        if self.report.resumed or in_doubt or retried:
            self.on_notice(
                f"resuming {self.journal.path.name}: {self.report.resumed} rows already queued, "
                f"{len(in_doubt)} in flight when the last run stopped or of unknown outcome "
                f"(looking them up in GET /calls first), {retried} that failed before will be "
                "retried"
            )
        if in_doubt:
            todo += self._decide(in_doubt)
        todo.sort(key=lambda row: row.line)
        return todo

    def _earlier_attempt(self, row: CsvRow) -> Attempt:
        """A journaled attempt on the API's clock. Journals from before `serverTs` was
        recorded: our stamp plus the offset measured now, with a second more of doubt."""
        pending = self.state.pending[row.line]
        key = self.request_for(row).key
        if pending.server_ts is not None:
            doubt = NO_CLOCK_MARGIN if pending.uncertainty is None else pending.uncertainty
            return Attempt(key, pending.server_ts, doubt)
        clock = self.api.http.server_clock
        if clock.offset is None or clock.uncertainty is None:
            return Attempt(key, pending.local_ts, NO_CLOCK_MARGIN)
        return Attempt(key, pending.local_ts + clock.offset, clock.uncertainty + 1.0)

    def _decide(self, rows: list[CsvRow]) -> list[CsvRow]:
        """Reconcile rows in doubt; the ones certain never to have been queued are returned
        to be sent; the others stay unknown (never re-sent on a guess)."""
        attempts = {row.line: self._earlier_attempt(row) for row in rows}
        server_now = self.api.server_now()
        newest = max(attempt.server_ts for attempt in attempts.values())
        wait_for = max(0.0, newest + self.reconcile_wait - server_now)
        found = reconcile(self.api, attempts.values(), deadline=time.monotonic() + wait_for)
        server_now = self.api.server_now()
        resend: list[CsvRow] = []
        for row in rows:
            attempt = attempts[row.line]
            call = found.found.get(attempt.key)
            if call is not None:
                self.journal.record("reconciled", line=row.line, to=row.to, callId=call.get("id"))
                self._emit(self._row_result(row, "reconciled", call_id=call.get("id")))
                continue
            age = server_now - attempt.server_ts - attempt.uncertainty
            if self.redial_unknown:
                self.on_notice(f"line {row.line} {row.to}: not listed; --redial-unknown sends it")
                resend.append(row)
            elif found.problem is None and (self.settle <= 0 or age >= self.settle):
                self.on_notice(
                    f"line {row.line} {row.to}: still not in GET /calls {format_seconds(age)} "
                    "after its attempt: never queued, sent again"
                )
                resend.append(row)
            else:
                why = found.problem or "its call is not listed in GET /calls (yet)"
                self._unknown(row, attempt, f"outcome unknown: {why}")
        return resend

    def _unknown(self, row: CsvRow, attempt: Attempt | None, error: str) -> None:
        """A row left unknown: journaled, with the time a re-run can decide it."""
        decide_after = None
        if attempt is not None:
            server_at = attempt.server_ts + attempt.uncertainty + max(0.0, self.settle)
            decide_after = time.time() + (server_at - self.api.http.server_clock.now())
        self.journal.record(
            "unknown",
            line=row.line,
            to=row.to,
            error=error,
            decideAfter=None if decide_after is None else iso_ms(decide_after),
        )
        self._emit(self._row_result(row, "unknown", error=error, decide_after=decide_after))

    def _send_all(self, rows: list[CsvRow]) -> None:
        if not rows:
            return
        queue = deque(rows)
        workers = min(self.concurrency, len(rows))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="zaza-batch")
        futures: list[Future[None]] = [pool.submit(self._worker, queue) for _ in range(workers)]
        try:
            pending: set[Future[None]] = set(futures)
            while pending:
                # A timeout keeps the main thread responsive to Ctrl-C.
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_EXCEPTION)
                for future in done:
                    future.result()  # a bug in a worker stops the run, loudly
        except BaseException:
            self.stop.set()
            raise
        finally:
            # In-flight POSTs finish and their outcomes are journaled before we return.
            pool.shutdown(wait=True)

    def _worker(self, queue: deque[CsvRow]) -> None:
        while not self.stop.is_set():
            with self._queue_lock:
                # Taking the row and its start time together keeps the CSV's order.
                if not queue:
                    return
                row = queue.popleft()
                deferred = self.window is not None and not self._callable_now(row)
                slot = None if deferred else self.pacer.reserve()
            if slot is not None:
                self._send(row, slot)

    def _send(self, row: CsvRow, slot: float) -> None:
        request = self.request_for(row)
        rate_limited = 0
        attempts: list[Attempt] = []

        def journal_attempt(attempt: Attempt) -> None:
            attempts.append(attempt)
            self.journal.record(
                "attempt",
                line=row.line,
                to=row.to,
                key=request.idempotency_key,
                serverTs=iso_ms(attempt.server_ts),
                clockUncertainty=round(attempt.uncertainty, 3),
            )

        while True:
            if not self.pacer.wait(slot, self.stop):
                return  # stopped before this row was sent
            started = time.monotonic()
            try:
                result = dispatch_one(
                    self.api,
                    request,
                    reconcile_wait=self.reconcile_wait,
                    pace_rate_limit=True,
                    precheck=False,
                    on_attempt=journal_attempt,
                )
            except RateLimitedError as exc:
                rate_limited += 1
                if exc.retry_after is not None and exc.retry_after > RETRY_AFTER_CAP:
                    # Days of waiting must not hang a cron job: nothing was queued for this
                    # row (a 429 is an answer), so it is journaled failed, the run stops,
                    # and its message says when to re-run.
                    self.on_notice(
                        f"rate limited (HTTP 429) with Retry-After {exc.retry_after:.0f} s: "
                        f"the batch stops; re-run the same command after "
                        f"{retry_time(exc.retry_after)} to resume"
                    )
                    self._mark_post(started, queued=False)
                    self._failed(row, exc)
                    return
                if rate_limited < MAX_RATE_LIMITED_TRIES:
                    self.pacer.rate_limited(exc.retry_after)  # nothing was queued: try again
                    slot = self.pacer.reserve()
                    continue
                # A limit that never lifts must not hang a cron job: the run stops here.
                exc.message += f" (still after {rate_limited} tries at a lower rate)"
                self._mark_post(started, queued=False)
                self._failed(row, exc)
                return
            except ZazaError as exc:
                self._mark_post(started, queued=False)
                self._failed(row, exc, attempts[-1] if attempts else None)
                return
            self._mark_post(started, queued=True)
            self.pacer.succeeded()
            status = "reconciled" if result.reconciled else "queued"
            self.journal.record(status, line=row.line, to=row.to, callId=result.call_id)
            self._emit(self._row_result(row, status, call_id=result.call_id))
            return

    def _callable_now(self, row: CsvRow) -> bool:
        assert self.window is not None
        times = local_times(row.to, self.window)
        if not times.known:
            self.on_notice(
                f"line {row.line}: no time zone on record for {row.to}; quiet hours not checked"
            )
        if times.allowed:
            return True
        error = (
            f"it is {times.describe(times.outside)} there, outside the calling window "
            f"{self.window.text}; not sent (re-run later)"
        )
        self._emit(self._row_result(row, "deferred", error=error))
        return False

    def _mark_post(self, started: float, *, queued: bool) -> None:
        """Count a POST that was answered (429s aside): the pace the API saw."""
        with self._lock:
            report = self.report
            report.posts += 1
            report.sent_new += int(queued)
            report.first_post = min(started, report.first_post or started)
            report.last_post = max(started, report.last_post or started)

    def _failed(self, row: CsvRow, exc: ZazaError, attempt: Attempt | None = None) -> None:
        if isinstance(exc, OutcomeUnknownError):
            self._unknown(row, attempt, exc.message)
            return
        # Refused or never sent: nothing was queued, a re-run may send it again.
        self.journal.record("failed", line=row.line, to=row.to, error=exc.message)
        self._emit(self._row_result(row, "failed", error=exc.message))
        if not isinstance(exc, BadRequestError):
            # Not about this row (bad key, API unreachable, wrong base URL): every other
            # row would fail the same way, so the run stops here.
            with self._lock:
                if self.report.fatal is None:
                    self.report.fatal = exc
            self.stop.set()
