"""The `list` and `show` verbs of a noun the API only reads (`zaza agents`, `zaza campaigns`).

Both nouns take the same options, choose the format the same way and print through the same
`Output` calls; only the API call, the kind of row and the help differ. So a verb module
writes just those: a function `fetch(api)` (or `fetch(api, id)`) that makes the API call,
its docstring the verb's help, decorated with `list_command` (or `show_command`), which
returns the Typer command, registered in the noun's `__init__.py` like any other verb.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from zazacli.api.values import ID_MAX
from zazacli.commands.app import get_context
from zazacli.commands.options import (
    FieldsOpt,
    FormatOpt,
    HeaderOpt,
    JqOpt,
    TemplateOpt,
    WideOpt,
)
from zazacli.commands.values import pick_fields

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi
    from zazacli.output import Output

Item = dict[str, Any]
FetchAll = Callable[["ZazaApi"], list[Item]]
FetchOne = Callable[["ZazaApi", int], Item]
# What a noun prints below the record in a table or plain view (campaigns: lead bars).
Extra = Callable[["Output", Item], None]
Command = Callable[..., None]


def _as_command(command: Command, fetch: Callable[..., Any]) -> Command:
    """The verb's help is `fetch`'s docstring; its name stays the one the module gave it."""
    command.__doc__ = fetch.__doc__
    command.__name__ = command.__qualname__ = fetch.__name__
    command.__module__ = fetch.__module__
    return command


def list_command(kind: str, *, empty_message: str) -> Callable[[FetchAll], Command]:
    """`zaza NOUN list`: every item `fetch(api)` returns, as rows of `kind`."""

    def decorate(fetch: FetchAll) -> Command:
        def list_items(
            ctx: typer.Context,
            fmt: FormatOpt = None,
            fields: FieldsOpt = None,
            header: HeaderOpt = False,
            wide: WideOpt = False,
            jq: JqOpt = None,
            template: TemplateOpt = None,
        ) -> None:
            app_ctx = get_context(ctx)
            out = app_ctx.out
            view = out.view(fmt, header=header, wide=wide, jq=jq, template=template)
            selected = pick_fields(fields, kind)
            items = fetch(app_ctx.api)
            out.rows(items, kind, view, empty_message=empty_message, fields=selected)

        return _as_command(list_items, fetch)

    return decorate


def show_command(
    kind: str, *, id_help: str, extra: Extra | None = None
) -> Callable[[FetchOne], Command]:
    """`zaza NOUN show ID`: the item `fetch(api, ID)` returns, as a record of `kind`;
    `extra` adds sections below it when the whole record is shown as a table or plain."""

    def decorate(fetch: FetchOne) -> Command:
        def show_item(
            ctx: typer.Context,
            item_id: int,  # declared below: its help names the noun
            fmt: FormatOpt = None,
            fields: FieldsOpt = None,
            jq: JqOpt = None,
            template: TemplateOpt = None,
        ) -> None:
            app_ctx = get_context(ctx)
            out = app_ctx.out
            chosen = out.view(fmt, jq=jq, template=template).format
            selected = pick_fields(fields, kind)
            item = fetch(app_ctx.api, item_id)
            out.record(item, kind, chosen, fields=selected)
            if extra is not None and selected is None:
                from zazacli.output import Format

                if chosen in (Format.table, Format.plain):
                    extra(out, item)

        # Typer reads an argument's help from its annotation, and a name in an annotation
        # resolves in this module's globals only: so the noun's own one is set here.
        show_item.__annotations__["item_id"] = Annotated[
            int, typer.Argument(help=id_help, metavar="ID", min=0, max=ID_MAX)
        ]
        return _as_command(show_item, fetch)

    return decorate
