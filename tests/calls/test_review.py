"""`zaza calls review`: archived transcripts checked against rules.

The review runs on a sandbox's calls, synced once for the module. What it must find is
worked out here from the API itself, with a matcher of the test's own (whole words, any
case, accents and punctuation between them) and the sandbox's own lines for the requests
not to be called again (sandbox/compliance.py), never from ids written down: exact sets of
(call, rule, turn) per rule, in every output format. Then exit codes, --apply against the
do-not-call list, hostile transcripts, bad rules files, and the matcher and the opt-out
recogniser on their own.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, FaultServer, Reply, Request, api_get
from rich.cells import cell_len
from sandbox_fixtures import FAST
from test_terminal_safety import HOSTILE, assert_inert

from zazacli.archive.review.optout import index_query, request_span
from zazacli.archive.review.phrases import compile_phrase, excerpt, fold, original_span
from zazacli.archive.review.rules import DEFAULT_RULES, parse_rules, rules_toml
from zazacli.archive.tokens import index_text
from zazacli.errors import EXIT_CODES, FINDINGS_EXIT
from zazacli.sandbox import Sandbox, SandboxConfig, start_sandbox
from zazacli.sandbox.compliance import FORBIDDEN, HONOURED, KEPT_TALKING

DISCLOSURES = ("this call is recorded", "this call may be recorded")
# Every request not to be called again the sandbox's callers make (their first line).
REQUESTS = {caller for lines in HONOURED.values() for caller, _ in lines} | {
    talk[0][1] for lines in KEPT_TALKING.values() for talk in lines
}
RULES = """\
# forbidden promises, by the agent, by anyone, in French, and as a regular expression
[[rules]]
name = "no-guarantees"
kind = "forbid"
speaker = "agent"
phrases = ["guaranteed approval", "risk free"]

[[rules]]
name = "nobody-says-it"
kind = "forbid"
speaker = "any"
phrases = ["risk free"]

[[rules]]
name = "credit"
kind = "forbid"
speaker = "agent"
phrases = ["crédit garanti"]

[[rules]]
name = "regex"
kind = "forbid"
speaker = "caller"
phrases = ['re:\\bcredit\\s+garanti\\b']
"""


# ---------------------------------------------------------------- the sandbox, synced once


class Synced:
    def __init__(self, sandbox: Sandbox, work: Path) -> None:
        self.sandbox = sandbox
        self.archive = work / "archive.sqlite3"
        self.work = work
        self.cli = Cli(
            env={
                "ZAZA_BASE_URL": sandbox.base_url,
                "ZAZA_API_KEY": sandbox.api_key,
                "ZAZA_ARCHIVE": str(self.archive),
                "ZAZA_CONFIG_DIR": str(work / "config"),
            }
        )
        self.calls = all_calls(sandbox)


def all_calls(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Every call the API lists, newest first, each as `GET /calls/{id}` answers it."""
    listed: list[dict[str, Any]] = []
    page = 0
    while True:
        answer = api_get(sandbox, "calls", page=page, size=100)
        listed += answer["content"]
        if answer["last"]:
            break
        page += 1
    return [api_get(sandbox, f"calls/{call['id']}") for call in listed]


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    work = tmp_path_factory.mktemp("review")
    with start_sandbox(SandboxConfig(**{**FAST, "live_calls": False})) as sandbox:
        say_every_forbidden_line(sandbox)
        state = Synced(sandbox, work)
        result = state.cli("calls", "sync")
        assert result.exit_code == 0, result.stderr
        yield state


def say_every_forbidden_line(sandbox: Sandbox) -> None:
    """Which forbidden promises the newest seeded calls hold moves with the time of day
    (calls are placed in calling hours, and numbered again): one completed call each, with
    no request not to be called, says one of them at its end, so every form is checked at
    any hour. The rest stay as the sandbox wove them."""
    lines = [line for said in FORBIDDEN.values() for line in said]
    for record in reversed(sandbox.app.calls):
        if not lines:
            return
        if record.outcome.status != "COMPLETED":
            continue
        turns = api_get(sandbox, f"calls/{record.id}")["turns"]
        if not turns or any(turn["text"] in REQUESTS for turn in turns):
            continue
        role, text = lines.pop()
        said = {"role": role, "text": text, "timestamp": turns[-1]["timestamp"]}
        sandbox.app.amend_call(record.id, disposition=record.outcome.disposition,
                               turns=[*turns, said])  # fmt: skip
    raise AssertionError(f"no completed call left to say {lines}")


def rules_file(synced: Synced, text: str, name: str = "rules.toml") -> str:
    path = synced.work / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def review(synced: Synced, *args: str, **env: str) -> Any:
    result = synced.cli("calls", "review", *args, **env)
    assert result.exit_code in (0, FINDINGS_EXIT), (result.exit_code, result.stderr)
    return result


