"""The options many commands share, declared once, and their TAB completions. The apps
they hang on are in `commands/app.py`, the parsers of their values in `commands/values.py`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from zazacli.api.values import CALL_STATUSES, DIRECTIONS
from zazacli.errors import UsageError

if TYPE_CHECKING:
    pass

# Bounds of every count and id a command takes: a larger one is a usage error (exit 2), not
# an overflow deep inside (SQLite's INTEGER, a page size, a range).
COUNT_MAX = 1_000_000_000


def completer(values: Callable[[], Iterable[str]]) -> Callable[[str], list[str]]:
    """A TAB completion of an option's values (matched in any case); `values` runs only
    when the shell asks, so what it imports costs nothing at any other time."""

    def complete(incomplete: str) -> list[str]:
        typed = incomplete.lower()
        return [value for value in values() if value.lower().startswith(typed)]

    return complete


complete_status = completer(lambda: (s.lower() for s in CALL_STATUSES))
complete_direction = completer(lambda: (d.lower() for d in DIRECTIONS))


def _profile_names() -> list[str]:
    """Profile names from the config file: no network, and nothing at all on any error."""
    from zazacli import config

    try:
        # A TAB prints nothing: warnings about the file wait for a real command.
        return sorted(config.load(config.config_dir(), warn=lambda message: None).profiles)
    except Exception:  # a TAB must never print a traceback into the shell
        return []


complete_profile = completer(_profile_names)


# The output formats (`Output.choose`), named here as text: importing zazacli.output
# would cost every start-up, a TAB included.
FORMATS = ("table", "plain", "json", "jsonl", "csv")


# `--json`, `--jsonl`, `--csv`: kept from before `-o/--format`, and rewritten to it before a
# command parses its options (format_aliases), so that each command declares one format.
FORMAT_ALIASES = {"--json": "json", "--jsonl": "jsonl", "--csv": "csv"}
# Options whose value may be left out, and the value they then take (commands/app.py,
# optional_values): `zaza ui --listen` listens on `webhooks listen`'s port.
OPTIONAL_VALUES = {"--listen": "4242"}


def _aliases_help(formats: tuple[str, ...]) -> str:
    named = [name for name, fmt in FORMAT_ALIASES.items() if fmt in formats]
    if not named:
        return ""
    short = " and ".join(named) if len(named) < 3 else f"{named[0]}, {named[1]} and {named[2]}"
    verb = "is" if len(named) == 1 else "are"
    return f" {short} {verb} short for -o {'/'.join(FORMAT_ALIASES[name] for name in named)}."


def format_option(*formats: str, piped: str = "plain") -> Any:
    """`-o/--format` for a command that prints `formats` (`piped`: what it prints when
    stdout is not a terminal). Any other format is a usage error naming these."""

    def check(ctx: Any, param: Any, value: str | None) -> str | None:
        if value is None or ctx.resilient_parsing:
            return value
        chosen = value.strip().lower()
        if chosen not in formats:
            raise UsageError(
                f"{ctx.command_path} cannot print {value}; --format is one of: {', '.join(formats)}"
            )
        return chosen

    return typer.Option(
        "--format",
        "-o",
        metavar="FORMAT",
        show_default=False,
        help=f"Output format: {', '.join(formats)} [default: table on a terminal, else {piped}]."
        + _aliases_help(formats),
        autocompletion=completer(lambda: formats),
        callback=check,
    )


FormatOpt = Annotated[str | None, format_option(*FORMATS)]
# Commands that print a report or a result, not a list of API objects.
ReportFormatOpt = Annotated[str | None, format_option("table", "plain", "json")]
# Followers: a line per event for a person, a JSON object per event for programs.
StreamFormatOpt = Annotated[str | None, format_option("table", "jsonl", piped="jsonl")]
# Beside every format option above, passed to `Output.view` (output/query.py applies them).
JqOpt = Annotated[
    str | None,
    typer.Option(
        "--jq",
        "-q",
        metavar="EXPR",
        help="Filter the JSON output with jq: strings print raw, other values as compact "
        "JSON, one a line (run per item with --jsonl and on streams).",
    ),
]
TemplateOpt = Annotated[
    str | None,
    typer.Option(
        "--template",
        "-t",
        metavar="TEXT",
        help="Print each item through a Jinja template, fields as names: "
        "'{{ id }}\\t{{ status }}'; helpers ago, duration, e164.",
    ),
]
# The transcript fetchers of export-transcripts and sync.
ConcurrencyOpt = Annotated[
    int,
    typer.Option(
        "--concurrency",
        "-c",
        min=1,
        max=16,
        help="Transcripts fetched at once; rate-limited (429) requests back off and retry.",
    ),
]
FieldsOpt = Annotated[
    str | None,
    typer.Option(
        "--fields",
        metavar="A,B,C",
        help="Only these fields, in this order: the columns of a table, plain lines or CSV, "
        "the keys of JSON. The API's names (id,status,toNumber); an unknown one lists them.",
    ),
]
HeaderOpt = Annotated[
    bool, typer.Option("--header", help="Plain output starts with a line of column names.")
]
WideOpt = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="On a terminal, show every column of the table; a narrow one hides some.",
    ),
]
LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "-L",
        min=1,
        max=COUNT_MAX,
        help="Show at most N items [default: 20 on a terminal, else all].",
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
# The call filters of every command that reads calls. Each takes several values, repeated
# or with commas (`--status failed,no_answer`), meaning any of them (api/filters.py).
ANY_OF = " Repeat it or use commas for any of several."
DirectionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--direction",
        metavar="DIRECTION",
        help="inbound or outbound." + ANY_OF,
        show_default=False,
        autocompletion=complete_direction,
    ),
]
StatusOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--status",
        metavar="STATUS",
        help="One of: "
        + ", ".join(s.lower() for s in CALL_STATUSES)
        + " (any case); another status only as the API writes it (e.g. VOICEMAIL)."
        + ANY_OF,
        show_default=False,
        autocompletion=complete_status,
    ),
]
AgentOpt = Annotated[
    list[str] | None,
    typer.Option("--agent", metavar="ID", help="Agent id." + ANY_OF, show_default=False),
]
