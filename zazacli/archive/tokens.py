"""Text as the full-text index sees it, and search queries made to match it.

The index uses FTS5's `unicode61` tokenizer with `remove_diacritics 2`: words are split on
spaces and punctuation, case is folded and accents are dropped (`cafe` finds `café`,
`espanol` finds `español`). Chinese and Japanese are written without spaces, which would make
a whole sentence one word; so each of their characters is indexed as a word of its own
(separated by an invisible ZERO WIDTH SPACE), and a query's run of them becomes a phrase:
`予約` finds `予約を木曜日に変更したいです`.
"""

from __future__ import annotations

import functools
import re
from typing import Any

SEPARATOR = "\u200b"  # ZERO WIDTH SPACE: a separator for unicode61, invisible when shown
# Han (with its extensions and compatibility ideographs), hiragana, katakana (with the
# prolonged sound mark and half-width forms) and the iteration marks 々〆〇.
_CJK = (
    "\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0002fa1f"
)


@functools.cache
def _patterns() -> tuple[re.Pattern[str], ...]:
    """Compiled when first used, not at import (`zaza --help` never needs them):
    between two CJK characters; the snippet markers (see search.py) and lone surrogates,
    which SQLite cannot store; a word with punctuation inside (rendez-vous, don't, 10:00,
    e-mail), which FTS5 would read as a column filter or fail on, so it is searched as a
    phrase; and the parts of a query (a quoted string, a word, spaces and parentheses)."""
    return (
        re.compile(f"(?<=[{_CJK}])(?=[{_CJK}])"),
        re.compile("[\x02\x03\ud800-\udfff]"),
        re.compile(r"\w[-'’.:/@+&]+\w"),
        re.compile(r'"[^"]*"?|[^\s()"]+|[\s()]+'),
    )


def is_cjk(char: str) -> bool:
    """Whether `char` is Chinese or Japanese, which the index splits character by character
    (a phrase of them matches inside a run of them: no word boundaries there)."""
    return _cjk_character().fullmatch(char) is not None


@functools.cache
def _cjk_character() -> re.Pattern[str]:
    return re.compile(f"[{_CJK}]")


def index_text(text: str) -> str:
    """A turn's text as it is indexed (and kept in the `turns` table)."""
    between_cjk, unstorable, _, _ = _patterns()
    return between_cjk.sub(SEPARATOR, unstorable.sub(_replacement, text))


def _replacement(match: re.Match[str]) -> str:
    found = match.group()
    return " " if found in "\x02\x03" else chr(ord(found) + _STORED_SURROGATES)


# SQLite cannot store a lone surrogate (U+D800-DFFF, valid in JSON as `\ud800`): the archive
# keeps each as a character of the Supplementary Private Use Area-B (U+10D800-10DFFF) and
# gives it back when it reads, so the archive shows what the API sent, as the API path does.
_STORED_SURROGATES = 0x100000


def storable(text: str | None) -> str | None:
    """`text` as SQLite can store it (see _STORED_SURROGATES); `restored` undoes it."""
    if text is None or text.isascii():
        return text
    surrogates = _surrogates()
    if surrogates.search(text) is None:  # nearly always: one scan in C, no copy
        return text
    return surrogates.sub(lambda found: chr(ord(found.group()) + _STORED_SURROGATES), text)


@functools.cache
def _surrogates() -> re.Pattern[str]:
    return re.compile("[\ud800-\udfff]")


def restored(text: Any) -> Any:
    """What `storable` (or index_text) stored, as the API sent it."""
    if not isinstance(text, str) or text.isascii():
        return text
    stored = _stored_surrogates()
    if stored.search(text) is None:  # nearly always: one scan in C, no copy
        return text
    return stored.sub(lambda found: chr(ord(found.group()) - _STORED_SURROGATES), text)


@functools.cache
def _stored_surrogates() -> re.Pattern[str]:
    return re.compile(f"[{chr(0xD800 + _STORED_SURROGATES)}-{chr(0xDFFF + _STORED_SURROGATES)}]")


def shown_text(indexed: str) -> str:
    """Indexed text (a snippet) as it reads: without the separators put between characters,
    and with the lone surrogates it was sent with."""
    return restored(indexed.replace(SEPARATOR, ""))


def match_query(query: str) -> str:
    """The user's FTS5 query, made to match the index: CJK runs split as the index splits
    them, and words with inner punctuation quoted. Everything else is FTS5's own syntax."""
    between_cjk, _, inner_punctuation, query_part = _patterns()
    parts = []
    for part in query_part.findall(query):
        if not part.startswith('"') and inner_punctuation.search(part):
            star = part.endswith("*")
            part = '"' + part.rstrip("*") + '"' + ("*" if star else "")
        parts.append(part)
    return between_cjk.sub(SEPARATOR, "".join(parts))
