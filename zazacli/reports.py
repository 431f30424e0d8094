"""Operator reports over the call history: streaming call stats and transcript export.

No Typer and no printing here. `CallStats` is fed one call at a time (from the API's
streamed pages) and keeps only counters plus one compact array of durations per group;
`TranscriptExporter` fetches transcripts with a few daemon threads and writes each file
atomically (temp file + rename), so a killed run never leaves half a transcript.
"""

from __future__ import annotations

import os
import queue
import re
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zazacli.api.values import call_is_over
from zazacli.errors import AuthError, UsageError, ZazaError
from zazacli.files import write_atomically
from zazacli.times import parse_time

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi

# ================================================================ stats

GROUPINGS = ("status", "disposition", "agent", "campaign", "direction", "day", "hour")
TIME_GROUPINGS = frozenset({"day", "hour"})
# Call fields behind the categorical groupings.
GROUP_FIELDS = {
    "status": "status",
    "disposition": "disposition",
    "agent": "agentId",
    "campaign": "campaignId",
    "direction": "direction",
}
# Zero-call days/hours are listed so a dip shows; past this many buckets only seen ones are.
MAX_FILLED_BUCKETS = 10_000
HOUR = timedelta(hours=1)


def pick_grouping(value: str) -> str:
    """`--by`, case-insensitive, with the valid values in the error."""
    by = value.strip().lower()
    if by not in GROUPINGS:
        raise UsageError(
            f"--by: unknown value {value!r}", hint="valid values: " + ", ".join(GROUPINGS)
        )
    return by


def named_ids(items: Iterable[Mapping[str, Any]]) -> dict[Any, str]:
    """{id: name} of agents or campaigns, ids as the groups key them."""
    return {
        _as_id(item.get("id")): str(item["name"])
        for item in items
        if isinstance(item, Mapping) and item.get("name") is not None
    }