def found(result: Any) -> dict[str, set[tuple[int, int | None]]]:
    """{rule: {(call, turn)}} from a review's JSON."""
    by_rule: dict[str, set[tuple[int, int | None]]] = {}
    for finding in json.loads(result.stdout):
        by_rule.setdefault(finding["rule"], set()).add((finding["callId"], finding["turn"]))
    return by_rule


# ---------------------------------------------------------------- the test's own matcher


def words(text: str) -> str:
    """Text as the rules say phrases are matched: accents and case gone, words between
    single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " " + " ".join(re.findall(r"\w+", plain)) + " "


def says(text: str, phrases: tuple[str, ...]) -> bool:
    return any(words(phrase) in words(text) for phrase in phrases)


def expected_disclosures(calls: list[dict[str, Any]]) -> set[tuple[int, int | None]]:
    """Calls where none of the agent's first two turns says a disclosure: at the agent's
    first turn, or at none in a COMPLETED call the agent said nothing in."""
    expected: set[tuple[int, int | None]] = set()
    for call in calls:
        agent = [i for i, turn in enumerate(call["turns"]) if turn["role"] == "AGENT"]
        if any(says(call["turns"][i]["text"], DISCLOSURES) for i in agent[:2]):
            continue
        if agent:
            expected.add((call["id"], agent[0]))
        elif call["status"] == "COMPLETED":
            expected.add((call["id"], None))
    return expected


def requests(calls: list[dict[str, Any]]) -> dict[int, tuple[int, int]]:
    """{call: (the turn of the caller's first request, the agent's turns after it)}."""
    asked = {}
    for call in calls:
        turns = call["turns"]
        for i, turn in enumerate(turns):
            if turn["role"] == "CALLER" and turn["text"] in REQUESTS:
                later = sum(t["role"] == "AGENT" for t in turns[i + 1 :])
                asked[call["id"]] = (i, later)
                break
    return asked


def expected_forbidden(
    calls: list[dict[str, Any]], phrases: tuple[str, ...], roles: set[str] | None
) -> set[tuple[int, int | None]]:
    return {
        (call["id"], i)
        for call in calls
        for i, turn in enumerate(call["turns"])
        if (roles is None or turn["role"] in roles) and says(turn["text"], phrases)
    }


def party(call: dict[str, Any]) -> str:
    return str(call["toNumber"] if call["direction"] == "OUTBOUND" else call["fromNumber"])


# ---------------------------------------------------------------- what is found


def test_the_default_rules_find_exactly_the_sandboxs_lapses(synced: Synced) -> None:
    result = review(synced, "-o", "json")
    assert result.exit_code == FINDINGS_EXIT
    by_rule = found(result)
    disclosures = expected_disclosures(synced.calls)
    asked = requests(synced.calls)
    talked_past = {(call, turn) for call, (turn, later) in asked.items() if later > 1}
    assert disclosures and talked_past and len(talked_past) < len(asked)
    assert by_rule == {"recording-disclosure": disclosures, "opt-out-honoured": talked_past}
    # Some calls were answered by no one: they said nothing, and are no finding.
    assert any(call["status"] != "COMPLETED" and not call["turns"] for call in synced.calls)
    total = len(disclosures) + len(talked_past)
    assert (
        f"reviewed {len(synced.calls)} calls: {total} findings (recording-disclosure "
        f"{len(disclosures)}, opt-out-honoured {len(talked_past)})"
    ) in result.stderr
    assert f"callers asked not to be called again in {len(asked)} calls" in result.stderr


def test_spanish_and_french_requests_are_recognised(synced: Synced) -> None:
    """The sandbox's callers ask in three languages; each such call is reviewed as one
    where the caller asked (the JSON of a review that keeps every request a finding)."""
    strict = rules_file(synced, '[[rules]]\nname = "any-request"\nkind = "opt-out"\n'
                        "within_turns = 0\n", "strict.toml")  # fmt: skip
    by_rule = found(review(synced, "--rules", strict, "-o", "json"))
    asked = requests(synced.calls)
    ended_with_goodbye = {call for call, (_, later) in asked.items() if later == 0}
    assert by_rule.get("any-request", set()) == {
        (call, turn) for call, (turn, later) in asked.items() if call not in ended_with_goodbye
    }
    # Which languages the newest seeded calls hold moves with the time of day (calls are
    # placed in calling hours): at least one non-English request is among them at any hour;
    # every phrase of each language is matched by the unit tests below.
    texts = {synced_turn(synced, call, turn) for call, (turn, _) in asked.items()}
    assert any("llam" in text or "appelez" in text for text in texts), texts


def synced_turn(synced: Synced, call_id: int, turn: int) -> str:
    call = next(call for call in synced.calls if call["id"] == call_id)
    return str(call["turns"][turn]["text"])


def test_forbidden_phrases_whoever_says_them_with_accents_and_punctuation(
    synced: Synced,
) -> None:
    result = review(synced, "--rules", rules_file(synced, RULES), "-o", "json")
    by_rule = found(result)
    calls = synced.calls
    expected = {
        "no-guarantees": expected_forbidden(calls, ("guaranteed approval", "risk free"), {"AGENT"}),
        "nobody-says-it": expected_forbidden(calls, ("risk free",), None),
        "credit": expected_forbidden(calls, ("crédit garanti",), {"AGENT"}),
        "regex": expected_forbidden(calls, ("credit garanti",), {"CALLER"}),
    }
    assert {rule: hits for rule, hits in expected.items() if hits} == by_rule
    # The sandbox says them both ways: the agent's are found, the caller's only by "any".
    assert expected["nobody-says-it"] - expected["no-guarantees"]
    assert expected["credit"] and expected["regex"]
    matches = {f["match"] for f in json.loads(result.stdout)}
    # The excerpt shows the words as said: the spaces, the case, the hyphen, the accents.
    assert {"Guaranteed   approval", "RISK FREE", "risk-free", "crédit garanti"} <= matches
    assert "CREDIT GARANTI" in matches  # `re:` ignores case and accents too


def test_without_a_finding_the_exit_code_is_0(synced: Synced) -> None:
    quiet = rules_file(synced, '[[rules]]\nname = "quiet"\nkind = "forbid"\n'
                       'phrases = ["zebrafinch"]\n', "quiet.toml")  # fmt: skip
    for fmt, stdout in (("json", "[]\n"), ("plain", ""), ("jsonl", "")):
        result = synced.cli("calls", "review", "--rules", quiet, "-o", fmt)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == stdout
        assert f"reviewed {len(synced.calls)} calls: 0 findings (quiet 0)" in result.stderr


def test_exit_18_is_documented_with_the_other_codes() -> None:
    assert FINDINGS_EXIT == 18 and "review" in EXIT_CODES[18]
    assert "18" in Cli()("calls", "review", "--help").stdout


def test_filters_narrow_the_calls_reviewed(synced: Synced) -> None:
    result = review(synced, "--agent", "12,14", "--status", "completed", "-o", "json")
    chosen = [c for c in synced.calls if c["agentId"] in (12, 14) and c["status"] == "COMPLETED"]
    assert found(result)["recording-disclosure"] == expected_disclosures(chosen)
    assert f"reviewed {len(chosen)} calls" in result.stderr
    inbound = review(synced, "--direction", "inbound", "-o", "json")
    ids = {call for hits in found(inbound).values() for call, _ in hits}
    assert ids and ids <= {c["id"] for c in synced.calls if c["direction"] == "INBOUND"}
    # A time window: the index is searched in the window's turns only (their ids follow
    # creation time), and finds there exactly what a review of those calls would.
    ordered = sorted(synced.calls, key=lambda c: c["createdAt"])
    since, until = ordered[-120]["createdAt"], ordered[-30]["createdAt"]
    window = [c for c in synced.calls if since <= c["createdAt"] < until]
    rules = rules_file(synced, rules_toml(DEFAULT_RULES) + RULES, "window.toml")
    result = review(synced, "--since", since, "--until", until, "--rules", rules, "-o", "json")
    assert f"reviewed {len(window)} calls" in result.stderr
    asked = requests(window)
    expected = {
        "recording-disclosure": expected_disclosures(window),
        "opt-out-honoured": {(c, turn) for c, (turn, later) in asked.items() if later > 1},
        "nobody-says-it": expected_forbidden(window, ("risk free",), None),
    }
    assert {k: v for k, v in found(result).items() if k in expected} == {
        k: v for k, v in expected.items() if v
    }


# ---------------------------------------------------------------- formats


def test_every_format_shows_the_same_findings(synced: Synced) -> None:
    documents = json.loads(review(synced, "-o", "json").stdout)
    keys = [(d["callId"], d["rule"], d["turn"]) for d in documents]
    assert {"callId", "rule", "turn", "speaker", "excerpt"} <= set(documents[0])
    assert len(keys) == len(set(keys))

    lines = [json.loads(line) for line in review(synced, "-o", "jsonl").stdout.splitlines()]
    assert lines == documents

    rows = list(csv.DictReader(io.StringIO(review(synced, "-o", "csv").stdout)))
    assert [(int(r["callId"]), r["rule"], int(r["turn"]) if r["turn"] else None)
            for r in rows] == keys  # fmt: skip

    plain = [line.split("\t") for line in review(synced).stdout.splitlines()]
    assert [(int(p[0]), p[3], int(p[4]) if p[4] else None) for p in plain] == keys
    request = next(d for d in documents if d["rule"] == "opt-out-honoured")
    row = next(p for p in plain if (int(p[0]), p[3]) == (request["callId"], request["rule"]))
    assert row[5] == "CALLER" and f"**{request['match']}**" in row[6]
    assert row[1] == request["createdAt"][:19] + "Z"

    table = review(synced, ZAZA_FORCE_TTY="1", COLUMNS="300", NO_COLOR="1").stdout
    assert "RULE" in table and "EXCERPT" in table
    assert table.count("opt-out-honoured") == sum(k[1] == "opt-out-honoured" for k in keys)
    assert request["match"] in table and "**" not in table
    # At 80 columns the excerpt has no room in a row: each finding is its line of facts
    # with the excerpt under it, every one shown (a table there had dropped them all).
    drawn = review(synced, ZAZA_FORCE_TTY="1", COLUMNS="80", NO_COLOR="1").stdout
    narrow = re.sub(r"\x1b\[[0-9;]*m", "", drawn)  # NO_COLOR keeps bold
    lines = narrow.splitlines()
    assert "EXCERPT" not in narrow and all(cell_len(line) <= 80 for line in lines)
    facts = [line for line in lines if re.match(r"\d+  ", line)]
    assert [(int(f.split()[0]), f"turn {turn}" in f) for f, (_, _, turn) in zip(
        facts, keys, strict=True)] == [(k[0], k[2] is not None) for k in keys]  # fmt: skip
    assert request["match"] in narrow and "**" not in narrow


def test_jq_and_template_read_the_findings_json(synced: Synced) -> None:
    documents = json.loads(review(synced, "-o", "json").stdout)
    ids = review(synced, "--jq", ".[].callId")
    assert ids.exit_code == FINDINGS_EXIT
    assert ids.stdout.split() == [str(d["callId"]) for d in documents]
    lines = review(synced, "--template", "{{ rule }} {{ turn }}").stdout.splitlines()
    assert lines == [f"{d['rule']} {d['turn'] if d['turn'] is not None else ''}".strip()
                     for d in documents]  # fmt: skip
    assert synced.cli("calls", "review", "--jq", ".", "-o", "csv").exit_code == 2


def test_the_json_document_is_what_json_dumps_writes(synced: Synced) -> None:
    """Written a finding at a time, the array reads as one document."""
    text = review(synced, "-o", "json").stdout
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- --apply


def dnc_list(synced: Synced | Cli, dnc: Path) -> list[list[str]]:
    cli = synced.cli if isinstance(synced, Synced) else synced
    result = cli("dnc", "list", "--dnc", str(dnc), "-o", "plain")
    assert result.exit_code == 0, result.stderr
    return [line.split("\t") for line in result.stdout.splitlines()]


def test_apply_lists_every_caller_who_asked_once(synced: Synced, tmp_path: Path) -> None:
    dnc = tmp_path / "dnc.sqlite3"
    asked = requests(synced.calls)
    by_id = {call["id"]: call for call in synced.calls}
    # Newest first: a number's reason is the newest call in which it was asked.
    numbers: dict[str, int] = {}
    for call in synced.calls:
        if call["id"] in asked:
            numbers.setdefault(party(by_id[call["id"]]), call["id"])
    assert any(by_id[c]["direction"] == "INBOUND" for c in asked)  # fromNumber, then

    dry = review(synced, "--dnc", str(dnc))
    assert f"{len(numbers)} numbers to add to the do-not-call list (--apply adds them)" in (
        dry.stderr
    )
    assert not dnc.exists() or dnc_list(synced, dnc) == []

    first = review(synced, "--apply", "--dnc", str(dnc))
    assert first.exit_code == FINDINGS_EXIT
    for number, call_id in numbers.items():
        assert f"{number}: added to the do-not-call list (asked in call {call_id})" in (
            first.stderr
        )
    listed = dnc_list(synced, dnc)
    assert sorted(row[0] for row in listed) == sorted(numbers)
    assert {(row[0], row[2], row[3]) for row in listed} == {
        (number, "transcript", f"call {call_id}") for number, call_id in numbers.items()
    }

    again = review(synced, "--apply", "--dnc", str(dnc))
    assert "added to the do-not-call list" not in again.stderr
    assert again.stderr.count("already on the do-not-call list") == len(numbers)
    assert dnc_list(synced, dnc) == listed
    later = review(synced, "--dnc", str(dnc))
    assert f"0 numbers to add to the do-not-call list; {len(numbers)} already listed" in (
        later.stderr
    )


def test_apply_fails_closed_when_the_list_cannot_be_written(synced: Synced, tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (x)")
    result = synced.cli("calls", "review", "--apply", "--dnc", str(other))
    assert result.exit_code == 17, result.stderr
    assert str(other) in result.stderr and "added" not in result.stderr
    assert result.stdout == ""  # nothing reviewed that could not be acted on
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"not a database at all" * 100)
    result = synced.cli("calls", "review", "--apply", "--dnc", str(corrupt))
    assert result.exit_code == 17 and "corrupt.sqlite3" in result.stderr


def crafted_call(call_id: int, created: str, **fields: Any) -> dict[str, Any]:
    """An ended inbound call whose caller asks not to be called again."""
    asked = [("CALLER", "Stop calling me."), ("AGENT", "Sorry. Goodbye.")]
    turns = [{"role": role, "text": text, "timestamp": created} for role, text in asked]
    call = {
        "id": call_id,
        "direction": "INBOUND",
        "status": "COMPLETED",
        "createdAt": created,
        "endedAt": created,
        "agentId": 14,
        "toNumber": "+14155550100",
        "turns": turns,
    }
    return {**call, **fields}  # fmt: skip


def serve(fault_server: FaultServer, calls: list[dict[str, Any]]) -> None:
    """A scripted API holding `calls` (one page), each with its transcript."""
    listed = [{k: v for k, v in call.items() if k != "turns"} for call in reversed(calls)]
    page = {"content": listed, "totalElements": len(listed), "totalPages": 1, "number": 0,
            "size": 100, "first": True, "last": True}  # fmt: skip
    by_id = {call["id"]: call for call in calls}

    def detail(request: Request) -> Reply:
        return Reply(200, by_id[int(request.route_path.rsplit("/", 1)[1])])

    fault_server.route("GET", "/api/v1/agents", 200, [{"id": 14, "name": "Marco"}])
    fault_server.route("GET", "/api/v1/calls", 200, page)
    fault_server.route("GET", "/api/v1/calls/*", answer=detail)


def test_apply_says_which_callers_it_could_not_list(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    """A request in a call whose direction or number is unusable is not skipped silently:
    a warning names the call, the other numbers are listed, and the exit code is 1."""
    calls = [
        crafted_call(1, "2026-11-20T10:00:00Z", fromNumber="+14155550177"),
        crafted_call(2, "2026-11-21T10:00:00Z", direction="SIDEWAYS"),
        crafted_call(3, "2026-11-22T10:00:00Z", fromNumber="not a number"),
    ]
    serve(fault_server, calls)
    dnc = tmp_path / "dnc.sqlite3"
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_crafted",
                   "ZAZA_ARCHIVE": str(tmp_path / "a.sqlite3")})  # fmt: skip
    assert cli("calls", "sync").exit_code == 0
    result = cli("calls", "review", "--apply", "--dnc", str(dnc))
    assert result.exit_code == 1, result.stderr
    assert "+14155550177: added to the do-not-call list (asked in call 1)" in result.stderr
    assert "call 2: the caller asked not to be called again, but the call does not say " in (
        result.stderr
    )
    assert "call 3: the caller asked not to be called again, but 'not a number' is not" in (
        result.stderr
    )
    assert "2 callers who asked not to be called again could not be put on the do-not-call" in (
        result.stderr
    )
    assert [row[0] for row in dnc_list(Cli(env=cli.env), dnc)] == ["+14155550177"]


def test_a_lone_surrogate_comes_back_as_the_api_sent_it(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    """Valid JSON (`\\ud83d`) that no UTF-8 text can hold, in a turn with a finding: JSON
    gives it back exactly, plain text shows it escaped."""
    said = "It is risk free " + HOSTILE["lone surrogate"] + HOSTILE["bidi isolate"]
    turns = [{"role": "AGENT", "text": said, "timestamp": "2026-11-20T10:00:00Z"}]
    serve(fault_server, [crafted_call(1, "2026-11-20T10:00:00Z", turns=turns)])
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_crafted",
                   "ZAZA_ARCHIVE": str(tmp_path / "a.sqlite3")})  # fmt: skip
    assert cli("calls", "sync").exit_code == 0
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nname = "r"\nkind = "forbid"\nphrases = ["risk free"]\n')
    result = cli("calls", "review", "--rules", str(rules), "-o", "json")
    assert result.exit_code == FINDINGS_EXIT, result.stderr
    assert [f["excerpt"] for f in json.loads(result.stdout)] == [
        "It is **risk free** " + HOSTILE["lone surrogate"] + HOSTILE["bidi isolate"]
    ]
    plain = cli("calls", "review", "--rules", str(rules)).stdout
    assert plain.endswith("\tIt is **risk free** \\ud83d\\u2067x\\u2069\n")
    assert_inert(plain, "plain")


# ---------------------------------------------------------------- hostile transcripts


HOSTILE_TURNS = [
    ("AGENT", "Hi " + HOSTILE["osc title"] + HOSTILE["markup link"] + HOSTILE["bidi override"]),
    ("CALLER", HOSTILE["csi clear"] + " Please STOP calling me" + HOSTILE["c1 csi"] + "\r\nEVIL"),
    ("AGENT", "But " + HOSTILE["osc 52 clipboard"] + " guaranteed approval " + HOSTILE["del"]),
    ("AGENT", HOSTILE["carriage return"] + HOSTILE["backspaces"] + "more"),
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Synced, int]]:
    """A sandbox where one ended call's transcript is full of escape sequences, synced."""
    work = tmp_path_factory.mktemp("hostile")
    with start_sandbox(SandboxConfig(**{**FAST, "calls": 30, "live_calls": False})) as sandbox:
        target = next(c for c in sandbox.app.calls if c.outcome.status == "COMPLETED")
        turns = [{"role": role, "text": text, "timestamp": "2026-11-26T14:03:16Z"}
                 for role, text in HOSTILE_TURNS]  # fmt: skip
        sandbox.app.amend_call(target.id, disposition="DO_NOT_CALL", turns=turns)
        state = Synced(sandbox, work)
        assert state.cli("calls", "sync").exit_code == 0
        yield state, target.id


