"""The rules of a review: read from a TOML file (`[[rules]]` tables), or the built-in set;
and written back as TOML (`zaza calls review --show-default-rules`).

A file that cannot be used is a usage error naming its line: TOML's own errors carry one,
and a rule that TOML reads but zaza cannot use (an unknown kind, no phrases, a regular
expression that does not compile) is placed by finding its `[[rules]]` table in the text.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field

from zazacli.archive.review.phrases import Phrase, compile_phrase
from zazacli.errors import UsageError

REQUIRE, FORBID, OPT_OUT = "require", "forbid", "opt-out"
KINDS = (REQUIRE, FORBID, OPT_OUT)
# Who a rule listens to, as the archive stores roles (None: every turn).
SPEAKERS: dict[str, tuple[str, ...] | None] = {
    "agent": ("AGENT",),
    "caller": ("CALLER",),
    "any": None,
}
_KEYS = {
    REQUIRE: ("name", "kind", "speaker", "within_turns", "phrases"),
    FORBID: ("name", "kind", "speaker", "within_turns", "phrases"),
    OPT_OUT: ("name", "kind", "within_turns"),
}
MAX_TURNS = 1000
MAX_RULES = 60  # a review keeps the rules a call meets as bits of one SQLite integer
# An opt-out is honoured when the agent says at most this many more turns (a goodbye).
OPT_OUT_TURNS = 1
DOCS = "docs/review.md"


@dataclass(frozen=True)
class Rule:
    """One rule. require: one of the phrases is said by `speaker`, among their first
    `within_turns` turns (None: anywhere); forbid: none of them is; opt-out: when the
    caller asks not to be called again, the agent says at most `within_turns` more turns."""

    name: str
    kind: str
    phrases: tuple[Phrase, ...] = ()
    speaker: str = "agent"
    within_turns: int | None = None
    roles: tuple[str, ...] | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        speaker = "caller" if self.kind == OPT_OUT else self.speaker
        object.__setattr__(self, "roles", SPEAKERS[speaker])

    @property
    def indexed(self) -> bool:
        """Whether the full-text index finds every turn it may match (no regex phrase)."""
        return all(phrase.index_query is not None for phrase in self.phrases)


DEFAULT_RULES = (
    Rule(
        "recording-disclosure",
        REQUIRE,
        (compile_phrase("this call is recorded"), compile_phrase("this call may be recorded")),
        speaker="agent",
        within_turns=2,
    ),
    Rule("opt-out-honoured", OPT_OUT, within_turns=OPT_OUT_TURNS),
)

_COMMENTS = {
    REQUIRE: "one of the phrases is said by the speaker, in their first within_turns turns",
    FORBID: "none of the phrases is said by the speaker",
    OPT_OUT: "a caller who asks not to be called again hears at most within_turns more turns",
}


def rules_toml(rules: tuple[Rule, ...]) -> str:
    """`rules` as a rules file that reads back as the same rules."""
    lines = [
        "# Rules of zaza calls review (docs/review.md): zaza calls review --rules FILE",
        "# kind: require | forbid | opt-out; speaker: agent | caller | any;",
        '# a phrase matches whole words, whatever the case and accents; "re:..." is a regex.',
    ]
    for rule in rules:
        lines += ["", "[[rules]]", f"name = {_string(rule.name)}", f"kind = {_string(rule.kind)}"]
        lines[-1] += f"  # {_COMMENTS[rule.kind]}"
        if rule.kind != OPT_OUT:
            lines.append(f"speaker = {_string(rule.speaker)}")
        if rule.within_turns is not None:
            lines.append(f"within_turns = {rule.within_turns}")
        if rule.phrases:
            lines.append(f"phrases = [{', '.join(_string(p.source) for p in rule.phrases)}]")
    return "\n".join(lines) + "\n"


def _string(text: str) -> str:
    """A TOML basic string (JSON's escapes, but DEL escaped too and no surrogate pairs)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def parse_rules(text: str, source: str) -> tuple[Rule, ...]:
    """The rules of a rules file's text; UsageError (exit 2) names the line of a bad one."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = re.search(r"\(at line (\d+), column (\d+)\)$", message)
        if at:
            message = message[: at.start()].strip()
            raise _error(source, int(at.group(1)), f"{message} (column {at.group(2)})") from None
        raise _error(source, max(1, len(text.splitlines())), message) from None
    lines = text.splitlines()
    for key in data:
        if key != "rules":
            raise _error(source, _key_line(lines, 0, len(lines), key), f"unknown key {key!r}")
    tables = data.get("rules")
    if not isinstance(tables, list) or not tables:
        raise _error(source, 1, "no rules: the file needs [[rules]] tables")
    starts = _table_starts(lines, len(tables))
    if len(tables) > MAX_RULES:
        raise _error(source, starts[MAX_RULES] + 1, f"more than {MAX_RULES} rules")
    rules: list[Rule] = []
    for index, table in enumerate(tables):
        span = (starts[index], starts[index + 1] if index + 1 < len(starts) else len(lines))
        rule = _rule(table, lines, span, source)
        if any(held.name == rule.name for held in rules):
            line = _key_line(lines, *span, "name")
            raise _error(source, line, f"a second rule named {rule.name!r}")
        rules.append(rule)
    return tuple(rules)


def _error(source: str, line: int, message: str) -> UsageError:
    return UsageError(f"{source}, line {line}: {message}", hint=f"rules files: {DOCS}")


def _table_starts(lines: list[str], count: int) -> list[int]:
    """The 0-based line of each `[[rules]]` header (the file's start when they cannot all be
    found: an inline array of tables)."""
    header = re.compile(r"""^\s*\[\[\s*(?:rules|"rules"|'rules')\s*\]\]""")
    starts = [number for number, line in enumerate(lines) if header.match(line)]
    return starts if len(starts) == count else [0] * count


def _key_line(lines: list[str], start: int, stop: int, key: str, needle: str = "") -> int:
    """The 1-based line of `key = …` between `start` and `stop` (the line holding
    `needle` when there is one); the table's first line when it cannot be found."""
    assignment = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}")\s*=""")
    found = [n for n in range(start, stop) if assignment.match(lines[n])]
    if needle:
        holding = [n for n in range(found[0] if found else start, stop) if needle in lines[n]]
        found = holding or found
    return (found[0] if found else start) + 1


