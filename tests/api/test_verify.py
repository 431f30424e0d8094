"""Verify, don't trust: GET /calls checked against what was asked, over real sandboxes
playing servers that read the contract differently (quirks), and scripted servers for what
no sandbox does. Each test asserts the exact ids, counts and exit codes."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from conftest import Cli, FaultServer, Reply

from zazacli.api.client import ZazaApi
from zazacli.api.http import HttpClient
from zazacli.api.listing import CallFilter
from zazacli.api.values import call_is_over
from zazacli.errors import ScanDeadlineError, ScanError
from zazacli.sandbox import Sandbox

SEED = 7
KEY = "sk_test_verify"
MakeSandbox = Callable[..., Sandbox]


def start(make_sandbox: MakeSandbox, *quirks: str) -> tuple[Sandbox, Cli]:
    running = make_sandbox(seed=SEED, quirks=quirks, live_calls=False)
    assert all(call_is_over(c) for c in everything(running))  # two reads see the same
    running.app.requests.clear()
    return running, Cli(env={"ZAZA_BASE_URL": running.base_url, "ZAZA_API_KEY": running.api_key})


def everything(running: Sandbox) -> list[dict[str, Any]]:
    """Every call the sandbox holds, newest first, read straight from its records."""
    now = time.time()
    calls = [json.loads(call.summary_json(now)) for call in running.app.calls]
    calls.reverse()
    return calls


def ids_of(result: Any) -> list[int]:
    assert result.exit_code == 0, result.stderr
    return [call["id"] for call in json.loads(result.stdout)]


def jsonl_ids(stdout: str) -> list[int]:
    return [json.loads(line)["id"] for line in stdout.splitlines() if line.strip()]


def in_range(calls: list[dict[str, Any]], since: str, until: str | None = None) -> list[int]:
    return [
        c["id"]
        for c in calls
        if c["createdAt"] >= since and (until is None or c["createdAt"] < until)
    ]


# ------------------------------------------------------------------ filters


def test_ignored_dates_are_checked_client_side(make_sandbox: MakeSandbox) -> None:
    running, cli = start(make_sandbox, "ignore-dates")
    calls = everything(running)
    since, until = calls[150]["createdAt"], calls[20]["createdAt"]
    expected = in_range(calls, since, until)
    assert 0 < len(expected) < len(calls)

    listed = cli("calls", "list", "--since", since, "--until", until, "--json")
    assert ids_of(listed) == expected

    stats = cli("calls", "stats", "--since", since, "--until", until, "--json")
    assert stats.exit_code == 0, stats.stderr
    report = json.loads(stats.stdout)
    assert report["total"] == len(expected)
    by_status = Counter(c["status"] for c in calls if c["id"] in set(expected))
    assert {g["key"]: g["count"] for g in report["groups"]} == dict(by_status)


def test_honest_server_gives_the_same_range(make_sandbox: MakeSandbox) -> None:
    """The client-side check changes nothing where the server honours the dates."""
    running, cli = start(make_sandbox)
    calls = everything(running)
    since, until = calls[150]["createdAt"], calls[20]["createdAt"]
    assert ids_of(cli("calls", "list", "--since", since, "--until", until, "--json")) == (
        in_range(calls, since, until)
    )


def test_since_scan_stops_at_the_first_older_call(make_sandbox: MakeSandbox) -> None:
    """Newest first is known from the first page: the scan stops there, not at page 3."""
    running, cli = start(make_sandbox, "ignore-dates")
    calls = everything(running)
    since = calls[30]["createdAt"]
    result = cli("calls", "list", "--since", since, "--all", "--json")
    assert ids_of(result) == in_range(calls, since)
    assert running.app.requests["GET /calls"] == 1


def test_debug_names_the_ignored_filters(make_sandbox: MakeSandbox) -> None:
    running, cli = start(make_sandbox, "ignore-dates", "ignore-filters")
    calls = everything(running)
    since = calls[99]["createdAt"]
    result = cli("--debug", "calls", "list", "--direction", "outbound", "--since", since, "--json")
    wanted = set(in_range(calls, since))
    expected = [c["id"] for c in calls if c["id"] in wanted and c["direction"] == "OUTBOUND"]
    assert ids_of(result) == expected
    notes = [line for line in result.stderr.splitlines() if "ignored" in line]
    assert len(notes) == 1, result.stderr
    assert "startDate" in notes[0] and "direction" in notes[0] and "client-side" in notes[0]
    quiet = cli("calls", "list", "--direction", "outbound", "--since", since, "--json")
    assert "ignored" not in quiet.stderr


def test_ignore_everything_and_oldest_first_combined(make_sandbox: MakeSandbox) -> None:
    running, cli = start(make_sandbox, "ignore-dates", "ignore-filters", "oldest-first")
    calls = everything(running)
    since = calls[200]["createdAt"]
    wanted = set(in_range(calls, since))
    expected = [c["id"] for c in calls if c["id"] in wanted and c["direction"] == "OUTBOUND"]
    result = cli("calls", "list", "--direction", "outbound", "--since", since, "--json")
    assert ids_of(result) == expected
    limited = cli("calls", "list", "--direction", "outbound", "--since", since, "-L", "3", "--json")
    assert ids_of(limited) == expected[:3]


# ------------------------------------------------------------------ paging


def test_bare_arrays_are_read_to_the_end(make_sandbox: MakeSandbox) -> None:
    running, cli = start(make_sandbox, "bare-array")
    result = cli("calls", "list", "--all", "--jsonl")
    assert result.exit_code == 0, result.stderr
    assert jsonl_ids(result.stdout) == [c["id"] for c in everything(running)]
    assert len(jsonl_ids(result.stdout)) == 300
    assert running.app.requests["GET /calls"] == 4  # 3 full pages, then an empty one


def test_bare_arrays_under_a_page_cap(make_sandbox: MakeSandbox) -> None:
    """7 calls where 100 were asked: maybe the end, maybe a cap. zaza asks on."""
    running, cli = start(make_sandbox, "bare-array", "page-cap=7")
    result = cli("calls", "list", "--all", "--jsonl")
    assert result.exit_code == 0, result.stderr
    assert jsonl_ids(result.stdout) == [c["id"] for c in everything(running)]
    assert running.app.requests["GET /calls"] == 43  # 42 pages of 7, one of 6: the end


def test_stuck_page_ends_with_an_error_and_no_duplicates(make_sandbox: MakeSandbox) -> None:
    running, cli = start(make_sandbox, "stuck-page")
    result = cli("calls", "list", "--all", "--jsonl")
    assert result.exit_code == 1
    printed = jsonl_ids(result.stdout)
    assert printed == [c["id"] for c in everything(running)][:100]
    assert len(set(printed)) == len(printed)
    assert "answered page 0 again when asked for page 1" in result.stderr
    assert running.app.requests["GET /calls"] == 2


def _paged(server: FaultServer, pages: Callable[[int], dict[str, Any]]) -> None:
    """GET /calls answers `pages(number)` for the page number asked (0 if none)."""
    server.route(
        "GET", "/api/v1/calls", answer=lambda r: Reply(200, pages(int(r.query.get("page", "0"))))
    )


def _call(ident: int, created: str) -> dict[str, Any]:
    return {"id": ident, "status": "COMPLETED", "direction": "OUTBOUND", "createdAt": created}


def _stamp(minute: int) -> str:
    return f"2026-11-01T{minute // 60:02d}:{minute % 60:02d}:00Z"


def test_a_page_of_calls_already_seen_is_a_loop(cli: Cli, fault_server: FaultServer) -> None:
    """A server that numbers its pages right but always sends the same calls."""
    same = [_call(10 - i, _stamp(500 - i)) for i in range(3)]

    def pages(number: int) -> dict[str, Any]:
        return {"content": same, "number": number, "size": 3, "last": False}

    _paged(fault_server, pages)
    result = cli("calls", "list", "--all", "--jsonl", ZAZA_BASE_URL=fault_server.url)
    assert result.exit_code == 1
    assert jsonl_ids(result.stdout) == [10, 9, 8]
    assert "page 1 of GET /calls held only items already listed" in result.stderr
    assert len(fault_server.requests) == 2


def test_shifted_pages_drop_repeats(cli: Cli, fault_server: FaultServer) -> None:
    """Two calls created during the scan push page 0's tail onto page 1: dropped, no error."""
    calls = [_call(100 - i, _stamp(900 - i)) for i in range(10)]

    def pages(number: int) -> dict[str, Any]:
        start = 0 if number == 0 else 5 * number - 2
        return {"content": calls[start : start + 5], "number": number, "totalPages": 2}

    _paged(fault_server, pages)
    result = cli("calls", "list", "--all", "--jsonl", ZAZA_BASE_URL=fault_server.url)
    assert result.exit_code == 0, result.stderr
    assert jsonl_ids(result.stdout) == [100, 99, 98, 97, 96, 95, 94, 93]


