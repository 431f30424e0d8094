"""A call: its fields (the agent by name) and the transcript as a chat, who spoke and
when (`t` hides the times); opened from a search, at the matching turn, the match marked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import Footer, RichLog, Static

from zazacli.calls.transcript import transcript_turns
from zazacli.output.chat import chat_parts
from zazacli.output.columns import LAYOUTS
from zazacli.output.safe import safe_text
from zazacli.sanitize import plain_value
from zazacli.ui.base import TitleBar

if TYPE_CHECKING:
    from textual.events import Resize

MATCH_STYLE = "bold reverse yellow"


def detail_grid(call: dict[str, Any], agent: str | None) -> Table:
    """The call's known fields, then its other flat ones, as `calls show` lists them."""
    shown = {**call, "agentId": f"{call.get('agentId')} ({agent})"} if agent else call
    known, extra = LAYOUTS["call"].detail_of(shown)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for column in known + extra:
        if column.raw(shown) is not None:
            grid.add_row(safe_text(column.label), column.cell(shown))
    variables = call.get("variables")
    if isinstance(variables, dict):
        for name, value in variables.items():
            grid.add_row(safe_text(f"{{{{{plain_value(name)}}}}}", "dim"), safe_text(value))
    return grid


class ChatLog(RichLog):
    """The transcript, drawn again at each width (a chat's indents follow the width);
    `offsets[i]` is the line where turn i starts."""

    def __init__(self, call: dict[str, Any], *, turn: int | None, words: list[str]) -> None:
        super().__init__(wrap=False, markup=False, highlight=False, auto_scroll=False)
        self.call = call
        self.turns = transcript_turns(call)
        self.turn = turn
        self.words = words
        self.timestamps = True
        self.offsets: list[int] = []
        self._width = 0

    def on_resize(self, event: Resize) -> None:
        super().on_resize(event)
        if event.size.width != self._width:
            self.fill()

    def fill(self) -> None:
        """Every turn at the current width; then the cursor turn in view."""
        width = self.scrollable_content_region.width
        if width <= 0:
            return
        self._width = width
        self.clear()
        self.offsets = []
        # Each part rendered to lines here, and the log sized once: a `write` per part would
        # lay the log out again each time (a 200-turn call opens in a third of the time).
        console = self.app.console
        options = console.options.update_width(width)
        strips: list[Strip] = []
        for group in chat_parts(
            self.call, self.turns, width, timestamps=self.timestamps, marked=self._mark
        ):
            self.offsets.append(len(strips))
            for part in group:
                strips += [Strip(line, width) for line in console.render_lines(part, options)]
        self.lines.extend(strips)
        self._widest_line_width = width
        self.virtual_size = Size(width, len(self.lines))
        self.refresh()
        if self.turn is not None and self.turn < len(self.offsets):
            self.scroll_to(y=max(0, self.offsets[self.turn] - 1), animate=False, immediate=True)

    def _mark(self, index: int, text: Text) -> None:
        if index == self.turn and self.words:
            text.highlight_words(self.words, MATCH_STYLE, case_sensitive=False)


class CallScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("t", "timestamps", "Times"),
    ]

    def __init__(
        self,
        call: dict[str, Any],
        agent: str | None = None,
        *,
        turn: int | None = None,
        words: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.call = call
        self.agent = agent
        self.turn = turn
        self.words = words or []

    def compose(self) -> ComposeResult:
        yield TitleBar()
        title = safe_text(f"call {plain_value(self.call.get('id'))}", "bold")
        yield Static(Text.assemble(title), id="title")
        yield Static(detail_grid(self.call, self.agent), id="details")
        yield ChatLog(self.call, turn=self.turn, words=self.words)
        yield Footer()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_timestamps(self) -> None:
        chat = self.query_one(ChatLog)
        chat.timestamps = not chat.timestamps
        chat.fill()
