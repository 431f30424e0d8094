"""How commands are built: the apps of nouns and of single commands, the context every
command gets, the format aliases rewritten before a command parses, and SIGTERM read as
Ctrl-C."""

from __future__ import annotations

import contextlib
import re
import signal
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from zazacli.commands import NOUNS
from zazacli.commands.options import FORMAT_ALIASES
from zazacli.errors import UsageError

if TYPE_CHECKING:
    from zazacli.context import AppContext

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


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
