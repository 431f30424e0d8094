"""Phrases as a review matches them: whole words, whatever the case, the accents and the
runs of spaces and punctuation between them (`this call is recorded` matches
`This call is… recorded.`), or a regular expression written `re:…`.

Text is folded (NFKD, combining marks dropped, case folded) by one `str.translate` over a
table filled a character at a time, so folding a turn costs about what copying it does.
A match is found in the folded text and mapped back to the original for the excerpt.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field

from zazacli.archive.tokens import is_cjk, match_query

REGEX_PREFIX = "re:"
EXCERPT_BEFORE, EXCERPT_AFTER = 40, 70  # characters of context around a match
EXCERPT_START = 100  # characters shown of a turn that holds no match
ELLIPSIS = "…"


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class _Folded(dict[int, str]):
    """The translate table of `fold`, one character decided (and kept) when first met."""

    def __missing__(self, code: int) -> str:
        # Case folding can leave something to decompose again (İ is I and a dot above).
        folded = _strip_marks(_strip_marks(chr(code)).casefold())
        self[code] = folded
        return folded


_FOLDED = _Folded()


class _Resized(dict[int, str]):
    """A translate table that keeps only the characters that do not fold to exactly one."""

    def __missing__(self, code: int) -> str:
        kept = "" if len(_FOLDED[code]) == 1 else chr(code)
        self[code] = kept
        return kept


_RESIZED = _Resized()


def fold(text: str) -> str:
    """`text` as phrases are matched in: NFKD, without combining marks, case folded."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLDED)


def original_span(text: str, start: int, stop: int) -> tuple[int, int]:
    """The characters of `text` whose folded form is fold(text)[start:stop] (with the marks
    that folded to nothing after the last one: `é` written as e and an accent)."""
    if text.isascii() or not text.translate(_RESIZED):
        return start, stop  # every character folds to one: the offsets are the same
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + len(_FOLDED[ord(char)]))
    first = max(bisect.bisect_right(offsets, start) - 1, 0)
    last = bisect.bisect_left(offsets, stop)
    while last < len(text) and offsets[last + 1] == offsets[last]:
        last += 1
    return first, min(last, len(text))


@dataclass(frozen=True)
class Phrase:
    """One phrase of a rule, as written there. `index_query` finds, in the archive's
    full-text index, every turn it may match (None for a regular expression: every turn is
    read); `search` says where it matches in folded text."""

    source: str
    pattern: re.Pattern[str] = field(compare=False, repr=False)
    index_query: str | None = field(compare=False, repr=False)

    def search(self, folded: str) -> re.Match[str] | None:
        return self.pattern.search(folded)


def compile_phrase(source: str) -> Phrase:
    """A phrase of a rules file; ValueError says what is wrong with a bad one."""
    if source.startswith(REGEX_PREFIX):
        return Phrase(source, _regex(source[len(REGEX_PREFIX) :]), None)
    words = re.findall(r"\w+", fold(source))
    if not words:
        raise ValueError(f"the phrase {source!r} has no words")
    body = r"\W+".join(re.escape(word) for word in words)
    # Chinese and Japanese have no spaces between words: no boundary beside them.
    before = "" if is_cjk(words[0][0]) else r"(?<!\w)"
    after = "" if is_cjk(words[-1][-1]) else r"(?!\w)"
    # The index folds case and Latin accents its own way: ask for the phrase as written
    # and as folded (`Straße`, `strasse`), whichever the index holds.
    queries = {_index_phrase(re.findall(r"\w+", source)), _index_phrase(words)}
    return Phrase(source, re.compile(before + body + after), " OR ".join(sorted(queries)))


def _regex(text: str) -> re.Pattern[str]:
    """A `re:` phrase, run over folded text: its accents are dropped like the text's, and
    it ignores case."""
    try:
        pattern = re.compile(_strip_marks(text), re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"re:{text} is not a regular expression: {exc}") from None
    if pattern.search("") is not None:
        raise ValueError(f"re:{text} matches empty text, so it would match every turn")
    return pattern


def _index_phrase(words: list[str]) -> str:
    return match_query('"' + " ".join(words) + '"')


def first_match(phrases: tuple[Phrase, ...], folded: str) -> tuple[Phrase, int, int] | None:
    """The phrase that matches first in `folded` (the earliest match; on a tie, the phrase
    listed first), and where."""
    best: tuple[Phrase, int, int] | None = None
    for phrase in phrases:
        found = phrase.search(folded)
        if found is not None and (best is None or found.start() < best[1]):
            best = (phrase, found.start(), found.end())
    return best


Excerpt = list[tuple[str, bool]]  # (text, whether it is the match)


def excerpt(text: str, span: tuple[int, int] | None = None) -> Excerpt:
    """Part of a turn around `span` (a match, in `text`'s own offsets), cut between words;
    without a span, the turn's start."""
    if span is None:
        if len(text) <= EXCERPT_START:
            return [(text, False)] if text else []
        cut = text.rfind(" ", 0, EXCERPT_START)
        return [(text[: cut if cut > 0 else EXCERPT_START] + ELLIPSIS, False)]
    start, stop = span
    left = max(0, start - EXCERPT_BEFORE)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space >= 0 else left
    right = min(len(text), stop + EXCERPT_AFTER)
    if right < len(text):
        space = text.rfind(" ", stop, right)
        right = space if space >= 0 else right
    parts = [
        ((ELLIPSIS if left > 0 else "") + text[left:start], False),
        (text[start:stop], True),
        (text[stop:right] + (ELLIPSIS if right < len(text) else ""), False),
    ]
    return [(part, matched) for part, matched in parts if part]
