"""How commands are built: the apps of nouns and single commands, the options shared by
many commands (declared once), and the small parsers of their values."""

from __future__ import annotations

import contextlib
import re
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from zazacli.api.values import CALL_STATUSES, DIRECTIONS, looks_like_status
from zazacli.commands import NOUNS
from zazacli.errors import UsageError

if TYPE_CHECKING:
    from zazacli.api.listing import CallFilter
    from zazacli.context import AppContext
    from zazacli.output.fields import Fields

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}
# Bounds of every count and id a command takes: a larger one is a usage error (exit 2), not
# an overflow deep inside (SQLite's INTEGER, a page size, a range).
COUNT_MAX = 1_000_000_000
ID_MAX = 2**63 - 1


def new_app(help_text: str, **kwargs: object) -> typer.Typer:
    """Every sub-app the same way: plain (fast) help, no pretty tracebacks, -h."""
    kwargs.setdefault("no_args_is_help", True)
    return typer.Typer(
        help=help_text,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings=CONTEXT_SETTINGS,
        add_completion=False,  # only the root offers --install-completion
        **kwargs,  # type: ignore[arg-type]
    )


class NounGroup(TyperGroup):
    """A noun's group: a name it lacks that users try for a dashboard-only feature
    (`zaza campaigns start`) answers from the capabilities table, read only then; its
    `--help` lists each verb with the whole first line of its help."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        return name, command, format_aliases(command, rest)

    def get_command(self, ctx: Any, name: str) -> Any:
        command = super().get_command(ctx, name)
        if command is None and self.name:
            from zazacli.commands.stubs import dashboard_stub  # only for a name not found

            command = dashboard_stub(f"{self.name} {name}")
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """Click cuts each description at about 45 characters (`List calls, newest first:
        the newest 20 on a...`); a verb's first line is written to be read whole."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, first_line(command)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def first_line(command: Any) -> str:
    """A command's description in one line: its short help if set, else the first
    paragraph of its help (before any `\\f`), whitespace and `\\b` markers dropped."""
    text = command.short_help or (command.help or "").split("\f", 1)[0]
    paragraph = re.split(r"\n\s*\n", text.strip(), maxsplit=1)[0]
    return " ".join(word for word in paragraph.split() if word != "\b")


def noun_app(noun: str, **kwargs: Any) -> typer.Typer:
    """A noun's app, its help the one description in `commands.NOUNS`; names it lacks
    that users try for dashboard-only features answer with one line (commands/stubs.py)."""
    return new_app(NOUNS[noun].help, cls=NounGroup, **kwargs)


def single_command(noun: str, function: Callable[..., Any], **kwargs: Any) -> typer.Typer:
    """A noun that is one command (`zaza doctor`): its help starts with the description in
    `commands.NOUNS`, followed by the function's docstring after its first line."""
    body = (function.__doc__ or "").partition("\n")[2]
    single = new_app("")
    single.command(noun, help=NOUNS[noun].help + "\n" + body, **kwargs)(function)
    return single


def get_context(ctx: typer.Context) -> AppContext:
    from zazacli.context import AppContext

    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext()
    return root.obj


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


def format_aliases(command: Any, args: list[str]) -> list[str]:
    """`args` with --json, --jsonl and --csv as `--format X`, for a command whose `-o/--format`
    is the output format and that has no option of those names of its own (`calls sync
    --json` prints its summary as JSON). Two different formats are a usage error; the same
    one twice is one format."""
    opts = {opt for param in getattr(command, "params", ()) for opt in getattr(param, "opts", ())}
    if not {"--format", "-o"} <= opts:
        return args
    aliases = {name: fmt for name, fmt in FORMAT_ALIASES.items() if name not in opts}
    rewritten: list[str] = []
    given: dict[str, str] = {}  # as typed -> the format it asks for
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rewritten += args[index:]
            break
        if arg in aliases:
            given.setdefault(arg, aliases[arg])
            rewritten += ["--format", aliases[arg]]
        else:
            value = _format_value(arg, args[index + 1] if index + 1 < len(args) else None)
            if value is not None:
                given.setdefault(f"--format {value}", value.strip().lower())
            if arg in ("-o", "--format") and index + 1 < len(args):
                rewritten.append(arg)
                index += 1
                arg = args[index]
            rewritten.append(arg)
        index += 1
    if len(set(given.values())) > 1:
        raise UsageError(f"{' and '.join(given)} cannot be used together")
    return rewritten


