"""The terminal's width, and prose folded to it between words. Plain text only, with no
import beyond the standard library: help pages fold their epilogs with it before anything
else is loaded."""

from __future__ import annotations

import os
from typing import IO


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
    `first` columns in, after a label), continuations indented as the line is, or under
    the description of a `term  description` line (an exit-code table). Words longer than
    a line (URLs, paths, commands) stay whole; no width, no folding."""
    import re
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
        term = re.match(r" *\S+ {2,}", line)
        hang = " " * len(term.group()) if term and len(term.group()) <= width // 2 else indent
        wrapped = textwrap.wrap(
            line.lstrip(" "),
            width=max(20, width),
            initial_indent=" " * offset + indent,
            subsequent_indent=hang,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [" " * offset]
        wrapped[0] = wrapped[0][offset:]
        folded.append("\n".join(wrapped))
    return "\n".join(folded)
