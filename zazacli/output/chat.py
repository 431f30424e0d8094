"""`calls show` on a terminal: the transcript as a conversation, agent left, caller right."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zazacli.calls.transcript import format_offset, transcript_origin, turn_offset
from zazacli.output.safe import safe_text
from zazacli.sanitize import plain_value, terminal_safe

if TYPE_CHECKING:
    from rich.console import Console


def chat(console: Console, call: dict[str, Any], turns: list[dict[str, Any]]) -> None:
    from rich.padding import Padding
    from rich.text import Text

    if not turns:
        console.print(safe_text("(no transcript)", "dim"))
        return
    width = console.width
    indent = max(4, width // 4)
    origin = transcript_origin(call, turns)
    for turn in turns:
        role = plain_value(turn.get("role") or "?")
        offset = format_offset(turn_offset(turn, origin))
        # A turn is what someone said: lines stay lines, control codes become visible.
        text = terminal_safe(str(turn.get("text") or ""), multiline=True)
        if role.upper() == "AGENT":
            head = Text.assemble((f"{role} ", "bold cyan"), (offset, "dim"))
            body = Text(text)
            console.print(Padding(head, (0, indent, 0, 0)))
            console.print(Padding(body, (0, indent, 1, 2)))
        elif role.upper() in ("CALLER", "USER", "CUSTOMER", "HUMAN"):
            head = Text.assemble((offset, "dim"), (f" {role}", "bold magenta"), justify="right")
            body = Text(text, justify="right")
            console.print(Padding(head, (0, 0, 0, indent)))
            console.print(Padding(body, (0, 2, 1, indent)))
        else:
            line = Text.assemble((f"{offset} {role}: ", "dim bold"), (text, "dim italic"))
            console.print(Padding(line, (0, indent // 2, 1, indent // 2)))