@pytest.mark.parametrize("fmt", ["plain", "csv", "jsonl", "json", "table", "table-80"])
def test_hostile_transcripts_stay_inert_in_every_format(
    hostile: tuple[Synced, int], fmt: str
) -> None:
    synced, call_id = hostile
    rules = rules_file(synced, rules_toml(DEFAULT_RULES) + RULES, "hostile.toml")
    # A table at 250 columns; at 80, the findings as blocks (facts, the excerpt under them).
    columns = {"table": "250", "table-80": "80"}.get(fmt)
    env = {"ZAZA_FORCE_TTY": "1", "COLUMNS": columns} if columns else {}
    fmt = "table" if columns else fmt
    result = review(synced, "--rules", rules, *(() if fmt == "table" else ("-o", fmt)), **env)
    out = result.stdout.replace("\r\n", "\n") if fmt == "csv" else result.stdout
    assert_inert(out, fmt)
    assert_inert(result.stderr, "stderr")
    assert str(call_id) in out
    if fmt == "json":
        mine = [f for f in json.loads(out) if f["callId"] == call_id]
        assert {(f["rule"], f["turn"]) for f in mine} == {
            ("recording-disclosure", 0),
            ("opt-out-honoured", 1),
            ("no-guarantees", 2),
        }
        # JSON carries the text exactly (the escapes are JSON's).
        assert HOSTILE["osc title"] in next(f["excerpt"] for f in mine if f["turn"] == 0)
        assert next(f["match"] for f in mine if f["turn"] == 1) == "STOP calling"
    elif fmt in ("plain", "csv", "table"):
        assert "\\x1b]0;pwned\\x07" in out and "[link=file:///etc/passwd]" in out


