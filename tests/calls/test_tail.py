"""`zaza calls tail` and the poller behind it (`CallFollower`, zazacli/calls/tail.py).

End to end against the sandbox (a real dispatch while tail runs in a subprocess, then
Ctrl-C; the command in-process with a fake Timing), and the poller's rules against a
scripted call list on a loopback fault server with an injected sleep and clock: what counts
as new, what as a change, 429 backoff, network failures, a duration, bounded memory.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import (
    LOOPBACK,
    Cli,
    FaultServer,
    Reply,
    Request,
    Sleeps,
    Terminal,
    Zaza,
    faster,
    no_waiting,
)
from rich.cells import cell_len

from zazacli.api.client import ZazaApi
from zazacli.api.http import HttpClient
from zazacli.api.listing import CallFilter
from zazacli.calls.tail import CallFollower, TailEvent
from zazacli.errors import AuthError

KEY = "zaza_test_tail_key"


# ---------------------------------------------------------------- end to end, sandbox


def dispatch(sandbox: Any, to_number: str = "+14155550199") -> dict[str, Any]:
    response = LOOPBACK.post(
        f"{sandbox.base_url}/calls/outbound",
        json={"fromNumber": "+14155550100", "toNumber": to_number, "agentId": 12},
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    )
    response.raise_for_status()
    call: dict[str, Any] = response.json()
    return call


def newest_calls(sandbox: Any, n: int) -> list[dict[str, Any]]:
    response = LOOPBACK.get(
        f"{sandbox.base_url}/calls",
        params={"size": n},
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    )
    content: list[dict[str, Any]] = response.json()["content"]
    return content


def plain(text: str) -> str:
    """Without terminal styles (NO_COLOR drops colours, not bold and dim)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.mark.slow
def test_tail_shows_a_dispatched_call_and_its_completion_then_stops_on_ctrl_c(
    make_sandbox: Callable[..., Any],
) -> None:
    sandbox = make_sandbox(speed=2.0)  # a call lasts 4 s: several polls see it move
    backlog = newest_calls(sandbox, 2)
    env = {
        "ZAZA_BASE_URL": sandbox.base_url,
        "ZAZA_API_KEY": sandbox.api_key,
        "PYTHONUNBUFFERED": "1",
    }
    with Zaza("calls", "tail", "--interval", "1", "--last", "2", env=env) as zaza:
        out = zaza.stdout
        assert out is not None
        first = [json.loads(out.until(lambda line: True, 20)) for _ in range(2)]
        # The backlog: the newest two calls, oldest first, as "new" events.
        assert [e["call"]["id"] for e in first] == [c["id"] for c in reversed(backlog)]
        assert {e["event"] for e in first} == {"new"}
        call = dispatch(sandbox)

        def about_it(line: str) -> bool:
            return json.loads(line)["call"]["id"] == call["id"]

        appeared = json.loads(out.until(about_it, 10))
        assert appeared["event"] == "new"
        assert appeared["previousStatus"] is None
        assert appeared["call"]["status"] in ("QUEUED", "RINGING", "IN_PROGRESS")

        def completed(line: str) -> bool:
            event = json.loads(line)
            return about_it(line) and event["call"]["status"] == "COMPLETED"

        done = json.loads(out.until(completed, 10))
        assert done["event"] == "changed"
        assert done["previousStatus"] in ("QUEUED", "RINGING", "IN_PROGRESS")
        assert done["call"]["disposition"] == "DO_NOT_CALL"  # the sandbox's rule for ...9
        zaza.interrupt()
        code, _, stderr = zaza.finish()
    assert code == 0, stderr
    assert "Traceback" not in stderr
    summary = stderr.strip().splitlines()[-1]
    assert summary.startswith("stopped after ")
    assert "3 new call(s)" in summary


