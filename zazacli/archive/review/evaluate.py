"""A review of the archived calls: every call of the filters, newest first, against every
rule, one finding per rule broken.

First the index finds what each rule matched (marks.py: forbidden phrases, requests not
to be called again, the calls where a required phrase is said), kept in a temporary
table. Then the calls are read once, newest first; SQLite gives with each its marks and,
for each `require` rule not met, the speaker's first turn, so a call with nothing to
report costs no Python. The findings come out call by call: memory does not grow with
the number of calls, and a review costs about what searching its phrases does.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from zazacli.api.listing import CallFilter
from zazacli.archive.review.marks import (
    CALLS,
    SKIPPED,
    Marker,
    by_call,
    roles_sql,
    temporary_tables,
    turn_range,
)
from zazacli.archive.review.phrases import Excerpt, excerpt
from zazacli.archive.review.rules import OPT_OUT, REQUIRE, Rule
from zazacli.archive.store import Archive, filter_sql
from zazacli.archive.tokens import restored, shown_text

SAID_NOTHING = "-"  # a `require` rule's speaker said nothing in a COMPLETED call
# The call of a finding: its id, when it was made, its agent's id and name.
Call = tuple[int, str | None, int | None, str | None]


class Finding(NamedTuple):
    """One rule a call broke. (A tuple: a large review makes tens of thousands.)"""

    call_id: int
    created_at: str | None  # ISO-8601 UTC
    agent_id: int | None
    agent: str | None  # its name as of the last sync
    rule: str
    kind: str
    turn: int | None  # the turn's index in the call's transcript; None: no such turn
    speaker: str | None  # AGENT, CALLER, … as the transcript says
    excerpt: Excerpt
    phrase: str | None = None  # the phrase that matched, as the rules write it
    note: str = ""

    @property
    def match(self) -> str | None:
        return next((text for text, matched in self.excerpt if matched), None)

    def as_dict(self, marker: str = "**") -> dict[str, Any]:
        return {
            "callId": self.call_id,
            "createdAt": self.created_at,
            "agentId": self.agent_id,
            "agent": self.agent,
            "rule": self.rule,
            "kind": self.kind,
            "turn": self.turn,
            "speaker": self.speaker,
            "excerpt": "".join(f"{marker}{t}{marker}" if hit else t for t, hit in self.excerpt),
            "match": self.match,
            "phrase": self.phrase,
            "note": self.note,
        }


@dataclass(frozen=True)
class OptOut:
    """A call where the caller asked not to be called again: the other party's number (an
    outbound call's toNumber, an inbound one's fromNumber)."""

    call_id: int
    number: str | None  # None: the call's direction does not say which number is theirs
    honoured: bool


@dataclass
class ReviewSummary:
    rules: tuple[str, ...]
    calls: int = 0
    not_reviewed: int = 0  # live at the last sync, or their transcript not fetched yet
    findings: dict[str, int] = field(default_factory=dict)
    opt_outs: list[OptOut] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.findings.values())


class Review:
    """`findings()` streams the findings; `summary` is complete once it has run out."""

    def __init__(self, archive: Archive, rules: tuple[Rule, ...], filters: CallFilter) -> None:
        self.archive = archive
        self.rules = rules
        self.filters = filters
        self.summary = ReviewSummary(tuple(rule.name for rule in rules))
        self.summary.findings = {rule.name: 0 for rule in rules}
        self.required = [(i, rule) for i, rule in enumerate(rules) if rule.kind == REQUIRE]
        self.names: dict[int, str] = {}
        self.order = {name: index for index, name in enumerate(self.summary.rules)}

    def findings(self) -> Iterator[Finding]:
        """In one read snapshot: what a sync writes meanwhile is not seen."""
        with self.archive.snapshot() as conn:
            temporary_tables(conn)
            turns = turn_range(conn, self.filters)
            for index, rule in enumerate(self.rules):
                Marker(conn, self.filters, index, rule, turns).mark()
            by_call(conn)
            yield from self._calls(conn)

    def _calls(self, conn: sqlite3.Connection) -> Iterator[Finding]:
        where, params = filter_sql(self.filters, "c")
        self.summary.not_reviewed = conn.execute(
            f"SELECT count(*) FROM calls c WHERE c.turns IS NULL{where}", params
        ).fetchone()[0]
        self.names = {ident: restored(name) for ident, name in conn.execute(
            "SELECT id, name FROM agents")}  # fmt: skip
        counts = self.summary.findings
        reviewed = 0
        for row in conn.execute(*self._query()):
            reviewed += 1
            if row[7] is None and not any(row[8:]):
                continue  # most calls: nothing to report
            found = self._call_findings(row)
            if len(found) > 1:
                found.sort(key=self._place)
            for finding in found:
                counts[finding.rule] += 1
                self.summary.calls = reviewed
                yield finding
        self.summary.calls = reviewed

    def _place(self, finding: Finding) -> tuple[int, int]:
        """A call's findings in turn order (one at no turn first), then in rule order."""
        return (-1 if finding.turn is None else finding.turn, self.order[finding.rule])

    def _query(self) -> tuple[str, list[Any]]:
        """The calls, newest first, each with its marks (a JSON array, or NULL) and, per
        `require` rule, NULL when it is met, else `seq len(role) role+text` of the speaker's
        first turn, or SAID_NOTHING in a COMPLETED call without one (else NULL: one nobody
        answered said nothing). What the rules matched is looked up once per call, in
        CALLS (marks.py: the rules met, as bits, and the marks)."""
        columns, values = [], []
        # A call's turns have consecutive ids in transcript order (archive/order.py): the
        # index on call_id gives them in order, with no sort.
        for index, rule in self.required:
            roles, speakers = roles_sql(rule.roles, "t")
            columns.append(
                f"CASE WHEN r.met & {1 << index} THEN NULL ELSE coalesce((SELECT t.seq || ' ' || "
                "length(coalesce(t.role, '')) || ' ' || coalesce(t.role, '') || t.text "
                f"FROM turns t WHERE t.call_id = c.id{roles} ORDER BY t.id LIMIT 1), "
                f"CASE WHEN c.status = 'COMPLETED' THEN '{SAID_NOTHING}' END) END"
            )
            values += speakers
        where, params = filter_sql(self.filters, "c", include_deleted=True)
        sql = (
            "SELECT c.id, c.created_at, c.agent_id, c.status, c.direction, c.from_number, "
            f"c.to_number, r.marks{''.join(f', {column}' for column in columns)} "
            f"FROM calls c LEFT JOIN {CALLS} r ON r.call_id = c.id "
            f"WHERE c.id NOT IN (SELECT id FROM {SKIPPED}){where} "
            "ORDER BY c.created_at DESC, c.id DESC"
        )
        return sql, [*values, *params]

    def _call_findings(self, row: tuple[Any, ...]) -> list[Finding]:
        call_id, created, agent_id, status, direction, from_number, to_number, marks = row[:8]
        base: Call = (
            call_id,
            f"{created}Z" if created else None,
            agent_id,
            self.names.get(agent_id),
        )
        found = [
            _missing(rule, first, status, base)
            for (_, rule), first in zip(self.required, row[8:], strict=True)
            if first is not None
        ]
        if marks is not None:
            number = {"OUTBOUND": to_number, "INBOUND": from_number}.get(restored(direction))
            found += self._marked(call_id, json.loads(marks), restored(number), base)
        return found

    def _marked(
        self, call_id: int, marks: list[list[Any]], number: str | None, base: Call
    ) -> list[Finding]:
        """The findings of the turns a rule matched in this call (the earliest forbidden
        phrase of a turn; a request not to be called again that the agent talked past),
        and the caller's number when they asked."""
        found: dict[tuple[int, int], Finding] = {}
        honoured = []
        for index, seq, role, start, stop, phrase, later, text in sorted(
            marks, key=lambda mark: (mark[1], mark[0], mark[3])
        ):
            rule = self.rules[index]
            if rule.kind == OPT_OUT:
                honoured.append(later <= (rule.within_turns or 0))
                if honoured[-1]:
                    continue
            if (index, seq) not in found:
                found[index, seq] = Finding(
                    *base,
                    rule.name,
                    rule.kind,
                    seq,
                    restored(role),
                    excerpt(restored(text), (start, stop)),
                    phrase,
                    _note(rule, later),
                )
        if honoured:
            self.summary.opt_outs.append(OptOut(call_id, number, all(honoured)))
        return list(found.values())


