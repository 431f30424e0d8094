"""Search (`/`): the archive's full-text index (archive/search.py, as `calls search`),
results as you type (debounced), each opening its call at the matching turn, marked."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from zazacli.api.listing import CallFilter
from zazacli.errors import ZazaError
from zazacli.output.safe import safe_text
from zazacli.sanitize import plain_value, terminal_safe
from zazacli.ui.base import TitleBar
from zazacli.ui.call import MATCH_STYLE, CallScreen

if TYPE_CHECKING:
    from zazacli.archive.search import Hit
    from zazacli.archive.store import Archive

# Seconds of no typing before the query runs: shorter than the gap between the keys of
# most typists (120-200 ms), so results follow the last key within 150 ms (a query over
# 100,000 calls is about 60 ms), and a burst of keys runs one query, not one a key.
DEBOUNCE = 0.06
SHOWN = 50  # results, best first


def hit_line(hit: Hit) -> Text:
    """`90211 CALLER  …the snippet…`, the matched words marked; all of it data, not markup."""
    line = Text.assemble(
        safe_text(f"{hit.call_id} ", "bold"), safe_text(f"{plain_value(hit.role)} ", "cyan")
    )
    for text, matched in hit.snippet:
        line.append_text(safe_text(text, MATCH_STYLE if matched else ""))
    return line


class SearchScreen(Screen[None]):
    AUTO_FOCUS = "#query"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    def __init__(self, archive: Archive | None) -> None:
        super().__init__()
        self.archive = archive
        self.hits: list[Hit] = []
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Input(placeholder='search transcripts: words, "a phrase", prefix*', id="query")
        yield OptionList(id="hits")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        if self.archive is None:
            self.say("no archive to search: zaza calls sync keeps one (then zaza ui)", "yellow")

    def on_input_changed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, lambda: self.run_query(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self._timer is not None:  # enter runs what is typed at once
            self._timer.stop()
            self.run_query(event.value)
        hits = self.query_one(OptionList)
        hits.focus()
        if hits.option_count:
            hits.highlighted = 0

    def run_query(self, query: str) -> None:
        from zazacli.archive.search import search

        hits_list = self.query_one(OptionList)
        hits_list.clear_options()
        self.hits = []
        if self.archive is None or not query.strip():
            return
        try:
            found = search(self.archive, query, CallFilter(), limit=SHOWN)
            self.hits = list(found.hits)
        except ZazaError as error:
            self.say(f"{error.message}", "red")
            return
        hits_list.add_options(Option(hit_line(hit)) for hit in self.hits)
        self.say(
            ("1 turn matches" if len(self.hits) == 1 else f"{len(self.hits)} turns match")
            + (" (the best 50)" if len(self.hits) >= SHOWN else "")
        )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        from zazacli.archive.local import archived_call

        hit = self.hits[event.option_index]
        assert self.archive is not None
        try:
            call, _ = archived_call(self.archive, hit.call_id)
        except ZazaError as error:
            self.say(error.message, "red")
            return
        words = [text.strip() for text, matched in hit.snippet if matched and text.strip()]
        self.app.push_screen(CallScreen(call, hit.agent, turn=hit.turn, words=words))

    def say(self, message: str, style: str = "") -> None:
        self.query_one("#status", Static).update(Text(terminal_safe(message), style=style))

    def action_back(self) -> None:
        self.dismiss(None)
