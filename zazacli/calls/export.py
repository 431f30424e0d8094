"""`zaza calls export-transcripts`: transcripts fetched by a few daemon threads, each file
written atomically (temp file + rename), so a killed run never leaves half a transcript.
The fetching (`fetch_call`, `WorkerPool`) is shared with `zaza calls sync`.
No Typer and no printing here."""

from __future__ import annotations

import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from zazacli.api.values import call_is_over
from zazacli.calls.transcript import transcript_file
from zazacli.errors import AuthError, UsageError, ZazaError
from zazacli.files import write_atomically

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi


EXTENSIONS = {"text": "txt", "json": "json", "srt": "srt"}
# Our temp files: `.<call id>.<ext>.<pid>.<random>.tmp`, next to the final file.
TEMP_NAME = re.compile(r"^\.\d+\.(?:txt|json|srt)\.(\d+)\.\w+\.tmp$")
STALE_TEMP_AGE = 600.0  # seconds; a temp file this old is stale even if its pid lives
FAILURE_STREAK_LIMIT = 25  # failures in a row, with no success between, end the run
KEEP_FAILURES = 1000  # reasons kept for the summary (the count is always exact)

WRITTEN, SKIPPED, NO_TRANSCRIPT, IN_PROGRESS, FAILED = (
    "written",
    "skipped",
    "no transcript",
    "in progress",
    "failed",
)


@dataclass
class ExportSummary:
    written: int = 0
    skipped: int = 0
    no_transcript: int = 0
    in_progress: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (call id, reason)
    stale_temp_removed: int = 0
    aborted: str | None = None

    @property
    def done(self) -> int:
        return self.written + self.skipped + self.no_transcript + self.in_progress + self.failed

    def count(self, outcome: str, call_id: str, reason: str = "") -> None:
        if outcome == WRITTEN:
            self.written += 1
        elif outcome == SKIPPED:
            self.skipped += 1
        elif outcome == NO_TRANSCRIPT:
            self.no_transcript += 1
        elif outcome == IN_PROGRESS:
            self.in_progress += 1
        else:
            self.failed += 1
            if len(self.failures) < KEEP_FAILURES:
                self.failures.append((call_id, reason))

    def as_dict(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "skipped": self.skipped,
            "no_transcript": self.no_transcript,
            "in_progress": self.in_progress,
            "failed": self.failed,
            "failures": [{"id": i, "reason": r} for i, r in self.failures],
            "aborted": self.aborted,
        }


@dataclass(frozen=True)
class Outcome:
    outcome: str
    call_id: str
    reason: str = ""
    error: BaseException | None = None


@dataclass(frozen=True)
class Fetched:
    """`GET /calls/{id}`'s answer, or why there is none (`error` only for an AuthError,
    which ends the run)."""

    call_id: str
    call: dict[str, Any] | None
    reason: str = ""
    error: BaseException | None = None


def fetch_call(api: ZazaApi, call_id: str) -> Fetched:
    """One call with its turns; never raises (a failure becomes the reason)."""
    try:
        return Fetched(call_id, api.get_call(int(call_id)))
    except AuthError as exc:
        return Fetched(call_id, None, exc.message, exc)
    except ZazaError as exc:
        return Fetched(call_id, None, exc.message)
    except Exception as exc:  # a bad answer must not stop the other fetches
        return Fetched(call_id, None, _exc_text(exc))


Job = TypeVar("Job")
Result = TypeVar("Result")


