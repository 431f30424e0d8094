"""A hostile API server cannot make zaza hang, grow without bound or crash: bodies are
capped, each request has a total deadline, JSON is bounded in depth and standard (no NaN),
scans are capped in pages, and an absurd Retry-After ends a command (or a batch) at once
with when to come back. All over real sockets, against scripted servers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from conftest import DROP, Cli, FaultServer, Reply, Request, no_waiting

KEY = "zaza_test_bounded_key_0000"
FROM = "+14155550100"
HUGE_RETRY_AFTER = "1000000000"


def fault_cli(server: FaultServer, **env: str) -> Cli:
    """The CLI against a fault server, its back-off between retries not waited out."""
    env = {"ZAZA_BASE_URL": server.url, "ZAZA_API_KEY": KEY, **env}
    return Cli(env=env, timing=no_waiting())


def error_lines(result: Any) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def assert_one_line_error(result: Any, code: int, *needles: str) -> str:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert KEY not in result.stderr + result.stdout
    [line] = error_lines(result)
    for needle in needles:
        assert needle in result.stderr, result.stderr
    return line


def streaming(
    chunk: bytes, every: float, stop: threading.Event, *, limit: float = 15.0
) -> Callable[[BaseHTTPRequestHandler], None]:
    """A handler that answers 200 and then writes `chunk` every `every` seconds, without
    end, until the client hangs up, `stop` is set, or `limit` seconds pass (so the test's
    server always ends)."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        ends = time.monotonic() + limit
        try:
            h.wfile.write(b"1\r\n[\r\n")
            while not stop.is_set() and time.monotonic() < ends:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                h.wfile.flush()
                if every:
                    stop.wait(every)
        except OSError:
            pass  # the client hung up: what it should do
        h.close_connection = True

    return handler


@pytest.fixture
def stop() -> Any:
    event = threading.Event()
    yield event
    event.set()


# ---------------------------------------------------------------- body size and deadline


def test_endless_body_stops_at_the_cap_quickly(fault_server: FaultServer, stop: Any) -> None:
    # Hand-written: a body without end, written chunk by chunk (a Reply is sent whole).
    fault_server.set_handler(streaming(b"0," * 32768, 0, stop))
    started = time.monotonic()
    result = fault_cli(fault_server)("agents", "list")
    took = time.monotonic() - started
    line = assert_one_line_error(result, 1)
    assert line == "error: the API sent more than 64 MiB for GET /agents; stopped"
    assert took < 10


@pytest.mark.slow
def test_drip_fed_body_ends_at_the_timeout(fault_server: FaultServer, stop: Any) -> None:
    # Hand-written: a drip-fed body, two bytes every 50 ms (a Reply is sent whole).
    fault_server.set_handler(streaming(b"1,", 0.05, stop))
    started = time.monotonic()
    # 0.2 s to connect and 0.2 s to read: the whole request ends within 0.4 s.
    result = fault_cli(fault_server)("--timeout", "0.2", "agents", "list")
    took = time.monotonic() - started
    assert_one_line_error(result, 6, "no complete answer", "GET /agents", "within 0.4 s")
    assert 0.4 <= took < 2.5
    assert len(fault_server.requests) == 1  # not asked again: a slow server stays slow


def test_a_server_that_never_answers_costs_one_read_deadline(
    fault_server: FaultServer, stop: Any
) -> None:
    """It accepts and says nothing: each try times out, and all the tries of one read end
    at the read deadline (here 1.5 s; 60 s by default), not after five whole timeouts. Each
    try is said under --debug as it happens."""
    from zazacli.context import Timing

    def silent(request: Request) -> Reply:
        stop.wait(10)
        return DROP

    fault_server.route("GET", "/api/v1/agents", answer=silent)
    cli = Cli(
        env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": KEY},
        timing=Timing(sleep=lambda _: None, read_deadline=1.5),
    )
    started = time.monotonic()
    result = cli("--timeout", "0.5", "--debug", "agents", "list")
    took = time.monotonic() - started
    assert_one_line_error(result, 6, "within 1.5 s", "tries")
    assert took < 4, took
    tries = [line for line in result.stderr.splitlines() if "debug: try " in line]
    assert tries and tries[0].startswith("debug: try 1 of 5: "), result.stderr
    assert 2 <= len(fault_server.requests) < 5


@pytest.mark.slow
def test_drip_fed_headers_end_at_the_timeout(fault_server: FaultServer, stop: Any) -> None:
    # Hand-written: raw header lines drip-fed on the socket, never a blank line.
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(b"HTTP/1.1 200 OK\r\n")
        try:
            for n in range(200):
                h.wfile.write(b"X-Slow-%d: y\r\n" % n)
                h.wfile.flush()
                if stop.wait(0.05):
                    break
        except OSError:
            pass
        h.close_connection = True

    fault_server.set_handler(handler)
    started = time.monotonic()
    result = fault_cli(fault_server)("--timeout", "0.2", "agents", "list")
    assert_one_line_error(result, 6, "no complete answer", "within 0.4 s")
    assert time.monotonic() - started < 2.5
    assert len(fault_server.requests) == 1


