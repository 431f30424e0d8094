"""Printing for `zaza calls dispatch|wait|batch`: plans, live status, progress, summaries."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from zazacli.output.values import STATUS_STYLES, duration
from zazacli.sanitize import json_safe
from zazacli.times import parse_time

# ================================================================ dispatch, wait and batch
# For `zaza calls dispatch|wait|batch`. Data on stdout: the call id, the final call, the
# dry-run plan, or one JSON line per batch row when piped. The live status line, the
# progress bar, problem rows and the batch summary go to stderr, worded to read well in
# a cron log the next morning.

if TYPE_CHECKING:
    from pathlib import Path

    from zazacli.calls.admission import Admission
    from zazacli.calls.batch.csv import CsvBatch
    from zazacli.calls.batch.plan import BatchPlan
    from zazacli.calls.batch.run import BatchReport
    from zazacli.config import Settings
    from zazacli.output import Output
    from zazacli.policy.rules import Verdict

# Row statuses of a batch that are problems worth a line on stderr.
BATCH_PROBLEM_STATUSES = frozenset(
    {"invalid", "duplicate", "failed", "unknown", "deferred", "blocked", "repeat"}
)


def dispatch_plan(out: Output, pairs: list[tuple[str, Any]]) -> None:
    """`--dry-run`: what would be sent, as labelled lines (key_values shows values literally)."""
    out.key_values(pairs)


def plan_rows(
    admission: Admission, agent: dict[str, Any], profile: str | None, base_url: str
) -> list[tuple[str, Any]]:
    """A dispatch's dry run, row by row (`calls dispatch --dry-run`, `zaza ui`'s form)."""
    request, times = admission.request, admission.times
    active = bool(agent.get("isActive", True))
    within = "yes" if times.allowed else "no" + (" (not enforced)" if admission.may_call else "")
    return [
        ("from", request.from_number),
        ("to", request.to_number),
        (
            "agent",
            f"{request.agent_id} {agent.get('name') or ''}".strip()
            + ("" if active else " (INACTIVE)"),
        ),
        ("variables", request.variables or "(none)"),
        ("profile", profile or "(none)"),
        ("base URL", base_url),
        ("callee local time", times.describe()),
        ("calling window", f"{admission.window.described}, within: {within}"),
        *policy_rows(admission.verdicts),
        ("idempotency key", request.idempotency_key),
    ]


def plan_json(
    admission: Admission, agent: dict[str, Any], profile: str | None, base_url: str
) -> dict[str, Any]:
    """`calls dispatch --dry-run --json`."""
    request, times, window = admission.request, admission.times, admission.window
    return {
        "dryRun": True,
        "request": request.body(),
        "idempotencyKey": request.idempotency_key,
        "agent": agent,
        "profile": profile,
        "baseUrl": base_url,
        "calleeLocalTimes": times.as_dict(),
        "callingWindow": window.text,
        "callingWindowRule": window.why or "quiet_hours",
        "withinCallingWindow": times.allowed,
        "policy": [verdict.as_dict() for verdict in admission.verdicts],
    }


def policy_rows(verdicts: list[Verdict]) -> list[tuple[str, str]]:
    """Each contact-policy rule's verdict, as plan rows."""
    names = {"dnc": "do-not-call", "cap": "frequency cap", "repeat": "repeat window"}
    return [
        (names.get(v.rule, v.rule), ("ok: " if v.allowed else "BLOCKED: ") + v.detail)
        for v in verdicts
    ]


class CallStatusLine:
    """`call 90512  RINGING 0:07`, redrawn in place on stderr while a call is followed.

    Only on a terminal: in a log nothing is written until the final result.
    """

    def __init__(self, out: Output, call_id: Any) -> None:
        self.out = out
        self.call_id = call_id
        self.status = "…"
        self._origin = time.time()
        self._live: Any = None

    def __enter__(self) -> CallStatusLine:
        if self.out.err_tty:
            from rich.live import Live

            self._live = Live(
                self, console=self.out.err_console, refresh_per_second=4, transient=True
            )
            self._live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def update(self, call: dict[str, Any]) -> None:
        self.status = str(call.get("status") or "?")
        created = parse_time(call.get("createdAt"))
        if created is not None:
            # The call's own age; a server clock ahead of ours must not show negative time.
            self._origin = min(created.timestamp(), time.time())

    def __rich__(self) -> Any:
        from rich.text import Text

        style = STATUS_STYLES.get(self.status.upper(), "bold")
        return Text.assemble(
            (f"call {self.call_id}  ", "dim"),
            (self.status, f"bold {style}"),
            f" {duration(max(0.0, time.time() - self._origin))}",
        )


