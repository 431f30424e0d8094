"""`e`: the webhook events `zaza ui --listen [PORT]` receives, live, one line each as
`zaza webhooks listen` shows them (output/webhooks.py lays them out): the listener is the
same (zazacli/webhooks/listener.py, with its signature checks and opt-outs), started for
the app's lifetime; it hands each event over on its own thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, RichLog, Static

from zazacli.output.fit import COMPACT_BELOW, laid_out
from zazacli.output.safe import safe_text
from zazacli.output.webhooks import event_pieces
from zazacli.sanitize import terminal_safe
from zazacli.ui.base import TitleBar

if TYPE_CHECKING:
    from textual.events import Resize

    from zazacli.webhooks.model import DeliveryResult, Notice, ReceivedEvent

Entry = tuple["ReceivedEvent | None", "DeliveryResult | None", "Notice | None"]


class EventFeed:
    """What the listener received, kept in order (its `on_event` and `on_notice`, called
    on the listener's threads); `on_new` is told of each one."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.saved: str | None = None  # the --save file
        self.entries: list[Entry] = []
        self.on_new: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def event(self, event: ReceivedEvent, forward: DeliveryResult | None) -> None:
        self._add((event, forward, None))

    def notice(self, notice: Notice) -> None:
        self._add((None, None, notice))

    def _add(self, entry: Entry) -> None:
        with self._lock:
            self.entries.append(entry)
            told = self.on_new
        if told is not None:
            told()

    def since(self, start: int) -> list[Entry]:
        with self._lock:
            return self.entries[start:]


def entry_line(entry: Entry, width: int) -> Text:
    """One event at `width`, as `webhooks listen` prints it; a notice in yellow."""
    event, forward, notice = entry
    if event is not None:
        pieces, slots = event_pieces(event, forward, compact=width < COMPACT_BELOW)
        return Text.assemble(*((p.text, p.style) for p in laid_out(pieces, slots, width)))
    assert notice is not None
    where = " ".join(str(part) for part in (notice.status, notice.method, notice.path) if part)
    said = f"{where}: {notice.message}" if where else notice.message
    return safe_text(terminal_safe(said), "dim" if notice.info else "yellow")


class EventsScreen(Screen[None]):
    DEFAULT_CSS = """
    EventsScreen #listening { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    def __init__(self, feed: EventFeed) -> None:
        super().__init__()
        self.feed = feed
        self.shown = 0  # entries drawn so far
        self._width = 0

    def compose(self) -> ComposeResult:
        yield TitleBar()
        saving = f", saving to {self.feed.saved}" if self.feed.saved else ""
        yield Static(safe_text(f"listening on {self.feed.url}{saving}"), id="listening")
        yield RichLog(wrap=False, markup=False, highlight=False, id="events")
        yield Footer()

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._width:
            self._width = event.size.width
            self.query_one(RichLog).clear()
            self.shown = 0
            self.more()

    def more(self) -> None:
        """The entries not drawn yet (the app calls it as each arrives)."""
        log = self.query_one(RichLog)
        width = max(20, log.scrollable_content_region.width or self.size.width - 2)
        entries = self.feed.since(self.shown)
        if entries and not self.shown:
            log.clear()  # the "no events yet" line
        for entry in entries:
            log.write(entry_line(entry, width), width=width)
        self.shown += len(entries)
        if not self.shown:
            log.write(safe_text("no events yet: point your webhooks at the address above", "dim"))

    def action_back(self) -> None:
        self.dismiss(None)
