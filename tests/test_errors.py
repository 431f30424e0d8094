"""Bad input and bad servers: one clear line, a documented exit code, no traceback, no key."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

from conftest import Cli, FaultServer, Reply, Request, Sleeps, no_waiting, sized_pty

from zazacli.context import Timing

KEY = "zaza_test_secret_key_do_not_print_1234"


def fault_cli(server: FaultServer, sleeps: Sleeps | None = None) -> Cli:
    """The CLI against a fault server; its retries are seen in `sleeps`, not waited out."""
    return Cli(env={"ZAZA_BASE_URL": server.url, "ZAZA_API_KEY": KEY}, timing=no_waiting(sleeps))


def assert_clean_error(result: Any, code: int, *needles: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert KEY not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_missing_key_is_exit_4(bare_cli: Cli, sandbox: Any) -> None:
    result = bare_cli("agents", "list", ZAZA_BASE_URL=sandbox.base_url)
    assert_clean_error(result, 4, "no API key", "zaza profiles add")


KEYS_ARE_MADE = "keys are made in Dashboard → Settings → API Keys (a revoked key stops working"


def hint_lines(result: Any) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("hint: ")]


def test_wrong_key_is_exit_4_with_hint(sandbox: Any) -> None:
    cli = Cli(env={"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": KEY})
    result = cli("calls", "list")
    assert_clean_error(result, 4, "HTTP 401", "ZAZA_API_KEY", KEYS_ARE_MADE)
    [hint] = hint_lines(result)  # where the key is and where keys are made: one line
    assert hint.startswith("hint: check the key in ZAZA_API_KEY; keys are made")
    assert "wrong base URL" not in result.stderr


def test_wrong_key_in_profile_names_the_profile(bare_cli: Cli, sandbox: Any) -> None:
    added = bare_cli(
        "profiles", "add", "staging", "--no-verify", "--base-url", sandbox.base_url, input=KEY
    )
    assert added.exit_code == 0, added.stderr
    assert KEY not in added.output
    result = bare_cli("agents", "list")
    assert_clean_error(result, 4, "HTTP 401", "zaza profiles show staging", KEYS_ARE_MADE)


def test_unknown_profile_is_exit_2(cli: Cli) -> None:
    result = cli("--profile", "nope", "agents", "list")
    assert_clean_error(result, 2, "unknown profile 'nope'")


def test_unreachable_host_is_exit_6() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    cli = Cli(
        env={"ZAZA_BASE_URL": f"http://127.0.0.1:{port}/api/v1", "ZAZA_API_KEY": KEY},
        timing=Timing(sleep=sleeps, backoff=float),  # attempt n: n seconds, not jittered
    )
    result = cli("agents", "list")
    assert_clean_error(result, 6, "cannot connect", f"127.0.0.1:{port}", "after 5 tries")
    assert sleeps == [1.0, 2.0, 3.0, 4.0]  # backed off between the tries, as told
    assert "retrying in 4s (try 5)" in result.stderr


def test_429_storm_is_exit_5(fault_server: FaultServer) -> None:
    fault_server.route(
        "GET",
        "/api/v1/agents",
        429,
        {"status": 429, "message": "Too many requests"},
        headers={"Retry-After": "0"},
    )
    result = fault_cli(fault_server)("agents", "list")
    assert_clean_error(result, 5, "HTTP 429", "Too many requests")
    assert len(fault_server.requests) == 5  # bounded retries


def test_429_then_success_retries_transparently(fault_server: FaultServer) -> None:
    slow_down = Reply(429, {"message": "slow down"}, headers={"Retry-After": "0"})
    ok = Reply(200, [], headers={"Retry-After": "0"})
    fault_server.route("GET", "/api/v1/agents", responses=[slow_down, slow_down, ok])
    result = fault_cli(fault_server)("agents", "list", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert len(fault_server.requests) == 3


def test_retry_notice_when_waiting_a_second(fault_server: FaultServer) -> None:
    fault_server.route(
        "GET",
        "/api/v1/agents",
        responses=[
            Reply(503, "", headers={"Retry-After": "1"}),
            Reply(200, [], headers={"Retry-After": "1"}),
        ],
    )
    sleeps = Sleeps()
    result = fault_cli(fault_server, sleeps)("agents", "list", "--json")
    assert result.exit_code == 0
    assert sleeps == [1.0]  # the Retry-After, waited once
    assert "HTTP 503; retrying in 1s" in result.stderr


def test_500_with_html_body(fault_server: FaultServer) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>oops</h1></body></html>"
    fault_server.route("GET", "/api/v1/agents", 500, page, content_type="text/html")
    result = fault_cli(fault_server)("agents", "list")
    assert_clean_error(result, 1, "HTTP 500", "502 Bad Gateway")
    assert "<html>" not in result.stderr


def test_spring_error_message_is_shown(fault_server: FaultServer) -> None:
    body = {
        "timestamp": "2026-11-26T14:03:11Z",
        "status": 404,
        "error": "Not Found",
        "message": "Call 123 not found",
        "path": "/api/v1/calls/123",
    }
    fault_server.route("GET", "/api/v1/calls/123", 404, body)
    result = fault_cli(fault_server)("calls", "show", "123")
    assert_clean_error(result, 3, "HTTP 404: Call 123 not found")


def test_empty_and_plain_text_error_bodies(fault_server: FaultServer) -> None:
    fault_server.route("GET", "/api/v1/agents", 403, b"")
    assert_clean_error(fault_cli(fault_server)("agents", "list"), 4, "HTTP 403: Forbidden")
    fault_server.route(
        "GET", "/api/v1/agents", 400, "bad things happened\nmore", content_type="text/plain"
    )
    assert_clean_error(fault_cli(fault_server)("agents", "list"), 2, "bad things happened")


def test_a_redirect_is_never_followed_and_says_so(fault_server: FaultServer) -> None:
    """307 with an empty body: not "expected a list … got NoneType", not an empty success;
    where it points is said, the key is not sent there."""
    elsewhere = "https://other.example/api/v1/agents"
    for path in ("/api/v1/agents", "/api/v1/calls"):
        fault_server.route("GET", path, 307, b"", headers={"Location": elsewhere})
    cli = fault_cli(fault_server)
    for args in (("agents", "list"), ("calls", "list"), ("api", "/agents")):
        result = cli(*args)
        assert_clean_error(
            result, 1, f"the API answered 307 → {elsewhere}; zaza does not follow redirects"
        )
        assert result.stdout == ""
    doctor = cli("doctor")
    assert doctor.exit_code == 1
    assert "answered 307" in doctor.stdout and "✓ auth" not in doctor.stdout
    assert len(fault_server.requests) >= 4  # every one to the fault server, none elsewhere


def test_a_dispatch_answered_with_a_redirect_is_looked_up_not_resent(
    fault_server: FaultServer,
) -> None:
    """303 See Other after a POST may point at the call it created: never taken for a
    refusal (that would let a retry dial again); it is looked up in GET /calls."""

    fault_server.route(
        "POST", "/api/v1/calls/outbound", 303, b"", headers={"Location": "/api/v1/calls/777"}
    )
    empty = {"content": [], "totalElements": 0, "totalPages": 0, "number": 0, "size": 100}
    fault_server.route("GET", "/api/v1/calls", 200, {**empty, "first": True, "last": True})
    result = fault_cli(fault_server)(
        "calls", "dispatch", "--from", "+14155550100", "--to", "+14155550124", "--agent", "12",
        "--allow-quiet-hours", ZAZA_RECONCILE_WAIT="0", ZAZA_MAX_CALLS_PER_NUMBER="off",
    )  # fmt: skip
    assert_clean_error(result, 6, "the outcome of the call to +14155550124 is unknown")
    assert "answered 303" in result.stderr
    assert sum(1 for r in fault_server.requests if r["method"] == "POST") == 1


def test_200_that_is_not_json(fault_server: FaultServer) -> None:
    fault_server.route(
        "GET", "/api/v1/agents", 200, "<html>login page</html>", content_type="text/html"
    )
    result = fault_cli(fault_server)("agents", "list")
    assert_clean_error(result, 1, "not JSON", "text/html")


def test_page_whose_content_is_not_a_list(fault_server: FaultServer) -> None:
    fault_server.route("GET", "/api/v1/calls", 200, {"content": {"oops": 1}, "last": True})
    result = fault_cli(fault_server)("calls", "list")
    assert_clean_error(result, 1, "'content' is not a list")


def test_tolerant_reader_accepts_bare_array_and_cursor_pages(fault_server: FaultServer) -> None:
    pages = {
        None: {"data": [{"id": 1, "status": "COMPLETED"}], "nextCursor": "abc"},
        "abc": {"data": [{"id": 2, "weird": {"x": 1}}], "nextCursor": None},
    }

    fault_server.route(
        "GET",
        "/api/v1/calls",
        answer=lambda request: Reply(200, pages[request.query.get("cursor")]),
    )
    result = fault_cli(fault_server)("calls", "list", "--all", "--jsonl")
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1, 2]
    # Missing optional fields never crash the table either.
    table = fault_cli(fault_server)("calls", "list", ZAZA_FORCE_TTY="1")
    assert table.exit_code == 0, table.stderr


def test_pagination_follows_what_the_server_says(fault_server: FaultServer) -> None:
    """The server caps size at 2; the client must walk by the page numbers it returns."""

    def answer(request: Request) -> Reply:
        page = int(request.query["page"])
        items = [{"id": 100 - (page * 2 + i)} for i in range(2)]
        return Reply(200, {"content": items, "number": page, "size": 2, "last": page == 2})

    fault_server.route("GET", "/api/v1/calls", answer=answer)
    result = fault_cli(fault_server)("calls", "list", "--all", "--jsonl")
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [
        100,
        99,
        98,
        97,
        96,
        95,
    ]
    assert all("Bearer " + KEY == r["headers"]["Authorization"] for r in fault_server.requests)
    assert all(r["headers"]["User-Agent"].startswith("zazacli/") for r in fault_server.requests)


def test_plain_http_to_remote_host_is_refused(bare_cli: Cli) -> None:
    result = bare_cli(
        "agents", "list", ZAZA_BASE_URL="http://api.example.com/api/v1", ZAZA_API_KEY=KEY
    )
    assert_clean_error(result, 2, "plain HTTP", "--allow-insecure-http")


def test_corrupt_config_is_reported_and_kept(bare_cli: Cli, isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True)
    path = isolated_env / "config.toml"
    garbage = 'default = "prod"\n[profiles.prod\napi_key = "zaza_x"\n'
    path.write_text(garbage)
    result = bare_cli("agents", "list")
    assert_clean_error(result, 2, str(path), "line 2")
    added = bare_cli("profiles", "add", "other", "--no-verify", input="zaza_test_abc")
    assert added.exit_code == 2
    assert path.read_text() == garbage


def test_debug_log_never_shows_the_key(fault_server: FaultServer) -> None:
    fault_server.route("GET", "/api/v1/calls/5", 500, {"message": "boom"})
    result = fault_cli(fault_server)("--debug", "calls", "show", "5")
    assert result.exit_code == 1
    assert "debug: > GET" in result.stderr
    assert KEY not in result.stderr + result.stdout


def test_401_from_a_base_url_without_v1_is_a_wrong_base_url(fault_server: FaultServer) -> None:
    """The dashboard's own routes (/api/agents) use a JWT login: a key refused there is fine."""

    fault_server.route("GET", "/api/v1/agents", 200, [])
    fault_server.route(
        "GET",
        "/api/agents",
        answer=lambda r: Reply(401, {"status": 401, "error": "Unauthorized", "path": r["path"]}),
    )
    without_v1 = fault_server.url.removesuffix("/v1")  # http://127.0.0.1:PORT/api
    result = Cli(env={"ZAZA_BASE_URL": without_v1, "ZAZA_API_KEY": KEY})("agents", "list")
    assert_clean_error(
        result,
        4,
        "HTTP 401",
        f"wrong base URL? {without_v1} does not end in /v1",
        "the dashboard's own routes use a different login",
        f"e.g. {without_v1}/v1",
    )
    assert KEYS_ARE_MADE not in result.stderr and len(hint_lines(result)) == 1
    assert [r["path"].split("?")[0] for r in fault_server.requests] == ["/api/agents"]
    # The suggested base URL works with the very same key.
    fixed = Cli(env={"ZAZA_BASE_URL": f"{without_v1}/v1", "ZAZA_API_KEY": KEY})("agents", "list")
    assert fixed.exit_code == 0, fixed.stderr


