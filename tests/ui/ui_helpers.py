"""What the `zaza ui` tests share: the app over a sandbox, over an archive, over given calls,
and the text a screen shows."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from textual.widgets import DataTable

from zazacli.api.listing import CallFilter
from zazacli.context import AppContext
from zazacli.ui.app import ZazaUi
from zazacli.ui.call import ChatLog
from zazacli.ui.source import ApiSource, ArchiveSource, CallPages, CallSource


def api_app(running: Any, *, interval: float = 5.0, **options: Any) -> ZazaUi:
    """The app over a running sandbox's API, as `zaza ui` makes it."""
    app_ctx = AppContext(env={})
    api = app_ctx.client(running.base_url, running.api_key)
    return ZazaUi(ApiSource(api), interval=interval, **options)


def archive_app(path: Path, **options: Any) -> ZazaUi:
    from zazacli.archive.store import Archive

    store = Archive.open(path, create=False)
    return ZazaUi(ArchiveSource(store), **options)


class GivenCalls(CallSource):
    """Calls a test writes (hostile ones): listed as given, each opened as it is."""

    label = "given calls"

    def __init__(self, calls: list[dict[str, Any]], agents: dict[int, str] | None = None) -> None:
        self.given = calls
        self.agents = agents or {}

    def pages(self, filters: CallFilter) -> CallPages:
        return CallPages(iter(c for c in self.given if filters.mismatch(c) is None))

    def call(self, call_id: int) -> dict[str, Any]:
        return next(c for c in self.given if c.get("id") == call_id)

    def agent_name(self, agent_id: Any) -> str | None:
        return self.agents.get(agent_id)


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


def links(app: ZazaUi) -> list[str]:
    """Every hyperlink the chat's lines would draw (none: data is never markup)."""
    chat = app.screen.query_one(ChatLog)
    return [
        segment.style.link
        for strip in chat.lines
        for segment in strip
        if segment.style is not None and segment.style.link
    ]


def drive(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """An async test (Textual's pilot) run to the end on its own event loop."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run
