"""The filter bar (`f`): status, direction, agent, since and until, read by the same parser
as the commands' `--status`, `--direction`, `--agent`, `--since` and `--until`
(api/filters.py), so `failed,no_answer` or `1w` mean here what they mean there."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input

from zazacli.api.filters import call_filter
from zazacli.api.listing import CallFilter

# (field, placeholder): the options of `calls list`, by name.
FIELDS = (
    ("status", "status: failed,no_answer"),
    ("direction", "direction: inbound"),
    ("agent", "agent: 12"),
    ("since", "since: 1d, 2026-11-01"),
    ("until", "until"),
)


def parse(values: dict[str, str], notice: Callable[[str], None]) -> CallFilter:
    """The filter the bar's fields describe (empty fields: no filter); a bad value raises
    UsageError, whose message names the option as the CLI would."""

    def many(name: str) -> list[str] | None:
        text = values.get(name, "").strip()
        return [text] if text else None

    return call_filter(
        many("direction"),
        many("status"),
        many("agent"),
        values.get("since", "").strip() or None,
        values.get("until", "").strip() or None,
        notice,
    )


def shown(filters: CallFilter) -> dict[str, str]:
    """The fields that describe `filters`, as the bar shows them."""
    return {
        "status": ",".join(s.lower() for s in filters.statuses),
        "direction": ",".join(d.lower() for d in filters.directions),
        "agent": ",".join(str(a) for a in filters.agent_ids),
        "since": filters.since or "",
        "until": filters.until or "",
    }


class FilterBar(Horizontal):
    """The filter's fields; enter applies them (`Applied`), escape closes the bar."""

    DEFAULT_CSS = """
    FilterBar { height: auto; display: none; }
    FilterBar.shown { display: block; }
    FilterBar Input { width: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close the filter")]

    class Applied(Message):
        def __init__(self, values: dict[str, str]) -> None:
            super().__init__()
            self.values = values

    def compose(self) -> ComposeResult:
        for name, placeholder in FIELDS:
            yield Input(placeholder=placeholder, id=f"filter-{name}")

    def open(self, filters: CallFilter) -> None:
        for name, value in shown(filters).items():
            self.query_one(f"#filter-{name}", Input).value = value
        self.add_class("shown")
        self.query_one("#filter-status", Input).focus()

    def values(self) -> dict[str, str]:
        return {name: self.query_one(f"#filter-{name}", Input).value for name, _ in FIELDS}

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Applied(self.values()))

    def action_close(self) -> None:
        self.remove_class("shown")
        self.screen.focus_next()
