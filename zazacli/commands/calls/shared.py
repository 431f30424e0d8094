"""Options and steps shared by the `calls` verbs that place and follow calls."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from zazacli.api.values import ID_MAX
from zazacli.errors import INTERRUPTED_EXIT, NetworkError, UsageError, ZazaError

if TYPE_CHECKING:
    from zazacli.calls.admission import Dialling
    from zazacli.context import AppContext
    from zazacli.output import Format
    from zazacli.policy.phones import CallingWindow

CallId = Annotated[int, typer.Argument(help="Call id.", metavar="ID", min=0, max=ID_MAX)]
FromOpt = Annotated[
    str,
    typer.Option(
        "--from", help="Caller id: one of your organisation's numbers.", show_default=False
    ),
]
DispatchAgentOpt = Annotated[
    int,
    typer.Option(
        "--agent", min=0, max=ID_MAX, help="Agent id (zaza agents list).", show_default=False
    ),
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


def follow_and_report(
    app_ctx: AppContext,
    call_id: int,
    timeout: float,
    transcript: bool,
    fmt: Format,
    first: dict[str, Any] | None = None,
) -> None:
    """Follow a call to its end, print it in `fmt`, and exit by its outcome."""
    from zazacli.calls import dispatch as dispatching
    from zazacli.output import Format
    from zazacli.output.dispatch import CallStatusLine

    out = app_ctx.out
    line = CallStatusLine(out, call_id)
    try:
        with line:
            call = dispatching.follow(
                app_ctx.api,
                call_id,
                timeout=timeout,
                on_update=line.update,
                call=first,
                sleep=app_ctx.timing.sleep,
                clock=app_ctx.timing.clock,
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
    """Whether quiet hours are waived (calls/admission.py): --allow-quiet-hours, or a
    sandbox, which rings no one."""
    from zazacli.calls.admission import quiet_hours_waived as waived

    out = app_ctx.out
    return waived(
        app_ctx.api, allow_quiet_hours, sandboxed=app_ctx.options.sandbox, notice=out.notice
    )


def dialling(app_ctx: AppContext, dnc: str | None) -> Dialling:
    """What `calls dispatch` and `zaza ui`'s dispatch form dial with (calls/admission.py):
    this context's API, contact-policy file (--dnc), calling window, region and clock."""
    from zazacli.calls.admission import Dialling
    from zazacli.commands.policy import open_guard, place_overrides

    out = app_ctx.out
    return Dialling(
        connect=lambda: app_ctx.api,
        open_guard=lambda: open_guard(app_ctx, dnc),
        window=calling_window(app_ctx),
        overrides=place_overrides(app_ctx),
        region=app_ctx.settings.get("region"),
        sandboxed=app_ctx.options.sandbox,
        env=app_ctx.env,
        sleep=app_ctx.timing.sleep,
        clock=app_ctx.timing.clock,
        warn=out.warn,
        notice=out.notice,
    )


def calling_window(app_ctx: AppContext) -> CallingWindow:
    from zazacli.policy.phones import parse_window

    name = app_ctx.settings.profile_name
    source = f"profile {name}: quiet_hours" if name else "quiet_hours"
    return parse_window(app_ctx.settings.get("quiet_hours"), source)


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
    from zazacli.calls.admission import fetch_agent as fetched

    return fetched(app_ctx.api, agent_id)