def test_terminal_lines_for_the_backlog(cli: Cli, sandbox: Any) -> None:
    backlog = newest_calls(sandbox, 3)
    result = cli(
        "calls", "tail", "--last", "3", "--max-events", "3",
        ZAZA_FORCE_TTY="1", NO_COLOR="1", COLUMNS="200",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = plain(result.stdout).splitlines()
    assert len(lines) == 3
    for line, call in zip(lines, reversed(backlog), strict=True):
        # `15:05:22   90499  COMPLETED    outbound  +14155550100 → +16175550166  agent 12 …`
        direction = call["direction"].lower()
        assert re.match(rf"^\d\d:\d\d:\d\d +{call['id']}  [A-Z_]+ +{direction}", line)
        assert f"{call['fromNumber']} → {call['toNumber']}" in line
        assert f"agent {call['agentId']}" in line
    assert "following calls" in result.stderr
    assert "stopped after" in result.stderr


def tail_line_columns(line: str) -> frozenset[str]:
    """The optional columns a `calls tail` line of a new call shows, read from its text."""
    shown = {
        "direction": r"  (out|in|outbound|inbound) ",
        "numbers": r"  \+\S+ → \+\S+",
        "agent": r"  agent \d+",
        "duration": r"  \d+:\d\d(:\d\d)?(  |$)",
    }
    return frozenset(name for name, pattern in shown.items() if re.search(pattern, line))


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_every_line_shows_the_same_columns_at_one_width(sandbox: Any, columns: int) -> None:
    """Which columns show is decided from the terminal's width, never from a call's
    values: an APPOINTMENT_BOOKED or a failure reason does not push the direction out of
    its line only. Every call here has every field."""
    calls = newest_calls(sandbox, 40)
    assert any(call["failureReason"] for call in calls)
    env = {"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key}
    args = ("calls", "tail", "--last", "40", "--max-events", "40")
    code, text = Terminal(*args, columns=columns, env=env).finish()
    assert code == 0, text
    lines = [line for line in text.splitlines() if re.match(r"^\d\d:\d\d(:\d\d)?  ", line)]
    assert len(lines) == 40
    assert len({cell_len(line) for line in lines}) > 1  # calls of different lengths
    assert all(cell_len(line) <= columns for line in lines), lines
    assert len({tail_line_columns(line) for line in lines}) == 1, lines
    for call in calls:  # the outcome ends the line: the disposition, else why it failed
        [line] = [line for line in lines if re.search(rf"  {call['id']}  ", line)]
        outcome = call["disposition"] or call["failureReason"] or "0:00"
        assert line.endswith(f"  {outcome}"), line


@pytest.mark.slow
def test_changes_are_shown_as_old_arrow_new(make_sandbox: Callable[..., Any]) -> None:
    # Time runs five times faster on both sides: the call lasts 0.4 s (2 s at speed 4), the
    # tail polls every 0.2 s (its 1 s) and stops after 0.6 s (its 3 s).
    sandbox = make_sandbox(speed=20.0)
    call = dispatch(sandbox, "+14155550120")  # ends FAILED
    sleeps = Sleeps()
    env = {"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key}
    result = Cli(env=env, timing=faster(5, sleeps))(
        "calls", "tail", "--last", "1", "--interval", "1", "--duration", "3",
        ZAZA_FORCE_TTY="1", NO_COLOR="1", COLUMNS="200",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = plain(result.stdout).splitlines()
    assert str(call["id"]) in lines[0]
    changed = [line for line in lines[1:] if str(call["id"]) in line]
    assert changed, result.stdout
    assert (
        changed[-1]
        .split(f"{call['id']}", 1)[1]
        .strip()
        .startswith(("QUEUED → FAILED", "RINGING → FAILED"))
    )
    assert "CARRIER_ERROR" in changed[-1]
    assert sleeps[:2] == [1.0, 1.0]  # polled at its interval


def test_since_shows_every_call_since_then(cli: Cli, sandbox: Any) -> None:
    since = "2d"
    listed = cli("calls", "list", "--since", since, "--jsonl")
    expected = [json.loads(line)["id"] for line in listed.stdout.splitlines()]
    assert expected
    result = cli("calls", "tail", "--since", since, "--max-events", str(len(expected)))
    assert result.exit_code == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["call"]["id"] for e in events] == list(reversed(expected))


def test_bad_options_are_usage_errors(bare_cli: Cli, fault_server: FaultServer) -> None:
    env = {"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": KEY}
    for args in (
        ["--interval", "0.5"],
        ["--interval", "soon"],
        ["--status", "ringin"],
        ["--direction", "sideways"],
        ["--duration", "0s"],
    ):
        result = bare_cli("calls", "tail", *args, **env)
        assert result.exit_code == 2, (args, result.output)
    assert fault_server.requests == []


def test_a_bad_key_stops_at_once(fault_server: FaultServer) -> None:
    fault_server.route("GET", "/api/v1/calls", 401, {"message": "Invalid API key"})
    result = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": KEY})(
        "calls", "tail", "--interval", "1"
    )
    assert result.exit_code == 4
    assert len(fault_server.requests) == 1


def test_the_command_backs_off_on_429_and_goes_on(fault_server: FaultServer) -> None:
    calls = ScriptedCalls([call_record(1, "COMPLETED", 0)])
    limited = {"left": 0}

    def answer(request: Request) -> Reply:
        if len(fault_server.requests) == 2:
            limited["left"] = 5  # the second poll: 429 on every try (HttpClient makes 5)
        if limited["left"]:
            limited["left"] -= 1
            return Reply(429, {"message": "slow down"}, headers={"Retry-After": "0"})
        return calls.answer(request)

    fault_server.route("GET", "/api/v1/calls", answer=answer)
    sleeps = Sleeps()
    result = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": KEY},
                 timing=no_waiting(sleeps))(
        "calls", "tail", "--interval", "1", "--duration", "3.5"
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # A poll after 1 s, its 4 tries (no wait: Retry-After 0), then one after 2 s; 3.5 s ends.
    waits = [seconds for seconds in sleeps if seconds]
    assert waits[:2] == [1.0, 2.0] and 3.4 < sum(waits) <= 3.5
    assert "rate limited (HTTP 429)" in result.stderr
    assert "polling every 2s from now on" in result.stderr
    assert "rate limited 1 time(s)" in result.stderr
    # After the 429s, polling went on: the last request was answered.
    assert len(fault_server.requests) >= 7


# ---------------------------------------------------------------- the poller's rules


def call_record(call_id: int, status: str, created: float) -> dict[str, Any]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_800_000_000 + created))
    return {"id": call_id, "status": status, "direction": "OUTBOUND", "createdAt": stamp}


