"""`zaza calls dispatch`, `zaza calls wait` and `zaza calls batch`: placing calls safely.

Thin commands: read and check the input, then hand over to `dispatching` and `batch`;
everything printed goes through `output`. Registered on the `calls` sub-app in main.py.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from zazacli.commands.common import JsonOpt, get_context
from zazacli.errors import INTERRUPTED_EXIT, NetworkError, NotFoundError, UsageError, ZazaError

if TYPE_CHECKING:
    from zazacli.context import AppContext
    from zazacli.phones import CallingWindow, LocalTimes


def _exit_table(codes: dict[int, str]) -> str:
    """Laid out like `zaza --help`'s table (`\b` keeps Click from rewrapping it)."""
    return "\b\nExit codes:\n" + "\n".join(f"  {code:<4} {text}" for code, text in codes.items())


DISPATCH_EPILOG = _exit_table(
    {
        0: "queued (with --wait: the call ended COMPLETED)",
        2: "bad input, quiet hours, or refused by the API: nothing was queued",
        6: "outcome unknown: the answer was lost and GET /calls does not show the call",
        10: "--wait: the call FAILED",
        11: "--wait: NO_ANSWER",
        12: "--wait: BUSY",
        13: "--wait: CANCELED",
        14: "--wait: timed out (the call goes on: zaza calls wait ID)",
        15: "--wait: the call ended in a status zaza does not know",
        130: "Ctrl-C (while waiting, the call goes on: zaza calls wait ID)",
    }
)
WAIT_EPILOG = _exit_table(
    {
        0: "the call ended COMPLETED",
        3: "no such call",
        10: "FAILED",
        11: "NO_ANSWER",
        12: "BUSY",
        13: "CANCELED",
        14: "timed out before the call ended (it goes on)",
        15: "the call ended in a status zaza does not know",
        130: "Ctrl-C (the call goes on)",
    }
)
BATCH_EPILOG = _exit_table(
    {
        0: "every valid row is queued (by this run or an earlier one)",
        1: "some valid rows were not queued (failed, unknown, quiet hours): re-run to resume "
        "(unknown rows are decided once --settle has passed)",
        2: "bad input: no number column, bad encoding, other CSV's journal (nothing sent)",
        4: "bad API key (the run stops)",
        6: "API unreachable (the run stops)",
        130: "Ctrl-C (calls in flight finish and are journaled)",
    }
)

FromOpt = Annotated[
    str,
    typer.Option(
        "--from", help="Caller id: one of your organisation's numbers.", show_default=False
    ),
]
AgentOpt = Annotated[
    int, typer.Option("--agent", help="Agent id (zaza agents list).", show_default=False)
]
RegionOpt = Annotated[
    str | None,
    typer.Option(
        "--region", help="Region for national numbers, e.g. US [default: the profile's region]."
    ),
]
AllowQuietOpt = Annotated[
    bool,
    typer.Option(
        "--allow-quiet-hours",
        help="Call even outside the callee's calling window (08:00-21:00 local time, or the "
        "profile's quiet_hours).",
    ),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Send nothing; show what would be sent.")
]
YesOpt = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Do not ask, for profiles with confirm = true (cron)."),
]
TranscriptOpt = Annotated[
    bool, typer.Option("--transcript", help="Print the transcript after the call ends.")
]


# ---------------------------------------------------------------- commands


