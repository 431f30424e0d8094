"""Options shared by many commands, declared once, and small input parsers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from zazacli.api.values import CALL_STATUSES
from zazacli.errors import UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from zazacli.context import AppContext

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


def new_app(help_text: str, **kwargs: object) -> typer.Typer:
    """Every sub-app the same way: plain (fast) help, no pretty tracebacks, -h."""
    return typer.Typer(
        help=help_text,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings=CONTEXT_SETTINGS,
        add_completion=False,  # only the root offers --install-completion
        **kwargs,  # type: ignore[arg-type]
    )


def get_context(ctx: typer.Context) -> AppContext:
    from zazacli.context import AppContext

    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext()
    return root.obj


JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON document with the API's own fields.")
]
JsonlOpt = Annotated[bool, typer.Option("--jsonl", help="Print one JSON object per line.")]
CsvOpt = Annotated[
    bool, typer.Option("--csv", help="Print CSV with a header row (nested fields dotted).")
]
LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit", "-L", min=1, help="Show at most N items [default: 20 on a terminal, else all]."
    ),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Fetch every page (streamed).")]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="From this time on: ISO date or instant, 2h, 3d, 1w, today, yesterday.",
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option("--until", help="Before this time (exclusive); same forms as --since."),
]
# The call filters of `calls list`, `calls stats` and `calls export-transcripts`.
DirectionOpt = Annotated[
    str | None, typer.Option("--direction", help="inbound or outbound.", show_default=False)
]
StatusOpt = Annotated[
    str | None,
    typer.Option(
        "--status",
        help="One of: " + ", ".join(s.lower() for s in CALL_STATUSES) + " (any case).",
    ),
]
AgentOpt = Annotated[int | None, typer.Option("--agent", help="Agent id.")]


_RELATIVE = r"^\s*(\d+)\s*(s|m|min|h|d|w)\s*$"
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_when(value: str, option: str = "--since", now: datetime | None = None) -> str:
    """A user's time (`2h`, `today`, `2026-11-01`, an instant) as an ISO-8601 UTC instant.

    Relative amounts count back from now; dates are local midnight.
    """
    import re
    from datetime import UTC, datetime, timedelta

    now = now or datetime.now(UTC)
    text = value.strip()
    lowered = text.lower()
    local_midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    when: datetime | None = None
    if lowered == "now":
        when = now
    elif lowered == "today":
        when = local_midnight
    elif lowered == "yesterday":
        when = local_midnight - timedelta(days=1)
    elif match := re.match(_RELATIVE, lowered, re.I):
        when = now - timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2).lower()])
    else:
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            when = None
        if when is not None and when.tzinfo is None:
            when = when.astimezone()  # a date or naive time means the user's local time
    if when is None:
        raise UsageError(
            f"{option}: cannot read {value!r} as a time",
            hint="use an ISO date or instant (2026-11-01, 2026-11-01T09:00Z), "
            "or 30m, 2h, 3d, 1w, today, yesterday",
        )
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pick_choice(value: str | None, choices: tuple[str, ...], option: str) -> str | None:
    """Case-insensitive choice, with the valid values in the error."""
    if value is None:
        return None
    upper = value.strip().upper().replace("-", "_")
    if upper not in choices:
        raise UsageError(
            f"{option}: unknown value {value!r}",
            hint="valid values: " + ", ".join(c.lower() for c in choices),
        )
    return upper