@dataclass
class ScriptedCalls:
    """A call list, newest first, served as Spring pages (honouring status and size)."""

    calls: list[dict[str, Any]]
    sizes: list[int] = field(default_factory=list)

    def answer(self, request: Request) -> Reply:
        query = parse_qs(urlsplit(request["path"]).query)
        page = int(query.get("page", ["0"])[0])
        size = int(query.get("size", ["20"])[0])
        self.sizes.append(size)
        chosen = [c for c in self.calls if c["status"] in query.get("status", [c["status"]])]
        content = chosen[page * size : (page + 1) * size]
        last = (page + 1) * size >= len(chosen)
        return Reply(200, {"content": content, "number": page, "size": size, "last": last})

    def add(self, call: dict[str, Any]) -> None:
        self.calls.insert(0, call)

    def set_status(self, call_id: int, status: str) -> None:
        next(c for c in self.calls if c["id"] == call_id)["status"] = status


@dataclass
class Clock:
    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def scripted(fault_server: FaultServer) -> Iterator[tuple[ScriptedCalls, ZazaApi]]:
    calls = ScriptedCalls([])
    fault_server.route("GET", "/api/v1/calls", answer=calls.answer)
    api = ZazaApi(HttpClient(fault_server.url, KEY, sleep=lambda s: None, max_tries=2))
    yield calls, api
    api.close()


