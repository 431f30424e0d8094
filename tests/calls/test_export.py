"""`zaza calls export-transcripts` against a real sandbox and scripted fault servers: the
files against `zaza calls transcript` and the sandbox's call details."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import (
    Cli,
    FaultServer,
    Reply,
    Request,
    Sleeps,
    faster,
    popen_zaza,
    wait_for,
)
from test_stats import all_calls, api

SUMMARY = re.compile(
    r"^written (\d+), skipped (\d+) \(exist\), no transcript (\d+), failed (\d+)", re.M
)

# ---------------------------------------------------------------- export-transcripts


def details(sandbox: Any, ids: list[int]) -> dict[int, dict[str, Any]]:
    with api(sandbox) as client:
        return {i: client.get(f"calls/{i}").json() for i in ids}


def summary_counts(stderr: str) -> tuple[int, ...]:
    match = SUMMARY.search(stderr)
    assert match, stderr
    return tuple(int(n) for n in match.groups())


def our_temp_files(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def sample_of_both_kinds(sandbox: Any, at_least: int) -> int:
    """The fewest newest calls (at least `at_least`) that hold calls with turns and without:
    the seeded history's newest calls depend on the time of day."""
    calls = all_calls(sandbox)
    turns = [
        bool(call.get("turns"))
        for call in details(sandbox, [c["id"] for c in calls[:200]]).values()
    ]
    return next(n for n in range(at_least, len(turns) + 1) if 0 < sum(turns[:n]) < n)


@pytest.mark.parametrize(("fmt", "ext", "at_least"), [("text", "txt", 40), ("srt", "srt", 12)])
def test_export_writes_what_calls_transcript_prints(
    cli: Cli, sandbox: Any, tmp_path: Path, fmt: str, ext: str, at_least: int
) -> None:
    target = tmp_path / "qa" / "nested"  # created, parents too
    limit = sample_of_both_kinds(sandbox, at_least)
    result = cli("calls", "export-transcripts", str(target), "--limit", str(limit), "-o", fmt)
    assert result.exit_code == 0, result.stderr
    listed = [c["id"] for c in all_calls(sandbox)[:limit]]
    with_turns = {i for i, call in details(sandbox, listed).items() if call.get("turns")}
    assert 0 < len(with_turns) < limit  # both kinds are in the sample
    assert {p.name for p in target.iterdir()} == {f"{i}.{ext}" for i in with_turns}
    assert summary_counts(result.stderr) == (len(with_turns), 0, limit - len(with_turns), 0)
    for call_id in with_turns:
        printed = cli("calls", "transcript", str(call_id), "-o", fmt)
        assert (target / f"{call_id}.{ext}").read_bytes() == printed.stdout_bytes
    assert result.stdout == ""


def test_export_json_format_and_json_summary(cli: Cli, sandbox: Any, tmp_path: Path) -> None:
    result = cli(
        "calls", "export-transcripts", str(tmp_path), "--limit", "10", "-o", "json", "--json"
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    files = sorted(tmp_path.glob("*.json"))
    assert summary["written"] == len(files) > 0 and summary["failed"] == 0
    assert summary["written"] + summary["no_transcript"] == 10
    for path in files:
        call = details(sandbox, [int(path.stem)])[int(path.stem)]
        assert json.loads(path.read_text(encoding="utf-8")) == call["turns"]


def test_export_rerun_skips_existing_and_ignores_leftover_temp_files(
    cli: Cli, sandbox: Any, tmp_path: Path
) -> None:
    first = cli("calls", "export-transcripts", str(tmp_path), "--limit", "30")
    written, _, no_turns, _ = summary_counts(first.stderr)
    files = sorted(tmp_path.iterdir())
    assert len(files) == written > 3
    # A killed run: one file never renamed into place (a half temp file of a dead pid),
    # one temp file of a live process (ours: it must be left alone), one file removed.
    victim, removed = files[0], files[1]
    expected = victim.read_bytes()
    victim.unlink()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, timeout=60).stdout.strip()  # fmt: skip
    stale = tmp_path / f".{victim.name}.{dead}.abc123.tmp"
    stale.write_bytes(expected[:5])
    alive = tmp_path / f".{removed.name}.{os.getppid()}.zzz999.tmp"
    alive.write_bytes(b"half")
    removed.unlink()
    mtime = files[2].stat().st_mtime_ns

    again = cli("calls", "export-transcripts", str(tmp_path), "--limit", "30")
    assert again.exit_code == 0, again.stderr
    assert summary_counts(again.stderr) == (2, written - 2, no_turns, 0)
    assert victim.read_bytes() == expected
    assert removed.exists() and files[2].stat().st_mtime_ns == mtime  # skipped, not rewritten
    assert not stale.exists() and alive.exists()
    assert our_temp_files(tmp_path) == [alive.name]


