"""`zaza calls sync`, `search` and `archive`, against real loopback servers.

The archive is checked against the API itself: every call the API lists, with what
`GET /calls/{id}` answers, must be in it exactly once (raw JSON and turns as sent), and
the full-text index must agree with the turns. Every test passes `--archive` (or
ZAZA_ARCHIVE), so none writes to the user's data directory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from conftest import (
    Cli,
    FaultServer,
    Reply,
    Request,
    Sleeps,
    faster,
    no_waiting,
    popen_zaza,
    wait_for,
)

from zazacli.sandbox import Sandbox

MakeSandbox = Callable[..., Sandbox]


# ---------------------------------------------------------------- helpers


def archive_cli(sandbox: Sandbox | FaultServer, path: Path, **more: Any) -> Cli:
    url = sandbox.base_url if isinstance(sandbox, Sandbox) else sandbox.url
    key = sandbox.api_key if isinstance(sandbox, Sandbox) else "zaza_test_crafted"
    return Cli(env={"ZAZA_BASE_URL": url, "ZAZA_API_KEY": key, "ZAZA_ARCHIVE": str(path)}, **more)


def api_state(sandbox: Sandbox) -> dict[int, dict[str, Any]]:
    """Every call the sandbox lists, as `GET /calls/{id}` answers it (whatever the shape of
    its pages, and waiting out its rate limit)."""
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    with httpx.Client(base_url=sandbox.base_url + "/", headers=headers, trust_env=False) as api:

        def get(path: str, **params: Any) -> Any:
            answer = wait_for(
                lambda: (r := api.get(path, params=params)).status_code != 429 and r, 10
            )
            return answer.json()

        ids: list[int] = []
        page = 0
        while True:
            answer = get("calls", page=page, size=100)
            items = answer if isinstance(answer, list) else answer["content"]
            ids += [call["id"] for call in items]
            if answer["last"] if isinstance(answer, dict) else len(items) < 100:
                break
            page += 1
        return {call_id: get(f"calls/{call_id}") for call_id in ids}


@contextlib.contextmanager
def reading(path: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        yield db
    finally:
        db.close()


def archived(path: Path) -> dict[int, tuple[dict[str, Any], Any]]:
    """id -> (the call as stored, its turns as stored or None)."""
    with reading(path) as db:
        rows = db.execute("SELECT id, raw, turns FROM calls").fetchall()
    return {i: (json.loads(raw), json.loads(turns) if turns else None) for i, raw, turns in rows}


def assert_mirrors(path: Path, sandbox: Sandbox) -> None:
    """The archive holds exactly the API's calls, each with its transcript, and the index
    holds exactly their turns."""
    expected = api_state(sandbox)
    held = archived(path)
    assert sorted(held) == sorted(expected)
    for call_id, detail in expected.items():
        record, turns = held[call_id]
        assert record == {k: v for k, v in detail.items() if k != "turns"}, call_id
        assert turns == detail["turns"], call_id
    with contextlib.closing(sqlite3.connect(path)) as db:
        total = db.execute("SELECT count(*) FROM turns").fetchone()[0]
        assert total == sum(len(detail["turns"]) for detail in expected.values())
        db.execute("INSERT INTO turns_fts (turns_fts) VALUES ('integrity-check')")


def summary(result: Any) -> dict[str, Any]:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def crafted_call(call_id: int, created: str, turns: list[tuple[str, str]], **extra: Any) -> Any:
    return {
        "id": call_id,
        "direction": "INBOUND",
        "status": "COMPLETED",
        "createdAt": created,
        "startedAt": created,
        "endedAt": created,
        "agentId": 14,
        "durationSeconds": 60,
        "turns": [{"role": role, "text": text, "timestamp": created} for role, text in turns],
        **extra,
    }


def serve(
    fault_server: FaultServer,
    calls: list[dict[str, Any]],
    broken: frozenset[int] = frozenset(),
    failing_page: int | None = None,
    details: Reply | None = None,
    details_optional: bool = False,
) -> None:
    """A scripted API: GET /calls lists `calls` newest first in Spring pages (page
    `failing_page` answers 503), GET /calls/{id} answers each with its turns (404 for the
    ids in `broken`; `details` instead, if given, for every id; it may go unasked if
    `details_optional`)."""
    by_id = {call["id"]: call for call in calls}
    listing = sorted(calls, key=lambda call: call["createdAt"], reverse=True)
    items = [{k: v for k, v in call.items() if k != "turns"} for call in listing]

    def page(request: Request) -> Reply:
        number, size = int(request.query["page"]), int(request.query["size"])
        if number == failing_page:
            return Reply(503, {"status": 503, "message": "try later"})
        pages = max(1, -(-len(items) // size))
        body = {
            "content": items[number * size : (number + 1) * size],
            "totalElements": len(items),
            "totalPages": pages,
            "number": number,
            "size": size,
            "first": number == 0,
            "last": number >= pages - 1,
        }
        return Reply(200, body)

    def detail(request: Request) -> Reply:
        call_id = int(request.route_path.rsplit("/", 1)[1])
        if details is not None:
            return details
        if call_id in by_id and call_id not in broken:
            return Reply(200, by_id[call_id])
        return Reply(404, {"status": 404, "message": f"Call {call_id} not found"})

    agents = [{"id": 14, "name": "Marco (support line)"}]
    fault_server.route("GET", "/api/v1/agents", 200, agents)
    fault_server.route("GET", "/api/v1/calls", answer=page)
    fault_server.route("GET", "/api/v1/calls/*", answer=detail, optional=details_optional)


def details_asked(fault_server: FaultServer) -> list[str]:
    paths = [urlsplit(request["path"]).path for request in fault_server.requests]
    return [path.rsplit("/", 1)[1] for path in paths if re.search(r"/calls/\d+$", path)]


# ---------------------------------------------------------------- sync


@pytest.mark.slow
def test_first_sync_mirrors_every_call_and_transcript(sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    result = archive_cli(sandbox, path)("calls", "sync", "--json")
    report = summary(result)
    expected = api_state(sandbox)
    with_turns = sum(bool(detail["turns"]) for detail in expected.values())
    assert (report["new"], report["updated"], report["failed"]) == (300, 0, 0)
    assert (report["transcripts"], report["no_transcript"]) == (with_turns, 300 - with_turns)
    assert report["archive"] == str(path)
    assert f"mirroring 300 calls (the API's count) into {path}" in result.stderr
    assert "synced: 300 new, 0 updated" in result.stderr
    assert_mirrors(path, sandbox)
    assert path.stat().st_mode & 0o777 == 0o600  # transcripts are personal data


@pytest.mark.slow
def test_a_sync_with_nothing_new_costs_a_few_requests(sandbox: Sandbox, tmp_path: Path) -> None:
    cli = archive_cli(sandbox, tmp_path / "a.sqlite3")
    summary(cli("calls", "sync", "--json"))
    sandbox.app.requests.clear()
    again = cli("calls", "sync", "--json")
    report = summary(again)
    assert (report["new"], report["updated"], report["transcripts"], report["failed"]) == (0,) * 4
    assert "mirroring" not in again.stderr
    assert sum(sandbox.app.requests.values()) <= 10, sandbox.app.requests
    assert sandbox.app.requests["GET /calls/{id}"] == 0


@pytest.mark.slow
def test_sync_picks_up_new_calls_and_status_changes(
    make_sandbox: MakeSandbox, tmp_path: Path
) -> None:
    # Speed 4: a dispatched call is live for two seconds, long enough to be synced live.
    sandbox = make_sandbox(speed=4.0, calls=40, live_calls=False)
    path = tmp_path / "a.sqlite3"
    cli = archive_cli(sandbox, path)
    summary(cli("calls", "sync", "--json"))
    dispatch = ("calls", "dispatch", "--from", "+14155550100", "--agent", "12", "--json")
    queued = summary(cli(*dispatch, "--to", "+14155550124"))["id"]

    live = summary(cli("calls", "sync", "--json"))
    assert (live["new"], live["live"], live["transcripts"]) == (1, 1, 0)
    record, turns = archived(path)[queued]
    assert record["status"] in ("QUEUED", "RINGING", "IN_PROGRESS") and turns is None

    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    url = f"{sandbox.base_url}/calls/{queued}"
    wait_for(lambda: httpx.get(url, headers=headers).json()["endedAt"], 10, "the call to end")
    answered = summary(cli(*dispatch, "--to", "+14155550128", "--wait"))["id"]
    sandbox.app.requests.clear()
    ended = summary(cli("calls", "sync", "--json"))
    assert (ended["new"], ended["updated"], ended["transcripts"], ended["live"]) == (1, 1, 2, 0)
    assert sandbox.app.requests["GET /calls/{id}"] == 2  # one transcript each, nothing more
    assert_mirrors(path, sandbox)
    assert archived(path)[answered][0]["disposition"] == "APPOINTMENT_BOOKED"


def test_calls_live_at_the_last_sync_are_read_again(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    # Call 1 is an hour older than the newest: the next sync's listing stops before it.
    talk = [("AGENT", "Hello"), ("CALLER", "I need a refund")]
    newest = crafted_call(2, "2026-11-26T15:00:00Z", talk)
    ringing = crafted_call(1, "2026-11-26T14:00:00Z", [], status="IN_PROGRESS", endedAt=None)
    serve(fault_server, [ringing, newest])
    path = tmp_path / "a.sqlite3"
    cli = archive_cli(fault_server, path)
    first = summary(cli("calls", "sync", "--json"))
    assert (first["new"], first["live"], first["transcripts"]) == (2, 1, 1)
    assert details_asked(fault_server) == ["2"]

    serve(fault_server, [crafted_call(1, "2026-11-26T14:00:00Z", talk), newest])
    fault_server.requests.clear()
    second = summary(cli("calls", "sync", "--json"))
    assert (second["new"], second["updated"], second["transcripts"], second["live"]) == (0, 1, 1, 0)
    assert details_asked(fault_server) == ["1"]
    record, turns = archived(path)[1]
    assert record["status"] == "COMPLETED" and [t["text"] for t in turns] == [
        "Hello",
        "I need a refund",
    ]


def test_an_interrupted_incremental_sync_leaves_no_gap(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    """150 new calls over a day: the next sync stores the newest 100, then the list fails.
    What it stored must not count as a range held, or the 50 below would never be read."""
    said = [("CALLER", "hello")]
    old = [crafted_call(i, f"2026-11-01T10:{i:02d}:00Z", said) for i in range(1, 11)]
    start = datetime(2026, 11, 20, tzinfo=UTC)
    times = [(start + timedelta(minutes=10 * i)).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(150)]
    new = [crafted_call(1000 + i, created, said) for i, created in enumerate(times)]
    serve(fault_server, old)
    path = tmp_path / "a.sqlite3"
    cli = archive_cli(fault_server, path, timing=no_waiting())
    assert summary(cli("calls", "sync", "--json"))["new"] == 10
    serve(fault_server, old + new, failing_page=1)
    interrupted = cli("calls", "sync")
    assert interrupted.exit_code != 0 and "HTTP 503" in interrupted.stderr
    assert len(archived(path)) == 110  # the first page was stored

    serve(fault_server, old + new)
    assert summary(cli("calls", "sync", "--json"))["new"] == 50
    held = archived(path)
    assert sorted(held) == sorted(call["id"] for call in old + new)
    assert all(turns == [{"role": "CALLER", "text": "hello", "timestamp": record["createdAt"]}]
               for record, turns in held.values())  # fmt: skip


def test_failed_transcripts_are_reported_and_fetched_by_the_next_sync(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    calls = [
        crafted_call(i, f"2026-11-26T1{i}:00:00Z", [("CALLER", f"call {i}")]) for i in (1, 2, 3)
    ]
    serve(fault_server, calls, broken=frozenset({2}))
    cli = archive_cli(fault_server, tmp_path / "a.sqlite3")
    failing = cli("calls", "sync")
    assert failing.exit_code == 1
    assert "0 updated, 2 transcripts fetched, 1 failed" in failing.stderr
    assert "call 2: HTTP 404: Call 2 not found" in failing.stderr
    assert "error: 1 call failed" in failing.stderr

    serve(fault_server, calls)
    fault_server.requests.clear()
    fixed = summary(cli("calls", "sync", "--json"))
    assert (fixed["transcripts"], fixed["failed"]) == (1, 0)
    assert details_asked(fault_server) == ["2"]


def test_sync_stops_at_once_on_a_bad_key(fault_server: FaultServer, tmp_path: Path) -> None:
    said = [("CALLER", "hi")]
    calls = [crafted_call(i, f"2026-11-26T10:{i:02d}:00Z", said) for i in range(1, 50)]
    serve(fault_server, calls, details=Reply(401, {"status": 401, "message": "Invalid API key"}))
    result = archive_cli(fault_server, tmp_path / "a.sqlite3")("calls", "sync")
    assert result.exit_code == 4
    assert "stopped early: HTTP 401: Invalid API key" in result.stderr
    assert len(details_asked(fault_server)) < 20  # it did not try all 49


@pytest.mark.slow
def test_sync_backs_off_on_429(make_sandbox: MakeSandbox, tmp_path: Path) -> None:
    # Time runs ten times faster on both sides: 5 requests per 0.1 s, Retry-After 1 = 0.1 s.
    sandbox = make_sandbox(rate_limit=5, rate_window=0.1, calls=25, live_calls=False)
    sleeps = Sleeps()
    path = tmp_path / "a.sqlite3"
    result = archive_cli(sandbox, path, timing=faster(10, sleeps))("calls", "sync", "-c", "3")
    assert result.exit_code == 0, result.stderr
    assert "rate limited (HTTP 429); retrying in 1s" in result.stderr
    assert sleeps and all(seconds == 1 for seconds in sleeps)
    assert_mirrors(path, sandbox)


@pytest.mark.slow
@pytest.mark.parametrize("quirk", ["ignore-dates", "oldest-first", "bare-array", "page-cap=7"])
def test_sync_is_right_whatever_the_list_does(
    make_sandbox: MakeSandbox, tmp_path: Path, quirk: str
) -> None:
    sandbox = make_sandbox(quirks=(quirk,), calls=120, live_calls=False)
    path = tmp_path / "a.sqlite3"
    cli = archive_cli(sandbox, path)
    assert summary(cli("calls", "sync", "--json"))["new"] == 120
    sandbox.app.requests.clear()
    assert summary(cli("calls", "sync", "--json"))["new"] == 0
    assert sum(sandbox.app.requests.values()) <= 10, sandbox.app.requests
    assert_mirrors(path, sandbox)


@pytest.mark.slow
def test_filters_are_checked_and_each_has_its_own_coverage(
    make_sandbox: MakeSandbox, tmp_path: Path
) -> None:
    sandbox = make_sandbox(quirks=("ignore-filters",), live_calls=False)
    path = tmp_path / "a.sqlite3"
    cli = archive_cli(sandbox, path)
    expected = api_state(sandbox)
    support = {i for i, call in expected.items() if call["agentId"] == 14}
    assert summary(cli("calls", "sync", "--agent", "14", "--json"))["new"] == len(support)
    assert set(archived(path)) == support
    # A full sync is a first sync of its own: it does not stop at the agent's calls.
    full = cli("calls", "sync", "--json")
    assert summary(full)["new"] == 300 - len(support)
    assert "mirroring 300 calls" in full.stderr
    assert_mirrors(path, sandbox)


def dup_id_server(fault_server: FaultServer, calls: list[dict[str, Any]], dup: bool) -> None:
    """Pages of 2 (a cap the server says in `size`), newest first; with `dup`, page 1
    opens with page 0's last id again, with other content, and the call it displaces
    (the next one) is never listed, while totalElements still counts it."""
    items = sorted(calls, key=lambda call: call["createdAt"], reverse=True)
    listed = [{k: v for k, v in call.items() if k != "turns"} for call in items]
    by_id = {call["id"]: call for call in calls}

    def page(request: Request) -> Reply:
        number = int(request.query["page"])
        content = listed[number * 2 : number * 2 + 2]
        if dup and number == 1:
            content = [{**listed[1], "disposition": "CHANGED"}, *content[1:]]
        return Reply(200, {"content": content, "totalElements": len(listed), "totalPages": 2,
                           "number": number, "size": 2, "first": number == 0,
                           "last": number >= 1})  # fmt: skip

    fault_server.route("GET", "/api/v1/agents", 200, [])
    fault_server.route("GET", "/api/v1/calls", answer=page)
    fault_server.route(
        "GET",
        "/api/v1/calls/*",
        answer=lambda r: Reply(200, by_id[int(r.route_path.rsplit("/", 1)[1])]),
    )


def test_an_id_repeated_with_other_content_is_said_and_read_again(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    """The call the repeat displaced never came: `list --all` warns, `sync` exits 1 with
    coverage incomplete, and the next sync (the server mended) reads the range again."""
    calls = [
        crafted_call(n, f"2026-11-26T10:0{n}:00Z", [("CALLER", f"turn {n}")]) for n in (1, 2, 3, 4)
    ]
    dup_id_server(fault_server, calls, dup=True)
    cli = archive_cli(fault_server, tmp_path / "a.sqlite3")
    listed = cli("calls", "list", "--all", "-o", "jsonl")
    assert listed.exit_code == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 3
    assert "GET /calls announced 4 calls but listed 3 different ones: 1 never came" in (
        listed.stderr
    )
    synced = cli("calls", "sync")
    assert synced.exit_code == 1, synced.stderr
    assert "coverage incomplete: 1 calls the API announced were never listed" in synced.stderr
    assert "the API announced 1 more calls than it listed" in synced.stderr
    dup_id_server(fault_server, calls, dup=False)
    again = summary(cli("calls", "sync", "--json"))
    assert again["new"] == 1 and again["incomplete"] == 0
    assert summary(cli("calls", "archive", "--json"))["calls"] == 4


def test_a_refresh_sees_what_the_api_changed_or_deleted(
    make_sandbox: MakeSandbox, tmp_path: Path
) -> None:
    """After a sync the API changes one ended call (disposition and transcript) and deletes
    another: a plain sync sees neither (as documented); --refresh updates the one (fetching
    only it) and marks the other deleted, hidden from --local and search unless
    --include-deleted; a second refresh of the unchanged range costs list pages only."""
    running = make_sandbox(calls=30, live_calls=False)
    cli = archive_cli(running, tmp_path / "a.sqlite3")
    summary(cli("calls", "sync", "--json"))
    # The oldest ended calls: far below what a plain sync reads again (the newest minutes).
    ended = sorted(
        (call for call in api_state(running).values() if call.get("turns")),
        key=lambda call: call["createdAt"],
    )
    changed, gone = ended[0]["id"], ended[1]["id"]
    turns = [{"role": "CALLER", "text": "zebrafinch amended", "timestamp": ended[0]["createdAt"]}]
    running.app.amend_call(changed, disposition="AMENDED", turns=turns)
    running.app.delete_call(gone)

    plain = summary(cli("calls", "sync", "--json"))
    assert plain["updated"] == 0 and plain["deleted"] is None

    details = running.app.requests["GET /calls/{id}"]
    refreshed = cli("calls", "sync", "--refresh", "--json")
    report = summary(refreshed)
    assert report["updated"] == 1 and report["deleted"] == 1, report
    assert running.app.requests["GET /calls/{id}"] - details == 1  # the changed call only
    assert "1 no longer listed by the API (marked deleted)" in refreshed.stderr

    listed = {c["id"] for c in map(json.loads, cli("calls", "list", "--local", "-o", "jsonl")
              .stdout.splitlines())}  # fmt: skip
    assert gone not in listed and changed in listed
    everything = cli("calls", "list", "--local", "--include-deleted", "-o", "jsonl").stdout
    assert gone in {c["id"] for c in map(json.loads, everything.splitlines())}
    hits = json.loads(cli("calls", "search", "zebrafinch", "--json").stdout)
    assert [hit["call_id"] for hit in hits] == [changed]
    show = cli("calls", "show", str(gone), "--local")
    assert show.exit_code == 0 and f"call {gone} is no longer listed by the API" in show.stderr
    assert cli("calls", "list", "--include-deleted").exit_code == 2  # needs --local
    status = cli("calls", "archive")
    assert "1 calls the API no longer lists" in status.stdout
    assert "refreshed" in status.stdout and "whole history" in status.stdout

    details = running.app.requests["GET /calls/{id}"]
    again = summary(cli("calls", "sync", "--refresh", "--json"))
    assert again["updated"] == 0 and again["deleted"] == 0 and again["new"] == 0
    assert running.app.requests["GET /calls/{id}"] == details  # list pages only


def test_an_archive_of_another_api_is_refused(make_sandbox: MakeSandbox, tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    first, other = make_sandbox(calls=5), make_sandbox(calls=5)
    summary(archive_cli(first, path)("calls", "sync", "--json"))
    refused = archive_cli(other, path)("calls", "sync")
    assert refused.exit_code == 2
    assert f"mirrors {first.base_url}, not {other.base_url}" in refused.stderr


def test_an_archive_is_never_created_through_a_symbolic_link(
    make_sandbox: MakeSandbox, tmp_path: Path
) -> None:
    """A dangling link where the archive would go: refused (exit 2, naming it), and nothing
    is created where it points; a real archive found readable by others is tightened."""
    running = make_sandbox(calls=5)
    link, target = tmp_path / "a.sqlite3", tmp_path / "elsewhere.sqlite3"
    link.symlink_to(target)
    refused = archive_cli(running, link)("calls", "sync")
    assert refused.exit_code == 2, refused.stderr
    assert f"{link} is a symbolic link; zaza does not create its archive through links" in (
        refused.stderr
    )
    assert not target.exists()
    path = tmp_path / "b.sqlite3"
    summary(archive_cli(running, path)("calls", "sync", "--json"))
    path.chmod(0o644)
    status = archive_cli(running, path)("calls", "archive")
    assert status.exit_code == 0, status.stderr
    assert f"{path} was readable by others (mode 644); tightened to 600" in status.stderr
    assert path.stat().st_mode & 0o777 == 0o600


def test_another_programs_database_is_never_written_to(
    make_sandbox: MakeSandbox, tmp_path: Path
) -> None:
    """--archive app.db naming someone's SQLite database: exit 2, naming it; its tables and
    pages are exactly as they were."""
    running = make_sandbox(calls=5)
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)")
        conn.execute("INSERT INTO orders (item) VALUES ('tea')")
    conn.close()
    before = path.read_bytes()
    for args in (["calls", "sync"], ["calls", "search", "tea"], ["calls", "list", "--local"]):
        refused = archive_cli(running, path)(*args)
        assert refused.exit_code == 2, (args, refused.stderr)
        assert f"{path} is a SQLite database, but not a zaza archive" in refused.stderr
    assert path.read_bytes() == before


@pytest.mark.slow
def test_the_default_archive_is_per_api_and_never_holds_the_key(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    cli = Cli(env={"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key})
    report = summary(cli("calls", "sync", "--json"))
    path = Path(report["archive"])
    assert path.parent == tmp_path / "data" / "zazacli" / "archives"
    assert path.name.startswith(f"127.0.0.1-{sandbox.port}-api-v1-")
    assert sandbox.api_key not in path.name
    assert sandbox.api_key.encode() not in path.read_bytes()
    assert path.parent.stat().st_mode & 0o777 == 0o700
    sandbox.close()  # search and archive need no network
    hits = cli("calls", "search", "refund", "--json")
    assert hits.exit_code == 0, hits.stderr
    assert json.loads(hits.stdout)
    assert summary(cli("calls", "archive", "--json"))["calls"] == 300


@pytest.mark.slow
@pytest.mark.parametrize("threshold", [0, 1, 120])
def test_a_sync_killed_at_any_point_is_completed_exactly(
    make_sandbox: MakeSandbox, tmp_path: Path, threshold: int
) -> None:
    """kill -9 once the archive holds `threshold` transcripts (0: at once, 1: as the first
    page's are fetched, 120: in the middle), then sync again."""
    sandbox = make_sandbox(latency_ms=20, live_calls=False)
    path = tmp_path / "a.sqlite3"
    env = {"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key}

    def held() -> int:
        try:
            with reading(path) as db:
                return int(db.execute("SELECT count(turns) FROM calls").fetchone()[0])
        except sqlite3.Error:
            return 0  # not created yet

    proc = popen_zaza(
        "calls", "sync", "--archive", str(path), "-c", "2",
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: held() >= threshold, 30, f"{threshold} transcripts archived", 0.002)
    finally:
        proc.kill()
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert held() < 300  # it was stopped short

    # The rest need not be slow.
    sandbox.app.config = dataclasses.replace(sandbox.app.config, latency_ms=0)
    rerun = archive_cli(sandbox, path)("calls", "sync", "--json")
    assert summary(rerun)["failed"] == 0
    assert_mirrors(path, sandbox)
    assert summary(archive_cli(sandbox, path)("calls", "sync", "--json"))["new"] == 0
    with reading(path) as db:
        outcomes = [row[0] for row in db.execute("SELECT outcome FROM syncs ORDER BY id")]
    assert outcomes[-2:] == ["ok", "ok"] and set(outcomes[:-2]) <= {None}  # killed: unfinished


# ---------------------------------------------------------------- search

RANKED = [
    crafted_call(101, "2026-11-20T10:00:00Z", [
        ("AGENT", "Hello, how can I help?"),
        ("CALLER", "A refund. I want a refund, a refund today."),
    ]),
    crafted_call(102, "2026-11-21T10:00:00Z", [("CALLER", "Can I get a refund for last month?")]),
    crafted_call(103, "2026-11-22T10:00:00Z", [("AGENT", "Refunds take five days, sorry.")]),
    crafted_call(104, "2026-11-23T10:00:00Z", [("CALLER", "Can I get a refund for last month?")]),
    crafted_call(105, "2026-11-24T10:00:00Z", [
        ("CALLER", "¿Podemos cambiar la cita al jueves? Quisiera un reembolso."),
        ("AGENT", "Très bien, le remboursement arrive jeudi."),
    ]),
    crafted_call(106, "2026-11-25T10:00:00Z", [
        ("CALLER", "予約を木曜日に変更したいです。"),
        ("AGENT", "かしこまりました。木曜日の午後三時に変更しました。"),
    ], agentId=17),
    crafted_call(107, "2026-11-26T10:00:00Z", [
        ("CALLER", "\x1b]0;owned\x07 \x1b[31m refund \x1b[0m \u202eplease"),
    ]),
]  # fmt: skip


@pytest.fixture
def searchable(fault_server: FaultServer, tmp_path: Path) -> Cli:
    """The crafted calls above, synced; the CLI has no key (search must not need one)."""
    serve(fault_server, RANKED)
    path = tmp_path / "a.sqlite3"
    summary(archive_cli(fault_server, path)("calls", "sync", "--json"))
    return Cli(env={"ZAZA_ARCHIVE": str(path)})


def hit_ids(result: Any) -> list[tuple[int, str]]:
    assert result.exit_code == 0, result.stderr
    return [(hit["call_id"], hit["role"]) for hit in json.loads(result.stdout)]


@pytest.mark.parametrize("limit", [1, 2, 3, 5])
def test_the_best_n_are_the_first_n_of_every_hit(searchable: Cli, limit: int) -> None:
    """--limit ranks the index's best few first: never a different answer."""
    for query in ("refund", "please", "help OR month", "card"):
        every = hit_ids(searchable("calls", "search", query, "--json"))
        best = hit_ids(searchable("calls", "search", query, "--json", "--limit", str(limit)))
        assert best == every[:limit], query


def test_ties_past_the_index_best_few_still_go_newest_first(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    """300 turns alike (one rank): the best 5 are the 5 newest, though the index's best 200
    (in its own order) need not hold them."""
    calls = [
        crafted_call(
            n, f"2026-11-{1 + n // 24:02d}T{n % 24:02d}:00:00Z", [("CALLER", "same refund")]
        )
        for n in range(1, 301)
    ]
    serve(fault_server, calls)
    cli = archive_cli(fault_server, tmp_path / "a.sqlite3")
    assert cli("calls", "sync").exit_code == 0
    best = hit_ids(cli("calls", "search", "refund", "--json", "--limit", "5"))
    assert [call_id for call_id, _ in best] == [300, 299, 298, 297, 296]


def test_calls_of_one_instant_and_without_a_date_keep_their_turns_apart(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    """Turn ids sort newest first (archive/order.py): calls created in the same millisecond
    share its slots, a call without a readable createdAt sorts after every dated one, and a
    transcript stored again takes its place again."""
    same = "2026-11-20T10:00:00.250Z"
    calls = [
        crafted_call(1, same, [("CALLER", "same refund")] * 3),
        crafted_call(2, same, [("CALLER", "same refund")] * 2),
        crafted_call(3, "not a date", [("CALLER", "same refund")]),
        crafted_call(4, "2026-11-19T10:00:00Z", [("CALLER", "same refund")]),
    ]
    serve(fault_server, calls)
    path = tmp_path / "a.sqlite3"
    cli = archive_cli(fault_server, path)
    assert cli("calls", "sync").exit_code == 0
    # Calls 1 and 2 tie on rank and time; their turns stay together, in transcript order.
    order = [call_id for call_id, _ in hit_ids(cli("calls", "search", "refund", "--json"))]
    assert order in ([1, 1, 1, 2, 2, 4, 3], [2, 2, 1, 1, 1, 4, 3])
    assert cli("calls", "sync", "--refresh", "--since", "30d").exit_code == 0
    again = [call_id for call_id, _ in hit_ids(cli("calls", "search", "refund", "--json"))]
    assert again == order
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("INSERT INTO turns_fts (turns_fts) VALUES ('integrity-check')")
        assert db.execute("SELECT count(*) FROM turns").fetchone()[0] == 7


@pytest.mark.slow
def test_a_very_common_word_is_ranked_among_its_newest_matches(tmp_path: Path) -> None:
    """Over 25,000 matching turns, a --limit search ranks the newest 25,000 and says so;
    --rank-all ranks every match (here the oldest call says it best)."""
    from zazacli.archive.store import Archive

    path = tmp_path / "big.sqlite3"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    calls = [
        crafted_call(n, (start + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     [("AGENT", f"Hi from Acme, turn {k} of a long call") for k in range(10)])
        for n in range(2, 2_602)
    ]  # fmt: skip
    calls.append(crafted_call(1, "2025-12-01T00:00:00Z", [("CALLER", "acme acme acme")]))
    archive = Archive.open(path, create=True)
    try:
        archive.store_listed([(c["id"], c) for c in calls], run=1)
        archive.store_details([(c["id"], c) for c in calls], run=1)
    finally:
        archive.close()
    cli = Cli(env={"ZAZA_ARCHIVE": str(path)})

    newest = cli("calls", "search", "acme", "--limit", "3", "--json")
    assert hit_ids(newest) == [(2601, "AGENT")] * 3
    assert (
        "more than 25,000 turns match: the best of the newest 25,000 are shown "
        "(--rank-all ranks every match, slower)"
    ) in newest.stderr
    every = cli("calls", "search", "acme", "--limit", "3", "--json", "--rank-all")
    assert hit_ids(every)[0] == (1, "CALLER")
    assert "more than" not in every.stderr


def test_search_ranks_by_relevance_then_newest_first(searchable: Cli) -> None:
    # Three refunds first; then one in six words (107) before one in eight (104 and 102,
    # the same turn: the newer first).
    assert hit_ids(searchable("calls", "search", "refund", "--json")) == [
        (101, "CALLER"),
        (107, "CALLER"),
        (104, "CALLER"),
        (102, "CALLER"),
    ]
    assert hit_ids(searchable("calls", "search", "refund*", "--role", "agent", "--json")) == [
        (103, "AGENT")
    ]
    assert hit_ids(searchable("calls", "search", "refund", "--since", "2026-11-22", "--json")) == [
        (107, "CALLER"),
        (104, "CALLER"),
    ]
    one = searchable("calls", "search", "refund", "--limit", "1", "--json")
    assert hit_ids(one) == [(101, "CALLER")]


def test_search_hit_fields_and_formats(searchable: Cli) -> None:
    hit = json.loads(searchable("calls", "search", "month", "--limit", "1", "--json").stdout)[0]
    assert hit == {
        "call_id": 104,
        "created_at": "2026-11-23T10:00:00Z",
        "agent_id": 14,
        "agent": "Marco (support line)",
        "role": "CALLER",
        "turn": 0,
        "snippet": "Can I get a refund for last **month**?",
        "text": "Can I get a refund for last month?",
    }
    plain = searchable("calls", "search", "month")
    assert plain.stdout.splitlines() == [
        "104\t2026-11-23T10:00:00Z\t14\tCALLER\tCan I get a refund for last **month**?",
        "102\t2026-11-21T10:00:00Z\t14\tCALLER\tCan I get a refund for last **month**?",
    ]
    csv = searchable("calls", "search", "month", "--csv").stdout.splitlines()
    assert csv[0] == "call_id,created_at,agent_id,agent,role,turn,snippet,text"
    assert csv[1].startswith("104,2026-11-23T10:00:00Z,14,Marco (support line),CALLER,0,")
    lines = searchable("calls", "search", "month", "--jsonl").stdout.splitlines()
    assert [json.loads(line)["call_id"] for line in lines] == [104, 102]


def test_search_output_is_terminal_safe(searchable: Cli) -> None:
    for fmt in ([], ["--csv"], ["--jsonl"], ["--json"]):
        result = searchable("calls", "search", "please", *fmt)
        assert result.exit_code == 0, result.stderr
        assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
        assert "\x07" not in result.stdout
    plain = searchable("calls", "search", "please").stdout
    assert "\\x1b[31m refund \\x1b[0m \\u202e**please**" in plain


@pytest.mark.parametrize("columns", [80, 120])
def test_a_long_role_or_agent_never_pushes_the_call_and_snippet_out(
    fault_server: FaultServer, tmp_path: Path, columns: int
) -> None:
    long = "R" * 300
    calls = [crafted_call(4242, "2026-11-26T10:00:00Z", [(long, "please refund me")])]
    serve(fault_server, calls)
    cli = archive_cli(fault_server, tmp_path / "a.sqlite3")
    assert cli("calls", "sync").exit_code == 0
    terminal = {"ZAZA_FORCE_TTY": "1", "NO_COLOR": "1", "COLUMNS": str(columns)}
    result = cli("calls", "search", "refund", **terminal)
    assert result.exit_code == 0, result.stderr
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in result.stdout.splitlines()]
    assert all(len(line) <= columns for line in lines), lines
    row = next(line for line in lines if "4242" in line)
    assert "refund" in result.stdout and "RRRRRRR…" in row


def test_a_lone_surrogate_is_kept_the_same_way_in_every_view(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    """`\\ud800` in a disposition, a role and a turn: list, --local, search and stats (API
    and archive) all give it back as the escape it came as, in JSON; never U+FFFD, never a
    crash; CSV and text show it visibly."""
    call = crafted_call(
        7,
        "2026-11-26T10:00:00Z",
        [("AG\ud800", "please refund \udfff now")],
        status="COMPLETED",
        disposition="WON\ud800",
        direction="OUTBOUND",
    )
    serve(fault_server, [call])
    cli = archive_cli(fault_server, tmp_path / "a.sqlite3")
    assert cli("calls", "sync").exit_code == 0
    outputs = {
        "list": cli("calls", "list", "-o", "json"),
        "local": cli("calls", "list", "--local", "-o", "json"),
        "search": cli("calls", "search", "refund", "--json"),
        "stats": cli("calls", "stats", "--since", "2026-01-01", "--by", "disposition", "--json"),
        "stats-local": cli(
            "calls", "stats", "--local", "--since", "2026-01-01", "--by", "disposition", "--json"
        ),
    }
    for name, result in outputs.items():
        assert result.exit_code == 0, (name, result.stderr)
        assert "\ufffd" not in result.stdout and "\\ufffd" not in result.stdout, name
        assert "\\ud800" in result.stdout or "\\udfff" in result.stdout, (name, result.stdout)
    assert json.loads(outputs["list"].stdout) == json.loads(outputs["local"].stdout)
    [hit] = json.loads(outputs["search"].stdout)
    assert hit["role"] == "AG\ud800" and "\udfff" in hit["text"]
    assert (
        json.loads(outputs["stats"].stdout)["groups"]
        == json.loads(outputs["stats-local"].stdout)["groups"]
    )
    views = (
        ["calls", "stats", "--since", "2026-01-01", "--by", "disposition", "--csv"],
        ["calls", "search", "refund", "--csv"],
        ["calls", "search", "refund"],
    )
    for args in views:
        shown = cli(*args)
        assert shown.exit_code == 0, (args, shown.stderr)
        assert "\\ud800" in shown.stdout or "\\udfff" in shown.stdout, (args, shown.stdout)


def test_search_ignores_accents_and_reads_chinese_and_japanese(searchable: Cli) -> None:
    def ids(query: str) -> list[tuple[int, str]]:
        return hit_ids(searchable("calls", "search", query, "--json"))

    assert ids("tres") == [(105, "AGENT")]  # Très
    assert ids("TRÈS") == [(105, "AGENT")]
    assert ids("rembours*") == [(105, "AGENT")]
    assert ids("podemos AND reembolso") == [(105, "CALLER")]
    assert ids("予約") == [(106, "CALLER")]
    assert ids("曜日に変") == [(106, "CALLER")]  # any run of characters, not only words
    assert ids('"木曜日"') == [(106, "CALLER"), (106, "AGENT")]
    assert ids("木曜日 NOT 予約") == [(106, "AGENT")]
    snippet = json.loads(searchable("calls", "search", "予約", "--json").stdout)[0]["snippet"]
    assert snippet == "**予約**を木曜日に変更したいです。"  # no separators left in


def test_search_query_syntax(searchable: Cli) -> None:
    def ids(query: str) -> list[int]:
        return [call_id for call_id, _ in hit_ids(searchable("calls", "search", query, "--json"))]

    assert ids('"refund for last month"') == [104, 102]
    assert ids("refund NOT month") == [101, 107]
    assert ids("jueves OR jeudi") == [105, 105]
    assert ids("NEAR(cita reembolso, 5)") == [105]  # four words apart
    assert ids("NEAR(cita reembolso, 3)") == []
    assert ids("(month OR help) AND can") == [101, 104, 102]  # 101: "how can I help?"


def test_a_query_that_is_not_utf8_is_a_usage_error(sandbox: Sandbox, tmp_path: Path) -> None:
    """Bytes that are not UTF-8 on the command line (argv keeps them as lone surrogates)."""
    path = tmp_path / "a.sqlite3"
    summary(archive_cli(sandbox, path)("calls", "sync", "--json"))
    env = {**os.environ, "ZAZA_ARCHIVE": str(path)}
    result = subprocess.run(
        [sys.executable, "-m", "zazacli", "calls", "search", b"caf\xe9"],
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.decode().startswith("error: the query is not valid UTF-8 text")
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize(
    "query",
    ['"unterminated', "AND", "refund NOT", "(refund", "-refund", "NEAR(a b, x)", "*", " "],
)
def test_a_query_fts5_cannot_read_is_a_usage_error(searchable: Cli, query: str) -> None:
    result = searchable("calls", "search", "--", query)
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert "prefix*" in result.stderr  # the hint shows the syntax


def test_words_with_punctuation_are_searched_as_written(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    said = [("CALLER", "Can't make the rendez-vous at 10:00, e-mail me.")]
    serve(fault_server, [crafted_call(1, "2026-11-26T10:00:00Z", said)])
    path = tmp_path / "a.sqlite3"
    summary(archive_cli(fault_server, path)("calls", "sync", "--json"))
    cli = Cli(env={"ZAZA_ARCHIVE": str(path)})
    for query in ("can't", "rendez-vous", "10:00", "e-mail", "e-mai*"):
        assert hit_ids(cli("calls", "search", query, "--json")) == [(1, "CALLER")], query


@pytest.mark.slow
def test_search_finds_every_call_that_says_the_word(sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    summary(archive_cli(sandbox, path)("calls", "sync", "--json"))
    word = re.compile(r"\brefund\b", re.IGNORECASE)
    expected = {
        (call_id, turn["role"])
        for call_id, detail in api_state(sandbox).items()
        for turn in detail["turns"]
        if word.search(turn["text"])
    }
    assert expected  # the seeded data talks about refunds
    found = Cli(env={"ZAZA_ARCHIVE": str(path)})("calls", "search", "refund", "--json")
    assert set(hit_ids(found)) == expected


def test_search_needs_an_archive(bare_cli: Cli, tmp_path: Path) -> None:
    missing = bare_cli("calls", "search", "refund", "--archive", str(tmp_path / "none.sqlite3"))
    assert missing.exit_code == 3
    assert "no archive at" in missing.stderr and "zaza calls sync" in missing.stderr
    unchosen = bare_cli("calls", "search", "refund")
    assert unchosen.exit_code == 2 and "--archive PATH" in unchosen.stderr
    not_one = tmp_path / "notes.txt"
    not_one.write_text("these are notes, not a database\n" * 200)
    broken = bare_cli("calls", "search", "refund", "--archive", str(not_one))
    assert broken.exit_code == 1 and "is not a readable zaza archive" in broken.stderr


# ---------------------------------------------------------------- archive


@pytest.mark.slow
def test_archive_status_and_prune(sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    cli = archive_cli(sandbox, path)
    none_yet = cli("calls", "archive")
    assert none_yet.exit_code == 0 and "none yet" in none_yet.stdout
    summary(cli("calls", "sync", "--json"))
    expected = api_state(sandbox)
    created = sorted(detail["createdAt"] for detail in expected.values())
    status = summary(cli("calls", "archive", "--json"))
    with_turns = sum(bool(detail["turns"]) for detail in expected.values())
    assert (status["path"], status["calls"], status["transcripts"]) == (str(path), 300, with_turns)
    assert (status["oldest"], status["newest"]) == (created[0], created[-1])
    assert status["base_url"] == sandbox.base_url and status["last_sync"]["outcome"] == "ok"
    assert status["size_bytes"] > 0

    cutoff = created[100]
    older = sum(stamp < cutoff for stamp in created)
    prune = cli("calls", "archive", "--prune", "--before", cutoff, "--json")
    assert f"pruned {older} calls created before {cutoff}" in prune.stderr
    after = summary(prune)
    assert (after["calls"], after["oldest"], after["pruned_before"]) == (
        300 - older,
        cutoff,
        cutoff,
    )
    # A sync does not bring pruned calls back; one asked to go further back does.
    assert summary(cli("calls", "sync", "--json"))["new"] == 0
    back = summary(cli("calls", "sync", "--since", created[0], "--json"))
    assert back["new"] == older
    assert_mirrors(path, sandbox)


def test_archive_usage_errors(cli: Cli, tmp_path: Path) -> None:
    archive = ("calls", "archive", "--archive", str(tmp_path / "a.sqlite3"))
    assert cli(*archive, "--prune").exit_code == 2
    assert cli(*archive, "--before", "30d").exit_code == 2
    bad = cli(*archive, "--prune", "--before", "someday")
    assert bad.exit_code == 2 and "--before" in bad.stderr