def percentile(ordered: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None when empty."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _ratio(part: int, whole: int, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _as_id(value: Any) -> Any:
    """Agent and campaign ids as ints when they are numbers (the API may send strings)."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _positive_duration(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    # 1e400 is valid JSON that reads as infinity: no duration (and no NaN in the totals).
    return float(value) if 0 < value < float("inf") else None


class GroupStats:
    """The counters of one group; durations are the only per-call memory."""

    __slots__ = ("count", "durations", "talk_seconds", "answered", "ended_outbound")

    def __init__(self) -> None:
        self.count = 0
        self.durations = array("d")  # 8 bytes a connected call
        self.talk_seconds = 0.0
        self.answered = 0
        self.ended_outbound = 0

    def add(self, duration: float | None, outbound_ended: bool, answered: bool) -> None:
        self.count += 1
        if duration is not None:
            self.durations.append(duration)
            self.talk_seconds += duration
        if outbound_ended:
            self.ended_outbound += 1
            if answered:
                self.answered += 1

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.durations)
        return {
            "median_duration_s": _seconds(percentile(ordered, 0.5)),
            "p90_duration_s": _seconds(percentile(ordered, 0.9)),
            "talk_minutes": round(self.talk_seconds / 60, 1),
            "answered": self.answered,
            "ended_outbound": self.ended_outbound,
            "answer_rate": _ratio(self.answered, self.ended_outbound),
        }


def local_day(when: datetime) -> str:
    return when.astimezone().date().isoformat()


def local_hour(when: datetime) -> str:
    """The local clock hour `when` falls in, with its UTC offset (unambiguous across DST)."""
    local = when.astimezone()
    return local.replace(minute=0, second=0, microsecond=0).isoformat(timespec="minutes")


class CallStats:
    """Aggregates calls one at a time, grouped by `by`.

    Answer rate: calls that reached COMPLETED among OUTBOUND calls in a terminal state.
    Durations: `durationSeconds` above zero (calls that connected); missing, zero or
    non-numeric durations are left out of the median, p90 and talk time. Days and hours
    are the user's local time zone; every day/hour of the range is listed, also empty ones.
    """

    def __init__(self, by: str, *, since: str | None = None, until: str | None = None) -> None:
        self.by = pick_grouping(by)
        self.since = since
        self.until = until
        self.total = GroupStats()
        self.groups: dict[Any, GroupStats] = {}
        self._first: datetime | None = None
        self._last: datetime | None = None
        self._field = GROUP_FIELDS.get(self.by)

    def add(self, call: Mapping[str, Any]) -> None:
        status = call.get("status")
        # Over by the same rule as --wait and tail: a status zaza does not know counts once
        # the call has an end (endedAt or a duration).
        outbound_ended = call.get("direction") == "OUTBOUND" and call_is_over(call)
        duration = _positive_duration(call.get("durationSeconds"))
        answered = status == "COMPLETED"
        if self._field is not None:
            key = call.get(self._field)
            if self.by in ("agent", "campaign"):
                key = _as_id(key)
            elif key is not None and not isinstance(key, str | int | float | bool):
                key = str(key)
        else:
            created = parse_time(call.get("createdAt"))
            if created is None:
                key = None
            else:
                key = local_day(created) if self.by == "day" else local_hour(created)
                if self._first is None or created < self._first:
                    self._first = created
                if self._last is None or created > self._last:
                    self._last = created
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = GroupStats()
        group.add(duration, outbound_ended, answered)
        self.total.add(duration, outbound_ended, answered)

    def feed(self, calls: Iterable[Mapping[str, Any]]) -> CallStats:
        for call in calls:
            self.add(call)
        return self

    # ------------------------------------------------------------ the result

    def time_range(self, now: datetime | None = None) -> tuple[datetime, datetime] | None:
        """[start, end] of the buckets to list: --since (or the oldest call) to --until
        (exclusive; or now). None when there is nothing to list."""
        start = parse_time(self.since) or self._first
        until = parse_time(self.until)
        end = until - timedelta(microseconds=1) if until else (now or datetime.now(UTC))
        if self._last is not None and until is None:
            end = max(end, self._last)
        if start is None or end < start:
            return None
        return start, end

    def bucket_keys(self, now: datetime | None = None) -> list[str]:
        """Every day or hour of the range, oldest first (empty past MAX_FILLED_BUCKETS)."""
        span = self.time_range(now)
        if span is None:
            return []
        start, end = span
        keys: list[str] = []
        if self.by == "day":
            day, last = start.astimezone().date(), end.astimezone().date()
            if (last - day).days >= MAX_FILLED_BUCKETS:
                return []
            while day <= last:
                keys.append(day.isoformat())
                day += timedelta(days=1)
            return keys
        # Step in absolute time from the local hour `start` is in: right across DST changes.
        hour = datetime.fromisoformat(local_hour(start))
        if (end - hour) / HOUR >= MAX_FILLED_BUCKETS:
            return []
        while hour <= end:
            keys.append(local_hour(hour))
            hour += HOUR
        return keys

    def ordered_keys(self, now: datetime | None = None) -> list[Any]:
        if self.by in TIME_GROUPINGS:
            keys = {k for k in self.groups if k is not None}
            keys.update(self.bucket_keys(now))
            ordered: list[Any] = sorted(keys, key=_time_sort_key)
            if None in self.groups:
                ordered.append(None)
            return ordered
        return sorted(self.groups, key=lambda k: (-self.groups[k].count, str(k)))

    def report(
        self,
        *,
        names: Mapping[Any, str] | None = None,
        filters: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """The `--json` document: the issue's shape plus answered/ended_outbound and more."""
        total = self.total.count
        groups = []
        for key in self.ordered_keys(now):
            group = self.groups.get(key) or GroupStats()
            entry: dict[str, Any] = {"key": key}
            if names is not None:
                entry["name"] = names.get(key)
            entry["count"] = group.count
            entry["share"] = _ratio(group.count, total) or 0.0
            entry.update(group.summary())
            groups.append(entry)
        overall = self.total.summary()
        local = (now or datetime.now(UTC)).astimezone()
        return {
            "total": total,
            "since": self.since,
            "until": self.until,
            "by": self.by,
            "groups": groups,
            "answer_rate": overall["answer_rate"],
            "answered": overall["answered"],
            "ended_outbound": overall["ended_outbound"],
            "talk_minutes": overall["talk_minutes"],
            "median_duration_s": overall["median_duration_s"],
            "p90_duration_s": overall["p90_duration_s"],
            "timezone": local.tzname() or local.strftime("%z"),
            "filters": {k: v for k, v in (filters or {}).items() if k not in ("since", "until")},
        }


def _time_sort_key(key: str) -> datetime | date:
    return date.fromisoformat(key) if len(key) == 10 else datetime.fromisoformat(key)


# ================================================================ transcript export

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


def _shown_id(value: Any) -> str:
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

    The listing is consumed in the calling thread (pages stream in as it goes); `concurrency`
    daemon threads fetch `GET /calls/{id}` through the API client, whose retries back off
    on 429. At most 2 x concurrency calls wait in the queue, so memory stays flat.
    Daemon threads mean Ctrl-C exits at once; an interrupted write leaves only a temp file.
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
        self._stop = threading.Event()
        self._streak = 0
        self._handled = 0
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
        jobs: queue.Queue[str | None] = queue.Queue(maxsize=self.concurrency * 2)
        results: queue.Queue[Outcome] = queue.Queue()
        workers = [
            threading.Thread(
                target=self._work, args=(jobs, results), name=f"export-{i}", daemon=True
            )
            for i in range(self.concurrency)
        ]
        for worker in workers:
            worker.start()
        submitted = 0
        try:
            for call_id in self._to_fetch(calls):
                while True:
                    try:
                        jobs.put(call_id, timeout=0.1)
                        break
                    except queue.Full:
                        self._drain(results, block=False)
                submitted += 1
                self._drain(results, block=False)
            while self._handled < submitted:
                self._drain(results, block=True)
        finally:
            self._stop.set()
            for _ in workers:
                with suppress(queue.Full):
                    jobs.put_nowait(None)
        return self.summary

    def _to_fetch(self, calls: Iterable[Mapping[str, Any]]) -> Iterator[str]:
        """Ids to fetch; existing files and bad ids are counted here, without a request."""
        for call in calls:
            raw = call.get("id")
            call_id = safe_call_id(raw)
            if call_id is None:
                reason = f"the call's id is not a number of at most {MAX_ID_DIGITS} digits"
                self._record(Outcome(FAILED, _shown_id(raw), reason), False)
                continue
            if (self.directory / file_name(call_id, self.fmt)).exists():
                self._record(Outcome(SKIPPED, call_id), False)
                continue
            yield call_id

    def _drain(self, results: queue.Queue[Outcome], *, block: bool) -> None:
        while True:
            try:
                outcome = results.get(timeout=0.2) if block else results.get_nowait()
            except queue.Empty:
                return
            self._handled += 1
            self._record(outcome, True)
            block = False

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

    def _work(self, jobs: queue.Queue[str | None], results: queue.Queue[Outcome]) -> None:
        while not self._stop.is_set():
            call_id = jobs.get()
            if call_id is None or self._stop.is_set():
                return
            results.put(self.export_one(call_id))

    def export_one(self, call_id: str) -> Outcome:
        """Fetch one call and write its transcript; never raises (errors become outcomes)."""
        try:
            call = self.api.get_call(int(call_id))
        except AuthError as exc:
            return Outcome(FAILED, call_id, exc.message, exc)
        except ZazaError as exc:
            return Outcome(FAILED, call_id, exc.message)
        except Exception as exc:  # a bad answer must not stop the other exports
            return Outcome(FAILED, call_id, f"{type(exc).__name__}: {exc}")
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
    from zazacli.output.reports import transcript_file

    return transcript_file(call, fmt)
