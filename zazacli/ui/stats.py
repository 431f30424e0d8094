"""`s`: the figures of `zaza calls stats` for the list's filter (the same code computes
them: calls/stats.py over the API, archive/stats.py over the archive), with its chart of
calls per day or hour; `b` groups them another way."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from zazacli.calls.stats import GROUPINGS
from zazacli.errors import ZazaError
from zazacli.output.safe import safe_text
from zazacli.output.stats import cost_notes, groups_table, stats_heading, time_chart
from zazacli.ui.base import TitleBar

if TYPE_CHECKING:
    from rich.console import RenderableType
    from textual.events import Resize

    from zazacli.api.listing import CallFilter
    from zazacli.ui.base import UiApp


class StatsScreen(Screen[None]):
    DEFAULT_CSS = """
    StatsScreen #figures { padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("b", "regroup", "Group by"),
        Binding("r", "recount", "Count again"),
    ]

    def __init__(self, filters: CallFilter, by: str = "day") -> None:
        super().__init__()
        self.filters = filters
        self.by = by
        self.report: dict[str, Any] | None = None  # the last count, as `--json` prints it

    @property
    def zaza(self) -> UiApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with VerticalScroll():
            yield Static(safe_text(f"counting calls by {self.by}…", "dim"), id="figures")
        yield Footer()

    def on_mount(self) -> None:
        self.count()

    def on_resize(self, event: Resize) -> None:
        if self.report is not None:
            self._draw()

    def count(self) -> None:
        """The report again, counted on a worker thread (the API's pages, or the archive):
        the app keeps answering keys meanwhile."""
        self.report = None
        self.query_one("#figures", Static).update(safe_text(f"counting calls by {self.by}…", "dim"))
        self._fetch(self.by)

    @work(thread=True, exclusive=True, group="stats")
    def _fetch(self, by: str) -> None:
        try:
            report = self.zaza.source.stats(self.filters, by, self.zaza.rates)
        except ZazaError as error:
            self.app.call_from_thread(self._failed, error)
            return
        self.app.call_from_thread(self._counted, report)

    def _failed(self, error: ZazaError) -> None:
        self.query_one("#figures", Static).update(safe_text(f"error: {error.message}", "red"))

    def _counted(self, report: dict[str, Any]) -> None:
        if report["by"] != self.by:
            return  # a count since replaced (`b` pressed meanwhile)
        self.report = report
        self._draw()

    def _draw(self) -> None:
        report = self.report
        if report is None:
            return
        width = max(20, self.size.width - 2)
        parts: list[RenderableType] = [stats_heading(report), Text()]
        if report["total"] == 0:
            parts.append(safe_text("no calls match", "dim"))
        else:
            if report["by"] in ("day", "hour"):
                parts += [time_chart(report, width), Text()]
            parts.append(groups_table(report, width))
            parts += [safe_text(note, "dim") for note in cost_notes(report)]
        self.query_one("#figures", Static).update(Group(*parts))

    def action_back(self) -> None:
        self.dismiss(None)

    def action_regroup(self) -> None:
        self.by = GROUPINGS[(GROUPINGS.index(self.by) + 1) % len(GROUPINGS)]
        self.count()

    def action_recount(self) -> None:
        self.count()
