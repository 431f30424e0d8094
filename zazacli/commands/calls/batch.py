"""`zaza calls batch FILE.csv`: paced, journaled, resumable dispatches from a CSV."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from zazacli.commands.app import get_context
from zazacli.commands.calls.shared import (
    AllowQuietOpt,
    DispatchAgentOpt,
    DryRunOpt,
    FromOpt,
    RegionOpt,
    YesOpt,
    calling_window,
    confirm_dispatch,
    fetch_agent,
    quiet_hours_waived,
)
from zazacli.commands.policy import DncOpt, contact_history, open_guard, place_overrides
from zazacli.commands.values import exclusive
from zazacli.errors import (
    INTERRUPTED_EXIT,
    AuthError,
    BlockedError,
    InvalidRowsError,
    NetworkError,
    UsageError,
    ZazaError,
    exit_codes_help,
)

if TYPE_CHECKING:
    from zazacli.calls.batch.run import BatchReport
    from zazacli.context import AppContext
    from zazacli.policy.phones import CallingWindow

BATCH_EPILOG = exit_codes_help(
    {
        0: "every row is queued, by this run or an earlier one (a repeated number once)",
        ZazaError.exit_code: "some valid rows were not queued (failed, unknown, quiet hours): "
        "re-run to resume (unknown rows are decided once --settle has passed)",
        InvalidRowsError.exit_code: "every valid row is queued, but some rows were invalid "
        "and will never be called: fix them (listed by line) and re-run",
        BlockedError.exit_code: "every other valid row is queued, but the contact policy held "
        "some (do-not-call list, frequency cap, dialled within --repeat-after); or the list "
        "cannot be read (nothing sent)",
        UsageError.exit_code: "bad input: no number column, bad encoding, other CSV's journal "
        "(nothing sent)",
        AuthError.exit_code: "bad API key (the run stops)",
        NetworkError.exit_code: "API unreachable (the run stops)",
        INTERRUPTED_EXIT: "Ctrl-C (calls in flight finish and are journaled)",
    }
)


FileArg = Annotated[
    Path, typer.Argument(help="CSV with a 'to' (or 'phone') column.", metavar="FILE.csv")
]
RateOpt = Annotated[
    str,
    typer.Option("--rate", help="Most calls to start per second (2, 2/s, 120/min)."),
]
InFlightOpt = Annotated[
    int, typer.Option("--concurrency", min=1, max=64, help="Dispatches in flight at most.")
]
JournalOpt = Annotated[
    Path | None,
    typer.Option("--journal", help="Journal file [default: FILE.csv.journal.jsonl]."),
]
SettleOpt = Annotated[
    str | None,
    typer.Option(
        "--settle",
        help="A row whose outcome is unknown is sent again only once its call is still "
        "not listed this long after the attempt, on the API's clock (0s: at once) "
        "[default: 5m].",
        show_default=False,
    ),
]
RedialUnknownOpt = Annotated[
    bool,
    typer.Option(
        "--redial-unknown",
        help="Send rows of unknown outcome again now, without waiting for --settle "
        "(after you have checked they were not called).",
    ),
]
RepeatAfterOpt = Annotated[
    str,
    typer.Option(
        "--repeat-after",
        help="Do not dial a number zaza dialled (any journal, any run) less than this long ago.",
    ),
]
AllowRepeatOpt = Annotated[
    bool,
    typer.Option(
        "--allow-repeat",
        help="Dial numbers dialled within --repeat-after too (the do-not-call list and "
        "the cap still apply).",
    ),
]


def batch(
    ctx: typer.Context,
    file: FileArg,
    from_number: FromOpt,
    agent: DispatchAgentOpt,
    rate: RateOpt = "2/s",
    concurrency: InFlightOpt = 4,
    journal: JournalOpt = None,
    region: RegionOpt = None,
    allow_quiet_hours: AllowQuietOpt = False,
    settle: SettleOpt = None,
    redial_unknown: RedialUnknownOpt = False,
    repeat_after: RepeatAfterOpt = "24h",
    allow_repeat: AllowRepeatOpt = False,
    dnc: DncOpt = None,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
) -> None:
    """Dispatch a call to every row of a CSV: paced, resumable, never dialling twice.

    The number is in a 'to' or 'phone' column, or (the dashboard's lead CSV) in phone1 …
    phone10, the first valid one per row. Every other column becomes a variable, its
    header as an upper-case token ('case number' -> CASE_NUMBER); NAME and EMAIL are
    always sent. Invalid numbers are reported by line and skipped; a number repeated in
    the file is called once. Each dispatch is journaled before and after it is sent:
    re-run the same command after any failure (even kill -9) and it resumes, looking up
    calls in doubt first; a row whose outcome stays unknown is never sent again on a
    guess (see --settle). The contact policy holds rows whose number is on the do-not-call
    list, at its cap, or was dialled by zaza within --repeat-after (any journal): they are
    journaled blocked or repeat, never dialled (exit 17). A CSV that only gained rows at
    its end resumes with its journal. JSON lines of row results go to stdout when it is
    not a terminal.

    \b
    Examples:
      zaza calls batch leads.csv --from +14155550100 --agent 12 --dry-run
      zaza calls batch leads.csv --from +14155550100 --agent 12 --rate 5/s
    """
    from zazacli.output.dispatch import batch_summary
    from zazacli.times import parse_duration

    app_ctx = get_context(ctx)
    exclusive(settle=settle is not None, redial_unknown=redial_unknown)
    plan = _Plan.read(file, journal, agent, rate, concurrency, settle, redial_unknown)
    repeat_seconds = None if allow_repeat else parse_duration(repeat_after, "--repeat-after")
    region = region or app_ctx.settings.get("region")
    _prepare(app_ctx, plan, from_number, region, allow_quiet_hours, dnc, repeat_seconds)
    if dry_run:
        _dry_run(app_ctx, plan)
        return
    count = len(plan.rows.rows)
    confirm_dispatch(
        app_ctx, yes, f"Call up to {count} numbers from {plan.from_e164} with agent {agent}"
    )
    report = _run(app_ctx, plan)
    pace = _pace(app_ctx, rate, concurrency, settle, allow_repeat, repeat_after, dnc)
    where = (file, plan.from_e164, agent, journal, region, allow_quiet_hours)
    batch_summary(app_ctx.out, report, resume_command(*where, app_ctx, pace=pace))
    _finish(app_ctx, report)


@dataclass
class _Plan:
    """What a batch run is given: the options as read, then (by _prepare) the rows, the
    agent, the contact policy and the journal's place."""

    file: Path
    journal_path: Path | None
    agent: int
    per_second: float
    concurrency: int
    settle: float
    redial_unknown: bool
    rows: Any = None  # CsvBatch
    from_e164: str = ""
    window: CallingWindow | None = None
    agent_info: dict[str, Any] = field(default_factory=dict)
    who: str = ""
    guard: Any = None  # policy.rules.Guard
    recent: Any = None  # calls.dispatch.Recent
    places: Any = None

    @classmethod
    def read(
        cls,
        file: Path,
        journal: Path | None,
        agent: int,
        rate: str,
        concurrency: int,
        settle: str | None,
        redial_unknown: bool,
    ) -> _Plan:
        from zazacli.calls.batch.pacer import parse_rate
        from zazacli.calls.batch.run import parse_settle

        per_second, settle_seconds = parse_rate(rate), parse_settle(settle)
        return cls(file, journal, agent, per_second, concurrency, settle_seconds, redial_unknown)

    @property
    def journal_key(self) -> str:
        assert self.journal_path is not None
        return str(self.journal_path.resolve())

    def dialled_before(self) -> int:
        return int(self.guard.store.journal_dials(self.journal_key))


def _prepare(
    app_ctx: AppContext,
    plan: _Plan,
    from_number: str,
    region: str | None,
    allow_quiet_hours: bool,
    dnc: str | None,
    repeat_seconds: float | None,
) -> None:
    """Read the CSV, the agent and the contact policy; refuse what cannot run (nothing is
    dialled before all of it is known)."""
    from zazacli.calls.batch.csv import read_csv
    from zazacli.calls.batch.journal import default_journal_path
    from zazacli.calls.dispatch import format_seconds
    from zazacli.output.values import named
    from zazacli.policy import phones

    out = app_ctx.out
    plan.from_e164 = phones.normalize_number(from_number, region=region, label="--from")
    plan.window = calling_window(app_ctx)
    rows = plan.rows = read_csv(plan.file, region=region)
    plan.journal_path = plan.journal_path or default_journal_path(plan.file)
    if not rows.rows:
        for problem in rows.problems:
            out.notice(f"line {problem.line}: {problem.status}: {problem.error}")
        raise UsageError(
            f"{plan.file}: no valid numbers to call ({len(rows.problems)} rows skipped)"
        )
    plan.agent_info = fetch_agent(app_ctx, plan.agent)
    plan.who = named("agent", plan.agent, plan.agent_info.get("name"))
    if not plan.agent_info.get("isActive", True):
        raise UsageError(
            f"{plan.who} is not active; the API would refuse every row",
            hint="activate it in the dashboard, or pick another: zaza agents list",
        )
    if quiet_hours_waived(app_ctx, allow_quiet_hours):
        plan.window = None
    guard = plan.guard = open_guard(app_ctx, dnc, repeat_after=repeat_seconds)
    plan.recent = contact_history(app_ctx, guard, {row.to for row in rows.rows}, scans=20)
    if plan.recent.problem is not None and guard.cap is not None and not guard.rings_no_one:
        raise BlockedError(
            f"frequency cap: cannot count the calls of the last "
            f"{format_seconds(guard.cap.window)} ({plan.recent.problem}); nothing was dialled",
            hint="try again later; zaza doctor shows what the server does",
        )
    plan.places = place_overrides(app_ctx)


def _dry_run(app_ctx: AppContext, plan: _Plan) -> None:
    """What a run would do, row by row; exit 17 when the contact policy would hold some."""
    from zazacli.calls.batch.journal import Journal
    from zazacli.calls.batch.plan import plan as batch_plan_of
    from zazacli.output.dispatch import batch_plan

    assert plan.journal_path is not None
    rows = plan.rows
    state = Journal.read_only(
        plan.journal_path, rows, plan.from_e164, plan.agent, plan.dialled_before
    )
    app_ctx.out.notice("dry run: nothing is sent")
    the_plan = batch_plan_of(
        rows, state, plan.window, plan.guard, journal=plan.journal_key, place_windows=plan.places
    )
    batch_plan(
        app_ctx.out,
        rows,
        the_plan,
        journal_path=plan.journal_path,
        agent=plan.agent_info,
        settings=app_ctx.settings,
        per_second=plan.per_second,
    )
    if the_plan.held:
        raise BlockedError(
            f"the contact policy holds {len(the_plan.held)} of {len(rows.rows)} valid rows "
            "(listed above by line); a run would not dial them"
        )


def _run(app_ctx: AppContext, plan: _Plan) -> BatchReport:
    """The batch itself, journaled; its report."""
    from zazacli.calls.batch import run as batching
    from zazacli.calls.batch.journal import Journal
    from zazacli.calls.dispatch import reconcile_wait
    from zazacli.output.dispatch import BatchProgress

    assert plan.journal_path is not None
    rows = plan.rows
    journal_file, state = Journal.open(
        plan.journal_path, rows, plan.from_e164, plan.agent, plan.dialled_before
    )
    try:
        with BatchProgress(app_ctx.out, rows.total, jsonl=not app_ctx.out.drawn) as progress:
            run = batching.BatchRun(
                app_ctx.api,
                rows,
                journal_file,
                state,
                guard=plan.guard,
                recent=plan.recent,
                from_number=plan.from_e164,
                agent_id=plan.agent,
                rate=plan.per_second,
                concurrency=plan.concurrency,
                window=plan.window,
                place_windows=plan.places,
                reconcile_wait=reconcile_wait(app_ctx.env),
                settle=plan.settle,
                redial_unknown=plan.redial_unknown,
                on_result=lambda result: progress.result(result.as_dict()),
                on_notice=progress.notice,
            )
            progress.notice(
                f"batch {plan.file.name}: {rows.total} rows, {len(rows.rows)} valid; up to "
                f"{plan.per_second:g} calls/s, {plan.concurrency} at a time, {plan.who}, "
                f"journal {plan.journal_path}"
            )
            return run.run()
    finally:
        journal_file.close()


def _finish(app_ctx: AppContext, report: BatchReport) -> None:
    """The exit code the report calls for (0 when every valid row is queued)."""
    if report.interrupted:
        app_ctx.out.notice("interrupted: calls already dispatched go on")
        raise typer.Exit(INTERRUPTED_EXIT)
    if report.fatal is not None:
        raise report.fatal
    if not report.ok:
        missing = report.valid - report.queued - report.held
        raise ZazaError(
            f"{missing} of {report.valid} valid rows were not queued",
            hint="re-run the same command to resume",
        )
    if report.held:
        raise BlockedError(
            f"the contact policy held {report.held} of {report.valid} valid rows "
            f"({report.counts['blocked']} blocked, {report.counts['repeat']} dialled within "
            "the repeat window); every other valid row is queued",
            hint="rows blocked by the list are never dialled; see zaza dnc",
        )
    invalid = report.counts["invalid"]
    if invalid:
        raise InvalidRowsError(
            f"{invalid} of {report.rows} rows {'was' if invalid == 1 else 'were'} invalid and "
            f"not called; every valid row is queued",
            hint="fix the rows listed above by line and run again: queued rows are skipped",
        )


def _pace(
    app_ctx: AppContext,
    rate: str,
    concurrency: int,
    settle: str | None,
    allow_repeat: bool,
    repeat_after: str,
    dnc: str | None,
) -> list[str]:
    """The options a resumed run must repeat to pace and hold rows as this one did."""
    pace = ["--rate", rate, "--concurrency", str(concurrency)]
    pace += ["--settle", settle] if settle is not None else []
    pace += ["--allow-repeat"] if allow_repeat else []
    pace += ["--repeat-after", repeat_after] if repeat_after != "24h" else []
    pace += ["--dnc", dnc] if dnc and dnc != app_ctx.env.get("ZAZA_DNC") else []
    return pace


def resume_command(
    file: Path,
    from_number: str,
    agent: int,
    journal: Path | None,
    region: str | None,
    allow_quiet_hours: bool,
    app_ctx: AppContext,
    pace: list[str],
) -> str:
    """The command that resumes this batch: the same rows, sender, agent and pace."""
    parts = ["zaza"]
    if app_ctx.options.profile:
        parts += ["--profile", app_ctx.options.profile]
    parts += ["calls", "batch", str(file), "--from", from_number, "--agent", str(agent)]
    if journal is not None:
        parts += ["--journal", str(journal)]
    if region:
        parts += ["--region", region]
    parts += pace
    if allow_quiet_hours:
        parts.append("--allow-quiet-hours")
    if app_ctx.settings.get("confirm"):
        parts.append("--yes")
    return shlex.join(parts)