def test_order_broken_mid_scan_is_an_error(cli: Cli, fault_server: FaultServer) -> None:
    def pages(number: int) -> dict[str, Any]:
        base = 600 if number == 0 else 700  # page 1 is newer than page 0
        items = [_call(number * 10 + i, _stamp(base - i)) for i in range(3)]
        return {"content": items, "number": number, "totalPages": 2}

    _paged(fault_server, pages)
    result = cli("calls", "list", "--all", "--jsonl", ZAZA_BASE_URL=fault_server.url)
    assert result.exit_code == 1
    assert jsonl_ids(result.stdout) == [0, 1, 2]
    assert "is not newest first: call 10" in result.stderr


def test_scans_are_bounded_by_pages_and_by_time(fault_server: FaultServer) -> None:
    """A server announcing 2 pages but paging on forever; then one that is too slow."""

    def pages(number: int) -> dict[str, Any]:
        items = [_call(1000 - number * 2 - i, _stamp(1400 - number * 2 - i)) for i in range(2)]
        return {"content": items, "number": number, "totalPages": 2, "last": False}

    _paged(fault_server, pages)
    api = ZazaApi(HttpClient(fault_server.url, KEY, sleep=lambda s: None, max_tries=1))
    with pytest.raises(ScanError, match="went on for 9 pages where its first page announced 2"):
        list(api.iter_calls(CallFilter()))
    assert len(fault_server.requests) == 9
    with pytest.raises(ScanDeadlineError):
        list(api.iter_calls(CallFilter(), deadline=time.monotonic() - 1))
    assert len(fault_server.requests) == 9  # past its deadline, not even one page
    api.close()


