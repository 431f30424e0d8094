"""`zaza api`: the raw escape hatch, against the sandbox and scripted fault servers."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import LOOPBACK, Cli, FaultServer, Reply, Request

KEY = "zaza_test_api_command_key"


@pytest.fixture
def fault_cli(fault_server: FaultServer) -> Cli:
    return Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": KEY})


def raw_get(sandbox: Any, path: str) -> bytes:
    response = LOOPBACK.get(
        f"{sandbox.base_url}/{path}", headers={"Authorization": f"Bearer {sandbox.api_key}"}
    )
    response.raise_for_status()
    return response.content


def query_of(request: dict[str, Any]) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request["path"]).query, keep_blank_values=True)


# ---------------------------------------------------------------- reading


def test_get_piped_prints_the_servers_json_as_received(cli: Cli, sandbox: Any) -> None:
    result = cli("api", "GET", "/agents")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == raw_get(sandbox, "agents") + b"\n"


def test_a_lone_path_means_get_and_method_is_case_insensitive(cli: Cli, sandbox: Any) -> None:
    expected = raw_get(sandbox, "agents/12") + b"\n"
    assert cli("api", "agents/12").stdout_bytes == expected
    assert cli("api", "get", "/agents/12").stdout_bytes == expected
    # The public docs write paths as /v1/…; the base URL already ends in /api/v1.
    assert cli("api", "GET", "/v1/agents/12").stdout_bytes == expected


def test_terminal_output_is_indented(cli: Cli, sandbox: Any) -> None:
    result = cli("api", "GET", "agents/12", ZAZA_FORCE_TTY="1", NO_COLOR="1")
    assert result.exit_code == 0
    expected = json.dumps(json.loads(raw_get(sandbox, "agents/12")), indent=2, ensure_ascii=False)
    assert result.stdout == expected + "\n"


def test_query_in_path_and_fields_become_query_parameters(
    fault_cli: Cli, fault_server: FaultServer
) -> None:
    fault_server.route("GET", "/api/v1/calls", 200, {"content": [], "last": True})
    result = fault_cli("api", "GET", "calls?status=FAILED&size=5", "-f", "agentId=12")
    assert result.exit_code == 0, result.stderr
    (request,) = fault_server.requests
    assert urlsplit(request["path"]).path == "/api/v1/calls"
    assert query_of(request) == {"status": ["FAILED"], "size": ["5"], "agentId": ["12"]}
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    assert json.loads(result.stdout) == {"content": [], "last": True}


def test_paginate_streams_every_item_of_every_page(cli: Cli, sandbox: Any) -> None:
    total = json.loads(raw_get(sandbox, "calls?size=1"))["totalElements"]
    result = cli("api", "GET", "calls", "--paginate")
    assert result.exit_code == 0, result.stderr
    items = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(items) == total > 100  # more than one page
    assert len({item["id"] for item in items}) == total
    failed = cli("api", "GET", "calls", "-f", "status=FAILED", "--paginate")
    statuses = {json.loads(line)["status"] for line in failed.stdout.splitlines()}
    assert statuses == {"FAILED"}


def test_paginate_of_a_single_object_is_an_error(cli: Cli) -> None:
    result = cli("api", "GET", "agents/12", "--paginate")
    assert result.exit_code == 1
    assert "list" in result.stderr
    assert result.stdout == ""


def test_non_json_body_is_printed_as_text(fault_cli: Cli, fault_server: FaultServer) -> None:
    fault_server.route("GET", "/api/v1/ping", 200, "pong\n", content_type="text/plain")
    result = fault_cli("api", "GET", "/ping")
    assert result.exit_code == 0
    assert result.stdout == "pong\n"


def test_include_prints_status_line_and_headers_on_stderr(
    fault_cli: Cli, fault_server: FaultServer
) -> None:
    fault_server.route("GET", "/api/v1/agents", 200, {"ok": True}, headers={"X-Trace": "abc"})
    result = fault_cli("api", "GET", "/agents", "-i")
    assert result.exit_code == 0
    assert result.stderr.startswith("HTTP/1.1 200 OK\n")
    assert "X-Trace: abc" in result.stderr
    assert json.loads(result.stdout) == {"ok": True}


# ---------------------------------------------------------------- writing


def test_post_fields_build_a_typed_json_body(fault_cli: Cli, fault_server: FaultServer) -> None:
    fault_server.route("POST", "/api/v1/calls/outbound", 201, {"id": 1, "status": "QUEUED"})
    result = fault_cli(
        "api",
        "POST",
        "/calls/outbound",
        "-f", "fromNumber=+14155550100",
        "-f", "agentId=12",
        "-f", "dryRun=false",
        "-f", "note=null",
        "-f", 'caseId="0042"',
        "-f", "variables[NAME]=Alex",
        "-f", "variables[AMOUNT]=5000",
        "-f", "tags[]=vip",
        "-f", "tags[]=renewal",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (request,) = fault_server.requests
    assert request["method"] == "POST"
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"]) == {
        "fromNumber": "+14155550100",
        "agentId": 12,
        "dryRun": False,
        "note": None,
        "caseId": "0042",
        "variables": {"NAME": "Alex", "AMOUNT": 5000},
        "tags": ["vip", "renewal"],
    }
    assert json.loads(result.stdout) == {"id": 1, "status": "QUEUED"}


def test_post_dispatches_a_call_on_the_sandbox(cli: Cli, sandbox: Any) -> None:
    result = cli(
        "api", "POST", "calls/outbound",
        "-f", "fromNumber=+14155550100", "-f", "toNumber=+14155550124", "-f", "agentId=12",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    call = json.loads(result.stdout)
    assert call["toNumber"] == "+14155550124" and call["agentId"] == 12
    assert json.loads(raw_get(sandbox, f"calls/{call['id']}"))["id"] == call["id"]


def test_input_file_is_sent_as_is(
    fault_cli: Cli, fault_server: FaultServer, tmp_path: Path
) -> None:
    body = b'{"fromNumber": "+14155550100",\n "agentId": 12}'
    path = tmp_path / "body.json"
    path.write_bytes(body)
    fault_server.route("POST", "/api/v1/calls/outbound", 201, {"id": 2})
    result = fault_cli("api", "POST", "calls/outbound", "--input", str(path), "-f", "dry=1")
    assert result.exit_code == 0, result.stderr
    (request,) = fault_server.requests
    assert request["body"] == body
    assert request["headers"]["Content-Type"] == "application/json"
    assert query_of(request) == {"dry": ["1"]}  # with --input, fields go to the query


def test_input_from_stdin(fault_cli: Cli, fault_server: FaultServer) -> None:
    fault_server.route("POST", "/api/v1/calls/outbound", 201, {"id": 3})
    result = fault_cli("api", "POST", "calls/outbound", "--input", "-", input='{"agentId": 12}')
    assert result.exit_code == 0, result.stderr
    assert json.loads(fault_server.requests[0]["body"]) == {"agentId": 12}


def test_input_that_is_not_json_sends_nothing(
    fault_cli: Cli, fault_server: FaultServer, tmp_path: Path
) -> None:
    path = tmp_path / "body.json"
    path.write_text("{'agentId': 12}")
    result = fault_cli("api", "POST", "calls/outbound", "--input", str(path))
    assert result.exit_code == 2
    assert "not JSON" in result.stderr
    missing = fault_cli("api", "POST", "calls/outbound", "--input", str(tmp_path / "nope.json"))
    assert missing.exit_code == 2
    assert fault_server.requests == []


def test_extra_headers_are_sent_but_authorization_is_not_replaceable(
    fault_cli: Cli, fault_server: FaultServer
) -> None:
    fault_server.route("GET", "/api/v1/agents", 200, [])
    ok = fault_cli("api", "GET", "agents", "-H", "Idempotency-Key: abc-123", "-H", "X-Test:1")
    assert ok.exit_code == 0, ok.stderr
    headers = fault_server.requests[0]["headers"]
    assert headers["Idempotency-Key"] == "abc-123" and headers["X-Test"] == "1"
    refused = fault_cli("api", "GET", "agents", "-H", "authorization: Bearer zaza_other")
    assert refused.exit_code == 2
    assert "Authorization" in refused.stderr
    bad = fault_cli("api", "GET", "agents", "-H", "no colon here")
    assert bad.exit_code == 2
    assert len(fault_server.requests) == 1


# ---------------------------------------------------------------- safety and errors


def test_post_is_sent_once_even_when_the_server_answers_503(
    fault_cli: Cli, fault_server: FaultServer
) -> None:
    fault_server.route(
        "POST",
        "/api/v1/calls/outbound",
        503,
        {"message": "try later"},
        headers={"Retry-After": "0"},
    )
    result = fault_cli("api", "POST", "calls/outbound", "-f", "agentId=12")
    assert result.exit_code == 1
    assert [r["method"] for r in fault_server.requests] == ["POST"]
    assert "HTTP 503" in result.stderr and "try later" in result.stderr


def test_get_is_retried_after_a_503(fault_cli: Cli, fault_server: FaultServer) -> None:
    fault_server.route(
        "GET",
        "/api/v1/agents",
        responses=[Reply(n, {"n": n}, headers={"Retry-After": "0"}) for n in (503, 200)],
    )
    result = fault_cli("api", "GET", "agents")
    assert result.exit_code == 0, result.stderr
    assert len(fault_server.requests) == 2
    assert json.loads(result.stdout) == {"n": 200}


@pytest.mark.slow
def test_post_whose_answer_is_lost_is_not_resent(fault_cli: Cli, fault_server: FaultServer) -> None:
    release = threading.Event()

    def slow(request: Request) -> Reply:
        release.wait(10)  # answers only once the client has given up (long ago: the point)
        return Reply(201, {"id": 4})

    fault_server.route("POST", "/api/v1/calls/outbound", answer=slow)
    try:
        result = fault_cli("--timeout", "0.3", "api", "POST", "calls/outbound", "-f", "agentId=12")
    finally:
        release.set()
    assert result.exit_code == 6
    assert len(fault_server.requests) == 1
    assert "no answer came" in result.stderr


@pytest.mark.parametrize(("status", "code"), [(404, 3), (401, 4), (422, 2), (500, 1), (429, 5)])
def test_error_statuses_map_to_exit_codes(
    fault_cli: Cli, fault_server: FaultServer, status: int, code: int
) -> None:
    fault_server.route(
        "GET",
        "/api/v1/calls/1",
        status,
        {"message": f"status {status}"},
        headers={"Retry-After": "0"},
    )
    result = fault_cli("api", "GET", "calls/1")
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert f"HTTP {status}" in result.stderr
    assert "Traceback" not in result.stderr


def test_not_found_on_the_sandbox_is_exit_3(cli: Cli) -> None:
    result = cli("api", "GET", "agents/999999")
    assert result.exit_code == 3
    assert "Agent 999999 not found" in result.stderr


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/api/v1/agents",
        "//evil.example/api/v1/agents",
        "http://127.0.0.1:1/api/v1/agents",  # same host, another port
    ],
)
def test_absolute_urls_to_another_host_are_refused(
    fault_cli: Cli, fault_server: FaultServer, target: str
) -> None:
    result = fault_cli("api", "GET", target)
    assert result.exit_code == 2
    assert "refusing to send the API key" in result.stderr
    assert fault_server.requests == []


@pytest.mark.parametrize(
    "target",
    [
        "/../../../x",
        "calls/../../x",
        "/%2e%2e/%2E%2E/x",
        "{base}/../../x",  # an absolute URL that starts below the base and climbs out
    ],
)
def test_dot_segments_never_take_the_key_above_the_base_url(
    fault_cli: Cli, fault_server: FaultServer, target: str
) -> None:
    result = fault_cli("api", "GET", target.format(base=fault_server.url))
    assert result.exit_code == 2, result.stderr
    assert "refusing to send the API key" in result.stderr
    assert "climbs above the base URL" in result.stderr
    assert fault_server.requests == []


def test_dot_segments_inside_the_base_url_are_resolved(
    fault_cli: Cli, fault_server: FaultServer
) -> None:
    fault_server.route("GET", "/api/v1/agents", 200, [])
    result = fault_cli("api", "GET", "calls/./../agents")
    assert result.exit_code == 0, result.stderr
    assert fault_server.requests[0]["path"] == "/api/v1/agents"


def test_an_absolute_url_below_the_base_url_is_accepted(
    fault_cli: Cli, fault_server: FaultServer
) -> None:
    fault_server.route("GET", "/api/v1/agents/12", 200, {"id": 12})
    result = fault_cli("api", "GET", f"{fault_server.url}/agents/12?x=1")
    assert result.exit_code == 0, result.stderr
    assert fault_server.requests[0]["path"] == "/api/v1/agents/12?x=1"
    outside = fault_cli("api", "GET", fault_server.url.replace("/api/v1", "/admin"))
    assert outside.exit_code == 2


@pytest.mark.parametrize(
    "args",
    [
        ("FETCH", "agents"),
        ("POST",),
        ("POST", "agents", "--paginate"),
        ("GET", "agents", "--input", "-"),
        ("POST", "agents", "-f", "novalue"),
        ("POST", "agents", "-f", "a=1", "-f", "a[b]=2"),
    ],
)
def test_usage_errors_send_nothing(
    fault_cli: Cli, fault_server: FaultServer, args: tuple[str, ...]
) -> None:
    result = fault_cli("api", *args, input="{}")
    assert result.exit_code == 2, result.output
    assert fault_server.requests == []


def test_no_key_is_exit_4_before_anything_is_sent(fault_server: FaultServer) -> None:
    result = Cli(env={"ZAZA_BASE_URL": fault_server.url})("api", "GET", "agents")
    assert result.exit_code == 4
    assert fault_server.requests == []
