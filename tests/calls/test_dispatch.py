"""`zaza calls dispatch` and `zaza calls wait` against the sandbox and scripted fault servers:
what the user sees, what went over the wire, and one exit code per outcome."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import (
    DROP,
    Cli,
    FaultServer,
    Reply,
    Request,
    Sleeps,
    Zaza,
    api_get,
    no_waiting,
    wait_for,
)

FROM = "+14155550100"
ALLOW = "--allow-quiet-hours"
KEY = "zaza_test_fault_key_0000"


def calls_to(sandbox: Any, number: str) -> list[dict[str, Any]]:
    """Every OUTBOUND call to `number` created in the last ten minutes, via GET /calls."""
    since = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    found, page = [], 0
    while True:
        data = api_get(sandbox, "calls", direction="OUTBOUND", startDate=since, page=page, size=100)
        found += [c for c in data["content"] if c["toNumber"] == number]
        if data["last"]:
            return found
        page += 1


def fault_cli(server: FaultServer, **env: str) -> Cli:
    """The CLI against a fault server; its retries and look-ups wait on a clock that skips
    every sleep (ZAZA_RECONCILE_WAIT=1 looks twice, a second apart, at once)."""
    env = {"ZAZA_BASE_URL": server.url, "ZAZA_API_KEY": KEY, **env}
    return Cli(env=env, timing=no_waiting())


def dispatch_args(to: str, *extra: str) -> list[str]:
    return ["calls", "dispatch", "--from", FROM, "--to", to, "--agent", "12", *extra]


def first_error_line(result: Any) -> str:
    return next(line for line in result.stderr.splitlines() if line.startswith("error: "))


# ---------------------------------------------------------------- dispatching


def test_dispatch_prints_the_id_and_sends_normalised_numbers_and_variables(
    cli: Cli, sandbox: Any, tmp_path: Path
) -> None:
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps({"NAME": "from file", "AMOUNT": 5000}))
    args = dispatch_args("(212) 555-0174", "--region", "us", "--vars-file", str(vars_file))
    result = cli(*args, "--var", "NAME=Alex", "--var", "NOTE=a=b", ALLOW)
    assert result.exit_code == 0, result.stderr
    call_id = int(result.stdout.strip())  # `ID=$(zaza calls dispatch …)` works
    assert result.stdout == f"{call_id}\n"
    assert f"queued call {call_id}" in result.stderr
    call = api_get(sandbox, f"calls/{call_id}")
    assert call["toNumber"] == "+12125550174" and call["fromNumber"] == FROM
    assert call["variables"] == {"NAME": "Alex", "AMOUNT": "5000", "NOTE": "a=b"}


def test_dispatch_json_prints_the_call(cli: Cli, sandbox: Any) -> None:
    result = cli(*dispatch_args("+12125550175", "--json", ALLOW))
    assert result.exit_code == 0, result.stderr
    call = json.loads(result.stdout)
    assert call["status"] == "QUEUED" and call["toNumber"] == "+12125550175"
    assert [c["id"] for c in calls_to(sandbox, "+12125550175")] == [call["id"]]


def test_idempotency_key_header_is_sent(fault_server: FaultServer) -> None:
    queued = {"id": 777, "direction": "OUTBOUND", "status": "QUEUED"}
    _dispatch_routes(fault_server, post=[Reply(201, queued)], calls=[])
    cli = fault_cli(fault_server)
    first = cli(*dispatch_args("+12125550176", "--idempotency-key", "abc-123", ALLOW))
    assert first.exit_code == 0, first.stderr
    assert cli(*dispatch_args("+12125550176", ALLOW)).exit_code == 0
    posts = [r for r in fault_server.requests if r["method"] == "POST"]
    assert posts[0]["headers"]["Idempotency-Key"] == "abc-123"
    assert posts[1]["headers"]["Idempotency-Key"].startswith("zaza-")
    assert json.loads(posts[0]["body"]) == {
        "fromNumber": FROM,
        "toNumber": "+12125550176",
        "agentId": 12,
    }


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["calls", "dispatch", "--from", FROM, "--agent", "12"], "error: missing option '--to'"),
        (dispatch_args("555-CALL", ALLOW), "'555-CALL' has no country code"),
        (dispatch_args("555-CALL", "--region", "US", ALLOW), "not a valid number in US"),
        (dispatch_args("2125550177", ALLOW), "has no country code"),
        (dispatch_args("+15555550100", ALLOW), "not a valid number"),
        (dispatch_args("+1212555", ALLOW), "not a possible number"),
        (
            ["calls", "dispatch", "--from", FROM, "--to", "+12125550177", "--agent", "abc"],
            "error: invalid value for '--agent': 'abc'",
        ),
        (dispatch_args("+12125550177", "--var", "NOEQUALS", ALLOW), "expected KEY=VALUE"),
        (dispatch_args("+12125550177", "--wait-timeout", "soon", ALLOW), "--wait-timeout"),
    ],
)
def test_bad_input_is_exit_2_and_nothing_is_sent(
    fault_server: FaultServer, args: list[str], needle: str
) -> None:
    result = fault_cli(fault_server)(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert fault_server.requests == []


def test_bad_vars_file_is_exit_2(fault_server: FaultServer, tmp_path: Path) -> None:
    bad = tmp_path / "vars.json"
    bad.write_text('["not", "an", "object"]')
    result = fault_cli(fault_server)(*dispatch_args("+12125550177", "--vars-file", str(bad)))
    assert result.exit_code == 2
    assert (
        first_error_line(result)
        == f"error: --vars-file: {bad} must hold a JSON object of KEY: value"
    )
    assert fault_server.requests == []


def test_unknown_agent_refused_by_the_api_is_exit_2(cli: Cli, sandbox: Any) -> None:
    result = cli(
        "calls", "dispatch", "--from", FROM, "--to", "+12125550178", "--agent", "999", ALLOW
    )
    assert result.exit_code == 2
    assert first_error_line(result) == "error: HTTP 422: Agent 999 not found"
    assert calls_to(sandbox, "+12125550178") == []


# ---------------------------------------------------------------- lost answers


def test_slow_answer_is_reconciled_not_resent(make_sandbox: Any) -> None:
    """The API queues the call but answers after our timeout: report the queued call."""
    slow = make_sandbox(slow_dispatch=2.0)
    cli = Cli(env={"ZAZA_BASE_URL": slow.base_url, "ZAZA_API_KEY": slow.api_key})
    started = time.monotonic()
    result = cli("--timeout", "0.2", *dispatch_args("+12125550184", ALLOW))
    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - started < 2.0  # did not sit out the slow answer
    calls = calls_to(slow, "+12125550184")
    assert len(calls) == 1  # dialled once
    assert result.stdout == f"{calls[0]['id']}\n"
    assert f"the call was queued as {calls[0]['id']}" in result.stderr


def test_dropped_connection_then_found_in_history(fault_server: FaultServer) -> None:
    found = {
        "id": 90211,
        "direction": "OUTBOUND",
        "status": "QUEUED",
        "fromNumber": FROM,
        "toNumber": "+12125550185",
        "agentId": 12,
    }
    _dispatch_routes(fault_server, post=[DROP], calls=[], new=[found])
    result = fault_cli(fault_server)(*dispatch_args("+12125550185", ALLOW))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "90211\n"
    assert "the call was queued as 90211" in result.stderr
    methods = [(r["method"], r["path"].split("?")[0]) for r in fault_server.requests]
    assert methods.count(("POST", "/api/v1/calls/outbound")) == 1
    post = methods.index(("POST", "/api/v1/calls/outbound"))
    lookup = [r["path"] for r in fault_server.requests[post + 1 :]]
    assert lookup and all("direction=OUTBOUND" in p and "startDate=" in p for p in lookup)


def test_lost_answer_and_no_call_in_history_is_exit_6(fault_server: FaultServer) -> None:
    """A call to someone else does not count; after the bounded wait: unknown, exit 6."""
    other = {
        "id": 5,
        "direction": "OUTBOUND",
        "fromNumber": FROM,
        "toNumber": "+12125550199",
        "agentId": 12,
    }
    _dispatch_routes(fault_server, post=[DROP], calls=[other])
    started = time.monotonic()
    result = fault_cli(fault_server, ZAZA_RECONCILE_WAIT="1")(*dispatch_args("+12125550186", ALLOW))
    assert result.exit_code == 6, result.stderr
    assert time.monotonic() - started < 5
    assert first_error_line(result).startswith(
        "error: the outcome of the call to +12125550186 is unknown"
    )
    assert "do not simply retry" in result.stderr and "zaza calls list" in result.stderr
    assert result.stdout == ""
    posts = [r for r in fault_server.requests if r["method"] == "POST"]
    assert len(posts) == 1  # never resent
    assert sum(r["method"] == "GET" for r in fault_server.requests) >= 2  # it looked, twice


@pytest.mark.slow
def test_timeout_after_sending_is_not_resent(fault_server: FaultServer) -> None:
    release = threading.Event()

    def slow_post(request: Request) -> Reply:
        release.wait(10)  # answers only once the client has given up
        return Reply(201, {"id": 1})

    _dispatch_routes(fault_server, post=slow_post, calls=[])
    try:
        result = fault_cli(fault_server, ZAZA_RECONCILE_WAIT="0")(
            "--timeout", "0.3", *dispatch_args("+12125550187", ALLOW)
        )
    finally:
        release.set()
    assert result.exit_code == 6
    assert "ReadTimeout" in result.stderr
    assert sum(r["method"] == "POST" for r in fault_server.requests) == 1


def test_502_after_sending_is_looked_up_not_resent(fault_server: FaultServer) -> None:
    found = {
        "id": 42,
        "direction": "OUTBOUND",
        "fromNumber": FROM,
        "toNumber": "+12125550188",
        "agentId": "12",  # a tolerant reader: an id sent as a string still matches
    }
    _dispatch_routes(fault_server, post=[BAD_GATEWAY], calls=[], new=[found])
    result = fault_cli(fault_server)(*dispatch_args("+12125550188", ALLOW))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "42\n"
    assert sum(r["method"] == "POST" for r in fault_server.requests) == 1


def test_an_older_call_to_the_same_number_is_never_taken_for_the_new_one(
    fault_server: FaultServer,
) -> None:
    """Created 90 s before the POST: an earlier call, not ours. Unknown, exit 6."""
    older = {
        "id": 43,
        "direction": "OUTBOUND",
        "fromNumber": FROM,
        "toNumber": "+12125550190",
        "agentId": 12,
        "createdAt": (datetime.now(UTC) - timedelta(seconds=90)).isoformat(),
    }
    _dispatch_routes(fault_server, post=[BAD_GATEWAY], calls=[older])
    result = fault_cli(fault_server, ZAZA_RECONCILE_WAIT="0")(*dispatch_args("+12125550190", ALLOW))
    assert result.exit_code == 6, result.stderr
    # Not taken for ours: neither printed as the new call id nor reported as reconciled.
    assert result.stdout == ""
    assert "queued as 43" not in result.stderr and "call 43" not in result.stderr
    assert sum(r["method"] == "POST" for r in fault_server.requests) == 1


def test_429_is_retried_because_nothing_was_queued(fault_server: FaultServer) -> None:
    post = [
        Reply(429, {"message": "slow down"}, headers={"Retry-After": "0"}),
        Reply(201, {"id": 9, "status": "QUEUED"}, headers={"Retry-After": "0"}),
    ]
    _dispatch_routes(fault_server, post=post, calls=[])
    result = fault_cli(fault_server)(*dispatch_args("+12125550189", ALLOW))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "9\n"
    assert sum(r["method"] == "POST" for r in fault_server.requests) == 2


BAD_GATEWAY = Reply(502, "<h1>Bad Gateway</h1>", content_type="text/html")


def _dispatch_routes(
    server: FaultServer,
    post: list[Reply] | Callable[[Request], Reply],
    calls: list[dict[str, Any]],
    new: list[dict[str, Any]] | None = None,
) -> None:
    """POST /calls/outbound: the replies in `post` in turn (DROP: the request arrived, no
    answer ever leaves), or `post(request)`. GET /calls: one page holding `calls`, after
    the calls in `new` once a POST arrived (each created then: what the API queued)."""
    created: list[dict[str, Any]] = []

    def on_post(request: Request) -> Reply:
        stamp = datetime.now(UTC).isoformat()
        created[:0] = [{**call, "createdAt": stamp} for call in new or []]
        if callable(post):
            return post(request)
        return post[min(len(posts.requests), len(post)) - 1]

    posts = server.route("POST", "/api/v1/calls/outbound", answer=on_post)
    server.route(
        "GET",
        "/api/v1/calls",
        answer=lambda _: Reply(200, {"content": created + calls, "number": 0, "last": True}),
    )


# ---------------------------------------------------------------- quiet hours and confirm


def add_profile(cli: Cli, sandbox: Any, name: str, *flags: str) -> None:
    added = cli(
        "profiles", "add", name, "--base-url", sandbox.base_url, *flags, input=sandbox.api_key
    )
    assert added.exit_code == 0, added.stderr


def window_around(zone: str, *, include_now: bool) -> str:
    """A calling window that contains (or excludes) the current time in `zone`."""
    local = datetime.now(ZoneInfo(zone))
    minute = local.hour * 60 + local.minute
    start, end = (minute - 60, minute + 60) if include_now else (minute + 60, minute + 120)
    return "-".join(f"{(m % 1440) // 60:02d}:{m % 60:02d}" for m in (start, end))


def test_quiet_hours_refuse_with_the_callees_local_time(bare_cli: Cli, real_api: Any) -> None:
    sandbox = real_api
    add_profile(bare_cli, sandbox, "night")
    window = window_around("America/New_York", include_now=False)
    assert bare_cli("profiles", "set", "night", "quiet_hours", window).exit_code == 0
    result = bare_cli("--profile", "night", *dispatch_args("+12125550194"))
    assert result.exit_code == 2
    local = datetime.now(ZoneInfo("America/New_York")).strftime("%H:%M")
    assert first_error_line(result) == (
        f"error: it is {local} in America/New_York for +12125550194, outside the allowed "
        f"calling window {window} (TCPA quiet hours)"
    )
    assert "--allow-quiet-hours" in result.stderr
    assert calls_to(sandbox, "+12125550194") == []
    # The override sends it anyway.
    allowed = bare_cli("--profile", "night", *dispatch_args("+12125550194", ALLOW))
    assert allowed.exit_code == 0, allowed.stderr
    assert len(calls_to(sandbox, "+12125550194")) == 1


def test_inside_the_window_is_sent(bare_cli: Cli, sandbox: Any) -> None:
    add_profile(bare_cli, sandbox, "day")
    window = window_around("America/Los_Angeles", include_now=True)
    assert bare_cli("profiles", "set", "day", "quiet_hours", window).exit_code == 0
    result = bare_cli("--profile", "day", *dispatch_args("+14155550195"))
    assert result.exit_code == 0, result.stderr
    assert len(calls_to(sandbox, "+14155550195")) == 1


def test_number_without_a_time_zone_warns_but_is_sent(cli: Cli, sandbox: Any) -> None:
    result = cli(*dispatch_args("+80012345678"))
    assert result.exit_code == 0, result.stderr
    assert "warning: no time zone on record for +80012345678" in result.stderr
    assert len(calls_to(sandbox, "+80012345678")) == 1


def test_confirm_profile_needs_yes_without_a_terminal(bare_cli: Cli, sandbox: Any) -> None:
    add_profile(bare_cli, sandbox, "production", "--confirm")
    result = bare_cli("--profile", "production", *dispatch_args("+12125550196", ALLOW))
    assert result.exit_code == 2
    assert "profile 'production' asks for confirmation" in first_error_line(result)
    assert "hint: pass --yes" in result.stderr
    assert calls_to(sandbox, "+12125550196") == []
    confirmed = bare_cli("--profile", "production", *dispatch_args("+12125550196", ALLOW, "-y"))
    assert confirmed.exit_code == 0, confirmed.stderr
    assert len(calls_to(sandbox, "+12125550196")) == 1


def test_ctrl_c_at_the_confirm_prompt_is_an_interruption(bare_cli: Cli, sandbox: Any) -> None:
    """On a terminal, Ctrl-C at `Call … ? [y/N]` ends with `interrupted` and exit 130, as
    Ctrl-C anywhere else does, not Typer's bare `Aborted!` and exit 1; nothing is sent."""
    import os
    import select
    import signal

    from conftest import popen_zaza, sized_pty

    add_profile(bare_cli, sandbox, "production", "--confirm")
    leader, follower = sized_pty()
    words = ["--profile", "production", *dispatch_args("+12125550182", ALLOW)]
    proc = popen_zaza(
        *words, stdin=follower, stdout=follower, stderr=follower, text=False,
        start_new_session=True,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    try:
        while b"[y/N]" not in seen:
            chunk = os.read(leader, 4096)
            assert chunk, seen
            seen += chunk
        proc.send_signal(signal.SIGINT)
        while True:
            # CPython misses a SIGINT that lands between its last check for signals and the
            # read under input() (the prompt is on screen by then); a person presses Ctrl-C
            # again, and so does the test when nothing has happened for 5 seconds.
            if not select.select([leader], [], [], 5)[0]:
                proc.send_signal(signal.SIGINT)
                continue
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        assert proc.wait(timeout=60) == 130
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
    text = seen.decode().replace("\r\n", "\n")
    assert text.rstrip().endswith("interrupted"), text
    assert "Aborted" not in text
    assert calls_to(sandbox, "+12125550182") == []


# ---------------------------------------------------------------- dry run


def test_dry_run_shows_the_plan_and_sends_nothing(bare_cli: Cli, sandbox: Any) -> None:
    add_profile(bare_cli, sandbox, "staging", "--region", "US")
    result = bare_cli(
        "--profile",
        "staging",
        *dispatch_args("212 555 0197", "--dry-run", "--var", "NAME=Alex", ALLOW),
    )
    assert result.exit_code == 0, result.stderr
    plan = dict(line.split("\t", 1) for line in result.stdout.splitlines())
    assert plan["to"] == "+12125550197" and plan["from"] == FROM
    assert plan["agent"] == "12 Zara from Acme"
    assert plan["variables"] == '{"NAME":"Alex"}'
    assert plan["profile"] == "staging" and plan["base URL"] == sandbox.base_url
    assert plan["callee local time"].endswith("in America/New_York")
    assert "dry run: nothing is sent" in result.stderr
    assert calls_to(sandbox, "+12125550197") == []


def test_dry_run_json_warns_about_an_inactive_agent(cli: Cli, sandbox: Any) -> None:
    inactive = next(a for a in api_get(sandbox, "agents") if not a["isActive"])
    result = cli(
        "calls",
        "dispatch",
        "--from",
        FROM,
        "--to",
        "+12125550198",
        "--agent",
        str(inactive["id"]),
        "--dry-run",
        "--json",
        ALLOW,
    )
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["request"] == {
        "fromNumber": FROM,
        "toNumber": "+12125550198",
        "agentId": inactive["id"],
    }
    assert plan["agent"]["name"] == inactive["name"]
    assert f"warning: agent {inactive['id']} is not active" in result.stderr
    assert calls_to(sandbox, "+12125550198") == []


# ---------------------------------------------------------------- waiting and exit codes


@pytest.fixture
def quick_cli(make_sandbox: Any) -> Cli:
    """The CLI against a sandbox where a dispatched call is over within microseconds, so
    that `--wait` sees the end at its first look rather than at a poll half a second on."""
    quick = make_sandbox(speed=1_000_000.0)
    return Cli(env={"ZAZA_BASE_URL": quick.base_url, "ZAZA_API_KEY": quick.api_key})


@pytest.mark.parametrize(
    ("last_digit", "status", "code"),
    [
        ("4", "COMPLETED", 0),
        ("0", "FAILED", 10),
        ("1", "NO_ANSWER", 11),
        ("2", "BUSY", 12),
        ("3", "CANCELED", 13),
    ],
)
def test_wait_exits_by_outcome(quick_cli: Cli, last_digit: str, status: str, code: int) -> None:
    result = quick_cli(*dispatch_args(f"+1212555030{last_digit}", "--wait", ALLOW))
    assert result.exit_code == code, result.stderr
    summary = dict(line.split("\t", 1) for line in result.stdout.splitlines() if "\t" in line)
    assert summary["status"] == status
    if code:
        assert f"ended {status}" in first_error_line(result)


def test_wait_json_prints_the_final_call_with_turns(quick_cli: Cli) -> None:
    result = quick_cli(*dispatch_args("+12125550314", "--wait", "--json", "--transcript", ALLOW))
    assert result.exit_code == 0, result.stderr
    call = json.loads(result.stdout)  # one document, transcript inside it
    assert call["status"] == "COMPLETED" and call["turns"]


def test_calls_wait_follows_an_earlier_call_and_prints_the_transcript(quick_cli: Cli) -> None:
    dispatched = quick_cli(*dispatch_args("+12125550315", "--var", "NAME=Robin", ALLOW))
    call_id = dispatched.stdout.strip()
    result = quick_cli("calls", "wait", call_id, "--transcript")
    assert result.exit_code == 0, result.stderr
    assert f"id\t{call_id}" in result.stdout
    assert "# Transcript" in result.stdout and "AGENT: Hi Robin" in result.stdout


def test_wait_timeout_is_exit_14(make_sandbox: Any) -> None:
    slow = make_sandbox(speed=0.5)  # the call stays QUEUED for 2 s
    sleeps = Sleeps()
    env = {"ZAZA_BASE_URL": slow.base_url, "ZAZA_API_KEY": slow.api_key}
    cli = Cli(env=env, timing=no_waiting(sleeps))
    call_id = cli(*dispatch_args("+12125550316", ALLOW)).stdout.strip()
    result = cli("calls", "wait", call_id, "--timeout", "1s")
    assert result.exit_code == 14
    # Polled at once, after 0.5 s, then for what was left of the second.
    assert sleeps[0] == 0.5 and 0.9 < sum(sleeps) <= 1.0 and len(sleeps) == 2
    assert first_error_line(result) == f"error: call {call_id} is still QUEUED after waiting 1s"
    assert f"zaza calls wait {call_id}" in result.stderr


def test_wait_for_an_unknown_call_is_exit_3(cli: Cli) -> None:
    result = cli("calls", "wait", "999999")
    assert result.exit_code == 3
    assert "Call 999999 not found" in result.stderr


def test_ctrl_c_while_waiting_says_the_call_goes_on(make_sandbox: Any) -> None:
    slow = make_sandbox(speed=0.2)
    env = {"ZAZA_BASE_URL": slow.base_url, "ZAZA_API_KEY": slow.api_key}
    with Zaza(*dispatch_args("+12125550317", "--wait", ALLOW), env=env) as zaza:
        assert zaza.stderr is not None
        zaza.stderr.until(lambda line: line.startswith("queued call "), 20)
        # Following it: its first look at the call has come in.
        wait_for(lambda: slow.app.requests["GET /calls/{id}"], 10, "the first poll")
        zaza.interrupt()
        code, _, stderr = zaza.finish()
    assert code == 130, stderr
    call_id = calls_to(slow, "+12125550317")[0]["id"]
    assert f"call {call_id} goes on" in stderr
    assert f"zaza calls wait {call_id}" in stderr


def test_help_documents_each_exit_code(cli: Cli) -> None:
    text = cli("calls", "dispatch", "--help").stdout
    for code, word in (
        (10, "FAILED"),
        (11, "NO_ANSWER"),
        (12, "BUSY"),
        (13, "CANCELED"),
        (14, "timed out"),
        (6, "outcome unknown"),
    ):
        assert any(
            line.strip().startswith(str(code)) and word in line for line in text.splitlines()
        ), code


def test_calling_windows_include_the_start_exclude_the_end_and_may_wrap() -> None:
    from zazacli.errors import ConfigError
    from zazacli.policy.phones import parse_window

    day, night = parse_window(None), parse_window("22:00-06:00")
    at = {
        hhmm: datetime(2026, 11, 26, int(hhmm[:2]), int(hhmm[3:]))
        for hhmm in ("07:59", "08:00", "20:59", "21:00", "23:30", "05:59", "06:00")
    }
    assert [day.allows(at[t]) for t in ("07:59", "08:00", "20:59", "21:00")] == [
        False,
        True,
        True,
        False,
    ]
    assert [night.allows(at[t]) for t in ("23:30", "05:59", "06:00", "08:00")] == [
        True,
        True,
        False,
        False,
    ]
    assert parse_window("00:00-24:00").allows(at["23:30"])
    with pytest.raises(ConfigError, match="is not a calling window"):
        parse_window("8am-9pm")


def test_sandbox_flag_skips_quiet_hours_but_a_real_target_does_not(
    bare_cli: Cli, real_api: Any
) -> None:
    """A window closed right now refuses a dispatch, except against a private --sandbox."""
    sandbox = real_api
    now = datetime.now(ZoneInfo("America/Los_Angeles"))
    opens, closes = now + timedelta(hours=2), now + timedelta(hours=3)
    window = f"{opens:%H:00}-{closes:%H:00}"
    bare_cli("profiles", "add", "p", "--base-url", sandbox.base_url, input=sandbox.api_key)
    assert bare_cli("profiles", "set", "p", "quiet_hours", window).exit_code == 0
    args = ["calls", "dispatch", "--from", "+14155550100", "--to", "+14155550124", "--agent", "12"]
    real = bare_cli(*args)
    assert real.exit_code == 2, real.stderr
    assert "outside the allowed calling window" in real.stderr
    private = bare_cli("--sandbox", *args)
    assert private.exit_code == 0, private.stderr
    notice = "the API is zaza's sandbox: no one is called, so quiet hours are not checked"
    assert notice in private.stderr
    assert private.stdout.strip().isdigit()


def test_a_read_failing_before_the_post_says_nothing_was_sent(fault_server: FaultServer) -> None:
    """The GET /calls a dispatch makes first never answers: no POST goes out (the fault
    server fails the test on a request it has no route for), and the error says so, with
    exit 1, not the exit 6 that means a dispatch's outcome is unknown."""
    fault_server.route("GET", "/api/v1/calls", DROP)
    result = fault_cli(fault_server)(*dispatch_args("+12125550183", ALLOW))
    assert result.exit_code == 1, result.stderr
    assert first_error_line(result).endswith("stopped before dispatching: nothing was sent")
    assert "outcome unknown" not in result.stderr
