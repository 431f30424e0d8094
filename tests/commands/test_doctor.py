"""`zaza doctor` against the sandbox as it is, and as servers that read the contract otherwise."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from conftest import Cli


def doctor(make_sandbox: Callable[..., Any], *quirks: str, json_out: bool = True) -> Any:
    running = make_sandbox(quirks=quirks)
    cli = Cli(env={"ZAZA_BASE_URL": running.base_url, "ZAZA_API_KEY": running.api_key})
    result = cli("doctor", "--json") if json_out else cli("doctor")
    return running, result


def checks(result: Any) -> dict[str, dict[str, Any]]:
    report = json.loads(result.stdout)
    return {check["name"]: check for check in report["checks"]}


def test_all_as_assumed_against_the_sandbox(make_sandbox: Callable[..., Any]) -> None:
    running, result = doctor(make_sandbox)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["baseUrl"] == running.base_url
    found = checks(result)
    not_ok = {name: c for name, c in found.items() if c["status"] != "ok"}
    # Doctor only reads, so a dispatch can never be shown to work: that one line stays "?".
    assert set(not_ok) == {"POST /calls/outbound", "rate-limit headers"}, not_ok
    for name in (
        "filter direction",
        "filter status",
        "filter agentId",
        "filter startDate",
        "filter endDate",
        "sort",
        "page",
        "server clock",
        "auth",
    ):
        assert found[name]["status"] == "ok", found[name]
    assert abs(report["clockOffsetSeconds"]) < 2


def test_text_output_one_line_per_assumption_and_no_key(make_sandbox: Callable[..., Any]) -> None:
    running, result = doctor(make_sandbox, "ignore-dates", json_out=False)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "✓ auth: the key is accepted (GET /agents answered 200)" in lines
    ignored = [line for line in lines if line.startswith("✗ filter startDate: ignored")]
    assert len(ignored) == 1
    follow = lines[lines.index(ignored[0]) + 1]
    assert follow.startswith("    → zaza checks every call client-side")
    assert running.api_key not in result.output
    assert "can work correctly against this API" in result.stderr


@pytest.mark.parametrize(
    ("quirk", "name"),
    [
        ("ignore-dates", "filter startDate"),
        ("ignore-dates", "filter endDate"),
        ("ignore-filters", "filter direction"),
        ("ignore-filters", "filter status"),
        ("ignore-filters", "filter agentId"),
    ],
)
def test_ignored_filters_are_named_and_coped_with(
    make_sandbox: Callable[..., Any], quirk: str, name: str
) -> None:
    _, result = doctor(make_sandbox, quirk)
    assert result.exit_code == 0, result.output
    found = checks(result)
    assert found[name]["status"] == "differs"
    assert found[name]["detail"].startswith("ignored")
    assert found[name]["fatal"] is False


def test_oldest_first_with_page_counts_is_coped_with(make_sandbox: Callable[..., Any]) -> None:
    _, result = doctor(make_sandbox, "oldest-first")
    assert result.exit_code == 0, result.output
    sort = checks(result)["sort"]
    assert (sort["status"], sort["fatal"]) == ("differs", False)
    assert "last pages first" in sort["action"]


def test_oldest_first_bare_array_cannot_work(make_sandbox: Callable[..., Any]) -> None:
    _, result = doctor(make_sandbox, "oldest-first", "bare-array")
    assert result.exit_code == 1, result.output
    found = checks(result)
    assert found["GET /calls shape"]["detail"] == "a bare array"
    assert found["sort"]["fatal"] is True
    assert json.loads(result.stdout)["ok"] is False
    assert "error: the API differs from what zaza assumes" in result.stderr


def test_stuck_page_cannot_work(make_sandbox: Callable[..., Any]) -> None:
    _, result = doctor(make_sandbox, "stuck-page")
    assert result.exit_code == 1, result.output
    page = checks(result)["page"]
    assert (page["status"], page["fatal"]) == ("differs", True)


def test_page_cap_and_clock_skew_are_measured(make_sandbox: Callable[..., Any]) -> None:
    running, result = doctor(make_sandbox, "page-cap=25", "clock-skew=-300")
    assert result.exit_code == 0, result.output
    found = checks(result)
    assert found["page size"]["detail"] == "capped at 25 (asked 100)"
    assert found["server clock"]["status"] == "differs"
    offset = json.loads(result.stdout)["clockOffsetSeconds"]
    assert -302 < offset < -298


def test_unknown_statuses_are_listed(make_sandbox: Callable[..., Any]) -> None:
    _, result = doctor(make_sandbox, "unknown-status")
    assert result.exit_code == 0, result.output
    statuses = checks(result)["statuses"]
    assert statuses["status"] == "differs"
    assert "VOICEMAIL" in statuses["detail"]


def test_bad_key_is_one_blocking_line(make_sandbox: Callable[..., Any]) -> None:
    running = make_sandbox()
    cli = Cli(env={"ZAZA_BASE_URL": running.base_url, "ZAZA_API_KEY": "zaza_test_wrong"})
    result = cli("doctor")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1].startswith("✗ auth: HTTP 401")
    assert "zaza_test_wrong" not in result.output