class WorkerPool(Generic[Job, Result]):
    """`work(job)` on `concurrency` daemon threads, its results handed back in the calling
    thread (which may then write files or a database alone).

    Jobs are pulled from the iterable in the calling thread too, as the workers free up: at
    most 2 x concurrency wait in the queue, so memory stays flat however many there are.
    Daemon threads mean Ctrl-C exits at once. `work` should not raise; if it does, the
    error is raised in the calling thread.
    """

    def __init__(self, work: Callable[[Job], Result], concurrency: int) -> None:
        self._work = work
        self.concurrency = max(1, concurrency)

    def run(self, jobs: Iterable[Job], on_result: Callable[[Result], None]) -> None:
        """Every job done and its result handed to `on_result`, unless that raises."""
        todo: queue.Queue[Any] = queue.Queue(maxsize=self.concurrency * 2)
        results: queue.Queue[tuple[bool, Any]] = queue.Queue()
        stop = threading.Event()
        workers = [
            threading.Thread(
                target=self._loop, args=(todo, results, stop), name=f"fetch-{i}", daemon=True
            )
            for i in range(self.concurrency)
        ]
        for worker in workers:
            worker.start()
        submitted = handled = 0
        try:
            for job in jobs:
                while True:
                    try:
                        todo.put((job,), timeout=0.1)
                        break
                    except queue.Full:
                        handled += _hand_over(results, on_result, block=False)
                submitted += 1
                handled += _hand_over(results, on_result, block=False)
            while handled < submitted:
                handled += _hand_over(results, on_result, block=True)
        finally:
            stop.set()
            for _ in workers:
                with suppress(queue.Full):
                    todo.put_nowait(None)

    def _loop(
        self, todo: queue.Queue[Any], results: queue.Queue[tuple[bool, Any]], stop: threading.Event
    ) -> None:
        while not stop.is_set():
            item = todo.get()
            if item is None or stop.is_set():
                return
            try:
                results.put((True, self._work(item[0])))
            except BaseException as exc:  # re-raised in the calling thread
                results.put((False, exc))


def _hand_over(
    results: queue.Queue[tuple[bool, Any]], on_result: Callable[[Any], None], *, block: bool
) -> int:
    """Results waiting (at least one when `block`) passed to `on_result`; how many."""
    count = 0
    while True:
        try:
            ok, value = results.get(timeout=0.2) if block else results.get_nowait()
        except queue.Empty:
            return count
        count += 1
        if not ok:
            raise value
        on_result(value)
        block = False


def pick_transcript_format(value: str) -> str:
    fmt = value.strip().lower()
    if fmt not in EXTENSIONS:
        raise UsageError(f"--format: unknown value {value!r}", hint="valid values: text, json, srt")
    return fmt


def file_name(call_id: str, fmt: str) -> str:
    return f"{call_id}.{EXTENSIONS[fmt]}"


MAX_ID_DIGITS = 20  # a 64-bit id has at most 20 digits; longer is no id (and too long a name)


def safe_call_id(value: Any) -> str | None:
    """The id as ASCII digits only, at most MAX_ID_DIGITS: it becomes a file name, so
    nothing else gets through (no `/`, no `..`, no name the file system refuses)."""
    text = (
        str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    )
    ok = text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS
    return text if ok else None


def shown_id(value: Any) -> str:
    """A bad id as it may be quoted in the summary: short (the rest is elided)."""
    plain = isinstance(value, int | str) and not isinstance(value, bool)
    text = str(value) if plain else repr(value)
    return text if len(text) <= 32 else f"{text[:24]}…({len(text)} chars)"


def remove_stale_temp_files(directory: Path, now: float, max_age: float = STALE_TEMP_AGE) -> int:
    """Temp files a killed run left behind: its process is gone, or the file is old.
    A live process's young temp files stay (another export may be writing them)."""
    removed = 0
    with os.scandir(directory) as entries:
        for entry in entries:
            match = TEMP_NAME.match(entry.name)
            if match is None or int(match.group(1)) == os.getpid():
                continue
            with suppress(OSError):
                old = now - entry.stat(follow_symlinks=False).st_mtime > max_age
                if old or not _process_alive(int(match.group(1))):
                    os.unlink(entry.path)
                    removed += 1
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or cannot tell: leave its files alone
    return True


