"""The root `zaza` command: global options, one sub-app per noun, errors to exit codes."""

from __future__ import annotations

import difflib
import importlib
import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from zazacli import __version__
from zazacli.commands import NOUNS
from zazacli.commands.app import (
    CONTEXT_SETTINGS,
    command_args,
    format_epilog,
    get_context,
    usage_error,
)
from zazacli.commands.globals import hoist, option_table
from zazacli.commands.options import complete_profile
from zazacli.errors import INTERRUPTED_EXIT, ZazaError, exit_codes_help


def report(ctx: Any, error: ZazaError) -> None:
    """Through the same printer as all output: `error: …`, `hint: …`, terminal-safe, red
    only for a person (--no-color and NO_COLOR honoured). Its own Output, from the root
    options, so a command that failed half-way has no say in how its error looks."""
    from zazacli.output import Output

    Output(no_color=_no_color(ctx)).error(error)


# Loaders register commands on module-level Typer apps, so each runs once per process.
_LOADED: dict[str, Any] = {}


class ZazaGroup(TyperGroup):
    """Loads nouns on demand, and turns every error into one line and its exit code."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *NOUNS]

    def get_command(self, ctx: Any, name: str) -> Any:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        if name not in _LOADED:
            _LOADED[name] = _load(name)
        return _LOADED[name]

    def format_epilog(self, ctx: Any, formatter: Any) -> None:
        format_epilog(self, formatter)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:  # bare `zaza`: its help, and success
            typer.echo(ctx.get_help())
            ctx.exit(0)
        # Global options work anywhere on the line (commands/globals.py).
        roots = option_table(self.get_params(ctx))
        return super().parse_args(ctx, hoist(args, roots, lambda words: self._leaf(ctx, words)))

    def _leaf(self, ctx: Any, words: list[str]) -> Any:
        """The command `words` name (`calls list`, `doctor`); None for a group or nothing."""
        command = self.get_command(ctx, words[0])
        for word in words[1:]:
            if command is None or not hasattr(command, "list_commands"):
                return None
            command = command.get_command(ctx, word)
        return None if command is None or hasattr(command, "list_commands") else command

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """Typer suggests only among loaded commands; the nouns load lazily, so suggest here:
        the plural (`call` -> `calls`, the likeliest first mistake), then close spellings."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            names = self.list_commands(ctx)
            plural = [n for n in (name + "s", name.removesuffix("s")) if n != name and n in names]
            matches = plural or difflib.get_close_matches(name, names)
            if matches:
                ctx.fail(
                    f"No such command {name!r}. Did you mean {' or '.join(map(repr, matches))}?"
                )
        found, command, rest = super().resolve_command(ctx, args)
        # A noun that is one command (`zaza doctor --json`) reads the format aliases too.
        return found, command, command_args(command, rest)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The noun list for `--help`, from the table: no noun is imported to show it."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, noun.help) for name, noun in NOUNS.items()])

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        """The root's own options are parsed here (`zaza --bogus`): a usage error among
        them is reported as zaza's; a noun's options are parsed within `invoke`."""
        try:
            return super().make_context(info_name, args, parent, **extra)
        except typer.TyperException as error:
            usage = usage_error(error, parent)
            if usage is None:
                raise
            report(getattr(error, "ctx", None), usage)
            raise typer.Exit(usage.exit_code) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ZazaError as error:
            report(ctx, error)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            sys.stderr.write("\ninterrupted\n")
            raise typer.Exit(INTERRUPTED_EXIT) from None
        except BrokenPipeError:
            # `zaza calls list --all | head`: the reader left; that is not an error.
            _silence_stdout()
            raise typer.Exit(0) from None
        except typer.TyperException as error:
            usage = usage_error(error, ctx)
            if usage is None:
                raise  # the help a group prints when given nothing: Typer shows it
            report(ctx, usage)
            raise typer.Exit(usage.exit_code) from None
        except typer.Abort:
            # Ctrl-C (or end of input) at a prompt: Typer's bare `Aborted!`, exit 1, would
            # read as a failure; it is an interruption, as anywhere else.
            sys.stderr.write("\ninterrupted\n")
            raise typer.Exit(INTERRUPTED_EXIT) from None
        except typer.Exit:
            raise  # --help, --version, exits: already said what they had to
        except RecursionError:
            if _debug_enabled(ctx):
                raise
            # Data from outside nested deeper than Python can walk (JSON from an API).
            report(ctx, ZazaError("the data is nested too deeply to handle", hint=DEBUG_HINT))
            raise typer.Exit(1) from None
        except Exception as error:
            if _debug_enabled(ctx):
                raise
            report(ctx, ZazaError(f"internal error: {type(error).__name__}: {error}", DEBUG_HINT))
            raise typer.Exit(1) from None


