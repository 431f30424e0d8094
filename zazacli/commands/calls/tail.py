"""`zaza calls tail`: follow new calls and their status changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from zazacli.api.filters import call_filter
from zazacli.commands.app import get_context
from zazacli.commands.options import (
    ANY_OF,
    COUNT_MAX,
    DirectionOpt,
    JqOpt,
    SinceOpt,
    StreamFormatOpt,
    TemplateOpt,
    complete_status,
)
from zazacli.commands.values import exclusive
from zazacli.errors import (
    AuthError,
    NetworkError,
    RateLimitedError,
    UsageError,
    ZazaError,
    exit_codes_help,
)

TAIL_EPILOG = (
    "On a terminal: a line per new call and per status change. Piped, or with --jsonl: "
    'one JSON object per event, {"event": "new" or "changed", "call": {…}, '
    '"previousStatus": …, "observedAt": …}.\n\n'
    "Status changes are followed for calls created in the last 15 minutes. On HTTP 429 "
    "the polling interval doubles (and comes back down after 10 good polls); network "
    "errors are retried. Ctrl-C stops cleanly.\n\n"
) + exit_codes_help(
    {
        0: "stopped (Ctrl-C, --max-events, --duration)",
        UsageError.exit_code: "bad option",
        AuthError.exit_code: "bad API key",
        ZazaError.exit_code: "the API failed on the first poll or on 10 in a row, or its list "
        "cannot be read correctly (pages that loop, an order zaza cannot fix)",
        RateLimitedError.exit_code: "still rate limited (first poll, or 10 in a row)",
        NetworkError.exit_code: "API unreachable (first poll, or 10 in a row)",
    }
)


if TYPE_CHECKING:
    from zazacli.api.listing import CallFilter
    from zazacli.calls.tail import CallFollower
    from zazacli.context import AppContext

DEFAULT_BACKLOG = 10


TailStatusOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--status",
        metavar="STATUS",
        help="Only calls with this status (any case; an unknown one as the API writes it, "
        "e.g. VOICEMAIL); a call shows up when it gets it." + ANY_OF,
        show_default=False,
        autocompletion=complete_status,
    ),
]
TailAgentOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--agent", metavar="ID", help="Only this agent's calls." + ANY_OF, show_default=False
    ),
]
IntervalOpt = Annotated[
    str, typer.Option("--interval", help="Time between polls: 5s, 1m, or seconds (>= 1s).")
]
LastOpt = Annotated[
    int | None,
    typer.Option(
        "--last",
        "-n",
        min=0,
        max=COUNT_MAX,
        help="Show the newest N calls first; 0 for only new ones [default: 10].",
    ),
]
MaxEventsOpt = Annotated[
    int | None,
    typer.Option(
        "--max-events", min=1, max=COUNT_MAX, help="Stop after N events (the backlog counts)."
    ),
]
DurationOpt = Annotated[
    str | None, typer.Option("--duration", help="Stop after this long: 90s, 10m, 2h.")
]


def tail(
    ctx: typer.Context,
    status: TailStatusOpt = None,
    agent: TailAgentOpt = None,
    direction: DirectionOpt = None,
    interval: IntervalOpt = "5s",
    last: LastOpt = None,
    since: SinceOpt = None,
    fmt: StreamFormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
    max_events: MaxEventsOpt = None,
    duration: DurationOpt = None,
) -> None:
    """Follow calls as they appear, and their status changes, until Ctrl-C.

    Polls GET /calls. Shows the newest 10 calls first for context (--last N), or every
    call since a time (--since 1h), then each new call and each status change.

    \b
    Examples:
      zaza calls tail --status failed --agent 12
      zaza calls tail --since 1h --max-events 20
      zaza calls tail --last 0 --jsonl | jq -c 'select(.call.status == "COMPLETED")'
    """
    import time

    from zazacli.output import Format
    from zazacli.output.tail import TailPrinter
    from zazacli.times import parse_duration

    exclusive(last=last is not None, since=since is not None)
    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.view(fmt, piped=Format.jsonl, jq=jq, template=template).format
    every = parse_duration(interval, "--interval", minimum=1.0)
    stop_after = parse_duration(duration, "--duration") if duration else None
    filters = call_filter(direction, status, agent, since, None, out.notice)
    follower = _follower(app_ctx, filters, DEFAULT_BACKLOG if last is None else last, every)
    printer = TailPrinter(out, jsonl=chosen is Format.jsonl)
    printer.banner(follower, filters.described())
    started = time.monotonic()
    try:
        for shown, event in enumerate(follower.events(duration=stop_after), start=1):
            printer.event(event)
            if max_events is not None and shown >= max_events:
                break
    except KeyboardInterrupt:
        pass
    printer.summary(follower.stats, time.monotonic() - started)


def _follower(app_ctx: AppContext, filters: CallFilter, backlog: int, every: float) -> CallFollower:
    from zazacli.calls.tail import CallFollower

    return CallFollower(
        app_ctx.api,
        filters=filters,
        backlog=backlog,
        interval=every,
        notice=app_ctx.out.warn,
        sleep=app_ctx.timing.sleep,
        clock=app_ctx.timing.clock,
    )
