"""Options shared by many commands, declared once, and small input parsers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from zazacli.api.values import CALL_STATUSES, STATUS_SHAPE
from zazacli.errors import UsageError

if TYPE_CHECKING:
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
        help="One of: "
        + ", ".join(s.lower() for s in CALL_STATUSES)
        + " (any case); another status only as the API writes it (e.g. VOICEMAIL).",
    ),
]
AgentOpt = Annotated[int | None, typer.Option("--agent", help="Agent id.")]


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


def pick_status(
    value: str | None, notice: Callable[[str], None], option: str = "--status"
) -> str | None:
    """A known status in any case; an unknown one only when written as the API writes
    statuses (UPPER_SNAKE_CASE, e.g. VOICEMAIL): sent as is, with a note. Else a usage error."""
    if value is None:
        return None
    upper = value.strip().upper().replace("-", "_")
    if upper in CALL_STATUSES:
        return upper
    if STATUS_SHAPE.match(value.strip()):
        notice(f"{option} {value.strip()} is not a status zaza knows; sent as is")
        return value.strip()
    raise UsageError(
        f"{option}: unknown value {value!r}",
        hint="valid values: "
        + ", ".join(c.lower() for c in CALL_STATUSES)
        + "; or another status written as the API writes them (UPPER_SNAKE_CASE, e.g. VOICEMAIL)",
    )
