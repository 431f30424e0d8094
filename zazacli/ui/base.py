"""What the screens know of the app: its source, filters, poll interval and how a call
opens (the app itself imports the screens)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.content import Content

    from zazacli.api.listing import CallFilter
    from zazacli.calls.stats import Rates
    from zazacli.ui.source import CallSource


class UiApp(App[int]):
    source: CallSource
    filters: CallFilter
    interval: float
    rates: Rates

    def open_call(
        self, call: dict[str, Any], *, turn: int | None = None, words: list[str] | None = None
    ) -> None:
        raise NotImplementedError


class TitleBar(Static):
    """The line at the top: the app's title and where its calls come from. Drawn from the
    app when painted: Textual's Header watches four titles and lays the screen out again
    when each first reports, which made opening a 200-turn call three times slower."""

    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
        content-align: center middle;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def render(self) -> Content:
        from zazacli.sanitize import terminal_safe

        # The sub-title names the source: a URL or a path the user gave, shown as data.
        return self.app.format_title(self.app.title, terminal_safe(self.app.sub_title))
