"""`zaza calls batch FILE.csv`: paced, journaled, resumable dispatches from a CSV."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

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
from zazacli.commands.options import exclusive, get_context
from zazacli.commands.policy import DncOpt, contact_history, open_guard, place_overrides
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


def batch(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="CSV with a 'to' (or 'phone') column.", metavar="FILE.csv")
    ],
    from_number: FromOpt,
    agent: DispatchAgentOpt,
    rate: Annotated[
        str,
        typer.Option("--rate", help="Most calls to start per second (2, 2/s, 120/min)."),
    ] = "2/s",
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Dispatches in flight at most.")
    ] = 4,
    journal: Annotated[
        Path | None,
        typer.Option("--journal", help="Journal file [default: FILE.csv.journal.jsonl]."),
    ] = None,
    region: RegionOpt = None,
    allow_quiet_hours: AllowQuietOpt = False,
    settle: Annotated[
        str | None,
        typer.Option(
            "--settle",
            help="A row whose outcome is unknown is sent again only once its call is still "
            "not listed this long after the attempt, on the API's clock (0s: at once) "
            "[default: 5m].",
            show_default=False,
        ),
    ] = None,
    redial_unknown: Annotated[
        bool,
        typer.Option(
            "--redial-unknown",
            help="Send rows of unknown outcome again now, without waiting for --settle "
            "(after you have checked they were not called).",
        ),
    ] = False,
    repeat_after: Annotated[
        str,
        typer.Option(
            "--repeat-after",
            help="Do not dial a number zaza dialled (any journal, any run) less than this "
            "long ago.",
        ),
    ] = "24h",
    allow_repeat: Annotated[
        bool,
        typer.Option(
            "--allow-repeat",
            help="Dial numbers dialled within --repeat-after too (the do-not-call list and "
            "the cap still apply).",
        ),
    ] = False,
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
    from zazacli.calls.batch import run as batching
    from zazacli.calls.batch.csv import read_csv
    from zazacli.calls.batch.journal import Journal, default_journal_path
    from zazacli.calls.batch.pacer import parse_rate
    from zazacli.calls.dispatch import format_seconds, reconcile_wait
    from zazacli.output.dispatch import BatchProgress, batch_plan, batch_summary
    from zazacli.output.values import named
    from zazacli.policy import phones
    from zazacli.times import parse_duration

    app_ctx = get_context(ctx)
    out = app_ctx.out
    exclusive(settle=settle is not None, redial_unknown=redial_unknown)
    per_second = parse_rate(rate)
    settle_seconds = batching.parse_settle(settle)
    repeat_seconds = None if allow_repeat else parse_duration(repeat_after, "--repeat-after")
    region = region or app_ctx.settings.get("region")
    from_e164 = phones.normalize_number(from_number, region=region, label="--from")
    window: CallingWindow | None = calling_window(app_ctx)
    rows = read_csv(file, region=region)
    journal_path = journal or default_journal_path(file)
    if not rows.rows:
        for problem in rows.problems:
            out.notice(f"line {problem.line}: {problem.status}: {problem.error}")
        raise UsageError(f"{file}: no valid numbers to call ({len(rows.problems)} rows skipped)")
    agent_info = fetch_agent(app_ctx, agent)
    who = named("agent", agent, agent_info.get("name"))
    if not agent_info.get("isActive", True):
        raise UsageError(
            f"{who} is not active; the API would refuse every row",
            hint="activate it in the dashboard, or pick another: zaza agents list",
        )
    if quiet_hours_waived(app_ctx, allow_quiet_hours):
        window = None
    guard = open_guard(app_ctx, dnc, repeat_after=repeat_seconds)
    recent = contact_history(app_ctx, guard, {row.to for row in rows.rows}, scans=20)
    if recent.problem is not None and guard.cap is not None and not guard.rings_no_one:
        raise BlockedError(
            f"frequency cap: cannot count the calls of the last "
            f"{format_seconds(guard.cap.window)} ({recent.problem}); nothing was dialled",
            hint="try again later; zaza doctor shows what the server does",
        )
    journal_key = str(journal_path.resolve())

    def dialled_before() -> int:
        return guard.store.journal_dials(journal_key)

    places = place_overrides(app_ctx)
    if dry_run:
        state = Journal.read_only(journal_path, rows, from_e164, agent, dialled_before)
        out.notice("dry run: nothing is sent")
        the_plan = batching.plan(
            rows, state, window, guard, journal=journal_key, place_windows=places
        )
        batch_plan(
            out,
            rows,
            the_plan,
            journal_path=journal_path,
            agent=agent_info,
            settings=app_ctx.settings,
            per_second=per_second,
        )
        if the_plan.held:
            raise BlockedError(
                f"the contact policy holds {len(the_plan.held)} of {len(rows.rows)} valid rows "
                "(listed above by line); a run would not dial them"
            )
        return
    confirm_dispatch(
        app_ctx, yes, f"Call up to {len(rows.rows)} numbers from {from_e164} with agent {agent}"
    )
    journal_file, state = Journal.open(journal_path, rows, from_e164, agent, dialled_before)
    try:
        with BatchProgress(out, rows.total, jsonl=not out.is_tty) as progress:
            run = batching.BatchRun(
                app_ctx.api,
                rows,
                journal_file,
                state,
                guard=guard,
                recent=recent,
                from_number=from_e164,
                agent_id=agent,
                rate=per_second,
                concurrency=concurrency,
                window=window,
                place_windows=places,
                reconcile_wait=reconcile_wait(app_ctx.env),
                settle=settle_seconds,
                redial_unknown=redial_unknown,
                on_result=lambda result: progress.result(result.as_dict()),
                on_notice=progress.notice,
            )
            progress.notice(
                f"batch {file.name}: {rows.total} rows, {len(rows.rows)} valid; up to "
                f"{per_second:g} calls/s, {concurrency} at a time, {who}, journal {journal_path}"
            )
            report = run.run()
    finally:
        journal_file.close()
    resume = resume_command(
        file,
        from_e164,
        agent,
        journal,
        region,
        allow_quiet_hours,
        app_ctx,
        pace=["--rate", rate, "--concurrency", str(concurrency)]
        + (["--settle", settle] if settle is not None else [])
        + (["--allow-repeat"] if allow_repeat else [])
        + (["--repeat-after", repeat_after] if repeat_after != "24h" else [])
        + (["--dnc", dnc] if dnc and dnc != app_ctx.env.get("ZAZA_DNC") else []),
    )
    batch_summary(out, report, resume)
    if report.interrupted:
        out.notice("interrupted: calls already dispatched go on")
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
