"""What the `zaza ui` tests share: the app over a sandbox, over an archive, over a fault
server's calls, and the text a screen shows."""

from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Input, Static

from zazacli.context import AppContext
from zazacli.sandbox import ORG_NUMBERS
from zazacli.ui.app import ZazaUi
from zazacli.ui.call import ChatLog
from zazacli.ui.dispatch import DispatchScreen
from zazacli.ui.source import ApiSource, ArchiveSource


def api_app(running: Any, *, interval: float = 5.0, **options: Any) -> ZazaUi:
    """The app over a running sandbox's API, as `zaza ui` makes it."""
    app_ctx = AppContext(env={})
    api = app_ctx.client(running.base_url, running.api_key)
    return ZazaUi(ApiSource(api), interval=interval, **options)


def archive_app(path: Path, **options: Any) -> ZazaUi:
    from zazacli.archive.store import Archive

    store = Archive.open(path, create=False)
    return ZazaUi(ArchiveSource(store), **options)


def served_app(server: Any, calls: list[dict[str, Any]], agents: list[dict[str, Any]]) -> ZazaUi:
    """The app over the real API client against a `fault_server` that serves `calls` (one
    page, each also at `/calls/{id}`) and `agents`: data no sandbox would send."""
    page = {"content": calls, "number": 0, "size": len(calls), "totalPages": 1, "last": True}
    server.route("GET", "/api/v1/calls", 200, page)
    for call in calls:
        server.route("GET", f"/api/v1/calls/{call['id']}", 200, call, optional=True)
    listed = {"content": agents, "number": 0, "size": len(agents), "totalPages": 1, "last": True}
    server.route("GET", "/api/v1/agents", 200, listed, optional=True)
    api = AppContext(env={}).client(server.url, SERVED_KEY)
    return ZazaUi(ApiSource(api))


SERVED_KEY = "zaza_test_ui_key_0000"


def table_text(app: ZazaUi) -> list[str]:
    """The Calls screen's rows as text, a cell a tab."""
    table = app.screen.query_one(DataTable)
    return [
        "\t".join(str(getattr(cell, "plain", cell)) for cell in table.get_row_at(index))
        for index in range(table.row_count)
    ]


def chat_text(app: ZazaUi) -> str:
    chat = app.screen.query_one(ChatLog)
    return "\n".join(strip.text.rstrip() for strip in chat.lines)


def static_text(app: ZazaUi, selector: str, width: int = 160) -> str:
    """What a Static of the screen shows (the Call screen's fields, the Stats screen's
    figures), drawn as plain text."""
    from rich.console import Console

    console = Console(width=width, color_system=None, file=io.StringIO())
    with console.capture() as captured:
        console.print(app.screen.query_one(selector, Static).content)
    return captured.get()


def links(app: ZazaUi) -> list[str]:
    """Every hyperlink the chat's lines would draw (none: data is never markup)."""
    chat = app.screen.query_one(ChatLog)
    return [
        segment.style.link
        for strip in chat.lines
        for segment in strip
        if segment.style is not None and segment.style.link
    ]


async def settle(pilot: Any, until: Callable[[], Any], timeout: float = 10.0) -> None:
    """Wait (the app running) until `until()` holds."""
    for _ in range(int(timeout / 0.05)):
        await pilot.pause()
        if until():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the screen never got there")


def drive(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """An async test (Textual's pilot) run to the end on its own event loop."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


async def fill_and_check(
    app: ZazaUi, pilot: Any, to: str, *, typed: bool = False
) -> DispatchScreen:
    """The dispatch form (`d`) filled in (from the sandbox's first number, to `to`, the
    first agent, NAME=Alex) and checked: the verdicts are on screen. `typed`: key by key
    as a person types (the first field has the focus, tab goes to the next), about two
    seconds of keys; otherwise the values are set and the last field focused."""
    await settle(pilot, lambda: table_text(app))
    await pilot.press("d")
    screen = app.screen
    assert isinstance(screen, DispatchScreen)
    agent = app.source.api.list_agents()[0]["id"]  # type: ignore[attr-defined]
    values = {"from": ORG_NUMBERS[0], "to": to, "agent": str(agent), "vars": "NAME=Alex"}
    if typed:
        keys = [key for value in values.values() for key in ("tab", *value)][1:]
        await pilot.press(*keys)
    else:
        for name, value in values.items():
            screen.query_one(f"#field-{name}", Input).value = value
        screen.query_one("#field-vars", Input).focus()
    assert {name: screen.query_one(f"#field-{name}", Input).value for name in values} == values
    await pilot.press("enter")
    await settle(pilot, lambda: screen.request is not None or screen.refusal is not None)
    return screen
