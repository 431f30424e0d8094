"""The root `zaza` command: global options, one sub-app per noun, errors to exit codes."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from zazacli import __version__
from zazacli.commands.common import CONTEXT_SETTINGS, get_context, new_app
from zazacli.errors import INTERRUPTED_EXIT, ZazaError, exit_codes_help


def report(error: ZazaError, *, no_color: bool = False) -> None:
    """One line, and a hint on the next; colour only on a terminal. Messages quote servers
    and files, so they pass the same terminal-safe filter as every other output."""
    from zazacli.sanitize import terminal_safe

    color = sys.stderr.isatty() and not os.environ.get("NO_COLOR") and not no_color
    prefix = "\x1b[31merror:\x1b[0m" if color else "error:"
    sys.stderr.write(f"{prefix} {terminal_safe(error.message, multiline=True)}\n")
    if error.hint:
        sys.stderr.write(f"hint: {terminal_safe(error.hint, multiline=True)}\n")
    sys.stderr.flush()


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
            if name in NOUNS:
                command = typer.main.get_command(NOUNS[name][0]())
                command.name = name
            else:
                stubs: Any = typer.main.get_command(_dashboard_only())
                command = stubs.get_command(ctx, name)
            _LOADED[name] = command
        return _LOADED[name]

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The noun list for `--help`, from the table: no noun is imported to show it."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, text) for name, (_, text) in NOUNS.items()])

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ZazaError as error:
            report(error, no_color=_no_color(ctx))
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
        except RecursionError:
            if _debug_enabled(ctx):
                raise
            # Data from outside nested deeper than Python can walk (JSON from an API).
            report(ZazaError("the data is nested too deeply to handle", hint=DEBUG_HINT))
            raise typer.Exit(1) from None
        except Exception as error:
            if _debug_enabled(ctx):
                raise
            report(
                ZazaError(
                    f"internal error: {type(error).__name__}: {error}",
                    hint=DEBUG_HINT,
                ),
                no_color=_no_color(ctx),
            )
            raise typer.Exit(1) from None


DEBUG_HINT = "rerun with ZAZA_DEBUG=1 for a traceback, and report it"


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _no_color(ctx: Any) -> bool:
    obj = ctx.find_root().obj
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
    from zazacli.context import Options

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


# ---------------------------------------------------------------- the nouns, loaded lazily
#
# `zaza --help` lists the nouns from this table without importing them; a noun's
# module (and what it registers) is imported only when that noun runs. This keeps
# start-up within budget as commands are added.


def _calls() -> typer.Typer:
    from zazacli.commands import calls, dispatch, reports, tail

    calls.app.command("dispatch", epilog=dispatch.DISPATCH_EPILOG)(dispatch.dispatch)
    calls.app.command("wait", epilog=dispatch.WAIT_EPILOG)(dispatch.wait)
    calls.app.command("batch", epilog=dispatch.BATCH_EPILOG)(dispatch.batch)
    calls.app.command("tail", epilog=tail.TAIL_EPILOG)(tail.tail)
    calls.app.command("stats")(reports.stats)
    calls.app.command("export-transcripts")(reports.export_transcripts)
    return _with_stubs(calls.app, "calls")


def _agents() -> typer.Typer:
    from zazacli.commands import agents

    return _with_stubs(agents.app, "agents")


def _campaigns() -> typer.Typer:
    from zazacli.commands import campaigns

    return _with_stubs(campaigns.app, "campaigns")


def _profiles() -> typer.Typer:
    from zazacli.commands import profiles

    return profiles.app


def _webhooks() -> typer.Typer:
    from zazacli.commands import webhooks

    return _with_stubs(webhooks.app, "webhooks")


def _api() -> typer.Typer:
    from zazacli.commands import api

    return _single("api", api.api, epilog=api.API_EPILOG)


def _capabilities() -> typer.Typer:
    from zazacli.commands import capabilities

    return _single("capabilities", capabilities.capabilities)


def _doctor() -> typer.Typer:
    from zazacli.commands import doctor

    return _single("doctor", doctor.doctor, epilog=doctor.DOCTOR_EPILOG)


def _sandbox() -> typer.Typer:
    from zazacli.commands import sandbox

    return _single("sandbox", sandbox.sandbox, epilog=sandbox.SANDBOX_EPILOG)


def _dashboard_only() -> typer.Typer:
    """Hidden whole nouns users will try (`zaza sms send`) that only the dashboard has."""
    return _with_stubs(new_app("Dashboard-only features."), "")


def _with_stubs(noun_app: typer.Typer, noun: str) -> typer.Typer:
    # Last, once the noun's real commands are registered: a stub never hides a command.
    from zazacli.commands.capabilities import add_dashboard_stubs

    add_dashboard_stubs(noun_app, noun)
    return noun_app


def _single(name: str, function: Any, **kwargs: Any) -> typer.Typer:
    single = new_app("")
    single.command(name, **kwargs)(function)
    return single


NOUNS: dict[str, tuple[Any, str]] = {
    "calls": (_calls, "Call history, transcripts, dispatch, batch, stats, tail."),
    "agents": (_agents, "Voice agents (read-only; edit them in the dashboard)."),
    "campaigns": (_campaigns, "Campaigns and lead progress (read-only)."),
    "profiles": (_profiles, "API keys and settings per environment (prod, staging, …)."),
    "webhooks": (_webhooks, "Receive, check, trigger, replay and verify webhook events."),
    "api": (_api, "Call any /v1 endpoint with your profile's auth (like gh api)."),
    "doctor": (_doctor, "Check the configured API against every assumption zaza makes."),
    "capabilities": (_capabilities, "What the API can do, and what is dashboard-only."),
    "sandbox": (_sandbox, "Run a local ZazaVoice-compatible API server."),
}


def main() -> None:
    app(prog_name="zaza")
