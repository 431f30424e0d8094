"""Rich `Text` from data: the terminal-safe filter of `zazacli.sanitize`, never markup.

`terminal_safe` and `json_safe` live in `zazacli.sanitize` (no imports), so the error printer
can use them without loading this package; they are re-exported here for output code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zazacli.sanitize import json_safe, plain_value, terminal_safe

if TYPE_CHECKING:
    from rich.text import Text

__all__ = ["json_safe", "plain_value", "safe_text", "terminal_safe"]


def safe_text(value: Any, style: str = "", *, multiline: bool = False) -> Text:
    """A Rich `Text` from data: terminal-safe, and never parsed as markup."""
    from rich.text import Text

    text = value if isinstance(value, str) else "" if value is None else str(value)
    return Text(terminal_safe(text, multiline=multiline), style=style)