def test_401_from_a_v1_base_url_is_about_the_key(fault_server: FaultServer) -> None:
    fault_server.route("GET", "/api/v1/agents", 401, {"message": "Invalid API key"})
    result = fault_cli(fault_server)("agents", "list")
    assert_clean_error(result, 4, "HTTP 401: Invalid API key", "ZAZA_API_KEY", KEYS_ARE_MADE)
    assert "wrong base URL" not in result.stderr


def test_503_with_an_absurd_retry_after_gives_up_at_once(fault_server: FaultServer) -> None:
    fault_server.route(
        "GET",
        "/api/v1/agents",
        503,
        {"message": "maintenance"},
        headers={"Retry-After": "1000000000"},
    )
    started = time.monotonic()
    result = fault_cli(fault_server)("agents", "list")
    assert_clean_error(result, 1, "HTTP 503: maintenance")
    assert time.monotonic() - started < 3
    assert len(fault_server.requests) == 1


def test_oversized_answer_to_zaza_api_is_exit_1(fault_server: FaultServer) -> None:
    # `zaza api` prints bodies as they came, but only up to the cap too.
    fault_server.route("GET", "/api/v1/agents", 200, b" " * (64 * 1024 * 1024 + 1))
    result = fault_cli(fault_server)("api", "GET", "/agents")
    assert_clean_error(result, 1, "the API sent more than 64 MiB for GET /agents; stopped")
    assert result.stdout == ""


