"""Hostile input: random arguments to every command, broken config files, broken servers,
and secrets that must never leak. The CLI must always exit with a documented code and
never print a traceback."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import Cli, FaultServer, Reply, Request, Sleeps, no_waiting, send
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from zazacli.api.http import MAX_TRIES
from zazacli.errors import EXIT_CODES
from zazacli.main import app

KEY = "zaza_live_hostile_key_5a5a5a5a5a5a"
SECRET = "whsec_hostile_secret_7b7b7b7b7b7b"

# Servers run until stopped: driven by their own tests, not fuzzed.
LONG_RUNNING = {"sandbox", "webhooks listen", "mcp"}
# Followers are fuzzed with a bound appended last (the last occurrence of an option wins).
BOUNDS = {"calls tail": ["--duration", "0.3s"], "calls wait": ["--timeout", "1s"]}


def command_tree() -> dict[str, Any]:
    """Every leaf command of the real app, by its path ("calls list")."""
    leaves: dict[str, Any] = {}

    def walk(command: Any, path: str) -> None:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(None):
                sub = command.get_command(None, name)
                if sub is not None and not getattr(sub, "hidden", False):
                    walk(sub, f"{path} {name}".strip())
        else:
            leaves[path] = command

    walk(typer.main.get_command(app), "")
    return leaves


COMMANDS = command_tree()
FUZZED = sorted(path for path in COMMANDS if path not in LONG_RUNNING)


def options_of(path: str) -> list[str]:
    names: list[str] = []
    for param in COMMANDS[path].params:
        names += [opt for opt in getattr(param, "opts", []) if opt.startswith("-")]
    return [n for n in names if n not in ("--help", "-h", "--wait", "--install-completion")]


# Values that must not turn into traffic to other hosts: no URL schemes in random text.
hostile_text = st.one_of(
    st.text(max_size=40).filter(lambda s: "://" not in s and "\x00" not in s),
    st.sampled_from(
        [
            "",
            " ",
            "-1",
            "0",
            "99999999999999999999999",
            "1e309",
            "NaN",
            "abc",
            "\u202e\u0645\u0631\u062d\u0628\u0627",
            "../../etc/passwd",
            "%s%n",
            "☎️",
            "+1",
            "+14155550100",
            "2026-13-45",
            "http://127.0.0.1:9/x",
            "-",
            "--",
        ]
    ),
)


def test_the_tree_is_complete() -> None:
    for expected in (
        "calls list",
        "calls show",
        "agents list",
        "campaigns show",
        "profiles add",
        "webhooks verify",
    ):
        assert expected in COMMANDS


@pytest.mark.parametrize("path", FUZZED)
def test_random_arguments_never_crash(path: str, sandbox: Any, tmp_path: Path) -> None:
    options = options_of(path)
    env = {"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": KEY, "ZAZA_WEBHOOK_SECRET": SECRET}
    runner = CliRunner()
    tried: list[int] = []

    @settings(
        max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(st.lists(st.one_of(st.sampled_from(options or ["--json"]), hostile_text), max_size=6))
    def run(extra: list[str]) -> None:
        cwd = os.getcwd()
        os.chdir(tmp_path)
        try:
            args = [*path.split(), *extra, *BOUNDS.get(path, [])]
            result = runner.invoke(app, args, env=env, input="")
        finally:
            os.chdir(cwd)
        output = result.stdout + result.stderr
        assert "Traceback" not in output, (path, extra, output)
        assert result.exit_code in EXIT_CODES, (path, extra, result.exit_code, output)
        if result.exception is not None:
            assert isinstance(result.exception, SystemExit), (path, extra, result.exception)
        assert KEY not in output and SECRET not in output
        tried.append(result.exit_code)

    run()
    assert tried


# ---------------------------------------------------------------- config files


@pytest.mark.parametrize(
    "content",
    [
        b'[profiles.prod]\napi_key = "zaza_',
        b"\x00\xff\xfe binary \x89PNG",
        b"default = 3\n",
        b"profiles = 5\n",
        b'[profiles.p]\nconfirm = "yes"\n',
    ],
    ids=["truncated", "binary", "default-not-string", "profiles-not-table", "wrong-type"],
)
def test_broken_config_files(content: bytes, bare_cli: Cli, isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True)
    path = isolated_env / "config.toml"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    for args in (["profiles", "list"], ["agents", "list"], ["profiles", "add", "x", "--no-verify"]):
        result = bare_cli(*args, input="zaza_test_abcdefabcdef")
        assert result.exit_code == 2, (args, result.stderr)
        assert str(path) in result.stderr and "Traceback" not in result.stderr
    assert path.read_bytes() == content


def test_config_dir_that_is_a_file(bare_cli: Cli, isolated_env: Path) -> None:
    """A config dir that is a file: writing must fail with a clear message."""
    isolated_env.parent.mkdir(parents=True, exist_ok=True)
    isolated_env.write_text("not a directory")
    result = bare_cli("profiles", "add", "prod", "--no-verify", input=KEY)
    assert result.exit_code == 2
    assert "not a directory" in result.stderr
    assert isolated_env.read_text() == "not a directory"


def test_tightened_permissions_keep_content(bare_cli: Cli, isolated_env: Path) -> None:
    bare_cli("profiles", "add", "prod", "--no-verify", input=KEY)
    path = isolated_env / "config.toml"
    before = path.read_bytes()
    os.chmod(path, 0o666)
    assert bare_cli("profiles", "list").exit_code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_bytes() == before


# ---------------------------------------------------------------- servers


def test_connection_closed_mid_body(fault_server: FaultServer) -> None:
    # Hand-written: half a body, then the socket shut down (no Reply can say that).
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "5000")
        h.end_headers()
        h.wfile.write(b'[{"id": 1, "na')
        h.wfile.flush()
        h.close_connection = True
        h.connection.shutdown(2)

    fault_server.set_handler(handler)
    sleeps = Sleeps()
    cli = Cli(
        env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": KEY}, timing=no_waiting(sleeps)
    )
    result = cli("agents", "list")
    assert result.exit_code == 6, result.stderr
    assert "Traceback" not in result.stderr and KEY not in result.stderr
    assert len(fault_server.requests) == MAX_TRIES and len(sleeps) == MAX_TRIES - 1


@pytest.mark.slow
def test_server_answering_30s_late(fault_server: FaultServer) -> None:
    release = threading.Event()

    def late(request: Request) -> Reply:
        release.wait(30)
        return Reply(200, [])

    fault_server.route("GET", "/api/v1/campaigns", answer=late)
    sleeps = Sleeps()
    cli = Cli(
        env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": KEY}, timing=no_waiting(sleeps)
    )
    started = time.monotonic()
    try:
        result = cli("--timeout", "0.1", "campaigns", "list")
    finally:
        release.set()
    assert result.exit_code == 6, result.stderr
    assert "ReadTimeout" in result.stderr
    assert len(fault_server.requests) == MAX_TRIES and len(sleeps) == MAX_TRIES - 1
    assert time.monotonic() - started < 25


@pytest.mark.parametrize(
    ("knob", "code", "tries"),
    # Injected faults are 500 or 503 (retried); the seeded draw ends on a 500: exit 1.
    [
        ({"error_rate": 1.0}, 1, MAX_TRIES),
        ({"rate_limit": 1}, 5, MAX_TRIES),
        ({"latency_ms": 50}, 0, 1),
    ],
    ids=["error-rate", "rate-limit", "latency"],
)
def test_sandbox_fault_knobs(
    knob: dict[str, Any], code: int, tries: int, make_sandbox: Any
) -> None:
    sb = make_sandbox(calls=20, **knob)
    sleeps = Sleeps()
    cli = Cli(
        env={"ZAZA_BASE_URL": sb.base_url, "ZAZA_API_KEY": sb.api_key}, timing=no_waiting(sleeps)
    )
    args = ("--timeout", "2", "calls", "list", "--limit", "3", "--json")
    before = 0
    if "rate_limit" in knob:
        assert cli(*args).exit_code == 0  # the one request of this minute
        before = 1
    result = cli(*args)
    assert "Traceback" not in result.stderr
    assert result.exit_code == code, result.stderr
    assert sb.app.requests["GET /calls"] - before == tries and len(sleeps) == tries - 1
    if code == 0:
        assert len(json.loads(result.stdout)) == 3


# ---------------------------------------------------------------- secrets


@pytest.fixture
def echoing_server(fault_server: FaultServer) -> Iterator[FaultServer]:
    """A hostile server that echoes the Authorization header back in its errors."""

    # Hand-written: it answers whatever each fuzzed command asks, any method, any path.
    def handler(h: BaseHTTPRequestHandler) -> None:
        auth = h.headers.get("Authorization", "")
        send(
            h, 500, {"message": f"bad credentials {auth}", "error": auth}, headers={"X-Echo": auth}
        )

    fault_server.set_handler(handler)
    yield fault_server


@pytest.mark.parametrize("path", FUZZED)
def test_secrets_never_appear(
    path: str, echoing_server: FaultServer, tmp_path: Path, isolated_env: Path
) -> None:
    env = {
        "ZAZA_BASE_URL": echoing_server.url,
        "ZAZA_API_KEY": KEY,
        "ZAZA_WEBHOOK_SECRET": SECRET,
        "ZAZA_DEBUG": "1",
    }
    args = ["--debug", "--timeout", "1", *path.split()]
    required = [p for p in COMMANDS[path].params if getattr(p, "required", False)]
    args += [
        "1" if "ID" in str(getattr(p, "metavar", "")).upper() else "x"
        for p in required
        if not getattr(p, "opts", [""])[0].startswith("-")
    ]
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(app, args, env=env, input="")
    finally:
        os.chdir(cwd)
    output = result.stdout + result.stderr
    assert KEY not in output and SECRET not in output, (path, output)
    assert result.exit_code in EXIT_CODES
    for written in [*tmp_path.rglob("*"), *isolated_env.rglob("*")]:
        if written.is_file():
            data = written.read_bytes()
            assert KEY.encode() not in data and SECRET.encode() not in data, written


# ---------------------------------------------------------------- hostile networks and files


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1.evil.example", "127.evil.example", "localhost.evil.example", "127.0.0.1x"],
)
def test_names_that_look_like_loopback_are_remote(
    host: str, fault_server: FaultServer, bare_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only `localhost` and literal loopback addresses count: the key never goes in clear
    text to a name that merely starts with `127.`. The name resolves (to the fault server)
    for this test, so a request that left zaza would be seen: looked up and recorded."""
    import socket

    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def getaddrinfo(name: Any, *args: Any, **kwargs: Any) -> Any:
        if name == host:
            lookups.append(name)
            name = "127.0.0.1"
        return real_getaddrinfo(name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    fault_server.route("GET", "/api/v1/agents", 200, [])
    port = fault_server.url.split(":")[2].split("/")[0]
    url = f"http://{host}:{port}/api/v1"
    result = bare_cli("--base-url", url, "agents", "list", ZAZA_API_KEY=KEY)
    assert result.exit_code == 2, result.stderr
    assert "plain HTTP" in result.stderr and host in result.stderr
    assert lookups == [] and fault_server.requests == []
    # With the override the same command does connect: the test would have seen it.
    allowed = bare_cli(
        "--allow-insecure-http", "--base-url", url, "agents", "list", ZAZA_API_KEY=KEY
    )
    assert allowed.exit_code == 0, allowed.stderr
    assert lookups and len(fault_server.requests) == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.4.5", "[::1]", "localhost"])
def test_literal_loopback_addresses_may_use_http(host: str) -> None:
    from zazacli.api.urls import check_base_url, is_loopback_host

    check_base_url(f"http://{host}:8081/api/v1", allow_insecure_http=False)  # no error
    assert is_loopback_host(host)
    assert not is_loopback_host("127.0.0.1.evil.example")


def test_export_goes_on_past_an_absurd_id(fault_server: FaultServer, tmp_path: Path) -> None:
    """A 300-digit id (or one with a slash) fails that one call; the rest are exported."""
    long_id = "9" * 300
    listed = [{"id": long_id}, {"id": "../../x"}, {"id": 2}, {"id": 1}]
    ended = {"status": "COMPLETED", "endedAt": "2026-11-26T14:05:02Z", "direction": "OUTBOUND"}

    def details(request: Request) -> Reply:
        call_id = request.route_path.rsplit("/", 1)[1]
        turns = [{"role": "AGENT", "text": f"hello {call_id}"}]
        return Reply(200, {"id": int(call_id), **ended, "turns": turns})

    page = {"content": listed, "number": 0, "size": 100, "last": True}
    fault_server.route("GET", "/api/v1/calls", 200, page)
    fault_server.route("GET", "/api/v1/calls/*", answer=details)
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": KEY})
    result = cli("calls", "export-transcripts", str(tmp_path / "out"), "--json")
    assert result.exit_code == 1, result.stderr  # something failed: said, and exit 1
    summary = json.loads(result.stdout)
    assert summary["written"] == 2 and summary["failed"] == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["1.txt", "2.txt"]
    assert "not a number of at most 20 digits" in result.stderr
    assert long_id not in result.stderr  # quoted short, not 300 digits
    assert not any(long_id in r["path"] for r in fault_server.requests)