@pytest.mark.slow
def test_drip_fed_dispatch_answer_is_reconciled_not_resent(
    fault_server: FaultServer, stop: Any
) -> None:
    fault_server.route("GET", "/api/v1/calls", 200, {"content": [], "number": 0, "last": True})
    # Hand-written: the POST's answer is drip-fed (a Reply is sent whole).
    fault_server.set_handler(streaming(b" ", 0.05, stop))
    cli = fault_cli(fault_server, ZAZA_RECONCILE_WAIT="0")
    args = ["calls", "dispatch", "--from", FROM, "--to", "+12125550701", "--agent", "12"]
    result = cli("--timeout", "0.2", *args, "--allow-quiet-hours")
    assert result.exit_code == 6, result.stderr
    assert "no complete answer" in result.stderr and "Traceback" not in result.stderr
    assert sum(r["method"] == "POST" for r in fault_server.requests) == 1


# ---------------------------------------------------------------- JSON


def test_deep_json_is_one_line_exit_1(fault_server: FaultServer) -> None:
    fault_server.route("GET", "/api/v1/agents", 200, b"[" * 100_000 + b"]" * 100_000)
    line = assert_one_line_error(fault_cli(fault_server)("agents", "list"), 1)
    assert "the API sent invalid JSON: nested too deeply" in line


def test_deep_json_in_an_error_body_is_not_a_crash(fault_server: FaultServer) -> None:
    fault_server.route("GET", "/api/v1/agents", 400, b"[" * 100_000)
    assert_one_line_error(fault_cli(fault_server)("agents", "list"), 2, "HTTP 400")


def hostile_calls(duration: str) -> bytes:
    call = (
        '{"id": 1, "direction": "OUTBOUND", "status": "COMPLETED", "agentId": 12, '
        f'"createdAt": "2026-01-05T10:00:00Z", "durationSeconds": {duration}}}'
    )
    return f'{{"content": [{call}], "number": 0, "totalPages": 1, "last": true}}'.encode()


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_in_a_duration_is_a_clear_api_error(fault_server: FaultServer, constant: str) -> None:
    fault_server.route("GET", "/api/v1/calls", 200, hostile_calls(constant))
    result = fault_cli(fault_server)("calls", "stats", "--since", "2026-01-01")
    line = assert_one_line_error(result, 1)
    assert line.startswith(f"error: the API sent invalid JSON: {constant} (HTTP 200 for GET")


def test_overflowing_duration_does_not_crash_stats(fault_server: FaultServer) -> None:
    # 1e400 is valid JSON that Python reads as infinity: not a duration.
    fault_server.route("GET", "/api/v1/calls", 200, hostile_calls("1e400"))
    result = fault_cli(fault_server)("calls", "stats", "--since", "2026-01-01", "--json")
    assert result.exit_code == 0, result.stderr
    assert "Infinity" not in result.stdout and "NaN" not in result.stdout
    json.loads(result.stdout)


# ---------------------------------------------------------------- pages per scan


@pytest.mark.parametrize("given", [["--max-pages", "30"], []])
def test_a_list_that_never_ends_is_capped(fault_server: FaultServer, given: list[str]) -> None:
    """No totals, never `last`: every list stops at --max-pages (ZAZA_MAX_PAGES), one line."""

    def answer(request: Request) -> Reply:
        page, size = int(request.query["page"]), int(request.query["size"])
        return Reply(200, [{"id": page * size + n, "name": "a"} for n in range(size)])

    fault_server.route("GET", "/api/v1/agents", answer=answer)
    env = {} if given else {"ZAZA_MAX_PAGES": "30"}
    result = fault_cli(fault_server, **env)(*given, "agents", "list", "--json")
    assert_one_line_error(result, 1, "went on for 30 pages", "stopped rather than read forever")
    assert "raise --max-pages" in result.stderr
    assert len(fault_server.requests) == 30


