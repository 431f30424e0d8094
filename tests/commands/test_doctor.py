"""`zaza doctor` against the sandbox as it is, and as servers that read the contract otherwise."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import Cli, FaultServer, no_waiting


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
    assert set(not_ok) == {"POST /calls/outbound", "rate-limit headers", "TLS"}, not_ok
    # Plain HTTP to this machine: no TLS to vouch for, and no ✓ claims one.
    assert found["TLS"]["detail"] == "none: plain HTTP to this machine (a local sandbox?)"
    assert found["base URL"]["detail"] == f"{running.base_url} ends in /v1 (plain HTTP, no TLS)"
    # Each paging check says the page size it asked for.
    assert found["GET /calls shape"]["detail"].endswith("pages of 40 (size=40 asked)")
    assert found["page size"]["detail"] == "size=100 honoured"
    assert found["page"]["detail"] == "page 1 follows page 0 with other calls (size=5)"
    assert report["stopped"] is None
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


def test_a_refused_key_is_exit_4_and_says_so(make_sandbox: Callable[..., Any]) -> None:
    running = make_sandbox()
    cli = Cli(env={"ZAZA_BASE_URL": running.base_url, "ZAZA_API_KEY": "zaza_test_wrong"})
    result = cli("doctor")
    assert result.exit_code == 4, result.output
    assert result.stdout.splitlines()[:4] == [
        f"✓ base URL: {running.base_url} ends in /v1 (plain HTTP, no TLS)",
        "✓ reachable: the server answers (GET /agents: an error, below)",
        "? TLS: none: plain HTTP to this machine (a local sandbox?)",
        "✗ auth: HTTP 401: Invalid or missing API key",
    ]
    assert "differs from what zaza assumes" not in result.stderr
    error = result.stderr.splitlines()[-2]
    assert error == "error: the API refused the key: HTTP 401: Invalid or missing API key"
    assert "stopped before the API itself could be checked" in result.stderr
    assert "zaza_test_wrong" not in result.output


@pytest.mark.parametrize("status", [401, 403])
def test_a_server_that_refuses_the_key_is_exit_4(fault_server: FaultServer, status: int) -> None:
    refusal = {"status": status, "error": "Unauthorized", "message": "API key revoked"}
    fault_server.route("GET", "/api/v1/agents", status, refusal)
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_revoked"})
    result = cli("doctor", "--json")
    assert result.exit_code == 4, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["stopped"] == {
        "error": f"the API refused the key: HTTP {status}: API key revoked",
        "exitCode": 4,
    }
    assert result.stderr.startswith(f"error: the API refused the key: HTTP {status}")
    assert [r.route_path for r in fault_server.requests] == ["/api/v1/agents"]  # not retried


def test_no_key_is_exit_4_and_nothing_is_said_about_the_server(fault_server: FaultServer) -> None:
    result = Cli(env={"ZAZA_BASE_URL": fault_server.url})("doctor")
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr.splitlines()[0] == "error: no API key configured"
    assert fault_server.requests == []


def test_an_unreachable_host_is_exit_6_and_nothing_claims_a_connection(
    dead_port: int,
) -> None:
    base_url = f"http://127.0.0.1:{dead_port}/api/v1"
    cli = Cli(env={"ZAZA_BASE_URL": base_url, "ZAZA_API_KEY": "zaza_test_x"}, timing=no_waiting())
    result = cli("doctor")
    assert result.exit_code == 6, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"✓ base URL: {base_url} ends in /v1 (plain HTTP, no TLS)"
    assert lines[1].startswith(f"✗ reachable: cannot connect to 127.0.0.1:{dead_port}")
    assert [line for line in lines if line.startswith("✓")] == [lines[0], lines[-1]]
    assert lines[-1].startswith("✓ contact policy")  # read on this machine, not the API's
    assert "TLS verified" not in result.output and "auth" not in result.stdout
    error = result.stderr.splitlines()[-2]
    assert error.startswith("error: the API cannot be reached: cannot connect to 127.0.0.1:")
    as_json = json.loads(cli("doctor", "--json").stdout)
    assert as_json["stopped"]["exitCode"] == 6 and as_json["ok"] is False


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A loopback port bound but not listening: every connection to it is refused."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_doctor_lines_fold_between_words(sandbox: Any, columns: int) -> None:
    """Each line folds at spaces, continued under its text; a single word wider than the
    screen (a file path) is the only thing a terminal may still break."""
    from conftest import Terminal
    from rich.cells import cell_len

    env = {"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key}
    code, text = Terminal("doctor", columns=columns, env=env).finish()
    assert code == 0, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) > 15
    for line in lines:
        assert cell_len(line) <= columns or " " not in line.strip(), (columns, line)
    words = " ".join(line.strip() for line in lines)
    assert "filter startDate: honoured (startDate=" in words
