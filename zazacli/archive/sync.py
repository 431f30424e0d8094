"""`zaza calls sync`: the API's call history mirrored into the archive, incrementally.

A first sync reads the whole list (or back to --since), newest first. Later ones read it
newest first only down to a little below the newest call held (OVERLAP: a call may show
up in the list shortly after it was made), go on back where an earlier sync stopped short,
read again the calls that were still live, and fetch each ended call's transcript once.

Crash safety comes from the order of the writes, each one transaction: a batch of listed
calls is stored together with the range of the list it completes (the coverage); a
transcript with its call. The coverage only ever claims calls already stored, so a run
killed at any point is completed by the next: it lists again from the top down to the
claimed range, continues below it, and fetches whatever transcript is missing.

Listing and storing happen in the calling thread; transcripts are fetched by the export's
WorkerPool (bounded concurrency; the API client backs off on 429) and stored a few at a
time (DETAIL_BATCH). Nothing prints here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from zazacli.api.listing import CallFilter, created_key
from zazacli.archive.store import LIVE, NEW, NO_TRANSCRIPT, UPDATED, Archive, archive_id
from zazacli.calls.export import (
    FAILURE_STREAK_LIMIT,
    KEEP_FAILURES,
    Fetched,
    WorkerPool,
    fetch_call,
    shown_id,
)
from zazacli.errors import AuthError, ZazaError

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi

OVERLAP = 300  # seconds below the newest call held that a later sync lists again
BATCH = 100  # listed calls stored per transaction (one page)
# Transcripts stored per transaction: at most this many, held at most this long (a kill
# loses only those, and the next sync fetches them again).
DETAIL_BATCH = 25
DETAIL_WAIT = 0.5

FRESH, HEAD, BACK, REFRESH = "fresh", "head", "back", "refresh"


def scope_of(filters: CallFilter) -> str:
    """The part of the history a sync mirrors (its filters other than dates): each has its
    own coverage, so a sync of one agent never stops a full sync early."""

    def one(values: tuple[Any, ...]) -> str:
        return ",".join(map(str, values)) or "*"

    return (
        f"direction={one(filters.directions)} status={one(filters.statuses)} "
        f"agent={one(filters.agent_ids)}"
    )


def instant(key: str | None) -> str | None:
    """A created_key as the ISO-8601 instant a CallFilter takes."""
    return f"{key}Z" if key else None


def shift(key: str, seconds: int) -> str:
    """`key` moved by whole seconds (truncated to the second first)."""
    moved = datetime.fromisoformat(key[:19]).replace(tzinfo=UTC) + timedelta(seconds=seconds)
    return moved.strftime("%Y-%m-%dT%H:%M:%S")


class Scan(NamedTuple):
    """One read of the list, newest first, from `until` (exclusive) down to `since`."""

    # FRESH: from the top, nothing held; HEAD: down to what is held; BACK: below it;
    # REFRESH: the whole range again, to see what the API changed or no longer lists
    mode: str
    since: str | None
    until: str | None = None


@dataclass(frozen=True)
class Plan:
    scans: list[Scan]
    expected: int | None  # calls to mirror by the API's count (first syncs and back-fills)

    @property
    def first(self) -> bool:
        return self.scans[0].mode == FRESH

    @property
    def back_fill(self) -> bool:
        return any(scan.mode == BACK for scan in self.scans)


@dataclass
class SyncSummary:
    listed: int = 0
    new: int = 0
    updated: int = 0
    transcripts: int = 0
    no_transcript: int = 0
    live: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (call id, reason)
    expected: int | None = None
    aborted: str | None = None
    incomplete: int = 0  # calls the API announced but never listed
    deleted: int | None = None  # a refresh: held calls the API no longer lists
    done: int = 0  # listed calls whose transcript is settled (fetched, failed or not due)

    def fail(self, call_id: str, reason: str) -> None:
        self.failed += 1
        if len(self.failures) < KEEP_FAILURES:
            self.failures.append((call_id, reason))

    def as_dict(self) -> dict[str, Any]:
        return {
            "listed": self.listed,
            "new": self.new,
            "updated": self.updated,
            "transcripts": self.transcripts,
            "no_transcript": self.no_transcript,
            "live": self.live,
            "failed": self.failed,
            "failures": [{"id": i, "reason": r} for i, r in self.failures],
            "aborted": self.aborted,
            "incomplete": self.incomplete,
            "deleted": self.deleted,
        }


Job = tuple[int, bool]  # (call id, whether it is a held call read again)


class ArchiveSync:
    """One sync of `filters` (dates: only `since`, how far back to mirror) into `archive`.

    `plan()` reads the archive's coverage and, for a first sync or a back-fill, asks the API
    how many calls that is (one request); `run(plan)` does it. `on_progress(summary)` is
    called in the calling thread after each stored batch and each transcript.
    """

    def __init__(
        self,
        api: ZazaApi,
        archive: Archive,
        filters: CallFilter,
        *,
        concurrency: int = 4,
        refresh: bool = False,
        on_progress: Callable[[SyncSummary], None] | None = None,
        notice: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.refresh = refresh
        self.api = api
        self.archive = archive
        self.scope_filters = filters._replace(since=None, until=None)
        self.scope = scope_of(filters)
        self.since = created_key(filters.since) if filters.since else None
        self.concurrency = concurrency
        self.on_progress = on_progress
        self.notice = notice
        self.summary = SyncSummary()
        self._run = 0
        self._streak = 0
        self._newest: str | None = None
        self._fetched: list[tuple[Job, dict[str, Any]]] = []
        self._first_fetched = 0.0

    @property
    def floor(self) -> str | None:
        """How far back to mirror: --since, else the date the archive was pruned to."""
        return self.since or self.archive.meta("pruned_before")

    def plan(self) -> Plan:
        floor = self.floor
        if self.refresh:
            # Everything from `floor` up is listed again: list pages only, and a call
            # fetched only when the list shows it changed.
            return Plan([Scan(REFRESH, floor)], self._count(floor, None))
        held = self.archive.coverage(self.scope)
        if held is None or held.top is None or (floor is not None and held.top < floor):
            return Plan([Scan(FRESH, floor)], self._count(floor, None))
        head = shift(held.top, -OVERLAP)
        scans = [Scan(HEAD, head)]
        below = floor is None or held.bottom is None or held.bottom > floor
        if held.reached_end or not below:
            return Plan(scans, None)
        # The calls created in the second of `bottom` are read again (some may be missing),
        # but none the head scan reads: a call is listed once per sync.
        until = min(shift(held.bottom or held.top, 1), head)
        if floor is not None and until <= floor:
            return Plan(scans, None)  # the head scan reaches the floor itself
        scans.append(Scan(BACK, floor, until))
        return Plan(scans, self._count(floor, until))

    def _count(self, since: str | None, until: str | None) -> int | None:
        """The API's count, for the notice and the progress bar only: None when it does
        not tell or the request fails (the sync itself will say why, if it matters)."""
        filters = self.scope_filters._replace(since=instant(since), until=instant(until))
        try:
            return self.api.count_calls(filters)
        except AuthError:
            raise
        except ZazaError:
            return None

    def run(self, plan: Plan) -> SyncSummary:
        """Mirror as planned; the summary is kept up to date even if this raises."""
        self.summary.expected = plan.expected
        self._run = self.archive.start_run(self.scope)
        outcome = "interrupted"
        try:
            self._save_agents()
            pool: WorkerPool[Job, tuple[Job, Fetched]] = WorkerPool(self._fetch, self.concurrency)
            pool.run(self._jobs(plan), self._stored)
            self._store_fetched()
            self._save_campaigns()
            outcome = "failed" if self.summary.failed else "ok"
        except ZazaError as exc:
            self.summary.aborted = self.summary.aborted or exc.message
            outcome = "aborted"
            raise
        finally:
            if self._fetched:  # stopped early: keep what was fetched
                self._store_fetched()
            self.archive.finish_run(self._run, outcome, self.summary.as_dict())
        return self.summary

    # ------------------------------------------------------------ listing (calling thread)

    def _save_agents(self) -> None:
        """Agent names, so that search shows them offline (one request)."""
        try:
            agents = self.api.list_agents()
        except AuthError:
            raise
        except ZazaError as exc:
            self.notice(f"agent names not updated: {exc.message}")
            return
        self.archive.save_agents(agents)

    def _save_campaigns(self) -> None:
        """Campaign names, for `calls stats --local --by campaign` (one request, made only
        when an archived call belongs to a campaign)."""
        if not self.archive.has_campaign_calls():
            return
        try:
            campaigns = self.api.list_campaigns()
        except AuthError:
            raise
        except ZazaError as exc:
            self.notice(f"campaign names not updated: {exc.message}")
            return
        self.archive.save_campaigns(campaigns)

    def _jobs(self, plan: Plan) -> Iterator[Job]:
        for scan in plan.scans:
            if scan.mode == FRESH:
                self.archive.reset_coverage(self.scope)
            yield from self._scan(scan)
        floor = self.floor
        leftover = self.scope_filters._replace(since=instant(floor))
        for call_id in self.archive.leftovers(leftover, self._run):
            yield call_id, True

    def _scan(self, scan: Scan) -> Iterator[Job]:
        filters = self.scope_filters._replace(since=instant(scan.since), until=instant(scan.until))
        batch: list[dict[str, Any]] = []
        self._newest = None
        listing = self.api.scan_calls(filters)
        for call in listing:
            batch.append(call)
            if len(batch) >= BATCH:
                yield from self._store_batch(batch, scan)
                batch = []
        if batch:
            yield from self._store_batch(batch, scan)
        if listing.missing:
            # Calls the API announced never came: what was claimed is given up, so the next
            # sync reads the list again (pages only: the calls held are not fetched again).
            self.summary.incomplete += listing.missing
            self.archive.reset_coverage(self.scope)
            return
        if scan.mode == REFRESH:
            self._refreshed(filters, unreadable=listing.dropped["createdAt"])
            return
        if scan.mode == HEAD:
            # Everything from `since` up is listed now, and it reaches into what was held.
            self.archive.complete_coverage(self.scope, top=self._newest, bottom=scan.since)
        else:
            # Read down to the floor, or to the very end of the list.
            self.archive.complete_coverage(self.scope, bottom=scan.since, end=scan.since is None)

    def _refreshed(self, filters: CallFilter, *, unreadable: int) -> None:
        """The range was listed whole: what the archive holds in it that this run did not
        see, the API no longer lists. Not decided when some listed calls could not be
        dated (they may be those), or a status filter makes calls leave the scope."""
        summary = self.summary
        if unreadable or filters.statuses:
            why = "a status filter" if filters.statuses else "calls without a readable createdAt"
            self.notice(f"deleted calls not looked for: {why}")
        else:
            summary.deleted = self.archive.mark_deleted(filters._replace(until=None), self._run)
        counts = {"listed": summary.listed, "updated": summary.updated}
        self.archive.record_refresh(
            self.scope, self.floor, {**counts, "deleted": summary.deleted or 0}
        )

    def _store_batch(self, batch: list[dict[str, Any]], scan: Scan) -> Iterator[Job]:
        rows: list[tuple[int, dict[str, Any]]] = []
        keys: list[str] = []
        for call in batch:
            call_id = archive_id(call.get("id"))
            if call_id is None:
                reason = "the call's id is not a whole number zaza can store"
                self.summary.fail(shown_id(call.get("id")), reason)
                self.summary.done += 1
                continue
            rows.append((call_id, call))
            key = created_key(call.get("createdAt"))
            if key is not None:
                keys.append(key)
        if keys:
            self._newest = max(keys) if self._newest is None else max(self._newest, *keys)
        claim = scan.mode != HEAD and bool(keys)
        listed = self.archive.store_listed(
            rows,
            self._run,
            top=max(keys) if claim and scan.mode in (FRESH, REFRESH) else None,
            bottom=min(keys) if claim else None,
            scope=self.scope,
            refetch_changed=scan.mode == REFRESH,
        )
        summary = self.summary
        for item in listed:
            summary.listed += 1
            summary.new += item.change == NEW
            summary.updated += item.change == UPDATED
            summary.live += not item.ended
            summary.done += not item.needs_transcript
        self._progress()
        for item in listed:
            if item.needs_transcript:
                yield item.call_id, False

    # ------------------------------------------------------------ transcripts

    def _fetch(self, job: Job) -> tuple[Job, Fetched]:
        """In a worker thread: the request only; storing is the calling thread's."""
        return job, fetch_call(self.api, str(job[0]))

    def _stored(self, result: tuple[Job, Fetched]) -> None:
        """A fetch done: a failure is counted at once, a call kept for the next write."""
        job, fetched = result
        if fetched.call is None:
            self.summary.done += not job[1]
            self._failed(fetched)
            self._progress()
            return
        self._streak = 0
        if not self._fetched:
            self._first_fetched = time.monotonic()
        self._fetched.append((job, fetched.call))
        waited = time.monotonic() - self._first_fetched
        if len(self._fetched) >= DETAIL_BATCH or waited >= DETAIL_WAIT:
            self._store_fetched()

    def _store_fetched(self) -> None:
        fetched, self._fetched = self._fetched, []
        if not fetched:
            return
        stored = self.archive.store_details([(job[0], call) for job, call in fetched], self._run)
        summary = self.summary
        for ((_, again), _), (kind, changed) in zip(fetched, stored, strict=True):
            summary.done += not again
            summary.updated += again and changed
            summary.live += kind == LIVE
            summary.no_transcript += kind == NO_TRANSCRIPT
            summary.transcripts += kind not in (LIVE, NO_TRANSCRIPT)
        self._progress()

    def _failed(self, fetched: Fetched) -> None:
        if isinstance(fetched.error, AuthError):
            self.summary.aborted = fetched.reason
            raise fetched.error
        self.summary.fail(fetched.call_id, fetched.reason)
        self._streak += 1
        if self._streak >= FAILURE_STREAK_LIMIT:
            self.summary.aborted = f"{self._streak} failures in a row; last: {fetched.reason}"
            raise ZazaError(
                f"gave up after {self._streak} calls failed in a row: {fetched.reason}",
                hint="fix the cause and sync again: what is stored stays, the rest is fetched",
            )

    def _progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.summary)