def opt_out_numbers(opt_outs: list[OptOut]) -> tuple[dict[str, OptOut], list[OptOut]]:
    """The numbers of the callers who asked not to be called again, in E.164, each with its
    newest request; and the requests whose number is missing or not a phone number."""
    from zazacli.errors import UsageError
    from zazacli.policy.lists import e164

    numbers: dict[str, OptOut] = {}
    unusable = []
    for opt_out in opt_outs:
        try:
            if opt_out.number is None:
                raise UsageError("no number")
            numbers.setdefault(e164(opt_out.number, None, "number"), opt_out)
        except UsageError:
            unusable.append(opt_out)
    return numbers, unusable


def _missing(rule: Rule, packed: str, status: str | None, base: Call) -> Finding:
    """The finding of a `require` rule whose phrases were not found: at the speaker's first
    turn (`packed`: `seq len(role) role+text`), where they belong; or at no turn when the
    speaker said nothing in a call that was answered."""
    if packed == SAID_NOTHING:
        said_nothing = f"{status}, and {_who(rule)} said nothing"
        return Finding(*base, rule.name, rule.kind, None, None, [], None, said_nothing)
    seq, size, rest = packed.split(" ", 2)
    role, text = rest[: int(size)], rest[int(size) :]
    speaker = restored(role) or None
    return Finding(
        *base, rule.name, rule.kind, int(seq), speaker, excerpt(shown_text(text)), None,
        _not_said(rule),
    )  # fmt: skip


def _who(rule: Rule) -> str:
    return "anyone" if rule.roles is None else f"the {rule.speaker}"


@functools.cache
def _not_said(rule: Rule) -> str:
    who = _who(rule)
    where = f"{who}'s first {rule.within_turns} turns" if rule.within_turns else f"{who}'s turns"
    return f"not {'the phrase' if len(rule.phrases) == 1 else 'any of its phrases'} in {where}"


def _note(rule: Rule, later: int | None) -> str:
    if rule.kind == OPT_OUT:
        turns = "turn" if later == 1 else "turns"
        return (
            f"the caller asked not to be called again; the agent said {later} more {turns} "
            f"(at most {rule.within_turns})"
        )
    return f"said by the {rule.speaker}" if rule.roles is not None else "said"