# ------------------------------------------------------------------ order


def test_oldest_first_still_shows_the_newest(make_sandbox: MakeSandbox) -> None:
    honest, honest_cli = start(make_sandbox)
    newest = ids_of(honest_cli("calls", "list", "--limit", "5", "--json"))
    running, cli = start(make_sandbox, "oldest-first")
    assert ids_of(cli("calls", "list", "--limit", "5", "--json")) == newest
    every = cli("calls", "list", "--all", "--jsonl")
    assert jsonl_ids(every.stdout) == [c["id"] for c in everything(running)]


def test_oldest_first_bare_array(make_sandbox: MakeSandbox) -> None:
    """No page count: with a limit the whole list is read keeping the newest N; without
    one zaza cannot list newest first and says so."""
    running, cli = start(make_sandbox, "oldest-first", "bare-array")
    expected = [c["id"] for c in everything(running)]
    assert ids_of(cli("calls", "list", "--limit", "5", "--json")) == expected[:5]
    result = cli("calls", "list", "--all", "--jsonl")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "oldest first" in result.stderr and "--limit N" in result.stderr
    # Counting does not need the order.
    stats = cli("calls", "stats", "--json")
    assert json.loads(stats.stdout)["total"] == 300


# ------------------------------------------------------------------ statuses


def test_wait_on_an_unknown_final_status_exits_15_at_once(make_sandbox: MakeSandbox) -> None:
    running, cli = start(make_sandbox, "unknown-status")
    voicemail = [c for c in everything(running) if c["status"] == "VOICEMAIL"]
    assert voicemail
    call_id = voicemail[0]["id"]
    result = cli("calls", "wait", str(call_id))
    assert result.exit_code == 15
    assert "VOICEMAIL" in result.stdout
    assert "VOICEMAIL, which zaza does not know" in result.stderr
    assert running.app.requests["GET /calls/{id}"] == 1


def test_status_option_passes_unknown_upper_case(make_sandbox: MakeSandbox) -> None:
    running, cli = start(make_sandbox, "unknown-status")
    expected = [c["id"] for c in everything(running) if c["status"] == "VOICEMAIL"]
    result = cli("calls", "list", "--status", "VOICEMAIL", "--json")
    assert ids_of(result) == expected
    assert result.stderr.count("--status VOICEMAIL is not a status zaza knows; sent as is") == 1
    known = cli("calls", "list", "--status", "No-Answer", "--json")
    assert known.exit_code == 0 and "not a status" not in known.stderr
    bad = cli("calls", "list", "--status", "nonsense")
    assert bad.exit_code == 2
    assert "completed" in bad.stderr and "UPPER_SNAKE_CASE" in bad.stderr
    assert running.app.requests["GET /calls"] == 2  # the usage error sent nothing


