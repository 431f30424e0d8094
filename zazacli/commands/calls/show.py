"""`zaza calls show ID`: one call, its details and its transcript."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from zazacli.commands.app import get_context
from zazacli.commands.calls.archive import ArchiveOpt, archive_path
from zazacli.commands.calls.shared import CallId
from zazacli.commands.options import FieldsOpt, FormatOpt, JqOpt, TemplateOpt
from zazacli.commands.values import pick_fields
from zazacli.errors import ZazaError

if TYPE_CHECKING:
    from zazacli.archive.store import Archive
    from zazacli.context import AppContext

LocalOpt = Annotated[
    bool,
    typer.Option(
        "--local",
        help="Read the call and its transcript from the local archive (zaza calls sync), "
        "offline: as of the last sync.",
    ),
]


def show_call(
    ctx: typer.Context,
    call_id: CallId,
    fmt: FormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
    fields: FieldsOpt = None,
    local: LocalOpt = False,
    archive_file: ArchiveOpt = None,
) -> None:
    """Show one call: its details and the transcript as a conversation.

    With --fields, only those fields are printed (variables and turns as fields). On a
    terminal, a call taller than the screen goes through the pager. With --local, from
    the archive `zaza calls sync` keeps (exit 3 if the call is not in it).

    \b
    Examples:
      zaza calls show 90494
      zaza calls show 90494 --json
      zaza calls show 90494 -o plain --fields status,durationSeconds,disposition
      zaza calls show 90494 --local
    """
    from zazacli.output import Format

    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.view(fmt, jq=jq, template=template).format
    selected = pick_fields(fields, "call")
    naming = chosen is Format.table and not selected
    if local:
        call, named = local_call(app_ctx, call_id, archive_file, naming=naming)
    else:
        call = app_ctx.api.get_call(call_id)
        # On a terminal the agent is named: one more request, made before the pager starts.
        named = with_agent_name(app_ctx, call) if naming else call
    with out.paged():
        out.record(named, "call", chosen, fields=selected)
        if chosen not in (Format.table, Format.plain) or selected is not None:
            return
        variables = call.get("variables")
        if isinstance(variables, dict) and variables:
            out.section("Variables")
            out.key_values((str(k), v) for k, v in variables.items())
        out.section("Transcript")
        out.transcript(call, "chat")


def local_call(
    app_ctx: AppContext, call_id: int, archive_file: str | None, *, naming: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The call from the archive, and as the terminal shows it (its agent named as of the
    last sync). A call without its transcript yet, or that the API no longer lists, says so
    on stderr."""
    from zazacli.archive.local import archived_call, opened

    with opened(archive_path(app_ctx, archive_file), app_ctx.out.warn) as store:
        call, deleted_at = archived_call(store, call_id)
        named = _archived_agent_name(store, call) if naming else call
    if deleted_at is not None:
        app_ctx.out.notice(
            f"call {call_id} is no longer listed by the API (found by calls sync --refresh "
            f"at {deleted_at}); this is the archive's copy"
        )
    if "turns" not in call:
        app_ctx.out.notice(missing_transcript(call_id))
    return call, named


def missing_transcript(call_id: int) -> str:
    return (
        f"the archive holds no transcript of call {call_id} yet (it was under way at the "
        "last sync, or its transcript could not be fetched): zaza calls sync fetches it"
    )


def _archived_agent_name(store: Archive, call: dict[str, Any]) -> dict[str, Any]:
    """As `with_agent_name`, with the name the last sync stored."""
    from zazacli.archive.local import archived_names

    agent_id = call.get("agentId")
    if not isinstance(agent_id, int) or isinstance(agent_id, bool):
        return call
    name = archived_names(store, "agent").get(agent_id)
    return {**call, "agentId": f"{agent_id} ({name})"} if name else call


def with_agent_name(app_ctx: AppContext, call: dict[str, Any]) -> dict[str, Any]:
    """The call as the terminal shows it: its agent as `12 (Zara from Acme)`, from
    GET /agents/12. When that fails the id alone: the call is what was asked for."""
    agent_id = call.get("agentId")
    # An id the API sent: only a real integer goes into a request path.
    if not isinstance(agent_id, int) or isinstance(agent_id, bool):
        return call
    try:
        name = app_ctx.api.get_agent(agent_id).get("name")
    except ZazaError:
        return call
    return {**call, "agentId": f"{agent_id} ({name})"} if name else call
