"""The `zaza ui` application: the screens, the keys every screen shares, and how it ends.

`q` quits (exit 0); Ctrl-C too, with the CLI's 130. A crash ends the app first (Textual
puts the terminal back) and is raised afterwards for `zaza` to print as one line: the
traceback Textual would draw is never shown (`--debug` shows it, as for any command)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.binding import Binding, BindingType

from zazacli.api.listing import CallFilter
from zazacli.calls.stats import LIST_RATES
from zazacli.errors import ZazaError
from zazacli.sanitize import terminal_safe
from zazacli.ui.base import UiApp
from zazacli.ui.call import CallScreen
from zazacli.ui.calls import CallsScreen
from zazacli.ui.help import HelpScreen

if TYPE_CHECKING:
    from zazacli.archive.store import Archive
    from zazacli.calls.admission import Dialling
    from zazacli.calls.stats import Rates
    from zazacli.ui.events import EventFeed
    from zazacli.ui.source import CallPages, CallSource

DEFAULT_INTERVAL = 5.0  # seconds between polls: `calls tail`'s default


class ZazaUi(UiApp):
    """A full-screen view over a `CallSource` (the API, or the archive offline)."""

    TITLE = "zaza"
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    #status { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    #details { height: auto; max-height: 50%; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit_app", "Quit"),
        Binding("question_mark", "keys", "Keys", key_display="?"),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("s", "stats", "Stats"),
        Binding("d", "dispatch", "Dispatch"),
        Binding("e", "events", "Events"),
        Binding("ctrl+c", "interrupt", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        source: CallSource,
        *,
        filters: CallFilter | None = None,
        interval: float = DEFAULT_INTERVAL,
        first: tuple[CallPages, list[dict[str, Any]]] | None = None,
        archive: Archive | None = None,
        rates: Rates | None = None,
        dialling: Callable[[], Dialling] | None = None,
        feed: EventFeed | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.filters = filters or CallFilter()
        self.interval = interval
        self.failure: BaseException | None = None
        self._first = first
        self.archive = archive  # what `/` searches (None: no archive yet)
        self.sub_title = source.label
        self.rates = rates or LIST_RATES  # what `calls stats` estimates costs with
        self.dialling = dialling  # what `d` dials with (None: --local, no API to dial)
        self.feed = feed  # the webhook events of --listen (None: not listening)

    def on_mount(self) -> None:
        self.push_screen(CallsScreen(self.filters, self._first))
        if self.feed is not None:
            self.feed.on_new = self._event_arrived

    def _event_arrived(self) -> None:
        """On the listener's thread: the Events screen draws it, if it is up."""
        try:
            self.call_from_thread(self._show_events)
        except RuntimeError:  # the app is not running (yet, or any more)
            pass

    def _show_events(self) -> None:
        from zazacli.ui.events import EventsScreen

        if isinstance(self.screen, EventsScreen):
            self.screen.more()

    def action_events(self) -> None:
        from zazacli.ui.events import EventsScreen

        if isinstance(self.screen, EventsScreen):
            return
        if self.feed is None:
            self.notify("no events: start with zaza ui --listen", severity="warning")
            return
        self.push_screen(EventsScreen(self.feed))

    def action_quit_app(self) -> None:
        self.exit(return_code=0)

    def action_interrupt(self) -> None:
        self.exit(return_code=130)

    def action_search(self) -> None:
        from zazacli.ui.search import SearchScreen

        if not isinstance(self.screen, SearchScreen):
            self.push_screen(SearchScreen(self.archive))

    def action_stats(self) -> None:
        """The figures of `calls stats` for the filter of the list beneath."""
        from zazacli.ui.stats import StatsScreen

        if isinstance(self.screen, StatsScreen):
            return
        lists = [s for s in self.screen_stack if isinstance(s, CallsScreen)]
        self.push_screen(StatsScreen(lists[-1].filters if lists else self.filters))

    def action_dispatch(self) -> None:
        """The dispatch form: dry-run verdicts, then a confirmation, then the dial."""
        from zazacli.ui.dispatch import DispatchScreen

        if isinstance(self.screen, DispatchScreen):
            return
        if self.dialling is None:
            self.notify("the archive is offline: dispatch needs the API", severity="warning")
            return
        try:
            dialling = self.dialling()
        except ZazaError as error:
            self.notify(terminal_safe(error.message), severity="error", markup=False)
            return
        self.push_screen(DispatchScreen(dialling))

    def action_keys(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        rows = {
            (active.binding.key_display or key, active.binding.description): None
            for key, active in self.active_bindings.items()
            if active.binding.description
        }
        self.push_screen(HelpScreen(list(rows)))

    def open_call(
        self, call: dict[str, Any], *, turn: int | None = None, words: list[str] | None = None
    ) -> None:
        """The Call screen of this call, read again whole (with its transcript): from the
        API on a thread, or from the archive at once."""
        from zazacli.api.client import call_id

        ident = call_id(call)
        if ident is None:
            self.notify("this call has no id to look it up by", severity="warning")
            return
        if self.source.live:
            self._fetch_call(ident, turn, words)
            return
        try:
            whole = self.source.call(ident)
        except ZazaError as error:
            self.notify(terminal_safe(error.message), severity="error", markup=False)
            return
        self._show_call(whole, turn, words)

    @work(thread=True, exclusive=True, group="call")
    def _fetch_call(self, ident: int, turn: int | None, words: list[str] | None) -> None:
        try:
            whole = self.source.call(ident)
            self.source.agent_name(whole.get("agentId"))  # named once, off the screen's thread
        except ZazaError as error:
            message = terminal_safe(error.message)
            self.call_from_thread(self.notify, message, severity="error", markup=False)
            return
        self.call_from_thread(self._show_call, whole, turn, words)

    def _show_call(self, call: dict[str, Any], turn: int | None, words: list[str] | None) -> None:
        agent = self.source.agent_name(call.get("agentId"))
        self.push_screen(CallScreen(call, agent, turn=turn, words=words))

    def _handle_exception(self, error: Exception) -> None:
        self.failure = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        # No traceback drawn on the way out: `zaza` prints the failure as one line.
        self._close_messages_no_wait()