def _rule(table: object, lines: list[str], span: tuple[int, int], source: str) -> Rule:
    def fail(message: str, key: str = "name", needle: str = "") -> UsageError:
        return _error(source, _key_line(lines, *span, key, needle), message)

    if not isinstance(table, dict):
        raise _error(source, span[0] + 1, "each rule is a [[rules]] table")
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail('a rule needs a name (name = "...")')
    label = f"rule {name!r}"
    kind = table.get("kind")
    if kind not in KINDS:
        raise fail(f"{label}: kind is one of {', '.join(KINDS)}, not {kind!r}", "kind")
    for key in table:
        if key not in _KEYS[kind]:
            allowed = ", ".join(_KEYS[kind])
            raise fail(f"{label}: unknown key {key!r} for kind {kind} ({allowed})", key)
    speaker = table.get("speaker", "agent")
    if speaker not in SPEAKERS:
        raise fail(f"{label}: speaker is agent, caller or any, not {speaker!r}", "speaker")
    within = table.get("within_turns", OPT_OUT_TURNS if kind == OPT_OUT else None)
    low = 0 if kind == OPT_OUT else 1
    if within is not None and (
        not isinstance(within, int) or isinstance(within, bool) or not low <= within <= MAX_TURNS
    ):
        message = f"{label}: within_turns is a whole number from {low} to {MAX_TURNS}"
        raise fail(message, "within_turns")
    phrases = _phrases(table.get("phrases"), kind, label, fail)
    return Rule(name, kind, phrases, speaker=speaker, within_turns=within)


def _phrases(
    value: object, kind: str, label: str, fail: Callable[..., UsageError]
) -> tuple[Phrase, ...]:
    if kind == OPT_OUT:
        return ()
    if not isinstance(value, list) or not value:
        raise fail(f'{label}: a {kind} rule needs phrases = ["...", ...]', "phrases")
    phrases = []
    for phrase in value:
        if not isinstance(phrase, str) or not phrase.strip():
            raise fail(f"{label}: each phrase is a non-empty string", "phrases")
        try:
            phrases.append(compile_phrase(phrase))
        except ValueError as exc:
            needle = phrase if phrase.isprintable() else ""
            raise fail(f"{label}: {exc}", "phrases", needle.removeprefix("re:")[:40]) from None
    return tuple(phrases)