def test_an_endless_call_list_stops_at_the_range_or_the_page_ceiling(
    fault_server: FaultServer,
) -> None:
    """Newest first, one second older per call, never ending, no totals: with --since the
    scan stops at the first call older than asked (order verified); without, at
    --max-pages."""
    start = datetime(2026, 12, 1, tzinfo=UTC).timestamp()

    def answer(request: Request) -> Reply:
        page, size = int(request.query["page"]), int(request.query["size"])
        calls = []
        for n in range(page * size, (page + 1) * size):
            created = datetime.fromtimestamp(start - n * 60, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            calls.append({"id": 10**6 - n, "direction": "OUTBOUND", "status": "COMPLETED",
                          "createdAt": created})  # fmt: skip
        return Reply(200, calls)

    fault_server.route("GET", "/api/v1/calls", answer=answer)
    cli = fault_cli(fault_server)
    ranged = cli("calls", "list", "--all", "--since", "2026-11-30T22:00:00Z", "-o", "jsonl")
    assert ranged.exit_code == 0, ranged.stderr
    assert len(ranged.stdout.splitlines()) == 121  # 00:00 back to 22:00, every minute
    assert len(fault_server.requests) == 2
    endless = cli("--max-pages", "5", "calls", "list", "--all", "-o", "jsonl")
    assert_one_line_error(endless, 1, "went on for 5 pages")


# ---------------------------------------------------------------- Retry-After


def test_absurd_retry_after_on_get_is_exit_5_at_once(fault_server: FaultServer) -> None:
    fault_server.route(
        "GET",
        "/api/v1/agents",
        429,
        {"message": "slow down"},
        headers={"Retry-After": HUGE_RETRY_AFTER},
    )
    started = time.monotonic()
    result = fault_cli(fault_server)("agents", "list")
    assert time.monotonic() - started < 3
    year = datetime.fromtimestamp(time.time() + int(HUGE_RETRY_AFTER), UTC).year
    line = assert_one_line_error(result, 5, f"try again after {year}-", "277,778 hours)")
    assert "HTTP 429: slow down: the API asks to wait until" in line
    assert len(fault_server.requests) == 1


@pytest.mark.parametrize("value", ["1e999", "inf", "Fri, 01 Jan 9999 00:00:00 GMT"])
def test_other_absurd_retry_afters_are_exit_5(fault_server: FaultServer, value: str) -> None:
    fault_server.route("GET", "/api/v1/agents", 429, {}, headers={"Retry-After": value})
    started = time.monotonic()
    assert_one_line_error(fault_cli(fault_server)("agents", "list"), 5, "try again after")
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("value", ["nan", "-5", "soon", "\x1b]0;pwned\x07"])
def test_junk_retry_after_is_ignored(fault_server: FaultServer, value: str) -> None:
    fault_server.route(
        "GET",
        "/api/v1/agents",
        responses=[
            Reply(429, {}, headers={"Retry-After": value}),
            Reply(200, [{"id": 1, "name": "Zara"}], headers={"Retry-After": value}),
        ],
    )
    result = fault_cli(fault_server)("agents", "list", "--json")
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stderr


def write_csv(path: Path, numbers: list[str]) -> Path:
    path.write_text("to\n" + "\n".join(numbers) + "\n")
    return path


def test_absurd_retry_after_stops_a_batch_cleanly_and_it_resumes(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    state = {"limited": True, "next_id": 500}
    queued: list[str] = []

    def post(request: Request) -> Reply:
        if state["limited"]:
            return Reply(429, {"message": "quota"}, headers={"Retry-After": HUGE_RETRY_AFTER})
        body = request.json()
        state["next_id"] += 1
        queued.append(body["toNumber"])
        return Reply(201, {"id": state["next_id"], "status": "QUEUED", **body})

    fault_server.route(
        "GET", "/api/v1/agents/12", 200, {"id": 12, "name": "Zara", "isActive": True}
    )
    fault_server.route("GET", "/api/v1/calls", 200, {"content": [], "number": 0, "last": True})
    fault_server.route("POST", "/api/v1/calls/outbound", answer=post)
    numbers = [f"+1212555072{n}" for n in range(1, 5)]
    csv_path = write_csv(tmp_path / "b.csv", numbers)
    args = ["calls", "batch", str(csv_path), "--from", FROM, "--agent", "12"]
    args += ["--rate", "50", "--concurrency", "1", "--allow-quiet-hours"]
    cli = fault_cli(fault_server)
    started = time.monotonic()
    result = cli(*args)
    assert time.monotonic() - started < 5
    assert result.exit_code == 5, result.stderr
    assert "Traceback" not in result.stderr
    assert "re-run the same command after" in result.stderr and "hours) to resume" in result.stderr
    assert "to resume, re-run the same command" in result.stderr
    assert error_lines(result)[0].startswith("error: HTTP 429: quota: the API asks to wait until")
    journal = [json.loads(line) for line in (tmp_path / "b.csv.journal.jsonl").open()]
    events = [(e["event"], e.get("line")) for e in journal if "line" in e]
    assert events == [("attempt", 2), ("failed", 2)]  # one POST, then the run stopped
    first_posts = sum(r["method"] == "POST" for r in fault_server.requests)
    assert first_posts == 1

    state["limited"] = False  # the server recovers
    again = cli(*args)
    assert again.exit_code == 0, again.stderr
    assert sorted(queued) == sorted(numbers)  # each dialled once
    posts = sum(r["method"] == "POST" for r in fault_server.requests)
    assert posts - first_posts == len(numbers)


def test_a_proxy_from_the_environment_is_still_used(fault_server: FaultServer) -> None:
    """The request deadline must not cost users behind a proxy their HTTPS_PROXY/HTTP_PROXY."""
    fault_server.route("GET", "/api/v1/agents", 200, [{"id": 7, "name": "via proxy"}])
    proxy = fault_server.url.removesuffix("/api/v1")
    cli = Cli(env={"ZAZA_API_KEY": KEY, "HTTP_PROXY": proxy, "NO_PROXY": ""})
    result = cli(
        "--base-url",
        "http://api.example.invalid/api/v1",
        "--allow-insecure-http",
        "agents",
        "list",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"id": 7, "name": "via proxy"}]
    assert fault_server.requests[0]["path"].startswith("http://api.example.invalid/api/v1/agents?")
