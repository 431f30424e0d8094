"""Filters that take several values (`--status failed,no_answer`, `--agent 12 --agent 14`)
on every command that reads calls: any of the values, asked of the API one value a request,
merged newest first without duplicates; the archive answers the same."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from conftest import api_get, tsv

from zazacli.api.listing import merge_scans


def ids_of(jsonl: str) -> list[int]:
    return [json.loads(line)["id"] for line in jsonl.splitlines() if line]


def everything(sandbox: Any) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    page = 0
    while True:
        data = api_get(sandbox, "calls", size=100, page=page, sort="createdAt,desc")
        calls += data["content"]
        if data["last"]:
            return calls
        page += 1


@pytest.mark.parametrize(
    "words",
    [
        ["--status", "failed", "--status", "no_answer"],
        ["--status", "failed,no_answer"],
        ["--status", "FAILED, no-answer", "--status", "failed"],
    ],
    ids=["repeated", "commas", "mixed-and-repeated-value"],
)
def test_several_statuses_list_any_of_them_newest_first(
    cli: Any, sandbox: Any, words: list[str]
) -> None:
    result = cli("calls", "list", "--all", "--jsonl", *words)
    assert result.exit_code == 0, result.stderr
    calls = [json.loads(line) for line in result.stdout.splitlines()]
    expected = [c for c in everything(sandbox) if c["status"] in ("FAILED", "NO_ANSWER")]
    assert {c["status"] for c in expected} == {"FAILED", "NO_ANSWER"}
    assert [c["id"] for c in calls] == [c["id"] for c in expected]
    created = [c["createdAt"] for c in calls]
    assert created == sorted(created, reverse=True)


def test_each_request_asks_for_one_value(cli: Any, sandbox: Any) -> None:
    result = cli("--debug", "calls", "list", "--all", "--json", "--status", "failed,no_answer")
    assert result.exit_code == 0, result.stderr
    asked = re.findall(r"> GET \S+/calls (\{.*\})", result.stderr)
    assert asked, result.stderr
    statuses = {re.search(r"'status': '(\w+)'", line).group(1) for line in asked}  # type: ignore[union-attr]
    assert statuses == {"FAILED", "NO_ANSWER"}
    assert all("'status'" in line for line in asked)


def test_several_agents_and_directions(cli: Any, sandbox: Any) -> None:
    calls = everything(sandbox)
    agents = sorted({c["agentId"] for c in calls if c.get("agentId") is not None})[:2]
    assert len(agents) == 2
    result = cli(
        "calls", "list", "--all", "--jsonl",
        "--agent", f"{agents[0]},{agents[1]}", "--direction", "inbound", "--direction", "outbound",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    expected = [c["id"] for c in calls if c.get("agentId") in agents]
    assert ids_of(result.stdout) == expected


def test_a_limit_takes_the_newest_of_the_merged_list(cli: Any, sandbox: Any) -> None:
    expected = [c["id"] for c in everything(sandbox) if c["status"] in ("BUSY", "COMPLETED")]
    result = cli("calls", "list", "--limit", "5", "--jsonl", "--status", "busy,completed")
    assert ids_of(result.stdout) == expected[:5]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--status", ""),
        ("--status", "failed,"),
        ("--status", "failed,,busy"),
        ("--agent", ""),
        ("--agent", "12,x"),
        ("--agent", "-3"),
        ("--agent", "12,99999999999999999999"),
        ("--direction", "inbound,sideways"),
    ],
)
def test_a_bad_or_empty_value_is_a_usage_error(cli: Any, option: str, value: str) -> None:
    result = cli("calls", "list", option, value)
    assert result.exit_code == 2
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and option in errors[0], result.stderr


def test_stats_count_every_value(cli: Any, sandbox: Any) -> None:
    failed = cli("calls", "stats", "--json", "--status", "failed")
    no_answer = cli("calls", "stats", "--json", "--status", "no_answer")
    both = cli("calls", "stats", "--json", "--status", "failed,no_answer")
    assert both.exit_code == 0, both.stderr
    total = [json.loads(r.stdout)["total"] for r in (failed, no_answer, both)]
    assert total[2] == total[0] + total[1] > 0
    assert json.loads(both.stdout)["filters"]["status"] == ["FAILED", "NO_ANSWER"]
    assert json.loads(failed.stdout)["filters"]["status"] == "FAILED"


def test_the_archive_answers_as_the_api_does(cli: Any, tmp_path: Any) -> None:
    archive = str(tmp_path / "archive.sqlite3")
    assert cli("calls", "sync", "--archive", archive).exit_code == 0
    words = ["--status", "failed,busy", "--agent", "1,2,3,4,5,6,7,8,9,10,11,12,13,14"]
    live = cli("calls", "list", "--all", "--jsonl", *words)
    local = cli("calls", "list", "--all", "--jsonl", "--local", "--archive", archive, *words)
    assert live.exit_code == local.exit_code == 0, local.stderr
    assert ids_of(local.stdout) == ids_of(live.stdout) != []
    stats = cli("calls", "stats", "--json", "--local", "--archive", archive, *words)
    assert json.loads(stats.stdout)["total"] == len(ids_of(live.stdout))


def test_sync_of_several_values_keeps_exactly_those(cli: Any, sandbox: Any, tmp_path: Any) -> None:
    archive = str(tmp_path / "archive.sqlite3")
    result = cli("calls", "sync", "--archive", archive, "--status", "failed,no_answer")
    assert result.exit_code == 0, result.stderr
    held = cli("calls", "list", "--all", "--local", "--archive", archive, "--fields", "status")
    assert sorted(set(held.stdout.split())) == ["FAILED", "NO_ANSWER"]
    expected = [c for c in everything(sandbox) if c["status"] in ("FAILED", "NO_ANSWER")]
    assert len(tsv(held.stdout)) == len(expected)


def test_search_and_tail_take_several_values(cli: Any, tmp_path: Any) -> None:
    archive = str(tmp_path / "archive.sqlite3")
    assert cli("calls", "sync", "--archive", archive).exit_code == 0
    words = ["--archive", archive, "--status", "completed,failed"]
    found = cli("calls", "search", "the", "--json", "--limit", "50", *words)
    assert found.exit_code == 0, found.stderr
    allowed = set(ids_of(cli("calls", "list", "--all", "--jsonl", "--local", *words).stdout))
    hits = {hit["call_id"] for hit in json.loads(found.stdout)}
    assert hits and hits <= allowed
    tail = cli("calls", "tail", "--status", "failed,busy", "--last", "6", "--max-events", "6")
    assert tail.exit_code == 0, tail.stderr
    events = [json.loads(line) for line in tail.stdout.splitlines()]
    assert len(events) == 6
    assert {e["call"]["status"] for e in events} == {"FAILED", "BUSY"}
    assert "status=FAILED,BUSY" in tail.stderr


def test_merge_keeps_a_call_seen_twice_once() -> None:
    """A call that changed status between two requests is in both answers: shown once."""
    failed = [
        {"id": 3, "createdAt": "2026-11-03T00:00:00Z"},
        {"id": 1, "createdAt": "2026-11-01T00:00:00Z"},
    ]
    busy = [
        {"id": 3, "createdAt": "2026-11-03T00:00:00Z"},
        {"id": 2, "createdAt": "2026-11-02T00:00:00Z"},
    ]
    merged = merge_scans([iter(failed), iter(busy)])  # type: ignore[list-item]
    assert [c["id"] for c in merged] == [3, 2, 1]
