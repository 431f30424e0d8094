"""The Calls screen: the call list, newest first, live from the API (new calls on top,
status changes in place) or from the archive; read a page at a time as the cursor nears
the end. Its columns are `calls list`'s, hidden by the same priorities on a narrow screen."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from zazacli.errors import UsageError, ZazaError
from zazacli.output.columns import LAYOUTS, Column
from zazacli.output.formats.table import fitting, spread
from zazacli.sanitize import terminal_safe
from zazacli.ui.base import TitleBar
from zazacli.ui.filters import FilterBar, parse

if TYPE_CHECKING:
    from zazacli.api.listing import CallFilter
    from zazacli.calls.tail import CallFollower, TailEvent
    from zazacli.ui.base import UiApp
    from zazacli.ui.source import CallPages

AHEAD = 20  # rows left below the cursor when the next page is read
CELL_PADDING = 2  # DataTable: a space on either side of each cell


class _Stopped(Exception):
    """The screen is gone: the follower's sleep ends its loop."""


def row_key(call: dict[str, Any]) -> str:
    return str(call.get("id"))


class CallTable(DataTable[Text]):
    """The call list: enter opens the call under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open the call"),
        Binding("ctrl+end,G", "scroll_bottom", "Last call read (reads on)", key_display="G"),
        Binding("ctrl+home,g", "scroll_top", "First call", key_display="g"),
    ]


class CallsScreen(Screen[None]):
    # The table takes the rows between the bars and the status line: the screen itself
    # never scrolls (its scroll bar took two columns from the table's).
    DEFAULT_CSS = """
    CallsScreen #calls { height: 1fr; }
    """
    AUTO_FOCUS = "#calls"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "filter", "Filter"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(
        self, filters: CallFilter, first: tuple[CallPages, list[dict[str, Any]]] | None = None
    ) -> None:
        super().__init__()
        self.filters = filters
        self.calls: list[dict[str, Any]] = []
        self.columns: list[Column] = []
        self.widths: list[int] = []  # the columns' widths in cells, filling the screen
        self._pages: CallPages | None = None
        self._first = first
        self._loading = False
        self._stop = threading.Event()

    @property
    def zaza(self) -> UiApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield FilterBar()
        yield CallTable(id="calls", cursor_type="row")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.reload(self.filters, self._first)
        self._first = None

    def on_unmount(self) -> None:
        self._stop.set()

    # ------------------------------------------------------------ reading

    def reload(
        self, filters: CallFilter, first: tuple[CallPages, list[dict[str, Any]]] | None = None
    ) -> None:
        """The list again from the top, with these filters (a new follower too)."""
        self.filters = filters
        self._stop.set()
        self._stop = threading.Event()
        self.calls = []
        self._draw(force=True)
        if first is not None:
            self._pages = first[0]
            self._added(first[1])
        else:
            self._pages = self.zaza.source.pages(filters)
            self.load_more()
        stop = self._stop

        def sleep(seconds: float) -> None:
            if stop.wait(seconds):
                raise _Stopped

        def notice(message: str) -> None:
            self.app.call_from_thread(self.say, message, "yellow")

        source = self.zaza.source
        follower = source.follower(filters, self.zaza.interval, sleep=sleep, notice=notice)
        if follower is not None:
            self._follow(follower, stop)

    def load_more(self) -> None:
        pages = self._pages
        if pages is None or pages.done or self._loading:
            return
        self._loading = True
        if self.zaza.source.live:
            self._fetch(pages)
        else:  # the archive: SQLite answers on the thread that opened it, in milliseconds
            self._read(pages)

    def _read(self, pages: CallPages) -> None:
        try:
            calls = pages.more()
        except ZazaError as error:
            self._loading = False
            self.say(f"error: {error.message}", "red")
            return
        self._added(calls, pages)

    @work(thread=True, exclusive=True, group="pages")
    def _fetch(self, pages: CallPages) -> None:
        try:
            calls = pages.more()
        except ZazaError as error:
            self.app.call_from_thread(self._failed, error)
            return
        self.app.call_from_thread(self._added, calls, pages)

    def _failed(self, error: ZazaError) -> None:
        self._loading = False
        self.say(f"error: {error.message}", "red")

    def _added(self, calls: list[dict[str, Any]], pages: CallPages | None = None) -> None:
        self._loading = False
        if pages is not None and pages is not self._pages:
            return  # a page of a list since replaced (the filters changed)
        known = {row_key(call) for call in self.calls}
        fresh = [call for call in calls if row_key(call) not in known]
        self.calls.extend(fresh)
        table = self.query_one(DataTable)
        for call in fresh:
            table.add_row(*self._cells(call), key=row_key(call))
        self._summary()

    @work(thread=True, group="follow")
    def _follow(self, follower: CallFollower, stop: threading.Event) -> None:
        """`calls tail`'s follower on a thread; its waits end when the screen goes."""
        try:
            for event in follower.events():
                if stop.is_set():
                    return
                self.app.call_from_thread(self.changed, event)
        except _Stopped:
            return
        except ZazaError as error:
            if not stop.is_set():
                self.app.call_from_thread(self._failed, error)

    def changed(self, event: TailEvent) -> None:
        """A new call goes on top; a changed one is redrawn where it is."""
        key = row_key(event.call)
        index = next((i for i, call in enumerate(self.calls) if row_key(call) == key), None)
        if index is None:
            if event.kind != "new":
                return
            self.calls.insert(0, event.call)
            self._draw(force=True)
        else:
            self.calls[index] = event.call
            table = self.query_one(DataTable)
            for column, cell in zip(self.columns, self._cells(event.call), strict=True):
                table.update_cell(key, column.key, cell)
        self._summary()

    # ------------------------------------------------------------ drawing

    def _cells(self, call: dict[str, Any]) -> list[Text]:
        """The row's cells, each cut with `…` to its column's width: the table never runs
        past the right edge, where a value would be cut without a sign."""
        cells = []
        for column, width in zip(self.columns, self.widths, strict=True):
            cell = column.cell(call, short=True)
            cell.truncate(width, overflow="ellipsis")
            cells.append(cell)
        return cells

    def on_resize(self) -> None:
        self._draw()

    def _draw(self, *, force: bool = False) -> None:
        """The table again when the columns that fit change (or `force`), the cursor kept
        on the same call."""
        layout = LAYOUTS["call"].table
        room = max(20, self.size.width - 2)  # the scroll bar's two cells
        columns = fitting(layout, room)
        widths = spread(columns, room - CELL_PADDING * len(columns))
        if (columns, widths) == (self.columns, self.widths) and not force:
            return
        self.columns, self.widths = columns, widths
        table = self.query_one(DataTable)
        current = self.current()
        table.clear(columns=True)
        for column, width in zip(columns, widths, strict=True):
            table.add_column(Text(column.header, style="bold"), key=column.key, width=width)
        for call in self.calls:
            table.add_row(*self._cells(call), key=row_key(call))
        if current is not None:
            table.move_cursor(row=table.get_row_index(row_key(current)))

    def current(self) -> dict[str, Any] | None:
        table = self.query_one(DataTable)
        if not self.calls or not 0 <= table.cursor_row < len(self.calls):
            return None
        return self.calls[table.cursor_row]

    def _summary(self) -> None:
        pages = self._pages
        more = pages is not None and not pages.done
        n = len(self.calls)
        described = ", ".join(f"{k} {v}" for k, v in self.filters.described().items())
        where = f" · {described}" if described else ""
        live = " · live" if self.zaza.source.live and self.filters.until is None else ""
        count = f"{n}+ calls (more as you scroll)" if more else f"{n} calls"
        self.say(f"{count}{where}{live}")

    def say(self, message: str, style: str = "") -> None:
        """The status line: text from outside is made terminal-safe, and never markup."""
        self.query_one("#status", Static).update(Text(terminal_safe(message), style=style))

    # ------------------------------------------------------------ keys

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self.calls) - AHEAD:
            self.load_more()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        call = self.current()
        if call is not None:
            self.zaza.open_call(call)

    def action_reload(self) -> None:
        self.reload(self.filters)

    def action_filter(self) -> None:
        self.query_one(FilterBar).open(self.filters)

    def on_filter_bar_applied(self, event: FilterBar.Applied) -> None:
        """The list again with the bar's filter; a bad value keeps the bar open and says
        what is wrong, as the CLI would."""
        notes: list[str] = []
        try:
            filters = parse(event.values, notes.append)
        except UsageError as error:
            hint = f" ({error.hint})" if error.hint else ""
            self.say(f"error: {error.message}{hint}", "red")
            return
        bar = self.query_one(FilterBar)
        bar.remove_class("shown")
        self.query_one(CallTable).focus()
        self.reload(filters)
        if notes:
            self.say("; ".join(notes), "yellow")