def dispatch(
    ctx: typer.Context,
    from_number: FromOpt,
    to: Annotated[str, typer.Option("--to", help="Number to call.", show_default=False)],
    agent: AgentOpt,
    var: Annotated[
        list[str] | None,
        typer.Option("--var", help="KEY=VALUE for the agent's {{KEY}} placeholders; repeat."),
    ] = None,
    vars_file: Annotated[
        Path | None,
        typer.Option("--vars-file", help="JSON object of variables (--var wins).", dir_okay=False),
    ] = None,
    region: RegionOpt = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option("--idempotency-key", help="Idempotency-Key header [default: a new one]."),
    ] = None,
    dry_run: DryRunOpt = False,
    allow_quiet_hours: AllowQuietOpt = False,
    yes: YesOpt = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the call until it ends; exit by outcome.")
    ] = False,
    wait_timeout: Annotated[
        str, typer.Option("--wait-timeout", help="Give up waiting after this long (90s, 15m).")
    ] = "15m",
    transcript: TranscriptOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Dispatch one outbound AI call, never twice.

    Prints the new call id, or the Call with --json. If the API's answer is lost
    (timeout, dropped connection), the call is looked up in GET /calls instead of being
    sent again.

    Example: ID=$(zaza calls dispatch --from +14155550100 --to +14155550123 --agent 12
    --var NAME=Alex)
    """
    from zazacli import dispatching, phones
    from zazacli.times import parse_duration

    app_ctx = get_context(ctx)
    out = app_ctx.out
    allow_quiet_hours = quiet_hours_waived(app_ctx, allow_quiet_hours)
    variables = parse_variables(var or [], vars_file)

    timeout = parse_duration(wait_timeout, "--wait-timeout")
    region = region or app_ctx.settings.get("region")
    request = dispatching.DispatchRequest(
        phones.normalize_number(from_number, region=region, label="--from"),
        phones.normalize_number(to, region=region, label="--to"),
        agent,
        variables,
        idempotency_key or dispatching.new_idempotency_key(),
    )
    window = calling_window(app_ctx)
    times = phones.local_times(request.to_number, window)
    if not times.known:
        out.warn(f"no time zone on record for {request.to_number}; quiet hours not checked")
    if dry_run:
        show_dispatch_plan(app_ctx, request, times, window, allow_quiet_hours, as_json)
    if not times.allowed and not allow_quiet_hours:
        raise phones.quiet_hours_error(times, window)
    if dry_run:
        return
    confirm_dispatch(
        app_ctx, yes, f"Call {request.to_number} from {request.from_number} with agent {agent}"
    )
    try:
        result = dispatching.dispatch(app_ctx.api, request, reconcile_wait=reconcile_wait(app_ctx))
    except KeyboardInterrupt:
        out.notice(
            "\ninterrupted while dispatching: the call may have been queued. Check before "
            "retrying: zaza calls list --direction outbound --since 10m"
        )
        raise typer.Exit(INTERRUPTED_EXIT) from None
    call_id = result.call_id
    if result.reconciled:
        out.notice(
            f"the API's answer was lost or unusable ({result.lost_answer}), but GET /calls "
            f"shows the call was queued as {call_id}"
        )
    else:
        out.notice(f"queued call {call_id}: {request.from_number} -> {request.to_number}")
    if wait:
        follow_and_report(app_ctx, int(call_id), timeout, transcript, as_json, first=result.call)
    elif as_json:
        out.json_document(result.call)
    else:
        out.write(str(call_id))


def wait(
    ctx: typer.Context,
    call_id: Annotated[int, typer.Argument(help="Call id.", metavar="ID")],
    timeout: Annotated[
        str, typer.Option("--timeout", help="Give up waiting after this long (90s, 15m, 1h).")
    ] = "15m",
    transcript: TranscriptOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Follow a call until it ends, then print it; the exit code tells how it ended.

    For scripts that dispatch, do other work, then wait: zaza calls wait "$ID".
    """
    app_ctx = get_context(ctx)
    from zazacli.times import parse_duration

    follow_and_report(app_ctx, call_id, parse_duration(timeout, "--timeout"), transcript, as_json)