# ---------------------------------------------------------------- rules files


BAD_RULES = [
    ('[[rules]]\nname = "a"\nkind = "forbid"\nphrases = ["x"\n', 4, "line 4"),
    ('[[rules]]\nname = "a"\nkind = "forbid"\nphrases = ["x"]\n\n[[rules]]\nname = "b"\n'
     'kind = "forbidden"\nphrases = ["y"]\n', 8, "kind is one of require, forbid, opt-out"),
    ('[[rules]]\nname = "a"\nkind = "require"\nspeaker = "agent"\n', 1, "needs phrases"),
    ('[[rules]]\nname = "a"\nkind = "forbid"\nphrases = ["fine", "re:(unclosed"]\n', 4,
     "is not a regular expression"),
    ("[[rules]]\nname = 'a'\nkind = 'forbid'\nphrases = [\n  'ok',\n  're:a**',\n]\n", 6,
     "is not a regular expression"),
    ('[[rules]]\nname = "a"\nkind = "forbid"\nphrases = ["re:x*"]\n', 4, "matches empty text"),
    ('[[rules]]\nname = "a"\nkind = "opt-out"\nphrases = ["stop"]\n', 4, "unknown key 'phrases'"),
    ('[[rules]]\nname = "a"\nkind = "forbid"\nspeaker = "bot"\nphrases = ["x"]\n', 4,
     "speaker is agent, caller or any"),
    ('[[rules]]\nname = "a"\nkind = "forbid"\nwithin_turns = 0\nphrases = ["x"]\n', 4,
     "within_turns is a whole number from 1"),
    ('[[rules]]\nname = "a"\nkind = "forbid"\nphrases = ["..."]\n', 4, "has no words"),
    ('[[rules]]\nname = "a"\nkind = "forbid"\nphrases = ["x"]\n[[rules]]\nname = "a"\n'
     'kind = "forbid"\nphrases = ["y"]\n', 6, "a second rule named 'a'"),
    ('title = "mine"\n[[rules]]\nname = "a"\nkind = "forbid"\nphrases = ["x"]\n', 1,
     "unknown key 'title'"),
    ("# nothing\n", 1, "no rules"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "problem"), BAD_RULES)
