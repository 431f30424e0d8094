"""`zaza mcp`: an MCP server over stdio (zazacli/mcp/), for AI assistants: the calls,
transcripts, stats, agents and campaigns, and dialling only with --allow-dispatch."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from zazacli.commands.app import get_context, single_command
from zazacli.commands.calls.archive import ArchiveOpt, archive_path
from zazacli.commands.policy import DncOpt
from zazacli.errors import AuthError, MissingExtraError, UsageError, exit_codes_help

if TYPE_CHECKING:
    from types import ModuleType

    from zazacli.calls.admission import Dialling
    from zazacli.context import AppContext
    from zazacli.mcp.tools import Backing
    from zazacli.policy.rules import Verdict

INSTALL = "pip install 'zazacli[mcp]'"
MAX_DISPATCHES = 10

LocalOpt = Annotated[
    bool,
    typer.Option(
        "--local",
        help="Serve from the local archive (zaza calls sync) only: no key needed with "
        "--archive, and nothing leaves the machine. No agent and campaign tools.",
    ),
]
AllowDispatchOpt = Annotated[
    bool,
    typer.Option(
        "--allow-dispatch",
        help="Offer the dispatch_call tool: the assistant may ring real phones, through the "
        "checks of calls dispatch (quiet hours, the contact policy).",
    ),
]
MaxDispatchesOpt = Annotated[
    int,
    typer.Option(
        "--max-dispatches",
        min=0,
        max=1000,
        metavar="N",
        help="With --allow-dispatch: at most N dispatches reach the API in this run.",
    ),
]


def mcp(
    ctx: typer.Context,
    local: LocalOpt = False,
    allow_dispatch: AllowDispatchOpt = False,
    max_dispatches: MaxDispatchesOpt = MAX_DISPATCHES,
    archive_file: ArchiveOpt = None,
    dnc: DncOpt = None,
) -> None:
    """Serve MCP tools to an AI assistant, on stdin and stdout (docs/mcp.md).

    The assistant (Claude Desktop, Claude Code, VS Code, Cursor …) starts this command and
    speaks JSON-RPC on its stdin and stdout; a line per tool call goes to stderr (the tool
    and its outcome, never data). Tools: list_calls, get_call, get_transcript,
    search_transcripts, call_stats, review_calls, list_agents, get_agent, list_campaigns,
    get_campaign, check_number, and dispatch_call only with --allow-dispatch. Needs the
    mcp extra: pip install 'zazacli[mcp]'. It runs until its stdin closes.

    \b
    Examples:
      zaza mcp
      zaza --profile prod mcp --local
      zaza mcp --allow-dispatch --max-dispatches 3
    """
    if local and allow_dispatch:
        raise UsageError("--allow-dispatch dials through the API: not with --local")
    if max_dispatches != MAX_DISPATCHES and not allow_dispatch:
        raise UsageError("--max-dispatches caps --allow-dispatch", hint="add --allow-dispatch")
    server = _sdk()
    from zazacli.mcp.catalog import offered

    app_ctx = get_context(ctx)
    tools = offered(local=local, allow_dispatch=allow_dispatch)
    backing = _backing(app_ctx, local, allow_dispatch, max_dispatches, archive_file, dnc)
    out = app_ctx.out
    where = "the archive only" if local else app_ctx.settings.base_url
    dialling = f"dispatch on, at most {max_dispatches}" if allow_dispatch else "dispatch off"
    out.notice(f"zaza mcp: {len(tools)} tools on stdin/stdout ({where}; {dialling})")
    built = server.build(
        tools,
        backing,
        secret=None if local else app_ctx.settings.api_key,
        log=_log,
    )
    server.serve(built)


def _log(line: str) -> None:
    """A line of the server's log on stderr (stdout is the protocol's), every one written:
    the Output's notices say the same thing once."""
    from zazacli.sanitize import terminal_safe

    sys.stderr.write(f"zaza mcp: {terminal_safe(line)}\n")
    sys.stderr.flush()


def _sdk() -> ModuleType:
    """zazacli/mcp/server.py, which imports the SDK: without the extra, one error line."""
    try:
        from zazacli.mcp import server
    except ImportError:
        raise MissingExtraError(f"zaza mcp needs the mcp extra: {INSTALL}") from None
    return server


def _backing(
    app_ctx: AppContext,
    local: bool,
    allow_dispatch: bool,
    max_dispatches: int,
    archive_file: str | None,
    dnc: str | None,
) -> Backing:
    """What the tools read and dial with, from this context: checked now (a missing key
    or archive is one error line before the protocol starts, not a broken server)."""
    from zazacli.calls.stats import pick_rates
    from zazacli.mcp.tools import Backing

    settings = app_ctx.settings
    if local:
        path = archive_path(app_ctx, archive_file)
        api = None
    else:
        app_ctx.api  # noqa: B018  (no key: exit 4 now)
        api = lambda: app_ctx.api  # noqa: E731
    rates = pick_rates(
        settings.get("rate_outbound"), settings.get("rate_inbound"), settings.profile_name
    )
    return Backing(
        api=api,
        archive=(lambda: path) if local else (lambda: archive_path(app_ctx, archive_file)),
        verdicts=lambda numbers: _verdicts(app_ctx, dnc, numbers),
        rates=rates,
        region=None if app_ctx.options.sandbox else settings.get("region"),
        dialling=(lambda: _dialling(app_ctx, dnc)) if allow_dispatch else None,
        max_dispatches=max_dispatches,
    )


def _verdicts(app_ctx: AppContext, dnc: str | None, numbers: list[str]) -> dict[str, list[Verdict]]:
    """`zaza dnc check`'s verdicts: the list and the ledger (no network)."""
    from zazacli.commands.policy import open_store, profile_cap
    from zazacli.policy.rules import Guard, Listed

    with open_store(app_ctx, dnc, dialling=False) as store:
        return Guard(store, cap=profile_cap(app_ctx), listed=Listed()).verdicts(numbers)


def _dialling(app_ctx: AppContext, dnc: str | None) -> Dialling:
    """`calls dispatch`'s own dialling (calls/admission.py): this context's API, policy
    file, calling window and region."""
    from zazacli.commands.calls.shared import dialling

    return dialling(app_ctx, dnc)


MCP_EPILOG = exit_codes_help(
    {
        0: "the client closed stdin (a tool's error is that call's, never the server's end)",
        MissingExtraError.exit_code: f"the mcp extra is not installed: {INSTALL}",
        UsageError.exit_code: "a bad option or setting, or no archive to name with --local",
        AuthError.exit_code: "no API key (without --local)",
    }
)
app = single_command("mcp", mcp, epilog=MCP_EPILOG)