def follower(api: ZazaApi, clock: Clock, **options: Any) -> CallFollower:
    return CallFollower(api, interval=5.0, sleep=clock.sleep, clock=clock, **options)


def take(events: Iterator[TailEvent], n: int) -> list[tuple[str, int, str, str | None]]:
    return [
        (e.kind, e.call["id"], e.call["status"], e.previous_status)
        for e in (next(events) for _ in range(n))
    ]


def test_backlog_then_new_calls_and_changes_in_order(
    scripted: tuple[ScriptedCalls, ZazaApi],
) -> None:
    calls, api = scripted
    for i in range(1, 31):
        calls.add(call_record(i, "COMPLETED", i))
    clock = Clock()
    events = follower(api, clock, backlog=3).events()
    assert take(events, 3) == [
        ("new", 28, "COMPLETED", None),
        ("new", 29, "COMPLETED", None),
        ("new", 30, "COMPLETED", None),
    ]
    calls.add(call_record(31, "QUEUED", 40))
    calls.add(call_record(32, "RINGING", 41))
    assert take(events, 2) == [("new", 31, "QUEUED", None), ("new", 32, "RINGING", None)]
    calls.set_status(31, "IN_PROGRESS")
    calls.set_status(32, "NO_ANSWER")
    calls.add(call_record(33, "QUEUED", 50))
    assert take(events, 3) == [
        ("changed", 31, "IN_PROGRESS", "QUEUED"),
        ("changed", 32, "NO_ANSWER", "RINGING"),
        ("new", 33, "QUEUED", None),
    ]
    calls.set_status(31, "COMPLETED")
    assert take(events, 1) == [("changed", 31, "COMPLETED", "IN_PROGRESS")]
    assert clock.sleeps == [5.0, 5.0, 5.0]


def test_calls_from_before_start_never_show_as_new(
    scripted: tuple[ScriptedCalls, ZazaApi],
) -> None:
    calls, api = scripted
    for i in range(1, 101):
        calls.add(call_record(i, "COMPLETED", i))
    calls.set_status(10, "IN_PROGRESS")  # old and still going, not in the backlog
    clock = Clock()
    tail = follower(api, clock, backlog=2)
    events = tail.events()
    assert [e[1] for e in take(events, 2)] == [99, 100]
    calls.set_status(10, "COMPLETED")  # a change of a call never shown: not reported
    calls.add(call_record(101, "QUEUED", 200))
    assert take(events, 1) == [("new", 101, "QUEUED", None)]


def test_a_quiet_poll_reads_one_small_page(scripted: tuple[ScriptedCalls, ZazaApi]) -> None:
    calls, api = scripted
    for i in range(1, 501):
        calls.add(call_record(i, "COMPLETED", i))
    clock = Clock()
    tail = follower(api, clock, backlog=5)
    events = tail.events()
    take(events, 5)
    first_poll = len(calls.sizes)
    calls.add(call_record(501, "QUEUED", 600))
    take(events, 1)
    assert calls.sizes[first_poll:] == [20]  # stopped at the first known call
    calls.set_status(501, "COMPLETED")
    take(events, 1)
    assert len(calls.sizes) == first_poll + 2


def test_with_a_status_filter_a_call_shows_up_when_it_gets_the_status(
    scripted: tuple[ScriptedCalls, ZazaApi],
) -> None:
    calls, api = scripted
    calls.add(call_record(1, "FAILED", 0))
    calls.add(call_record(2, "RINGING", 10))
    calls.add(call_record(3, "FAILED", 20))
    clock = Clock()
    events = follower(api, clock, backlog=1, filters=CallFilter(statuses=("FAILED",))).events()
    assert take(events, 1) == [("new", 3, "FAILED", None)]
    calls.set_status(2, "FAILED")  # older than call 3, newly matching
    assert take(events, 1) == [("new", 2, "FAILED", None)]


