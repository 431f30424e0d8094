"""`zaza calls batch`: many dispatches from a CSV, paced under the rate limit, and journaled
so that a re-run after any crash (even `kill -9`) resumes without dialling anyone twice.

Every row goes through the contact policy (policy/rules.py) just before its POST: a listed
number, one at its cap, or one zaza dialled within the repeat window (any journal, any run)
is journaled `blocked` or `repeat` and never sent. Every row's attempt is journaled (and
written to the policy's ledger) before its POST and its outcome after (journal.py has the
format). A re-run skips done rows and looks up every row with an attempt but no call id in
GET /calls (a new call to its number whose id was not listed before the attempt). Such a
row is never sent again on a guess: it stays unknown until its call is found, or until the
repeat window has passed since the attempt (or --allow-repeat / --redial-unknown say so).
Nothing here prints; results go to callbacks.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zazacli.api.http import (
    RETRY_AFTER_CAP,
    retry_time,
)
from zazacli.calls.batch.csv import CsvBatch, CsvRow
from zazacli.calls.batch.journal import Journal, JournalState, iso_ms
from zazacli.calls.batch.pacer import DEFAULT_RATE, Pacer
from zazacli.calls.dispatch import (
    NO_CLOCK_MARGIN,
    RECONCILE_WAIT,
    Attempt,
    DispatchRequest,
    Recent,
    format_seconds,
    guarded_dispatch,
    reconcile,
)
from zazacli.errors import (
    BadRequestError,
    BlockedError,
    OutcomeUnknownError,
    RateLimitedError,
    ZazaError,
)
from zazacli.policy.phones import CallingWindow, local_times
from zazacli.policy.rules import REPEAT, Guard, Verdict
from zazacli.policy.windows import window_for
from zazacli.times import parse_duration

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi

DEFAULT_CONCURRENCY = 4
MAX_RATE_LIMITED_TRIES = 10  # 429s in a row for one row before the run gives up
# A row whose outcome is unknown is sent again only when its attempt is older than this (on
# the API's clock) and its call is still not listed: time enough for a late listing.
DEFAULT_SETTLE = 300.0
# Statuses that mean "this row's call is queued" (now, or in an earlier run).
QUEUED_STATUSES = frozenset({"queued", "reconciled", "skipped"})
# Rows the contact policy kept from being dialled (the list or the cap; a recent dial).
POLICY_STATUSES = frozenset({"blocked", "repeat"})


# ---------------------------------------------------------------- the run


@dataclass
class RowResult:
    line: int
    to: str
    # queued reconciled skipped failed unknown deferred invalid duplicate blocked repeat
    status: str
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
    def held(self) -> int:
        """Rows the contact policy did not let through."""
        return sum(self.counts[s] for s in POLICY_STATUSES)

    @property
    def ok(self) -> bool:
        """Every valid row is queued, or held by the contact policy."""
        done = self.queued + self.held
        return self.fatal is None and not self.interrupted and done == self.valid

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
        guard: Guard,
        recent: Recent,
        from_number: str,
        agent_id: int,
        rate: float = DEFAULT_RATE,
        concurrency: int = DEFAULT_CONCURRENCY,
        window: CallingWindow | None = None,
        place_windows: dict[str, str] | None = None,
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
        self.guard = guard
        self.recent = recent
        self.journal_key = str(journal.path.resolve())
        self.place_windows = place_windows or {}
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
        if self.state.extended:
            self.on_notice(
                f"{self.batch.path.name} gained rows at its end since {self.journal.path.name} "
                "was started; its earlier rows are unchanged, so the batch resumes"
            )
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
        """A journaled attempt on the API's clock, with the calls it knew before its POST
        (and those the ledger gives to other dials). Journals from before `serverTs` was
        recorded: our stamp plus the offset measured now, with a second more of doubt."""
        pending = self.state.pending[row.line]
        key = self.request_for(row).key
        known = pending.known_ids | self.guard.store.claimed_calls(row.to)
        if pending.server_ts is not None:
            doubt = NO_CLOCK_MARGIN if pending.uncertainty is None else pending.uncertainty
            return Attempt(key, pending.server_ts, doubt, known)
        clock = self.api.http.server_clock
        if clock.offset is None or clock.uncertainty is None:
            return Attempt(key, pending.local_ts, NO_CLOCK_MARGIN, known)
        return Attempt(key, pending.local_ts + clock.offset, clock.uncertainty + 1.0, known)

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
            settled = found.problem is None and (self.settle <= 0 or age >= self.settle)
            repeat = self.guard.repeat_window
            if self.redial_unknown:
                self.on_notice(f"line {row.line} {row.to}: not listed; --redial-unknown sends it")
                resend.append(row)
            elif settled and (repeat is None or age >= repeat):
                self.on_notice(
                    f"line {row.line} {row.to}: still not in GET /calls {format_seconds(age)} "
                    "after its attempt: never queued, sent again"
                )
                resend.append(row)
            elif settled:
                # Not listed is not proof: a server whose clock or list zaza misreads would
                # have it dialled twice. The repeat window holds it (the cap counts it).
                self._unknown(
                    row,
                    attempt,
                    f"outcome unknown: still not in GET /calls {format_seconds(max(0, age))} "
                    "after its "
                    f"attempt; held by the repeat window ({format_seconds(repeat or 0)}): "
                    "--allow-repeat or --redial-unknown sends it again",
                    hold=repeat,
                )
            else:
                why = found.problem or "its call is not listed in GET /calls (yet)"
                self._unknown(row, attempt, f"outcome unknown: {why}")
        return resend

    def _unknown(
        self, row: CsvRow, attempt: Attempt | None, error: str, hold: float | None = None
    ) -> None:
        """A row left unknown: journaled, with the time a re-run can decide it (after
        --settle, or `hold` when the repeat window holds it)."""
        decide_after = None
        if attempt is not None:
            wait = max(0.0, self.settle if hold is None else hold)
            server_at = attempt.server_ts + attempt.uncertainty + wait
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
                held = self._held(row) or (self.window is not None and not self._callable_now(row))
                slot = None if held else self.pacer.reserve()
            if slot is not None:
                self._send(row, slot)

    def _held(self, row: CsvRow) -> bool:
        """Whether the contact policy holds the row now (journaled and reported if so):
        read before a pacer slot is spent on it; read again, atomically, before its POST."""
        verdicts = self.guard.verdicts(
            [row.to], repeat=True, journal=self.journal_key, lines={row.to: row.line}
        )[row.to]
        refused = next((v for v in verdicts if not v.allowed), None)
        if refused is None:
            return False
        self._policy_hold(row, refused)
        return True

    def _policy_hold(self, row: CsvRow, verdict: Verdict) -> None:
        status = "repeat" if verdict.rule == REPEAT else "blocked"
        self.journal.record(
            status, line=row.line, to=row.to, rule=verdict.rule, reason=verdict.detail
        )
        self._emit(self._row_result(row, status, error=verdict.detail))

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
                knownIds=sorted(attempt.known_ids),
            )

        while True:
            if not self.pacer.wait(slot, self.stop):
                return  # stopped before this row was sent
            started = time.monotonic()
            try:
                result = guarded_dispatch(
                    self.api,
                    self.guard,
                    request,
                    source=self.batch.path.name,
                    known=self.recent.known(request.key),
                    journal=self.journal_key,
                    line=row.line,
                    repeat=True,
                    on_attempt=journal_attempt,
                    reconcile_wait=self.reconcile_wait,
                    pace_rate_limit=True,
                )
            except BlockedError as exc:
                self._blocked(row, exc)
                return
            except RateLimitedError as exc:
                rate_limited += 1
                if self._rate_limited(row, exc, rate_limited, started):
                    slot = self.pacer.reserve()
                    continue
                return
            except ZazaError as exc:
                self._mark_post(started)
                self._failed(row, exc, attempts[-1] if attempts else None)
                return
            self._mark_post(started)
            self.pacer.succeeded()
            status = "reconciled" if result.reconciled else "queued"
            self.journal.record(status, line=row.line, to=row.to, callId=result.call_id)
            self._emit(self._row_result(row, status, call_id=result.call_id))
            return

    def _rate_limited(self, row: CsvRow, exc: RateLimitedError, times: int, started: float) -> bool:
        """Whether to send the row again after a 429 (nothing was queued: a 429 is an
        answer); otherwise it is journaled failed and the run stops."""
        if exc.retry_after is not None and exc.retry_after > RETRY_AFTER_CAP:
            # Days of waiting must not hang a cron job: the message says when to re-run.
            self.on_notice(
                f"rate limited (HTTP 429) with Retry-After {exc.retry_after:.0f} s: "
                f"the batch stops; re-run the same command after "
                f"{retry_time(exc.retry_after)} to resume"
            )
        elif times < MAX_RATE_LIMITED_TRIES:
            self.pacer.rate_limited(exc.retry_after)
            return True
        else:
            # A limit that never lifts must not hang a cron job either.
            exc.message += f" (still after {times} tries at a lower rate)"
        self._mark_post(started)
        self._failed(row, exc)
        return False

    def _blocked(self, row: CsvRow, exc: BlockedError) -> None:
        """The policy refused the row at its POST (listed or capped a moment before, maybe by
        another process); a policy file that cannot be read stops the run."""
        verdict = getattr(exc, "verdict", None)
        if not isinstance(verdict, Verdict):
            with self._lock:
                if self.report.fatal is None:
                    self.report.fatal = exc
            self.stop.set()
            return
        self._policy_hold(row, verdict)

    def _callable_now(self, row: CsvRow) -> bool:
        assert self.window is not None
        window = window_for(row.to, self.window, self.place_windows)
        times = local_times(row.to, window)
        if not times.known:
            self.on_notice(
                f"line {row.line}: no time zone on record for {row.to}; quiet hours not checked"
            )
        if times.allowed:
            return True
        error = (
            f"it is {times.describe(times.outside)} there, outside the calling window "
            f"{window.described}; not sent (re-run later)"
        )
        self._emit(self._row_result(row, "deferred", error=error))
        return False

    def _mark_post(self, started: float) -> None:
        """Count a POST that was answered (429s aside): the pace the API saw."""
        with self._lock:
            report = self.report
            report.posts += 1
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


def parse_settle(value: str | None) -> float:
    """--settle: a duration, where 0 (`0`, `0s`) means "decide at once"."""
    if value is None:
        return DEFAULT_SETTLE
    return parse_duration(value, "--settle", zero_ok=True)