def _format_value(arg: str, following: str | None) -> str | None:
    """The format `-o X`, `-oX`, `--format X` or `--format=X` asks for."""
    if arg in ("-o", "--format"):
        return following
    if arg.startswith("--format="):
        return arg.partition("=")[2]
    if arg.startswith("-o") and not arg.startswith("--"):
        return arg[2:]
    return None


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
# The call filters of `calls list`, `calls stats` and `calls export-transcripts`.
DirectionOpt = Annotated[
    str | None,
    typer.Option(
        "--direction",
        help="inbound or outbound.",
        show_default=False,
        autocompletion=complete_direction,
    ),
]
StatusOpt = Annotated[
    str | None,
    typer.Option(
        "--status",
        help="One of: "
        + ", ".join(s.lower() for s in CALL_STATUSES)
        + " (any case); another status only as the API writes it (e.g. VOICEMAIL).",
        autocompletion=complete_status,
    ),
]
AgentOpt = Annotated[int | None, typer.Option("--agent", min=0, max=ID_MAX, help="Agent id.")]


def pick_fields(text: str | None, kind: str) -> Fields | None:
    """`--fields` for a list or `show` of `kind` (call, agent, campaign)."""
    if text is None:
        return None
    from zazacli.output.fields import parse_fields

    return parse_fields(text, kind)


def text_value(value: str, what: str) -> str:
    """Free text from the command line that goes to a database or over the wire: bytes that
    are not UTF-8 (argv keeps them as lone surrogates) are a usage error, not a crash."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(
            f"{what} is not valid UTF-8 text", hint="check the terminal's or script's encoding"
        ) from None
    return value


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
    if looks_like_status(value.strip()):
        notice(f"{option} {value.strip()} is not a status zaza knows; sent as is")
        return value.strip()
    raise UsageError(
        f"{option}: unknown value {value!r}",
        hint="valid values: "
        + ", ".join(c.lower() for c in CALL_STATUSES)
        + "; or another status written as the API writes them (UPPER_SNAKE_CASE, e.g. VOICEMAIL)",
    )


def call_filter(
    direction: str | None,
    status: str | None,
    agent: int | None,
    since: str | None,
    until: str | None,
    notice: Callable[[str], None],
) -> CallFilter:
    """The validated call filters of every command that pages calls (list, stats, export,
    tail). `notice` says that an unknown UPPER_SNAKE_CASE `--status` is sent as is."""
    from zazacli.api.listing import CallFilter
    from zazacli.times import parse_when

    since_at = parse_when(since, "--since") if since else None
    until_at = parse_when(until, "--until") if until else None
    # Both are `%Y-%m-%dT%H:%M:%SZ` in UTC: as strings they sort as the times do.
    if since_at and until_at and until_at <= since_at:
        raise UsageError(
            f"--until {until} is not after --since {since}: no call can match",
            hint="--since is the start (inclusive), --until the end (exclusive)",
        )
    return CallFilter(
        direction=pick_choice(direction, DIRECTIONS, "--direction"),
        status=pick_status(status, notice),
        agent_id=agent,
        since=since_at,
        until=until_at,
    )


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Servers and followers stop on `kill`, cron, `docker stop` (SIGTERM) as cleanly as on
    Ctrl-C: SIGTERM raises KeyboardInterrupt while the block runs (main thread only)."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (e.g. an embedding test runner)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exclusive(**given: bool) -> None:
    """A usage error (exit 2) when options that cannot both hold are given together:
    `exclusive(limit=..., all=...)` names them as `--limit` and `--all`."""
    names = [f"--{name.replace('_', '-')}" for name, present in given.items() if present]
    if len(names) > 1:
        raise UsageError(f"{' and '.join(names)} cannot be used together")
