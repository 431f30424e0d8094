"""The root `zaza` command: global options, one sub-app per noun, errors to exit codes."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from zazacli import __version__
from zazacli.commands import agents, calls, campaigns, profiles
from zazacli.commands.common import CONTEXT_SETTINGS, get_context
from zazacli.commands.sandbox import sandbox
from zazacli.context import Options
from zazacli.errors import INTERRUPTED_EXIT, ZazaError, exit_codes_help


def report(error: ZazaError) -> None:
    """One line, and a hint on the next; colour only on a terminal."""
    color = sys.stderr.isatty() and not os.environ.get("NO_COLOR")
    prefix = "\x1b[31merror:\x1b[0m" if color else "error:"
    sys.stderr.write(f"{prefix} {error.message}\n")
    if error.hint:
        sys.stderr.write(f"hint: {error.hint}\n")
    sys.stderr.flush()


class ZazaGroup(TyperGroup):
    """Turns every error into one line on stderr and its documented exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ZazaError as error:
            report(error)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            sys.stderr.write("\ninterrupted\n")
            raise typer.Exit(INTERRUPTED_EXIT) from None
        except BrokenPipeError:
            # `zaza calls list --all | head`: the reader left; that is not an error.
            _silence_stdout()
            raise typer.Exit(0) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # usage errors, --help, exits: Typer reports those itself (exit 2 for usage)
        except Exception as error:
            if _debug_enabled(ctx):
                raise
            report(
                ZazaError(
                    f"internal error: {type(error).__name__}: {error}",
                    hint="rerun with ZAZA_DEBUG=1 for a traceback, and report it",
                )
            )
            raise typer.Exit(1) from None


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


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


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", envvar="ZAZA_PROFILE", help="Profile to use."),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="API base URL (ending in /api/v1).")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=0.1, help="Read timeout in seconds [default: 30]."),
    ] = None,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", envvar="ZAZA_DEBUG", help="Log requests to stderr (keys redacted)."
        ),
    ] = False,
    allow_insecure_http: Annotated[
        bool,
        typer.Option("--allow-insecure-http", help="Allow a plain-HTTP base URL to another host."),
    ] = False,
    use_sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox",
            envvar="ZAZA_SANDBOX",
            help="Run this command against a private, temporary sandbox API.",
        ),
    ] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour in output.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    app_ctx = get_context(ctx)
    app_ctx.options = Options(
        profile=profile,
        base_url=base_url,
        timeout=timeout,
        debug=debug,
        allow_insecure_http=allow_insecure_http,
        sandbox=use_sandbox,
        no_color=no_color,
    )
    ctx.call_on_close(app_ctx.close)


app.add_typer(calls.app, name="calls")
app.add_typer(agents.app, name="agents")
app.add_typer(campaigns.app, name="campaigns")
app.add_typer(profiles.app, name="profiles")
app.command("sandbox", help="Run a local ZazaVoice-compatible API server.")(sandbox)


def main() -> None:
    app(prog_name="zaza")
