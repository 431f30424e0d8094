"""What the screens know of the app: its source, filters, poll interval and how a call
opens (the app itself imports the screens)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import App

if TYPE_CHECKING:
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