def test_a_rules_file_that_cannot_be_used_is_exit_2_naming_its_line(
    synced: Synced, text: str, line: int, problem: str
) -> None:
    path = rules_file(synced, text, "bad.toml")
    result = synced.cli("calls", "review", "--rules", path)
    assert result.exit_code == 2, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: {path}, line {line}: ") and problem in first, first
    assert "docs/review.md" in result.stderr
    assert result.stdout == ""


def test_a_missing_rules_file_and_no_archive(synced: Synced, tmp_path: Path) -> None:
    missing = synced.cli("calls", "review", "--rules", str(tmp_path / "nope.toml"))
    assert missing.exit_code == 2 and "no such rules file" in missing.stderr
    none = synced.cli("calls", "review", "--archive", str(tmp_path / "none.sqlite3"))
    assert none.exit_code == 3 and "zaza calls sync" in none.stderr


def test_the_default_rules_print_as_toml_that_reads_back_the_same(
    synced: Synced,
) -> None:
    shown = synced.cli("calls", "review", "--show-default-rules")
    assert shown.exit_code == 0, shown.stderr
    assert parse_rules(shown.stdout, "shown") == DEFAULT_RULES
    path = rules_file(synced, shown.stdout, "defaults.toml")
    assert review(synced, "--rules", path, "-o", "json").stdout == (
        review(synced, "-o", "json").stdout
    )
    both = synced.cli("calls", "review", "--show-default-rules", "--rules", path)
    assert both.exit_code == 2
    assert "--show-default-rules and --rules cannot be used together" in both.stderr