class BatchProgress:
    """What a batch shows while it runs: a Rich progress bar on a terminal's stderr; one
    JSON line per row on stdout when `jsonl`; problem rows as lines on stderr; and in a
    log (stderr not a terminal) a progress line every 30 seconds."""

    LOG_EVERY = 30.0

    def __init__(self, out: Output, total: int, *, jsonl: bool) -> None:
        self.out = out
        self.total = total
        self.jsonl = jsonl
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._progress: Any = None
        self._task: Any = None
        self._started = time.monotonic()
        self._last_log = self._started

    def __enter__(self) -> BatchProgress:
        if self.out.err_tty:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]batch"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TextColumn("[dim]{task.fields[rate]}"),
                TimeRemainingColumn(),
                console=self.out.err_console,
            )
            self._progress.start()
            self._task = self._progress.add_task("batch", total=self.total, **self._fields())
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _fields(self) -> dict[str, str]:
        c = self.counts
        sent = c["queued"] + c["reconciled"] + c["failed"] + c["unknown"]
        queued = c["queued"] + c["reconciled"] + c["skipped"]
        skipped = c["skipped"] + c["invalid"] + c["duplicate"] + c["deferred"]
        skipped += c["blocked"] + c["repeat"]
        elapsed = time.monotonic() - self._started
        new = c["queued"] + c["reconciled"]
        rate = f"{new / elapsed:.1f}/s" if new and elapsed > 0 else ""
        counts = f"sent {sent} · queued {queued} · failed {c['failed'] + c['unknown']} · "
        return {"counts": counts + f"skipped {skipped}", "rate": rate}

    def result(self, row: dict[str, Any]) -> None:
        """One row's result (called from worker threads)."""
        with self._lock:
            self.counts[row["status"]] += 1
            if self.jsonl:
                # json_safe: a reason may quote a shared list's text (C1, bidi controls).
                self.out.stdout.write(json_safe(json.dumps(row, ensure_ascii=False)) + "\n")
                self.out.stdout.flush()
            if row["status"] in BATCH_PROBLEM_STATUSES:
                who = "" if row["status"] in ("invalid", "duplicate") else f" {row['to']}"
                self._line(f"line {row['line']}{who}: {row['status']}: {row.get('error')}")
            elif row.get("note"):
                # A lead CSV row called on a later phone column: say which, and why.
                self._line(f"line {row['line']} {row['to']}: {row['status']} ({row['note']})")
            if self._progress is not None:
                self._progress.update(self._task, advance=1, **self._fields())
            elif time.monotonic() - self._last_log >= self.LOG_EVERY:
                self._last_log = time.monotonic()
                done = sum(self.counts.values())
                fields = self._fields()
                self._line(
                    f"progress: {done}/{self.total} rows, {fields['counts']} {fields['rate']}"
                )

    def notice(self, message: str) -> None:
        with self._lock:
            self._line(message)

    def _line(self, message: str) -> None:
        if self._progress is not None:
            from zazacli.output.safe import safe_text

            self._progress.console.print(safe_text(message), highlight=False)
        else:
            self.out.notice(message)


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _unknown_advice(report: BatchReport) -> str:
    """When the rows of unknown outcome can be decided, and how to force it."""
    from zazacli.calls.dispatch import format_seconds

    when = "a re-run decides them"
    if report.decide_after is not None:
        left = report.decide_after - time.time()
        stamp = datetime.fromtimestamp(report.decide_after, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        when = (
            f"a re-run from {stamp} (in {format_seconds(left)}) decides them"
            if left > 0
            else "a re-run now decides them"
        )
    return (
        f"rows of unknown outcome: their calls are not listed in GET /calls (yet); {when}: "
        f"found, or sent again once still not listed {format_seconds(report.settle)} after "
        "the attempt (--settle). Cron's next run finishes them. Checked that they were not "
        "called? --redial-unknown sends them again at once"
    )


def batch_summary(out: Output, report: BatchReport, resume_command: str) -> None:
    """The closing lines on stderr: counts, rate, journal, and how to resume."""
    c = report.counts
    finished = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    problems = [f"{c[s]} {s}" for s in ("invalid", "duplicate") if c[s]]
    found = f" ({c['reconciled']} found in GET /calls after a lost answer)"
    lines = [
        f"batch {report.csv_path.name} finished {finished} after "
        f"{duration(max(0.0, report.elapsed))}: {report.queued} of {report.valid} valid rows queued"
        + (f" ({', '.join(problems)} rows skipped)" if problems else ""),
        f"  queued now: {c['queued'] + c['reconciled']}"
        + (found if c["reconciled"] else "")
        + f"; already queued by an earlier run: {c['skipped']}",
    ]
    missing = [
        (c["failed"], "failed (refused by the API; nothing queued)"),
        (c["unknown"], "outcome unknown (never sent again on a guess; see below)"),
        (c["deferred"], "deferred (callee's quiet hours)"),
        (report.not_sent, "not sent"),
    ]
    held = [
        (c["blocked"], "blocked (do-not-call list or frequency cap)"),
        (c["repeat"], "dialled by zaza within the repeat window"),
    ]
    if report.held:
        lines.append("  held by the contact policy: " + "; ".join(f"{n} {t}" for n, t in held if n))
    if any(n for n, _ in missing):
        lines.append("  not queued: " + "; ".join(f"{n} {text}" for n, text in missing if n))
    rate = report.achieved_rate
    pace = f"  rate: {rate:.1f} calls/s" if rate else "  rate: -"
    pace += f" (target {report.target_rate:g}/s)"
    if report.rate_limited:
        pace += (
            f"; rate limited {_times(report.rate_limited)} (HTTP 429), "
            f"slowed down {_times(report.slowdowns)}"
        )
    lines.append(pace)
    lines.append(f"  journal: {report.journal_path}")
    if c["unknown"]:
        lines.append("  " + _unknown_advice(report))
    if report.ok and not report.held:
        lines.append("  every valid row is queued")
    elif report.ok:
        lines.append("  every other valid row is queued")
    else:
        lines.append(
            f"  to resume, re-run the same command: {resume_command}\n"
            "  (rows already queued are skipped; rows in doubt are looked up in GET /calls first)"
        )
    for line in lines:
        out.notice(line)


def format_eta(seconds: float) -> str:
    from zazacli.calls.dispatch import format_seconds

    return format_seconds(max(1.0, seconds))


def batch_plan(
    out: Output,
    rows: CsvBatch,
    plan: BatchPlan,
    *,
    journal_path: Path,
    agent: dict[str, Any],
    settings: Settings,
    per_second: float,
) -> None:
    """`calls batch --dry-run`: the skipped rows, then what a run would do now."""
    for problem in rows.problems:
        out.notice(f"line {problem.line}: {problem.status}: {problem.error}")
    for line, to, verdict in plan.held:
        status = "repeat" if verdict.rule == "repeat" else "blocked"
        out.notice(f"line {line} {to}: {status}: {verdict.detail}")
    dispatch_plan(
        out,
        [
            ("file", f"{rows.path} ({rows.total} rows, number column {rows.phone_column!r})"),
            ("valid", plan.valid),
            ("invalid", plan.invalid),
            ("duplicates", plan.duplicates),
            ("already queued", f"{plan.done} (journal {journal_path})"),
            ("to look up first", f"{plan.in_doubt} (in flight when a run stopped)"),
            ("do-not-call or capped", plan.held_by("blocked")),
            ("dialled recently", f"{plan.held_by('repeat')} (within the repeat window)"),
            ("outside calling window now", "not checked" if plan.outside is None else plan.outside),
            *(
                ("calling window", f"{label}: {rows} row{'s' if rows != 1 else ''}")
                for label, rows in plan.windows.items()
            ),
            ("would send", plan.sendable),
            ("agent", f"{agent.get('id')} {agent.get('name') or ''}".strip()),
            ("profile", settings.profile_name or "(none)"),
            ("base URL", settings.base_url),
            ("pace", f"{per_second:g} calls/s, about {format_eta(plan.sendable / per_second)}"),
        ],
    )