def test_memory_is_bounded_to_the_tracked_window(
    scripted: tuple[ScriptedCalls, ZazaApi],
) -> None:
    calls, api = scripted
    calls.add(call_record(0, "COMPLETED", 0.0))
    clock = Clock()
    tail = follower(api, clock, backlog=1, track_window=60.0)
    events = tail.events()
    assert take(events, 1) == [("new", 0, "COMPLETED", None)]
    for i in range(1, 41):
        calls.add(call_record(i, "QUEUED", i * 10.0))  # one new call every 10 s
        assert take(events, 1) == [("new", i, "QUEUED", None)]
    # Calls created over a minute before the newest are forgotten (and no longer polled).
    remembered = tail._seen
    assert set(remembered) == set(range(34, 41))


def test_429_after_retries_doubles_the_interval_and_polling_goes_on(
    fault_server: FaultServer,
) -> None:
    calls = ScriptedCalls([call_record(1, "COMPLETED", 0)])
    answers = {"limited": 0}

    def answer(request: Request) -> Reply:
        if answers["limited"]:
            answers["limited"] -= 1
            return Reply(429, {"message": "slow down"})
        return calls.answer(request)

    fault_server.route("GET", "/api/v1/calls", answer=answer)
    notices: list[str] = []
    clock = Clock()
    api = ZazaApi(HttpClient(fault_server.url, KEY, sleep=lambda s: None, max_tries=2))
    tail = CallFollower(
        api, interval=5.0, sleep=clock.sleep, clock=clock, backlog=1, notice=notices.append
    )
    events = tail.events()
    assert take(events, 1) == [("new", 1, "COMPLETED", None)]
    answers["limited"] = 2 * 2  # two polls, each failing both of its tries
    calls.add(call_record(2, "QUEUED", 10))
    assert take(events, 1) == [("new", 2, "QUEUED", None)]
    assert clock.sleeps == [5.0, 10.0, 20.0]
    assert tail.stats.rate_limited == 2
    assert notices[-1].endswith("polling every 20s from now on")
    api.close()


def test_network_failures_are_retried_but_a_bad_key_is_not(fault_server: FaultServer) -> None:
    calls = ScriptedCalls([call_record(1, "COMPLETED", 0)])
    mode = {"status": 0}

    def answer(request: Request) -> Reply:
        if mode["status"]:
            return Reply(mode["status"], {"message": f"HTTP {mode['status']}"})
        return calls.answer(request)

    fault_server.route("GET", "/api/v1/calls", answer=answer)
    clock = Clock()
    notices: list[str] = []
    api = ZazaApi(HttpClient(fault_server.url, KEY, sleep=lambda s: None, max_tries=1))
    tail = CallFollower(
        api, interval=5.0, sleep=clock.sleep, clock=clock, backlog=1, notice=notices.append
    )
    events = tail.events()
    take(events, 1)
    mode["status"] = 500
    calls.add(call_record(2, "QUEUED", 10))

    def recover_later(seconds: float) -> None:
        Clock.sleep(clock, seconds)
        if len(clock.sleeps) == 3:
            mode["status"] = 0

    tail._sleep = recover_later
    assert take(events, 1) == [("new", 2, "QUEUED", None)]
    assert len(notices) == 2 and "HTTP 500" in notices[0]
    mode["status"] = 401
    with pytest.raises(AuthError):
        next(events)
    api.close()


def test_duration_ends_the_stream(scripted: tuple[ScriptedCalls, ZazaApi]) -> None:
    calls, api = scripted
    calls.add(call_record(1, "COMPLETED", 0))
    clock = Clock()
    events = list(follower(api, clock, backlog=1).events(duration=12.0))
    assert [e.call["id"] for e in events] == [1]
    assert clock.now == pytest.approx(12.0)
    assert clock.sleeps == [5.0, 5.0, 2.0]
