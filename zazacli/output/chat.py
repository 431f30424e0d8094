"""`calls show` on a terminal: the transcript as a conversation, agent left, caller right."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zazacli.calls.transcript import format_offset, transcript_origin, turn_offset
from zazacli.output.safe import safe_text
from zazacli.sanitize import plain_value, terminal_safe

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text


def chat(console: Console, call: dict[str, Any], turns: list[dict[str, Any]]) -> None:
    for turn in chat_parts(call, turns, console.width):
        for part in turn:
            console.print(part)


def chat_parts(
    call: dict[str, Any],
    turns: list[dict[str, Any]],
    width: int,
    *,
    timestamps: bool = True,
    marked: Callable[[int, Text], None] | None = None,
) -> list[list[RenderableType]]:
    """The transcript as renderables, a list per turn (who and when, what was said) in
    `width` cells, agent left, caller right: what `chat` prints, and what `zaza ui` shows.
    `timestamps=False` leaves the offsets out; `marked(index, text)` may style a turn's
    text (a search match)."""
    from rich.padding import Padding
    from rich.text import Text

    if not turns:
        return [[safe_text("(no transcript)", "dim")]]
    indent = max(4, width // 4)
    origin = transcript_origin(call, turns)
    parts: list[list[RenderableType]] = []
    for index, turn in enumerate(turns):
        role = plain_value(turn.get("role") or "?")
        offset = format_offset(turn_offset(turn, origin)) if timestamps else ""
        # A turn is what someone said: lines stay lines, control codes become visible.
        text = Text(terminal_safe(str(turn.get("text") or ""), multiline=True))
        if marked is not None:
            marked(index, text)
        if role.upper() == "AGENT":
            head = Text.assemble((f"{role} ", "bold cyan"), (offset, "dim"))
            parts.append([Padding(head, (0, indent, 0, 0)), Padding(text, (0, indent, 1, 2))])
        elif role.upper() in CALLER_ROLES:
            head = Text.assemble((offset, "dim"), (f" {role}", "bold magenta"), justify="right")
            text.justify = "right"
            parts.append([Padding(head, (0, 0, 0, indent)), Padding(text, (0, 2, 1, indent))])
        else:
            text.stylize("dim italic")
            line = Text.assemble((f"{offset} {role}: ".lstrip(), "dim bold"), text)
            parts.append([Padding(line, (0, indent // 2, 1, indent // 2))])
    return parts


CALLER_ROLES = ("CALLER", "USER", "CUSTOMER", "HUMAN")