def test_sync_first_reviews_what_it_synced(tmp_path: Path) -> None:
    with start_sandbox(SandboxConfig(**{**FAST, "calls": 40, "live_calls": False})) as sandbox:
        cli = Cli(env={"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key})
        archive = str(tmp_path / "new.sqlite3")
        result = cli("calls", "review", "--sync", "--archive", archive, "-o", "json")
        assert result.exit_code in (0, FINDINGS_EXIT), result.stderr
        assert "synced: 40 new" in result.stderr and "reviewed 40 calls" in result.stderr
        assert found(result) == found(cli("calls", "review", "--archive", archive, "--json"))
        # The global --sandbox's archive lives for one command: nothing to review after it.
        assert cli("--sandbox", "calls", "review").exit_code == 2


def test_a_completed_call_without_a_word_from_the_agent_is_a_finding(tmp_path: Path) -> None:
    with start_sandbox(SandboxConfig(**{**FAST, "calls": 30, "live_calls": False})) as sandbox:
        completed = [c.id for c in sandbox.app.calls if c.outcome.status == "COMPLETED"]
        sandbox.app.amend_call(completed[0], disposition="RESOLVED", turns=[])
        only_caller = [{"role": "CALLER", "text": "Hello?", "timestamp": "2026-11-26T14:03:16Z"}]
        sandbox.app.amend_call(completed[1], disposition="RESOLVED", turns=only_caller)
        cli = Cli(env={"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key,
                       "ZAZA_ARCHIVE": str(tmp_path / "a.sqlite3")})  # fmt: skip
        assert cli("calls", "sync").exit_code == 0
        findings = json.loads(cli("calls", "review", "-o", "json").stdout)
        silent = [f for f in findings if f["callId"] in completed[:2]]
        assert {(f["callId"], f["turn"], f["speaker"]) for f in silent} == {
            (completed[0], None, None),
            (completed[1], None, None),
        }
        assert all(f["note"] == "COMPLETED, and the agent said nothing" for f in silent)


# ---------------------------------------------------------------- the matcher itself


@pytest.mark.parametrize(
    ("phrase", "text", "match"),
    [
        ("this call is recorded", "Hi. This call is… RECORDED, ok?", "This call is… RECORDED"),
        ("this call is recorded", "this  call\nis\t recorded", "this  call\nis\t recorded"),
        ("risk free", "totally risk-free!", "risk-free"),
        ("crédit garanti", "un CREDIT GARANTI", "CREDIT GARANTI"),
        ("credit garanti", "un crédit garanti", "crédit garanti"),
        ("credit garanti", "un cre\u0301dit garanti", "cre\u0301dit garanti"),
        ("strasse", "die Straße", "Straße"),
        ("ﬁnance", "our finance team", "finance"),
        ("don't call me", "Don’t call me.", "Don’t call me"),
        ("予約", "予約を木曜日に", "予約"),
        ("re:\\bguarantee\\w*\\s+approv", "GUARANTEED approval", "GUARANTEED approv"),
        ("re:credit\\s+garanti", "un CRÉDIT garanti", "CRÉDIT garanti"),
    ],
)
def test_phrases_match_whole_words_whatever_the_case_accents_and_punctuation(
    phrase: str, text: str, match: str
) -> None:
    found = compile_phrase(phrase).search(fold(text))
    assert found is not None
    start, stop = original_span(text, *found.span())
    assert text[start:stop] == match


@pytest.mark.parametrize(
    ("phrase", "text"),
    [
        ("risk free", "riskfree"),
        ("risk free", "risk freedom"),
        ("call", "recall"),
        ("this call is recorded", "this call is not recorded"),
        ("risk free", "risk_free"),  # `_` joins words
    ],
)
def test_phrases_do_not_match_inside_words_or_with_words_between(phrase: str, text: str) -> None:
    assert compile_phrase(phrase).search(fold(text)) is None


def test_an_excerpt_is_cut_between_words_around_the_match() -> None:
    text = " ".join(f"w{i}" for i in range(60)) + " risk free " + " ".join("x" * 60)
    start = text.index("risk free")
    parts = excerpt(text, (start, start + len("risk free")))
    assert [matched for _, matched in parts] == [False, True, False]
    assert parts[0][0].startswith("…w") and parts[1][0] == "risk free"
    assert parts[2][0].endswith("…") and len("".join(p for p, _ in parts)) < 130
    assert excerpt("short", None) == [("short", False)]


# The recogniser, and the index query that must find every turn it recognises.
OPT_OUTS = [
    "Stop.",
    "STOP!",
    "Stop, please.",
    "stop stop",
    "Unsubscribe",
    "OK. Opt out!",
    "Quit.",
    "Cancel.",
    "Please stop calling me.",
    "Stop phoning this number",
    "Don't call me again.",
    "Do not call me anymore, I'm busy",
    "Never call us again",
    "please dont call me.",
    "Take me off your list.",
    "Take my number off your calling list!",
    "Please remove my number.",
    "Remove me from your call list",
    "No more calls, thanks.",
    "Opt me out.",
    "I want to unsubscribe.",
    "I revoke my consent.",
    "No me llame más.",
    "no me llames mas por favor",
    "No me vuelva a llamar",
    "Dejen de llamarme.",
    "Quíteme de su lista.",
    "Ne m'appelez plus.",
    "ne me rappelez plus !",
    "Arrêtez de m’appeler !",
    "Retirez-moi de votre liste.",
]
NOT_OPT_OUTS = [
    "Can you stop by tomorrow?",
    "Don't stop now.",
    "It's the end of the month.",
    "I'd like to cancel my subscription.",
    "Don't call me at work.",
    "Can you call me back tomorrow afternoon?",
    "Thank you, please.",
    "Je vous appelle au sujet de votre contrat.",
    "Llámeme mañana.",
]


@pytest.mark.parametrize("text", OPT_OUTS)
def test_requests_not_to_be_called_again_are_recognised_and_indexed(text: str) -> None:
    assert request_span(fold(text)) is not None
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(text, tokenize='unicode61 remove_diacritics 2')")
    db.execute("INSERT INTO f VALUES (?)", (index_text(text),))
    assert db.execute("SELECT count(*) FROM f WHERE f MATCH ?", (index_query(),)).fetchone()[0]


@pytest.mark.parametrize("text", NOT_OPT_OUTS)
def test_other_sentences_are_not_requests(text: str) -> None:
    assert request_span(fold(text)) is None


def test_the_request_is_what_is_highlighted() -> None:
    text = "Okay. Stop, please. Bye"
    start, stop = original_span(text, *request_span(fold(text)) or (0, 0))
    assert text[start:stop] == "Stop"
    text = "Well… please, don't call me again, OK?"
    start, stop = original_span(text, *request_span(fold(text)) or (0, 0))
    assert text[start:stop] == "don't call me again"