def _file_mode() -> int:
    """0666 less the umask, as `open()` would create it (mkstemp makes 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


class TranscriptExporter:
    """`DIR/<call id>.<ext>` for every call: existing files skipped, no-turn calls counted.

    The listing is consumed in the calling thread (pages stream in as it goes); a
    WorkerPool of `concurrency` threads fetches `GET /calls/{id}` through the API client,
    whose retries back off on 429, and writes each file. An interrupted write leaves only a
    temp file.
    """

    def __init__(
        self,
        api: ZazaApi,
        directory: Path,
        fmt: str,
        *,
        concurrency: int = 4,
        on_outcome: Callable[[Outcome, ExportSummary], None] | None = None,
        render: Callable[[dict[str, Any], str], str] | None = None,
    ) -> None:
        self.api = api
        self.directory = directory
        self.fmt = pick_transcript_format(fmt)
        self.concurrency = max(1, concurrency)
        self.on_outcome = on_outcome
        self.summary = ExportSummary()
        self._render = render or _default_render
        self._mode = _file_mode()
        self._streak = 0
        self._prepared = False

    def prepare(self) -> None:
        """Create DIR if needed and clear old temp files of killed runs."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ZazaError(f"cannot create {self.directory}: {exc.strerror or exc}") from None
        if not self.directory.is_dir():
            raise UsageError(f"{self.directory} is not a directory")
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise ZazaError(f"cannot write to {self.directory}: permission denied")
        self.summary.stale_temp_removed = remove_stale_temp_files(self.directory, time.time())
        self._prepared = True

    def run(self, calls: Iterable[Mapping[str, Any]]) -> ExportSummary:
        """Export every call; the summary is kept up to date even if this raises."""
        if not self._prepared:
            self.prepare()
        pool = WorkerPool(self.export_one, self.concurrency)
        pool.run(self._to_fetch(calls), lambda outcome: self._record(outcome, True))
        return self.summary

    def _to_fetch(self, calls: Iterable[Mapping[str, Any]]) -> Iterator[str]:
        """Ids to fetch; existing files and bad ids are counted here, without a request."""
        for call in calls:
            raw = call.get("id")
            call_id = safe_call_id(raw)
            if call_id is None:
                reason = f"the call's id is not a number of at most {MAX_ID_DIGITS} digits"
                self._record(Outcome(FAILED, shown_id(raw), reason), False)
                continue
            if (self.directory / file_name(call_id, self.fmt)).exists():
                self._record(Outcome(SKIPPED, call_id), False)
                continue
            yield call_id

    def _record(self, outcome: Outcome, fetched: bool) -> None:
        if isinstance(outcome.error, AuthError):
            self.summary.aborted = outcome.reason
            raise outcome.error
        self.summary.count(outcome.outcome, outcome.call_id, outcome.reason)
        if self.on_outcome is not None:
            self.on_outcome(outcome, self.summary)
        if not fetched:
            return
        if outcome.outcome == FAILED:
            self._streak += 1
            if self._streak >= FAILURE_STREAK_LIMIT:
                self.summary.aborted = f"{self._streak} failures in a row; last: {outcome.reason}"
                raise ZazaError(
                    f"gave up after {self._streak} transcripts failed in a row: {outcome.reason}",
                    hint="fix the cause and run the same command again: written files are skipped",
                )
        else:
            self._streak = 0

    def export_one(self, call_id: str) -> Outcome:
        """Fetch one call and write its transcript; never raises (errors become outcomes)."""
        fetched = fetch_call(self.api, call_id)
        call = fetched.call
        if call is None:
            return Outcome(FAILED, call_id, fetched.reason, fetched.error)
        # A live call's transcript is still growing; a file now would be skipped forever.
        if not call_has_ended(call):
            return Outcome(IN_PROGRESS, call_id)
        turns = call.get("turns")
        if not isinstance(turns, list) or not any(isinstance(t, dict) for t in turns):
            return Outcome(NO_TRANSCRIPT, call_id)
        path = self.directory / file_name(call_id, self.fmt)
        try:
            write_atomically(path, self._render(call, self.fmt), self._mode)
        except OSError as exc:
            return Outcome(FAILED, call_id, f"cannot write {path.name}: {exc.strerror or exc}")
        except Exception as exc:  # a worker that died here would leave run() waiting forever
            return Outcome(FAILED, call_id, f"cannot render the transcript: {_exc_text(exc)}")
        return Outcome(WRITTEN, call_id)


def _exc_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def call_has_ended(call: Mapping[str, Any]) -> bool:
    """Over by the one rule (api.values.call_is_over): a final status, or an end time."""
    return call_is_over(call)


def _default_render(call: dict[str, Any], fmt: str) -> str:
    return transcript_file(call, fmt)