def batch(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="CSV with a 'to' (or 'phone') column.", metavar="FILE.csv")
    ],
    from_number: FromOpt,
    agent: AgentOpt,
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
    guess (see --settle). JSON lines of row results go to stdout when it is not a terminal.
    """
    from zazacli import batch as batching
    from zazacli import phones
    from zazacli.output.dispatch import BatchProgress, batch_summary

    app_ctx = get_context(ctx)
    out = app_ctx.out
    allow_quiet_hours = quiet_hours_waived(app_ctx, allow_quiet_hours)
    per_second = parse_rate(rate)
    settle_seconds = parse_settle(settle)
    region = region or app_ctx.settings.get("region")
    from_e164 = phones.normalize_number(from_number, region=region, label="--from")
    window = None if allow_quiet_hours else calling_window(app_ctx)
    rows = batching.read_csv(file, region=region)
    journal_path = journal or batching.default_journal_path(file)
    if not rows.rows:
        for problem in rows.problems:
            out.notice(f"line {problem.line}: {problem.status}: {problem.error}")
        raise UsageError(f"{file}: no valid numbers to call ({len(rows.problems)} rows skipped)")
    agent_info = fetch_agent(app_ctx, agent)
    if not agent_info.get("isActive", True):
        raise UsageError(
            f"agent {agent} ({agent_info.get('name')}) is not active; the API would refuse "
            "every row",
            hint="activate it in the dashboard, or pick another: zaza agents list",
        )
    if dry_run:
        state = batching.Journal.read_only(journal_path, rows, from_e164, agent)
        show_batch_plan(app_ctx, rows, state, journal_path, agent_info, per_second, window)
        return
    confirm_dispatch(
        app_ctx, yes, f"Call up to {len(rows.rows)} numbers from {from_e164} with agent {agent}"
    )
    journal_file, state = batching.Journal.open(journal_path, rows, from_e164, agent)
    try:
        with BatchProgress(out, rows.total, jsonl=not out.is_tty) as progress:
            run = batching.BatchRun(
                app_ctx.api,
                rows,
                journal_file,
                state,
                from_number=from_e164,
                agent_id=agent,
                rate=per_second,
                concurrency=concurrency,
                window=window,
                reconcile_wait=reconcile_wait(app_ctx),
                settle=settle_seconds,
                redial_unknown=redial_unknown,
                on_result=lambda result: progress.result(result.as_dict()),
                on_notice=progress.notice,
            )
            progress.notice(
                f"batch {file.name}: {rows.total} rows, {len(rows.rows)} valid; up to "
                f"{per_second:g} calls/s, {concurrency} at a time, agent {agent} "
                f"({agent_info.get('name')}), journal {journal_path}"
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
        + (["--settle", settle] if settle is not None else []),
    )
    batch_summary(out, report, resume)
    if report.interrupted:
        out.notice("interrupted: calls already dispatched go on")
        raise typer.Exit(INTERRUPTED_EXIT)
    if report.fatal is not None:
        raise report.fatal
    if not report.ok:
        raise ZazaError(
            f"{report.valid - report.queued} of {report.valid} valid rows were not queued",
            hint="re-run the same command to resume",
        )


# ---------------------------------------------------------------- shared steps


def follow_and_report(
    app_ctx: AppContext,
    call_id: int,
    timeout: float,
    transcript: bool,
    as_json: bool,
    first: dict[str, Any] | None = None,
) -> None:
    """Follow a call to its end, print it, and exit by its outcome."""
    from zazacli import dispatching
    from zazacli.output import Format
    from zazacli.output.dispatch import CallStatusLine

    out = app_ctx.out
    fmt = out.choose(json=as_json)
    line = CallStatusLine(out, call_id)
    try:
        with line:
            call = dispatching.follow(
                app_ctx.api, call_id, timeout=timeout, on_update=line.update, call=first
            )
    except KeyboardInterrupt:
        out.notice(
            f"\nstopped waiting; call {call_id} goes on (last seen {line.status}). "
            f"Follow it again with: zaza calls wait {call_id}"
        )
        raise typer.Exit(INTERRUPTED_EXIT) from None
    except NetworkError as exc:
        raise NetworkError(
            exc.message, hint=f"the call goes on; follow it again with: zaza calls wait {call_id}"
        ) from None
    out.record(call, "call", fmt)
    if transcript and fmt is not Format.json:
        out.section("Transcript")
        out.transcript(call, "chat")
    error = dispatching.outcome_error(call)
    if error is not None:
        raise error


def quiet_hours_waived(app_ctx: AppContext, allow_quiet_hours: bool) -> bool:
    """--allow-quiet-hours, or --sandbox: a private, temporary sandbox rings no one."""
    if app_ctx.options.sandbox and not allow_quiet_hours:
        app_ctx.out.notice("--sandbox: no one is called, so quiet hours are not checked")
        return True
    return allow_quiet_hours


def calling_window(app_ctx: AppContext) -> CallingWindow:
    from zazacli.phones import parse_window

    name = app_ctx.settings.profile_name
    source = f"profile {name}: quiet_hours" if name else "quiet_hours"
    return parse_window(app_ctx.settings.get("quiet_hours"), source)


def reconcile_wait(app_ctx: AppContext) -> float:
    """Seconds to look for a call whose dispatch answer was lost (ZAZA_RECONCILE_WAIT)."""
    from zazacli.dispatching import RECONCILE_WAIT

    raw = app_ctx.env.get("ZAZA_RECONCILE_WAIT")
    if not raw:
        return RECONCILE_WAIT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 600:
        raise UsageError(f"ZAZA_RECONCILE_WAIT must be 0 to 600 seconds, got {raw!r}")
    return value


def parse_settle(value: str | None) -> float:
    """--settle: a duration, where 0 (`0`, `0s`) means "decide at once"."""
    from zazacli.batch import DEFAULT_SETTLE
    from zazacli.times import parse_duration

    if value is None:
        return DEFAULT_SETTLE
    if re.fullmatch(r"\s*0+(\.0*)?\s*(s|sec|m|min|h)?\s*", value, re.IGNORECASE):
        return 0.0
    return parse_duration(value, "--settle")


def confirm_dispatch(app_ctx: AppContext, yes: bool, question: str) -> None:
    """Profiles marked `confirm = true` ask first; without a terminal they need --yes."""
    settings = app_ctx.settings
    if yes or not settings.get("confirm"):
        return
    name = settings.profile_name
    if sys.stdin is None or not sys.stdin.isatty():
        raise UsageError(
            f"profile {name!r} asks for confirmation before dispatching, and there is no "
            "terminal to ask on",
            hint="pass --yes to confirm in scripts and cron",
        )
    if not typer.confirm(f"{question}, with profile {name!r}?", default=False, err=True):
        raise ZazaError("not confirmed; nothing was sent")


def fetch_agent(app_ctx: AppContext, agent_id: int) -> dict[str, Any]:
    try:
        return app_ctx.api.get_agent(agent_id)
    except NotFoundError:
        raise UsageError(
            f"agent {agent_id} not found", hint="list the agents: zaza agents list"
        ) from None


def show_dispatch_plan(
    app_ctx: AppContext,
    request: Any,
    times: LocalTimes,
    window: CallingWindow,
    allow_quiet_hours: bool,
    as_json: bool,
) -> None:
    from zazacli.output.dispatch import dispatch_plan

    out = app_ctx.out
    agent = fetch_agent(app_ctx, request.agent_id)
    active = bool(agent.get("isActive", True))
    if not active:
        out.warn(f"agent {request.agent_id} is not active; the API would refuse this call")
    settings = app_ctx.settings
    within = (
        "yes" if times.allowed else "no" + (" (--allow-quiet-hours)" if allow_quiet_hours else "")
    )
    if as_json:
        out.json_document(
            {
                "dryRun": True,
                "request": request.body(),
                "idempotencyKey": request.idempotency_key,
                "agent": agent,
                "profile": settings.profile_name,
                "baseUrl": settings.base_url,
                "calleeLocalTimes": times.as_dict(),
                "callingWindow": window.text,
                "withinCallingWindow": times.allowed,
            }
        )
        return
    out.notice("dry run: nothing is sent")
    dispatch_plan(
        out,
        [
            ("from", request.from_number),
            ("to", request.to_number),
            (
                "agent",
                f"{request.agent_id} {agent.get('name') or ''}".strip()
                + ("" if active else " (INACTIVE)"),
            ),
            ("variables", request.variables or "(none)"),
            ("profile", settings.profile_name or "(none)"),
            ("base URL", settings.base_url),
            ("callee local time", times.describe()),
            ("calling window", f"{window.text}, within: {within}"),
            ("idempotency key", request.idempotency_key),
        ],
    )


def show_batch_plan(
    app_ctx: AppContext,
    rows: Any,
    state: Any,
    journal_path: Path,
    agent: dict[str, Any],
    per_second: float,
    window: CallingWindow | None,
) -> None:
    from zazacli.output.dispatch import dispatch_plan
    from zazacli.phones import local_times

    out = app_ctx.out
    out.notice("dry run: nothing is sent")
    for problem in rows.problems:
        out.notice(f"line {problem.line}: {problem.status}: {problem.error}")
    done = [r for r in rows.rows if r.line in state.done]
    in_doubt = [r for r in rows.rows if r.line in state.pending and r.line not in state.done]
    to_send = [r for r in rows.rows if r.line not in state.done]
    outside = []
    if window is not None:
        outside = [r for r in to_send if not local_times(r.to, window).allowed]
    sendable = len(to_send) - len(outside)
    dispatch_plan(
        out,
        [
            ("file", f"{rows.path} ({rows.total} rows, number column {rows.phone_column!r})"),
            ("valid", len(rows.rows)),
            ("invalid", sum(1 for p in rows.problems if p.status == "invalid")),
            ("duplicates", sum(1 for p in rows.problems if p.status == "duplicate")),
            ("already queued", f"{len(done)} (journal {journal_path})"),
            ("to look up first", f"{len(in_doubt)} (in flight when a run stopped)"),
            ("outside calling window now", len(outside) if window else "not checked"),
            ("would send", sendable),
            ("agent", f"{agent.get('id')} {agent.get('name') or ''}".strip()),
            ("profile", app_ctx.settings.profile_name or "(none)"),
            ("base URL", app_ctx.settings.base_url),
            ("pace", f"{per_second:g} calls/s, about {format_eta(sendable / per_second)}"),
        ],
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


# ---------------------------------------------------------------- input parsing


def parse_variables(pairs: list[str], vars_file: Path | None) -> dict[str, str]:
    """`--vars-file` first, then each `--var KEY=VALUE` over it."""
    variables: dict[str, str] = {}
    if vars_file is not None:
        try:
            data = json.loads(vars_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(
                f"--vars-file: cannot read {vars_file}: {exc.strerror or exc}"
            ) from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise UsageError(f"--vars-file: {vars_file} is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise UsageError(f"--vars-file: {vars_file} must hold a JSON object of KEY: value")
        for key, value in data.items():
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise UsageError(f"--vars-file: the value of {key!r} must be a string or a number")
            variables[key] = str(value)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--var {pair!r}: expected KEY=VALUE", hint="e.g. --var NAME=Alex")
        variables[key.strip()] = value
    return variables


_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|sec|second|m|min|minute|h|hour))?\s*$", re.I)
_RATE_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
}


def parse_rate(value: str) -> float:
    """`10`, `10/s`, `600/min` as calls per second."""
    match = _RATE.match(value)
    rate = 0.0
    if match:
        rate = float(match.group(1)) / _RATE_UNITS[(match.group(2) or "s").lower()]
    if not 0 < rate <= 1000:
        raise UsageError(f"--rate: cannot read {value!r} as a rate", hint="e.g. 2, 5/s, 120/min")
    return rate


def format_eta(seconds: float) -> str:
    from zazacli.dispatching import format_seconds

    return format_seconds(max(1.0, seconds))
