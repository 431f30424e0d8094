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
from typer.core import TyperCommand, TyperGroup

from zazacli.commands import NOUNS
from zazacli.commands.globals import ROOT_ONLY
from zazacli.commands.options import FORMAT_ALIASES, OPTIONAL_VALUES
from zazacli.errors import UsageError

if TYPE_CHECKING:
    from zazacli.context import AppContext

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


def format_epilog(command: Any, formatter: Any) -> None:
    """An epilog (the exit-code table) folded between words to the help's width, each
    description continued under itself; Click prints a `\b` block as it is, and a
    terminal then breaks its long lines in the middle of a word."""
    import inspect

    from zazacli.terminal import fold

    if not command.epilog:
        return
    text = inspect.cleandoc(command.epilog).replace("\b\n", "").replace("\b", "")
    formatter.write_paragraph()
    indent = " " * (formatter.current_indent + formatter.indent_increment)
    width = formatter.width - len(indent)
    previous = ""
    for line in text.split("\n"):
        # An example is a command to copy: it stays whole, with its continuation lines.
        command = line.lstrip().startswith("zaza ") or previous.endswith("\\")
        for part in (line if command else fold(line, width)).split("\n"):
            formatter.write(f"{indent}{part}\n" if part.strip() else "\n")
        previous = line


class ZazaCommand(TyperCommand):
    """A verb: its help ends with the global options, which work anywhere on the line."""

    def format_epilog(self, ctx: Any, formatter: Any) -> None:
        format_epilog(self, formatter)

    def format_options(self, ctx: Any, formatter: Any) -> None:
        super().format_options(ctx, formatter)
        root = ctx.find_root()
        mine = {name for param in self.params for name in getattr(param, "opts", ())}
        rows = [
            record
            for param in root.command.get_params(root)
            if not ROOT_ONLY.intersection(param.opts) and not mine.intersection(param.opts)
            if (record := param.get_help_record(root)) is not None
        ]
        if rows and root is not ctx:
            with formatter.section("Global options"):
                formatter.write_dl(rows)


class ZazaTyper(typer.Typer):
    """A Typer app whose commands are ZazaCommands."""

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", ZazaCommand)
        return super().command(*args, **kwargs)


def new_app(help_text: str, **kwargs: object) -> typer.Typer:
    """Every sub-app the same way: plain (fast) help, no pretty tracebacks, -h."""
    kwargs.setdefault("no_args_is_help", True)
    return ZazaTyper(
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

    def format_epilog(self, ctx: Any, formatter: Any) -> None:
        format_epilog(self, formatter)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # `zaza calls`: its help, as gh does; a noun that answers alone (`zaza dnc`: its
        # summary) runs its callback.
        if not args and not ctx.resilient_parsing and not self.invoke_without_command:
            typer.echo(ctx.get_help())
            ctx.exit(0)
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        return name, command, command_args(command, rest)

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


def usage_error(error: Exception, ctx: Any) -> UsageError | None:
    """Typer's usage errors (an unknown option or command, a bad or missing value) in
    zaza's style: `error: no such option: --bogus` and `hint: see 'zaza calls list
    --help'` (the command that failed, else the one being run under `ctx`), exit 2. Known
    by their exit code and message, as Typer names no class for them; None for anything
    else, such as the help a group prints when given nothing."""
    if getattr(error, "exit_code", None) != 2 or not hasattr(error, "format_message"):
        return None
    if type(error).__name__ == "NoArgsIsHelpError":
        return None
    message = str(error.format_message()).strip().removesuffix(".")
    if message[:1].isupper() and message[1:2].islower():  # `No such option` -> `no such …`
        message = message[0].lower() + message[1:]
    failed = getattr(error, "ctx", None)  # the command whose arguments were wrong, if said
    if message.startswith("got unexpected extra argument"):
        return _extra_arguments(message, failed)
    if message.startswith("no such option:") and failed is not None:
        message = _suggest_option(message, failed)
    if failed is not None:
        where = failed.command_path
    elif ctx is not None:  # else the noun being run, or the root
        where = " ".join(filter(None, (ctx.command_path, ctx.invoked_subcommand)))
    else:
        where = "zaza"
    return UsageError(message, hint=f"see '{where} --help'")


_NUMBER_PART = re.compile(r"[0-9()+.\-]+")


def _extra_arguments(message: str, failed: Any) -> UsageError:
    """Words a command did not expect. Never echoed (a key pasted as an argument, `profiles
    add prod zaza_…`, would land on the terminal, in logs and in scrollback), unless they are
    plainly the rest of a phone number that has spaces in it."""
    where = failed.command_path if failed is not None else "zaza"
    extra = message.partition(" (")[2].removesuffix(")").split()
    if extra and all(_NUMBER_PART.fullmatch(word) for word in extra):
        return UsageError(
            f"unexpected {' '.join(extra)}: a phone number with spaces must be quoted",
            hint="quote it, as in --to '+1 415 555 0123', or write it without spaces",
        )
    return UsageError(
        message.split(" (", 1)[0] + " (not shown: an API key is never an argument)",
        hint=f"see '{where} --help'",
    )


def _suggest_option(message: str, failed: Any) -> str:
    """`no such option: --debg`, with suggestions among the options this command takes:
    its own and the global ones (Click looks at its own only, and offers `--wide`)."""
    import difflib

    name = message.split(":", 1)[1].split()[0]
    root = failed.find_root()
    params = [*failed.command.params, *(root.command.params if root is not failed else ())]
    names = {opt for param in params for opt in getattr(param, "opts", ()) if opt.startswith("--")}
    close = difflib.get_close_matches(name, sorted(names - ROOT_ONLY), n=3)
    if not close:
        return f"no such option: {name}"
    return f"no such option: {name} (did you mean {' or '.join(close)}?)"


def command_args(command: Any, args: list[str]) -> list[str]:
    """A command's arguments as it parses them: the format aliases and the values left out
    of an option whose value may be (`zaza ui --listen`)."""
    return optional_values(command, format_aliases(command, args))


def optional_values(command: Any, args: list[str]) -> list[str]:
    """`args` with the value of an option in OPTIONAL_VALUES put in where it was left out
    (the option last, or followed by another option). Typer's options take a value always."""
    opts = {opt for param in getattr(command, "params", ()) for opt in getattr(param, "opts", ())}
    table = {name: value for name, value in OPTIONAL_VALUES.items() if name in opts}
    if not table:
        return args
    rewritten: list[str] = []
    for index, arg in enumerate(args):
        if arg == "--":
            return rewritten + args[index:]
        rewritten.append(arg)
        following = args[index + 1] if index + 1 < len(args) else None
        if arg in table and (following is None or following.startswith("-")):
            rewritten.append(table[arg])
    return rewritten


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