# ---------------------------------------------------------------- colour


def stderr_on_a_terminal(server: FaultServer, *args: str, **env: str) -> str:
    """What `zaza ARGS` shows with its stderr on a real pseudo-terminal (stdout discarded)."""
    import os
    import subprocess
    import sys

    from conftest import REPO

    leader, follower = sized_pty(columns=200)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "zazacli", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower, cwd=REPO,
            env={**os.environ, "ZAZA_BASE_URL": server.url, "ZAZA_API_KEY": KEY, **env},
        )  # fmt: skip
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child has closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
    finally:
        os.close(leader)
    # The terminal turns each \n into \r\n (onlcr).
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_error_lines_are_red_only_for_a_person(fault_server: FaultServer) -> None:
    fault_server.route("GET", "/api/v1/agents", 401, {"message": "Invalid API key"})
    coloured = stderr_on_a_terminal(fault_server, "agents", "list")
    assert coloured.startswith("\x1b[31merror:\x1b[0m HTTP 401: Invalid API key\nhint: ")
    for plain in (
        stderr_on_a_terminal(fault_server, "--no-color", "agents", "list"),
        stderr_on_a_terminal(fault_server, "agents", "list", NO_COLOR="1"),
    ):
        lines = plain.splitlines()
        assert lines[0] == "error: HTTP 401: Invalid API key", plain
        assert lines[1].startswith("hint: ") and len(lines) == 2
        assert "\x1b[" not in plain
