"""Rich `Text` from data: the terminal-safe filter of `zazacli.sanitize`, never markup.

Only for terminal views (it loads Rich when called); plain text is made safe by
`zazacli.sanitize` itself, which every output module imports directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zazacli.sanitize import terminal_safe

if TYPE_CHECKING:
    from rich.text import Text


def safe_text(value: Any, style: str = "", *, multiline: bool = False) -> Text:
    """A Rich `Text` from data: terminal-safe, and never parsed as markup."""
    from rich.text import Text

    text = value if isinstance(value, str) else "" if value is None else str(value)
    return Text(terminal_safe(text, multiline=multiline), style=style)