def test_stats_counts_unknown_final_statuses_as_ended(make_sandbox: MakeSandbox) -> None:
    running, cli = start(make_sandbox, "unknown-status")
    calls = everything(running)
    ended = sum(1 for c in calls if c["direction"] == "OUTBOUND" and call_is_over(c))
    report = json.loads(cli("calls", "stats", "--json").stdout)
    assert report["ended_outbound"] == ended
    assert any(g["key"] == "VOICEMAIL" for g in report["groups"])


def test_call_is_over_rule() -> None:
    assert call_is_over({"status": "COMPLETED"})
    assert call_is_over({"status": "no_answer"})
    assert not call_is_over({"status": "RINGING"})
    assert not call_is_over({"status": "VOICEMAIL", "durationSeconds": None})
    assert call_is_over({"status": "VOICEMAIL", "durationSeconds": 0})
    assert call_is_over({"status": "IN_PROGRESS", "endedAt": "2026-11-01T10:00:00Z"})
    assert not call_is_over({"status": "IN_PROGRESS", "durationSeconds": 12})


def test_call_filter_checks_each_call() -> None:
    window = CallFilter(since="2026-11-01T10:00:00Z", until="2026-11-01T11:00:00+00:00")
    assert window.query() == {
        "startDate": "2026-11-01T10:00:00Z",
        "endDate": "2026-11-01T11:00:00+00:00",
    }
    assert window.mismatch({"createdAt": "2026-11-01T10:00:00Z"}) is None
    assert window.mismatch({"createdAt": "2026-11-01T12:30:00+02:00"}) is None  # 10:30Z
    assert window.mismatch({"createdAt": "2026-11-01T09:59:59.5Z"}) == "since"
    assert window.mismatch({"createdAt": "2026-11-01T11:00:00Z"}) == "until"
    assert window.mismatch({"createdAt": "yesterday"}) == "createdAt"
    who = CallFilter(directions=("OUTBOUND",), statuses=("completed",), agent_ids=(12,))
    assert who.mismatch({"direction": "outbound", "status": "COMPLETED", "agentId": "12"}) is None
    assert (
        who.mismatch({"direction": "INBOUND", "status": "COMPLETED", "agentId": 12}) == "direction"
    )
    assert who.mismatch({"direction": "OUTBOUND", "status": "BUSY", "agentId": 12}) == "status"
    assert (
        who.mismatch({"direction": "OUTBOUND", "status": "COMPLETED", "agentId": 3}) == "agent_id"
    )


# ------------------------------------------------------------------ the other readers


def test_export_reads_only_the_range(make_sandbox: MakeSandbox, tmp_path: Any) -> None:
    running, cli = start(make_sandbox, "ignore-dates", "ignore-filters")
    calls = everything(running)
    since, until = calls[60]["createdAt"], calls[10]["createdAt"]
    wanted = set(in_range(calls, since, until))
    expected = {c["id"] for c in calls if c["id"] in wanted and c["direction"] == "INBOUND"}
    args = ["--since", since, "--until", until, "--direction", "inbound", "--json"]
    result = cli("calls", "export-transcripts", str(tmp_path / "qa"), *args)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    handled = sum(summary[k] for k in ("written", "skipped", "no_transcript", "in_progress"))
    assert handled == len(expected)
    assert {int(p.stem) for p in (tmp_path / "qa").glob("*.txt")} <= expected
    assert running.app.requests["GET /calls/{id}"] == len(expected)


def test_tail_checks_its_filters(make_sandbox: MakeSandbox) -> None:
    running, cli = start(make_sandbox, "ignore-filters")
    inbound = [c["id"] for c in everything(running) if c["direction"] == "INBOUND"]
    args = ["--direction", "inbound", "-n", "5", "--max-events", "5", "--jsonl"]
    result = cli("calls", "tail", *args)
    assert result.exit_code == 0, result.stderr
    shown = [json.loads(line)["call"]["id"] for line in result.stdout.splitlines()]
    assert shown == list(reversed(inbound[:5]))  # the backlog reads oldest first