DEBUG_HINT = "rerun with ZAZA_DEBUG=1 for a traceback, and report it"


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _no_color(ctx: Any) -> bool:
    obj = ctx.find_root().obj if ctx is not None else None
    return bool(getattr(getattr(obj, "options", None), "no_color", False))


def _debug_enabled(ctx: Any) -> bool:
    obj = ctx.find_root().obj
    return bool(getattr(getattr(obj, "options", None), "debug", False))


app = typer.Typer(
    name="zaza",
    cls=ZazaGroup,
    help="The command line for ZazaVoice: dispatch AI calls, read calls and transcripts, "
    "tail webhooks.",
    epilog=exit_codes_help(),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings=CONTEXT_SETTINGS,
    add_completion=True,
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"zaza {__version__}\n")
        raise typer.Exit()


ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        "-p",
        envvar="ZAZA_PROFILE",
        help="Profile to use.",
        autocompletion=complete_profile,
    ),
]
BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="API base URL (ending in /api/v1).")
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option("--timeout", min=0.1, help="Read timeout in seconds [default: 30]."),
]
MaxPagesOpt = Annotated[
    int | None,
    typer.Option(
        "--max-pages",
        envvar="ZAZA_MAX_PAGES",
        min=1,
        max=100_000,
        help="Read at most N pages of any one list, then stop with an error [default: 100000].",
        show_default=False,
    ),
]
DebugOpt = Annotated[
    bool,
    typer.Option("--debug", envvar="ZAZA_DEBUG", help="Log requests to stderr (keys redacted)."),
]
AllowInsecureHttpOpt = Annotated[
    bool,
    typer.Option("--allow-insecure-http", help="Allow a plain-HTTP base URL to another host."),
]
SandboxOpt = Annotated[
    bool,
    typer.Option(
        "--sandbox",
        envvar="ZAZA_SANDBOX",
        help="Run this command against a private, temporary sandbox API.",
    ),
]
NoColorOpt = Annotated[bool, typer.Option("--no-color", help="No colour in output.")]
NoPagerOpt = Annotated[
    bool,
    typer.Option("--no-pager", help="Print long output on the terminal, not through a pager."),
]
VersionOpt = Annotated[
    bool,
    typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version."),
]


@app.callback()
def root(
    ctx: typer.Context,
    profile: ProfileOpt = None,
    base_url: BaseUrlOpt = None,
    timeout: TimeoutOpt = None,
    max_pages: MaxPagesOpt = None,
    debug: DebugOpt = False,
    allow_insecure_http: AllowInsecureHttpOpt = False,
    use_sandbox: SandboxOpt = False,
    no_color: NoColorOpt = False,
    no_pager: NoPagerOpt = False,
    version: VersionOpt = False,
) -> None:
    from zazacli.context import Options

    app_ctx = get_context(ctx)
    app_ctx.options = Options(
        profile=profile,
        base_url=base_url,
        timeout=timeout,
        max_pages=max_pages,
        debug=debug,
        allow_insecure_http=allow_insecure_http,
        sandbox=use_sandbox,
        no_color=no_color,
        no_pager=no_pager,
    )
    ctx.call_on_close(app_ctx.close)


# ---------------------------------------------------------------- the nouns, loaded lazily


def _load(name: str) -> Any:
    """A noun's command: `zaza --help` lists `commands.NOUNS` without importing any noun;
    a noun's module (and what it registers) is imported only when that noun runs. Other
    names may be whole nouns users try that only the dashboard has (`zaza sms send`)."""
    if name not in NOUNS:
        from zazacli.commands.stubs import dashboard_stub

        return dashboard_stub(name)
    command = typer.main.get_command(importlib.import_module(NOUNS[name].module).app)
    command.name = name
    return command


def main() -> None:
    app(prog_name="zaza")
