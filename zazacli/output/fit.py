"""Text that fits the terminal: an event line stays one line, a notice folds between words.

`calls tail` and `webhooks listen` print an event per line; a line the terminal wrapped
onto two breaks the stream apart (and words in half: `INTEREST|ED`). So below
`COMPACT_BELOW` columns the printers choose a compact layout (no seconds, short
direction, numbers shortened from the middle), a line still too wide loses its optional
pieces in a fixed order, and whatever is left over is cut with `…`, never wrapped.
Notices and hints on a terminal fold at word boundaries, keeping their indent.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

COMPACT_BELOW = 100  # columns: narrower terminals get the compact event lines


@dataclass(frozen=True)
class Piece:
    """Part of an event line. `text` carries its own leading gap; `drop` is 0 for the
    pieces every line keeps, else the order in which a line too wide gives them up
    (the highest first)."""

    text: str
    style: str = ""
    drop: int = 0


def middle(text: str, limit: int) -> str:
    """`+14155550100` as `+1415…0100`: the start (country, area) and the end (the
    digits people recognise) of a value too long for `limit`."""
    if len(text) <= limit:
        return text
    tail = (limit - 1) // 2
    return text[: limit - 1 - tail] + "…" + text[len(text) - tail :]


def fitting(pieces: Iterable[Piece], width: int) -> list[Piece]:
    """The pieces that fit in `width` cells: optional ones dropped, highest `drop` first
    (the rightmost first among equals), until the line fits or only kept ones are left."""
    from rich.cells import cell_len

    shown = list(pieces)
    optional = [i for i, piece in enumerate(shown) if piece.drop]
    dropped: set[int] = set()
    for index in sorted(optional, key=lambda i: (shown[i].drop, i), reverse=True):
        if sum(cell_len(p.text) for i, p in enumerate(shown) if i not in dropped) <= width:
            break
        dropped.add(index)
    return [piece for i, piece in enumerate(shown) if i not in dropped]


def print_line(console: Console, pieces: Iterable[Piece]) -> None:
    """One event, one line of the terminal: see `fitting`; what still does not fit is
    cut with `…` (a long failure reason, a narrow window), never wrapped."""
    from rich.text import Text

    line: Text = Text(no_wrap=True, overflow="ellipsis")
    for piece in fitting(pieces, console.width):
        line.append(piece.text, piece.style)
    console.print(line, no_wrap=True, overflow="ellipsis", soft_wrap=False, crop=True)


def terminal_columns(stream: IO[str]) -> int | None:
    """The width of the terminal `stream` writes to: COLUMNS first (as Rich reads it, so
    tests and people can set it), else the terminal's own size; None when unknown."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            return None
    return columns or None  # a terminal that has not said its size


def fold(text: str, width: int | None, first: int = 0) -> str:
    """Each line of `text` folded at spaces to `width` columns (the first line starts
    `first` columns in, after a label), continuations indented as the line is. Words
    longer than a line (URLs, paths, commands) stay whole; no width, no folding."""
    import textwrap

    if width is None:
        return text

    folded = []
    for index, line in enumerate(text.split("\n")):
        offset = first if index == 0 else 0
        if offset + len(line) <= width:
            folded.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip(" "))]
        wrapped = textwrap.wrap(
            line.lstrip(" "),
            width=max(20, width),
            initial_indent=" " * offset + indent,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [" " * offset]
        wrapped[0] = wrapped[0][offset:]
        folded.append("\n".join(wrapped))
    return "\n".join(folded)