def test_export_backs_off_on_429_from_the_sandbox(
    make_sandbox: Callable[..., Any], tmp_path: Path
) -> None:
    # Time runs ten times faster on both sides: the sandbox counts 5 requests per 0.1 s
    # instead of per second, and the CLI sleeps a tenth of each Retry-After it honours.
    sandbox = make_sandbox(rate_limit=5, rate_window=0.1, live_calls=False)
    sleeps = Sleeps()
    cli = Cli(
        env={"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key},
        timing=faster(10, sleeps),
    )
    result = cli("calls", "export-transcripts", str(tmp_path), "--limit", "12", "-c", "3")
    assert result.exit_code == 0, result.stderr
    written, skipped, no_turns, failed = summary_counts(result.stderr)
    assert (written + no_turns, skipped, failed) == (12, 0, 0)
    assert len(list(tmp_path.glob("*.txt"))) == written > 0
    assert "rate limited (HTTP 429); retrying in 1s" in result.stderr
    assert sleeps and all(seconds == 1 for seconds in sleeps)  # each Retry-After honoured
    assert our_temp_files(tmp_path) == []


def turns_for(call_id: int) -> list[dict[str, str]]:
    return [
        {"role": "AGENT", "text": f"Hello {call_id}", "timestamp": "2026-11-26T14:03:16Z"},
        {"role": "CALLER", "text": "Hi, yes", "timestamp": "2026-11-26T14:03:21Z"},
    ]


def crafted_call(call_id: Any, **extra: Any) -> dict[str, Any]:
    return {
        "id": call_id,
        "direction": "OUTBOUND",
        "status": "COMPLETED",
        "createdAt": "2026-11-26T14:03:11Z",
        "startedAt": "2026-11-26T14:03:15Z",
        "endedAt": "2026-11-26T14:05:02Z",
        **extra,
    }


def page(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"content": items, "totalElements": len(items), "totalPages": 1, "number": 0,
            "size": 100, "first": True, "last": True}  # fmt: skip


def test_export_concurrency_is_bounded_and_each_429_is_retried(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    ids = list(range(101, 109))
    changed = threading.Condition()
    state = {"inflight": 0, "peak": 0, "arrived": 0}
    seen: set[str] = set()

    def detail(request: Request) -> Reply:
        call_id = request.route_path.rsplit("/", 1)[1]
        with changed:
            state["inflight"] += 1
            state["arrived"] += 1
            state["peak"] = max(state["peak"], state["inflight"])
            first = call_id not in seen
            seen.add(call_id)
            changed.notify_all()
            # One that comes in alone is held until the next one comes (or every call has
            # been asked for): a client that would send a third at once has every chance to.
            alone, number = state["inflight"] == 1, state["arrived"]
            if alone:
                changed.wait_for(lambda: state["arrived"] > number or len(seen) == len(ids), 5)
            state["inflight"] -= 1
        if first:
            return Reply(429, {"status": 429, "message": "slow down"}, headers={"Retry-After": "0"})
        return Reply(200, crafted_call(int(call_id), turns=turns_for(int(call_id))))

    fault_server.route("GET", "/api/v1/calls", 200, page([crafted_call(i) for i in ids]))
    fault_server.route("GET", "/api/v1/calls/*", answer=detail)
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_x"})
    result = cli("calls", "export-transcripts", str(tmp_path), "--concurrency", "2")
    assert result.exit_code == 0, result.stderr
    assert summary_counts(result.stderr) == (8, 0, 0, 0)
    details_asked = [urlsplit(r["path"]).path for r in fault_server.requests]
    details_asked = [p for p in details_asked if not p.endswith("/calls")]
    assert sorted(details_asked) == sorted(f"/api/v1/calls/{i}" for i in ids for _ in range(2))
    assert state["peak"] == 2  # two at once, never more
    assert (tmp_path / "101.txt").read_text(encoding="utf-8") == (
        "[00:01] AGENT: Hello 101\n[00:06] CALLER: Hi, yes\n"
    )
    listed = [r for r in fault_server.requests if urlsplit(r["path"]).path.endswith("/calls")]
    assert parse_qs(urlsplit(listed[0]["path"]).query)["size"] == ["100"]


def test_export_failures_are_reported_and_exit_1(fault_server: FaultServer, tmp_path: Path) -> None:
    listing = [crafted_call(1), crafted_call(2), crafted_call(3), crafted_call("../../escape")]

    fault_server.route("GET", "/api/v1/calls", 200, page(listing))
    fault_server.route("GET", "/api/v1/calls/1", 200, crafted_call(1, turns=turns_for(1)))
    fault_server.route(
        "GET", "/api/v1/calls/2", 404, {"status": 404, "message": "Call 2 not found"}
    )
    fault_server.route("GET", "/api/v1/calls/3", 200, crafted_call(3, turns=[]))
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_x"})
    target = tmp_path / "out"
    result = cli("calls", "export-transcripts", str(target))
    assert result.exit_code == 1
    assert summary_counts(result.stderr) == (1, 0, 1, 2)
    assert "call 2: HTTP 404: Call 2 not found" in result.stderr
    assert "call ../../escape: the call's id is not a number" in result.stderr
    assert "error: 2 transcripts failed" in result.stderr
    assert sorted(p.name for p in target.iterdir()) == ["1.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_export_stops_on_auth_failure(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.route("GET", "/api/v1/calls", 200, page([crafted_call(i) for i in range(1, 60)]))
    fault_server.route("GET", "/api/v1/calls/*", 401, {"status": 401, "message": "Invalid API key"})
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_x"})
    result = cli("calls", "export-transcripts", str(tmp_path))
    assert result.exit_code == 4
    assert "stopped early: HTTP 401: Invalid API key" in result.stderr
    assert len(fault_server.requests) < 20  # it did not try all 59


def test_export_leaves_calls_in_progress_for_a_later_run(
    make_sandbox: Callable[..., Any], tmp_path: Path
) -> None:
    sandbox = make_sandbox(speed=1.0, calls=20)  # the 3 newest calls last 8 s
    cli = Cli(env={"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key})
    result = cli("calls", "export-transcripts", str(tmp_path), "--limit", "3")
    assert result.exit_code == 0, result.stderr
    assert "still in progress 3" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_export_usage_errors(cli: Cli, tmp_path: Path) -> None:
    bad = cli("calls", "export-transcripts", str(tmp_path), "--format", "pdf")
    assert bad.exit_code == 2 and "pdf" in bad.stderr and "srt" in bad.stderr
    a_file = tmp_path / "file"
    a_file.write_text("x")
    not_dir = cli("calls", "export-transcripts", str(a_file))
    assert not_dir.exit_code == 1 and f"cannot create {a_file}" in not_dir.stderr
    assert "Traceback" not in not_dir.stderr


@pytest.mark.slow
def test_a_killed_export_leaves_only_whole_files(
    make_sandbox: Callable[..., Any], tmp_path: Path
) -> None:
    sandbox = make_sandbox(latency_ms=15, live_calls=False)
    env = {"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key}
    proc = popen_zaza(
        "calls", "export-transcripts", str(tmp_path), "-c", "2",
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: len(list(tmp_path.glob("*.txt"))) >= 15, 20, "15 exported files")
    finally:
        proc.kill()
    proc.wait(10)
    finished = sorted(tmp_path.glob("*.txt"))
    assert proc.returncode == -signal.SIGKILL and len(finished) >= 15
    calls = details(sandbox, [int(p.stem) for p in finished])
    cli = Cli(env={"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key})
    for path in finished:  # every file that exists is complete
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(calls[int(path.stem)]["turns"])
        assert path.read_bytes().endswith(b"\n")

    rerun = cli("calls", "export-transcripts", str(tmp_path))
    assert rerun.exit_code == 0, rerun.stderr
    written, skipped, no_turns, failed = summary_counts(rerun.stderr)
    assert skipped == len(finished) and failed == 0
    assert written + skipped + no_turns == 300
    assert our_temp_files(tmp_path) == []  # the killed run's temp files are swept
    sample = sorted(tmp_path.glob("*.txt"))[-1]
    assert sample.read_bytes() == cli("calls", "transcript", sample.stem).stdout_bytes


def test_an_interrupted_write_leaves_no_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zazacli.calls import export as reports

    target = tmp_path / "90211.txt"
    target.write_text("the old, whole file\n")

    def killed(*args: Any) -> None:
        raise KeyboardInterrupt  # as if the run stopped between writing and renaming

    monkeypatch.setattr(reports.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        reports.write_atomically(target, "new content that never lands\n")
    with pytest.raises(KeyboardInterrupt):
        reports.write_atomically(tmp_path / "90212.txt", "half")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["90211.txt"]
    assert target.read_text() == "the old, whole file\n"
    reports.write_atomically(target, "new\n", 0o640)
    assert target.read_text() == "new\n" and target.stat().st_mode & 0o777 == 0o640
