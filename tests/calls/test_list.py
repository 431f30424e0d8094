"""`zaza calls list` against a real sandbox: filters, limits, `--since` forms, formats."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Cli, FaultServer, api_get, tsv


def test_calls_list_piped_prints_every_call(cli: Any, sandbox: Any) -> None:
    total = api_get(sandbox, "calls", size=1)["totalElements"]
    result = cli("calls", "list")
    assert result.exit_code == 0
    rows = tsv(result.stdout)
    assert len(rows) == total
    ids = [int(r[0]) for r in rows]
    assert len(set(ids)) == total
    # Newest first, RFC 3339 UTC times.
    created = [r[1] for r in rows]
    assert created == sorted(created, reverse=True)
    assert all(c.endswith("Z") and "T" in c for c in created)


def test_calls_list_limit_and_all_jsonl(cli: Any, sandbox: Any) -> None:
    total = api_get(sandbox, "calls", size=1)["totalElements"]
    limited = cli("calls", "list", "--limit", "7", "--jsonl")
    assert len(limited.stdout.splitlines()) == 7
    everything = cli("calls", "list", "--all", "--jsonl")
    items = [json.loads(line) for line in everything.stdout.splitlines()]
    assert len(items) == total
    first_page = api_get(sandbox, "calls", size=100)["content"]
    assert items[:100] == first_page


def test_calls_list_terminal_defaults_to_20(cli: Any) -> None:
    result = cli("calls", "list", ZAZA_FORCE_TTY="1")
    assert result.exit_code == 0
    assert "ID" in result.stdout and "STATUS" in result.stdout
    assert "showing the newest 20" in result.stderr


def test_calls_list_status_filter_case_insensitive(cli: Any, sandbox: Any) -> None:
    expected = api_get(sandbox, "calls", status="NO_ANSWER", size=100)["totalElements"]
    result = cli("calls", "list", "--status", "no_answer")
    rows = tsv(result.stdout)
    assert len(rows) == expected > 0
    assert {r[3] for r in rows} == {"NO_ANSWER"}


def test_calls_list_unknown_status_lists_valid_ones(cli: Any) -> None:
    result = cli("calls", "list", "--status", "exploded")
    assert result.exit_code == 2
    assert "exploded" in result.stderr and "completed" in result.stderr
    assert result.stdout == ""


def test_calls_list_direction_agent_and_since(cli: Any, sandbox: Any) -> None:
    agent = api_get(sandbox, "agents")[0]["id"]
    result = cli("calls", "list", "--direction", "INBOUND", "--agent", str(agent), "--jsonl")
    items = [json.loads(line) for line in result.stdout.splitlines()]
    assert items and all(i["direction"] == "INBOUND" and i["agentId"] == agent for i in items)
    recent = cli("calls", "list", "--since", "2d", "--jsonl")
    older = cli("calls", "list", "--until", "2d", "--jsonl")
    n_recent, n_older = len(recent.stdout.splitlines()), len(older.stdout.splitlines())
    assert n_recent > 0 and n_older > 0
    assert n_recent + n_older == api_get(sandbox, "calls", size=1)["totalElements"]


def since_form(form: str, now: datetime) -> tuple[str, datetime]:
    """(what the user types, the instant it means, worked out here): dates and `today` are
    local time; the date and the instant are ten days back, inside the seeded month."""
    midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    day = (now - timedelta(days=10)).date()
    return {
        "today": ("today", midnight),
        "yesterday": ("yesterday", midnight - timedelta(days=1)),
        "3h": ("3h", now - timedelta(hours=3)),
        "1w": ("1w", now - timedelta(weeks=1)),
        "date": (day.isoformat(), datetime(day.year, day.month, day.day).astimezone()),
        "instant": (
            f"{day.isoformat()}T00:00:00Z",
            datetime(day.year, day.month, day.day, tzinfo=UTC),
        ),
    }[form]


def all_calls(sandbox: Any) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    page = 0
    while True:
        data = api_get(sandbox, "calls", size=100, page=page)
        calls += data["content"]
        if data["last"]:
            return calls
        page += 1


@pytest.mark.parametrize("form", ["today", "yesterday", "3h", "1w", "date", "instant"])
def test_since_forms_return_the_calls_created_since_then(cli: Any, sandbox: Any, form: str) -> None:
    value, since = since_form(form, datetime.now(UTC))
    result = cli("calls", "list", "--since", value, "--all", "--jsonl")
    assert result.exit_code == 0, result.stderr
    got = {json.loads(line)["id"] for line in result.stdout.splitlines()}
    everything = all_calls(sandbox)
    created = {c["id"]: datetime.fromisoformat(c["createdAt"]) for c in everything}
    # A call within two seconds of a relative boundary may fall either side of it.
    near = {i for i, at in created.items() if abs((at - since).total_seconds()) < 2}
    assert got - near == {i for i, at in created.items() if at >= since} - near
    if form in ("1w", "date", "instant"):
        assert 0 < len(got) < len(everything)  # the boundary cuts the history


def test_unparseable_since_is_exit_2(cli: Any) -> None:
    result = cli("calls", "list", "--since", "last tuesday-ish")
    assert result.exit_code == 2
    assert "--since" in result.stderr and "last tuesday-ish" in result.stderr


def test_empty_result_is_exit_0_and_empty_json_array(cli: Any) -> None:
    result = cli("calls", "list", "--until", "1999-01-01", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    piped = cli("calls", "list", "--until", "1999-01-01")
    assert piped.exit_code == 0 and piped.stdout == ""


def test_terminal_default_limit_applies_to_json_too(cli: Any) -> None:
    on_terminal = cli("calls", "list", "--json", ZAZA_FORCE_TTY="1")
    assert len(json.loads(on_terminal.stdout)) == 20
    assert "showing the newest 20" in on_terminal.stderr
    piped = cli("calls", "list", "--json")
    assert len(json.loads(piped.stdout)) > 20 and piped.stderr == ""


# ---------------------------------------------------------------- OUTCOME: the table only

FAILED = {
    "id": 3, "direction": "OUTBOUND", "status": "FAILED", "fromNumber": "+14155550100",
    "toNumber": "+14155550120", "agentId": 12, "createdAt": "2026-11-26T14:03:11Z",
    "durationSeconds": 0, "disposition": None, "failureReason": "carrier rejected",
}  # fmt: skip
ANSI = re.compile(r"\x1b\[[0-9;]*m")
DONE = {**FAILED, "id": 4, "status": "COMPLETED", "durationSeconds": 107,
        "disposition": "INTERESTED", "failureReason": None}  # fmt: skip


def test_scripts_read_disposition_and_failure_reason_by_name_not_the_tables_outcome(
    fault_server: FaultServer,
) -> None:
    """The table's OUTCOME (the disposition, else the failure reason) is for people: plain
    lines, CSV, JSON and --fields print each API field by its own name, as before."""
    page = {"content": [DONE, FAILED], "number": 0, "size": 100, "last": True}
    fault_server.route("GET", "/api/v1/calls", 200, page)
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_outcome"})
    plain = cli("calls", "list", "-o", "plain", "--header")
    assert plain.exit_code == 0, plain.stderr
    assert plain.stdout.splitlines() == [
        "ID\tCREATED\tDIRECTION\tSTATUS\tFROM\tTO\tAGENT\tDURATION\tDISPOSITION",
        "4\t2026-11-26T14:03:11Z\tOUTBOUND\tCOMPLETED\t+14155550100\t+14155550120\t12\t107"
        "\tINTERESTED",
        "3\t2026-11-26T14:03:11Z\tOUTBOUND\tFAILED\t+14155550100\t+14155550120\t12\t0\t",
    ]
    assert json.loads(cli("calls", "list", "--json").stdout) == [DONE, FAILED]
    rows = list(csv.DictReader(io.StringIO(cli("calls", "list", "--csv").stdout)))
    assert [(r["disposition"], r["failureReason"]) for r in rows] == [
        ("INTERESTED", ""), ("", "carrier rejected"),
    ]  # fmt: skip
    fields = cli("calls", "list", "--fields", "id,disposition", "-o", "plain")
    assert fields.stdout.splitlines() == ["4\tINTERESTED", "3\t"]
    table = cli(
        "calls", "list", "--fields", "id,disposition",
        ZAZA_FORCE_TTY="1", NO_COLOR="1", COLUMNS="80",
    )  # fmt: skip
    assert [line.split() for line in ANSI.sub("", table.stdout).splitlines()] == [
        ["ID", "DISPOSITION"], ["4", "INTERESTED"], ["3", "-"],
    ]  # fmt: skip
    drawn = cli("calls", "list", ZAZA_FORCE_TTY="1", NO_COLOR="1", COLUMNS="120")
    assert [line.split()[-1] for line in ANSI.sub("", drawn.stdout).splitlines()] == [
        "OUTCOME", "INTERESTED", "rejected",
    ]  # fmt: skip
