"""Text from outside made harmless for a terminal: the one choke point.

Anything zaza did not write itself (API fields, error bodies, webhook bodies, headers and
paths, file contents) passes `terminal_safe` before it is shown. Control characters become
visible, inert text (`\\x1b`, `\\x9b`, like gh's asciisanitizer), so no escape sequence can
retitle the terminal, write the clipboard (OSC 52), plant a link (OSC 8) or clear the screen;
bidi overrides and isolates become `\\u202e`, so a name cannot reorder what is printed after
it. Rich output is built as `Text` from data (`safe_text`), never as markup, so `[link=…]` or
`[/b]` in data prints literally.
"""

from __future__ import annotations

import json
import re
from typing import Any

_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}

# Characters that reorder text (Trojan Source: embeddings, overrides, isolates, marks) or
# break lines outside `\n` (U+2028/2029), and lone surrogates, which cannot be encoded
# and would crash the write.
_REORDERING = (
    0x061C,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x2028,
    0x2029,
)


_REORDERING_SET = frozenset(_REORDERING)


class _Visible(dict[int, str]):
    """The `str.translate` table, filled on demand: building all ~4,300 entries up front
    cost ~1.5 ms of every start-up. Each code point is decided once, then cached."""

    def __init__(self, *, multiline: bool) -> None:
        super().__init__()
        # A tab is harmless in a multi-line view (Rich expands it); lines stay lines.
        self._kept = (0x09, 0x0A) if multiline else ()

    def __missing__(self, code: int) -> str:
        if code in self._kept or not (
            code < 0x20 or 0x7F <= code < 0xA0 or code in _REORDERING_SET or 0xD800 <= code < 0xE000
        ):
            visible = chr(code)
        elif code < 0xA0:
            visible = _NAMED.get(code, f"\\x{code:02x}")
        else:
            visible = f"\\u{code:04x}"
        self[code] = visible
        return visible


_SINGLE_LINE = _Visible(multiline=False)
_MULTILINE = _Visible(multiline=True)

# In JSON, these may only occur inside strings, where `\uXXXX` is the same value: the
# document stays exact for a parser and inert for a terminal (json.dumps already escapes C0).
# Compiled on first use (~0.4 ms, a range of 2,048 surrogates): most commands print no JSON.
_JSON_UNSAFE = "[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]"


def terminal_safe(text: str, *, multiline: bool = False) -> str:
    """`text` with every control character, bidi control and lone surrogate made visible.

    Single-line (table cells, status lines, error lines): tab, newline and carriage return
    become `\\t`, `\\n`, `\\r` too, so a value never breaks a row or forges a line.
    `multiline` (transcript turns, notices) keeps newlines and tabs; `\\r\\n` becomes `\\n`.
    """
    if text.isprintable():  # the quick path: plain text has nothing to translate
        return text
    if multiline:
        return text.replace("\r\n", "\n").translate(_MULTILINE)
    return text.translate(_SINGLE_LINE)


def json_safe(document: str) -> str:
    """A serialised JSON document (from json.dumps) with C1, DEL, bidi controls and lone
    surrogates written as `\\uXXXX` escapes: it parses to exactly the same data."""
    if document.isprintable():  # the C-speed quick path for a one-line document
        return document
    unsafe = re.compile(_JSON_UNSAFE)  # cached by `re` after the first call
    if unsafe.search(document) is None:
        return document
    return unsafe.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


def plain_value(value: Any) -> str:
    """One TSV cell or terminal field: tabs, newlines and every other control character
    written visibly (`\\t`, `\\n`, `\\x1b`; see terminal_safe), nested values as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return terminal_safe(str(value))
