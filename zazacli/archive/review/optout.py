"""A caller's request not to be called again, as the `opt-out` rule recognises it.

Two ways: one of the FCC's reply keywords said as a sentence of its own ("Stop.",
"UNSUBSCRIBE!", "Stop, please." — the keywords are the webhook listener's, policy/lists.py),
or an explicit request in English, Spanish or French ("stop calling me", "don't call me
again", "take me off your list", "no me llame más", "ne m'appelez plus", …). Both are
read in folded text (phrases.fold: lower case, no accents).

Each request pattern comes with a full-text query that every turn it matches also
matches, so a review reads only those turns of the archive: a pattern added here needs
its query too (tests/calls/test_review.py checks each example against both).
"""

from __future__ import annotations

import functools
import re

from zazacli.policy.lists import OPT_OUT_KEYWORDS

# (pattern over folded text, FTS5 query that finds every turn the pattern may match)
_REQUESTS: tuple[tuple[str, str], ...] = (
    (
        r"\bstop\W+(?:calling|phoning|ringing)\b",
        '"stop calling" OR "stop phoning" OR "stop ringing"',
    ),
    # A bare "don't call me" only when it ends the sentence ("don't call me at work" is not).
    (
        r"\b(?:don\W?t|do\W+not|never)\W+(?:ever\W+)?call\W+(?:me|us|this\W+number)\b"
        r"(?:\W+(?:again|anymore|any\W+more|ever\W+again)\b|(?=\W*(?:please\W*)?(?:[.!?;]|$)))",
        "NEAR(don call, 2) OR NEAR(dont call, 2) OR NEAR(not call, 2) OR NEAR(never call, 2)",
    ),
    (
        r"\btake\W+(?:me|us|my\W+(?:\w+\W+)?number)\W+off\W+(?:(?:your|the|this|that)\W+)?"
        r"(?:\w+\W+)?list\b",
        "NEAR(take list, 10)",
    ),
    (r"\bremove\W+my\W+(?:\w+\W+)?number\b", "NEAR(remove number, 3)"),
    (
        r"\bremove\W+(?:me|us)\W+from\W+(?:your|the|this|that)\W+(?:\w+\W+)?list\b",
        "NEAR(remove list, 6)",
    ),
    (r"\bno\W+more\W+(?:calls|calling)\b", '"no more calls" OR "no more calling"'),
    (r"\bopt\W+(?:me|us)\W+out\b", '"opt me out" OR "opt us out"'),
    (r"\b(?:want|like|wish|need)\W+to\W+(?:unsubscribe|opt\W+out)\b", 'unsubscribe OR "opt out"'),
    (r"\brevoke\W+(?:my\W+|our\W+)?consent\b", "revoke"),
    # Spanish: no me llame(s/n) más, no me vuelva a llamar, dejen de llamarme, quíteme de su lista
    (r"\bno\W+(?:me|nos)\W+(?:llam\w*\W+(?:\w+\W+)?mas|vuelv\w*\W+a\W+llamar)\b", "llam*"),
    (r"\bdej\w*\W+de\W+llamar(?:me|nos)?\b", "llam*"),
    (r"\b(?:quit|saq|borr)\w*\W+de\W+(?:su|la|sus|esta)\W+lista\b", "lista"),
    # French: ne m'appelez plus, ne me rappelez plus, arrêtez de m'appeler, retirez-moi de
    # votre liste
    (r"\bne\W+(?:m|me|nous)\W+r?appel\w*\W+plus\b", "appel* OR rappel*"),
    (r"\barret\w*\W+de\W+(?:m|me|nous)\W+r?appeler\b", "appel* OR rappel*"),
    (
        r"\b(?:retir|supprim|enlev|ray)\w*\W+(?:moi|nous|mon\W+numero)\W+de\W+"
        r"(?:votre|la|vos|cette)\W+liste\b",
        "liste",
    ),
)
# Said around a keyword without changing it: "Stop, please.", "Just stop.", "STOP now!"
_COURTESY = frozenset(
    {"please", "just", "now", "ok", "okay", "thanks", "thank", "you", "por", "favor"}
    | {"s", "il", "vous", "plait", "merci"}
)


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The requests as one pattern, and what ends a sentence (in folded text `…` is
    `...`, a full-width `！` is `!`)."""
    requests = re.compile("|".join(f"(?:{pattern})" for pattern, _ in _REQUESTS))
    return requests, re.compile(r"[^.!?;¡¿\n]+")


def index_query() -> str:
    """An FTS5 query matching every turn that may hold a request (a superset)."""
    keywords = [f'"{keyword}"' for keyword in sorted(OPT_OUT_KEYWORDS)]
    anchors = dict.fromkeys(query for _, query in _REQUESTS)
    return " OR ".join([*keywords, *(f"({query})" for query in anchors)])


def request_span(folded: str) -> tuple[int, int] | None:
    """Where the first request not to be called again is in a folded turn, if any."""
    requests, sentence = _patterns()
    found = requests.search(folded)
    best = (found.start(), found.end()) if found else None
    for part in sentence.finditer(folded):
        if best is not None and part.start() >= best[0]:
            break
        words = _keyword(part.group())
        if words:
            return part.start() + words[0].start(), part.start() + words[-1].end()
    return best


def _keyword(sentence: str) -> list[re.Match[str]]:
    """The words of a sentence that is a reply keyword ("stop", "opt out"), perhaps said
    politely or again ("stop, please", "stop, stop"); none otherwise."""
    words = [word for word in re.finditer(r"\w+", sentence) if word.group() not in _COURTESY]
    said = [word.group() for word in words]
    if said and (
        " ".join(said) in OPT_OUT_KEYWORDS or (len(set(said)) == 1 and said[0] in OPT_OUT_KEYWORDS)
    ):
        return words
    return []
