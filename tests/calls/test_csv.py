"""`--csv` on the list commands: RFC 4180, a header, dotted nested fields, stable columns, UTF-8,
streamed with --all; checked by parsing the bytes back with the stdlib reader."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
from typing import Any

import pytest
from conftest import REPO, Cli, FaultServer, Reply, Request, Zaza

from zazacli.output.formats.csv import flatten

CALL_FIELDS = [
    "id",
    "direction",
    "status",
    "fromNumber",
    "toNumber",
    "agentId",
    "campaignId",
    "createdAt",
    "startedAt",
    "endedAt",
    "durationSeconds",
    "disposition",
    "failureReason",
]
NASTY = 'Zoë "the closer", 東京 — ✓\nsecond line\r\nthird'


def parse(data: bytes) -> list[list[str]]:
    """What a spreadsheet (or any RFC 4180 reader) sees."""
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def fault_cli(fault_server: FaultServer) -> Cli:
    return Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_x"})


def page(items: list[dict[str, Any]], number: int = 0, last: bool = True) -> dict[str, Any]:
    return {"content": items, "number": number, "size": 100, "last": last, "first": number == 0}


def call(call_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": call_id,
        "direction": "OUTBOUND",
        "status": "COMPLETED",
        "fromNumber": "+14155550100",
        "toNumber": "+14155550123",
        "agentId": 12,
        "campaignId": None,
        "createdAt": "2026-11-26T14:03:11Z",
        "durationSeconds": 107,
        "variables": {"NAME": "Alex"},
        **fields,
    }


def test_calls_csv_known_columns_first_then_unknown(cli: Cli, sandbox: Any) -> None:
    as_json = [
        json.loads(line)
        for line in cli("calls", "list", "--jsonl", "--limit", "60").stdout.splitlines()
    ]
    result = cli("calls", "list", "--csv", "--limit", "60")
    assert result.exit_code == 0
    rows = parse(result.stdout_bytes)
    header = rows[0]
    assert header[: len(CALL_FIELDS)] == CALL_FIELDS
    variables = [h for h in header if h.startswith("variables.")]
    assert variables and header.index("recordingUrl") == len(CALL_FIELDS) + len(variables)
    assert header[len(CALL_FIELDS) : len(CALL_FIELDS) + len(variables)] == variables
    assert "sentiment" in header[header.index("recordingUrl") + 1 :]  # unknown, kept, last
    assert "turns" not in header and "variables" not in header
    assert len(rows) == 61 and all(len(r) == len(header) for r in rows)
    for row, item in zip(rows[1:], as_json, strict=True):
        flat = flatten(item)
        for name, cell in zip(header, row, strict=True):
            value = flat.get(name)
            assert cell == ("" if value is None else str(value)), name
    assert result.stdout_bytes.endswith(b"\r\n")


def test_csv_quotes_commas_newlines_and_non_ascii(
    fault_server: FaultServer,
) -> None:
    crafted = call(
        1,
        disposition=NASTY,
        variables={"NAME": NASTY, "AMOUNT": "1,000", "EMPTY": ""},
        isVip=True,
        tags=["a", "b,c"],
        extra={"nested": {"deep": 'x"y'}},
        turns=[{"role": "AGENT", "text": "never in a CSV"}],
    )
    fault_server.route("GET", "/api/v1/calls", 200, page([crafted, call(2, variables={})]))
    result = fault_cli(fault_server)("calls", "list", "--csv")
    assert result.exit_code == 0, result.stderr
    rows = parse(result.stdout_bytes)
    header = rows[0]
    record = dict(zip(header, rows[1], strict=True))
    assert record["disposition"] == NASTY  # quotes, comma, LF and CRLF, non-ASCII intact
    assert record["variables.NAME"] == NASTY
    assert record["variables.AMOUNT"] == "1,000" and record["variables.EMPTY"] == ""
    assert record["isVip"] == "true" and json.loads(record["tags"]) == ["a", "b,c"]
    assert record["extra.nested.deep"] == 'x"y'
    assert record["startedAt"] == "" and "turns" not in header
    second = dict(zip(header, rows[2], strict=True))
    assert second["id"] == "2" and second["variables.NAME"] == ""
    assert len(rows) == 3
    raw = result.stdout_bytes
    assert raw.startswith(b"id,direction,status,") and raw.count(b'"') % 2 == 0
    assert b'"Zo\xc3\xab ""the closer"", \xe6\x9d\xb1\xe4\xba\xac' in raw  # RFC 4180 quoting


def test_csv_header_comes_from_the_first_page_later_fields_warned(
    fault_server: FaultServer,
) -> None:
    first = [call(i) for i in range(1, 101)]
    first[4]["early"] = "seen on page 1"
    second = [call(i) for i in range(101, 151)]
    second[10]["late"] = "too late"
    second[11]["variables"] = {"NAME": "Bo", "CASE": "C-1"}

    def answer(request: Request) -> Reply:
        number = int(request.query["page"])
        return Reply(200, page(first, 0, False) if number == 0 else page(second, 1, True))

    fault_server.route("GET", "/api/v1/calls", answer=answer)
    result = fault_cli(fault_server)("calls", "list", "--csv", "--all")
    assert result.exit_code == 0, result.stderr
    rows = parse(result.stdout_bytes)
    header = rows[0]
    assert header[-1] == "early" and "late" not in header and "variables.CASE" not in header
    assert len(rows) == 151
    assert dict(zip(header, rows[5], strict=True))["early"] == "seen on page 1"
    assert "2 field(s) first seen after row 100" in result.stderr
    assert "late" in result.stderr and "variables.CASE" in result.stderr
    assert "--jsonl" in result.stderr


def test_csv_empty_list_is_just_the_header(cli: Cli) -> None:
    result = cli("calls", "list", "--csv", "--until", "1999-01-01")
    assert result.exit_code == 0
    assert parse(result.stdout_bytes) == [CALL_FIELDS + ["recordingUrl"]]


def test_agents_and_campaigns_csv(cli: Cli) -> None:
    agents = json.loads(cli("agents", "list", "--json").stdout)
    rows = parse(cli("agents", "list", "--csv").stdout_bytes)
    known = ["id", "name", "personality", "voiceType", "isActive", "greetingMessage"]
    assert rows[0][:6] == known and "language" in rows[0][6:]
    assert [r[1] for r in rows[1:]] == [a["name"] for a in agents]
    assert {r[4] for r in rows[1:]} == {"true", "false"}

    campaigns = cli("campaigns", "list", "--csv")
    rows = parse(campaigns.stdout_bytes)
    header = rows[0]
    assert header[:7] == [
        "id",
        "name",
        "status",
        "agentId",
        "fromNumber",
        "createdAt",
        "totalLeads",
    ]
    stats = [h for h in header if h.startswith("leadStats.")]
    assert "leadStats.REACHED" in stats
    assert header[7 + len(stats) : 10 + len(stats)] == [
        "callingHours.start",
        "callingHours.end",
        "callingHours.timezone",
    ]
    assert all(len(r) == len(header) for r in rows)


def test_csv_streams_with_all(fault_server: FaultServer) -> None:
    """The header and the first page are out before the last page is even asked for."""
    release, answered_last = threading.Event(), threading.Event()

    def answer(request: Request) -> Reply:
        number = int(request.query["page"])
        if number == 2:
            release.wait(10)
            answered_last.set()  # the last page's answer leaves now, not before
        items = [call(number * 100 + i) for i in range(100)]
        return Reply(200, page(items, number, number == 2))

    fault_server.route("GET", "/api/v1/calls", answer=answer)
    env = {"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_x"}
    with Zaza("calls", "list", "--csv", "--all", env=env, text=False) as zaza:
        assert zaza.stdout is not None
        try:
            # The header and the first two pages, while the last page is held back.
            zaza.stdout.until(lambda line: len(zaza.stdout.seen) == 201, 20)
            assert not answered_last.is_set()
        finally:
            release.set()
        code, out, _ = zaza.finish(30)
    assert code == 0
    early = zaza.stdout.seen
    assert early[0].startswith(b"id,") and early[100].startswith(b"99,")
    assert len(parse(out)) == 301


@pytest.mark.parametrize("encoding", ["latin-1", "ascii"])
def test_csv_is_utf8_whatever_the_locale(fault_server: FaultServer, encoding: str) -> None:
    fault_server.route("GET", "/api/v1/calls", 200, [call(1, disposition=NASTY)])
    env = {
        **os.environ,
        "ZAZA_BASE_URL": fault_server.url,
        "ZAZA_API_KEY": "zaza_test_x",
        "PYTHONIOENCODING": encoding,
    }
    done = subprocess.run(
        [sys.executable, "-m", "zazacli", "calls", "list", "--csv"],
        env=env, cwd=REPO, capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = parse(done.stdout)
    assert dict(zip(rows[0], rows[1], strict=True))["disposition"] == NASTY


# ---------------------------------------------------------------- formulas (OWASP CSV injection)

FORMULAS = {
    '=HYPERLINK("https://evil.example","click")': '\'=HYPERLINK("https://evil.example","click")',
    "@SUM(A1:A9)": "'@SUM(A1:A9)",
    "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0",
    "\t=1+1": "'\t=1+1",
    "\r=1+1": "'\\r=1+1",  # a raw CR is shown as text (never a control code in a CSV)
    "+": "'+",
    "-": "'-",
    "- follow up": "'- follow up",
    "+1 415 555 0100": "'+1 415 555 0100",  # not a plain number: a formula to Excel
}
PLAIN = ["+14155550100", "-3", "-1.5", "+2.5e3", "-.5", "3", "a=b", "x@y.example", "", "Zoë"]


def test_csv_neutralises_formulas_and_keeps_numbers(fault_server: FaultServer) -> None:
    values = {f"V{i}": text for i, text in enumerate([*FORMULAS, *PLAIN])}
    crafted = call(1, disposition="=1+1", variables=values, durationSeconds=-3, score=-1.5)
    fault_server.route("GET", "/api/v1/calls", 200, page([crafted]))
    result = fault_cli(fault_server)("calls", "list", "--csv")
    assert result.exit_code == 0, result.stderr
    rows = parse(result.stdout_bytes)
    record = dict(zip(rows[0], rows[1], strict=True))
    for i, text in enumerate([*FORMULAS, *PLAIN]):
        expected = FORMULAS.get(text, text)
        assert record[f"variables.V{i}"] == expected, (text, record[f"variables.V{i}"])
    assert record["disposition"] == "'=1+1"
    assert record["toNumber"] == "+14155550123" and record["fromNumber"] == "+14155550100"
    assert record["durationSeconds"] == "-3" and record["score"] == "-1.5"
    # --json keeps the exact values: the prefix is only for spreadsheets.
    exact = fault_cli(fault_server)("calls", "list", "--json")
    assert json.loads(exact.stdout)[0]["variables"] == values


def test_csv_header_names_are_neutralised_too(fault_server: FaultServer) -> None:
    crafted = call(1, variables={"=cmd": "x"}, **{"@evil": "y"})
    fault_server.route("GET", "/api/v1/calls", 200, page([crafted]))
    result = fault_cli(fault_server)("calls", "list", "--csv")
    header = parse(result.stdout_bytes)[0]
    assert "variables.=cmd" in header and "'@evil" in header
