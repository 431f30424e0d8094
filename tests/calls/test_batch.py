"""`zaza calls batch` against the sandbox: CSV validation, journal and resume, pacing under
429s, quiet hours, and the promise that matters: kill -9 at any moment, re-run, and every
number is dialled exactly once."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import Cli, FaultServer, Reply, Request, Zaza, run_zaza, wait_for
from test_dispatch import add_profile, api_get, calls_to, window_around

FROM = "+14155550100"
ALLOW = "--allow-quiet-hours"
FAST = ("--rate", "50", "--concurrency", "4")


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def batch_args(csv_path: Path, *extra: str) -> list[str]:
    return ["calls", "batch", str(csv_path), "--from", FROM, "--agent", "12", *extra]


def json_lines(stdout: str) -> dict[int, dict[str, Any]]:
    return {row["line"]: row for row in map(json.loads, stdout.splitlines())}


def journal_entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def outbound_since(sandbox: Any, since: datetime) -> list[dict[str, Any]]:
    stamp = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    found, page = [], 0
    while True:
        data = api_get(sandbox, "calls", direction="OUTBOUND", startDate=stamp, page=page, size=100)
        found += data["content"]
        if data["last"]:
            return found
        page += 1


# ---------------------------------------------------------------- a normal run


def test_batch_sends_valid_rows_once_with_their_variables(
    cli: Cli, sandbox: Any, tmp_path: Path
) -> None:
    csv_path = write_csv(
        tmp_path / "leads.csv",
        "Phone,NAME,CASE_NUMBER\n"
        "(212) 555-0401,Alex,CASE-1\n"
        "+1 212 555 0402,Bo,CASE-2\n"
        "555-CALL,Nobody,CASE-3\n"
        "212.555.0401,Alex again,CASE-4\n"
        "\n"
        "2125550404,Cy,CASE-5\n",
    )
    result = cli(*batch_args(csv_path, "--region", "US", *FAST, ALLOW))
    # Every valid row is queued, but one row will never be: cron must see that (exit 16).
    assert result.exit_code == 16, result.stderr
    assert (
        "error: 1 of 5 rows was invalid and not called; every valid row is queued" in result.stderr
    )
    rows = json_lines(result.stdout)
    assert {line: row["status"] for line, row in rows.items()} == {
        2: "queued",
        3: "queued",
        4: "invalid",
        5: "duplicate",
        7: "queued",
    }
    assert rows[4]["error"] == "'555-CALL' is not a valid number in US"
    assert rows[5]["error"] == "+12125550401 is also on line 2; it is called once"
    assert "line 4: invalid: '555-CALL' is not a valid number in US" in result.stderr
    for line, number, name, case in (
        (2, "+12125550401", "Alex", "CASE-1"),
        (3, "+12125550402", "Bo", "CASE-2"),
        (7, "+12125550404", "Cy", "CASE-5"),
    ):
        calls = calls_to(sandbox, number)
        assert [c["id"] for c in calls] == [rows[line]["callId"]]  # exactly once
        # NAME and EMAIL are always sent (empty when the file has no such column).
        assert calls[0]["variables"] == {"NAME": name, "CASE_NUMBER": case, "EMAIL": ""}
    assert "3 of 3 valid rows queued (1 invalid, 1 duplicate rows skipped)" in result.stderr
    assert "every valid row is queued" in result.stderr

    # The journal: a header naming the CSV, then an attempt before every outcome.
    entries = journal_entries(tmp_path / "leads.csv.journal.jsonl")
    assert entries[0]["csv"] == str(csv_path.resolve()) and len(entries[0]["sha256"]) == 64
    for line in (2, 3, 7):
        events = [e["event"] for e in entries if e.get("line") == line]
        assert events == ["attempt", "queued"]
    assert all("ts" in e for e in entries)

    # A re-run sends nothing and reports the earlier calls.
    again = cli(*batch_args(csv_path, "--region", "US", *FAST, ALLOW))
    assert again.exit_code == 16, again.stderr  # the invalid row is still there
    assert {r["status"] for r in json_lines(again.stdout).values()} == {
        "skipped",
        "invalid",
        "duplicate",
    }
    assert json_lines(again.stdout)[2]["callId"] == rows[2]["callId"]
    assert len(calls_to(sandbox, "+12125550401")) == 1
    assert "already queued by an earlier run: 3" in again.stderr


def test_dry_run_sends_nothing_and_writes_no_journal(
    cli: Cli, sandbox: Any, tmp_path: Path
) -> None:
    csv_path = write_csv(tmp_path / "d.csv", "to\n+12125550411\n+12125550412\nxyz\n")
    result = cli(*batch_args(csv_path, "--dry-run", "--rate", "120/min", ALLOW))
    assert result.exit_code == 0, result.stderr
    plan = dict(line.split("\t", 1) for line in result.stdout.splitlines())
    assert plan["valid"] == "2" and plan["invalid"] == "1" and plan["would send"] == "2"
    assert plan["agent"] == "12 Zara from Acme"
    assert plan["pace"] == "2 calls/s, about 1s"
    assert "line 4: invalid: 'xyz' is not a phone number" in result.stderr
    assert calls_to(sandbox, "+12125550411") == []
    assert not (tmp_path / "d.csv.journal.jsonl").exists()


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "encoding", "needle"),
    [
        (
            "name,email\nAlex,a@x.io\n",
            "utf-8",
            "has no 'to' or 'phone' column (its header: name, email)",
        ),
        ("", "utf-8", "is empty"),
        ("to,NAME\n", "utf-8", "has a header but no rows"),
        ("to,NAME\n+12125550421,Zoë\n", "latin-1", "is not UTF-8 (byte 0xeb on line 2)"),
        ("to,NAME\n+12125550421,Zoë\n", "utf-16", "is UTF-16 text"),
        ("to,NAME\nabc,x\n12,y\n", "utf-8", "no valid numbers to call (2 rows skipped)"),
        ("to,NAME,NAME\n+12125550421,a,b\n", "utf-8", "the column 'NAME' appears twice"),
    ],
)
def test_bad_csv_is_exit_2_and_nothing_is_sent(
    fault_server: FaultServer, tmp_path: Path, content: str, encoding: str, needle: str
) -> None:
    csv_path = write_csv(tmp_path / "bad.csv", content, encoding)
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_x"})
    result = cli(*batch_args(csv_path, ALLOW))
    assert result.exit_code == 2, result.stderr
    error = next(line for line in result.stderr.splitlines() if line.startswith("error: "))
    assert needle in error
    assert fault_server.requests == []
    assert not (tmp_path / "bad.csv.journal.jsonl").exists()


def test_a_journal_from_another_csv_or_dispatch_is_refused(
    cli: Cli, sandbox: Any, tmp_path: Path
) -> None:
    first = write_csv(tmp_path / "a.csv", "to\n+12125550431\n")
    assert cli(*batch_args(first, *FAST, ALLOW)).exit_code == 0
    journal = tmp_path / "a.csv.journal.jsonl"
    other = write_csv(tmp_path / "b.csv", "to\n+12125550432\n")

    result = cli(*batch_args(other, "--journal", str(journal), *FAST, ALLOW))
    assert result.exit_code == 2
    assert f"error: {journal} belongs to a different CSV ({first.resolve()})" in result.stderr

    write_csv(first, "to\n+12125550433\n+12125550431\n")  # edited after the run
    changed = cli(*batch_args(first, *FAST, ALLOW))
    assert changed.exit_code == 2
    assert f"{first} has changed since {journal} was started" in changed.stderr

    write_csv(first, "to\n+12125550431\n")
    agent = cli("calls", "batch", str(first), "--from", FROM, "--agent", "14", *FAST, ALLOW)
    assert agent.exit_code == 2
    assert "was written for --from +14155550100 --agent 12, not" in agent.stderr
    assert calls_to(sandbox, "+12125550432") == [] and calls_to(sandbox, "+12125550433") == []


def test_a_second_run_on_a_locked_journal_is_refused(
    cli: Cli, sandbox: Any, tmp_path: Path
) -> None:
    import fcntl

    csv_path = write_csv(tmp_path / "c.csv", "to\n+12125550441\n")
    with open(tmp_path / "c.csv.journal.jsonl", "a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        result = cli(*batch_args(csv_path, *FAST, ALLOW))
    assert result.exit_code == 1
    assert "another zaza calls batch is running with the journal" in result.stderr
    assert calls_to(sandbox, "+12125550441") == []


def test_confirm_profile_needs_yes(bare_cli: Cli, sandbox: Any, tmp_path: Path) -> None:
    add_profile(bare_cli, sandbox, "production", "--confirm")
    csv_path = write_csv(tmp_path / "p.csv", "to\n+12125550451\n")
    refused = bare_cli("-p", "production", *batch_args(csv_path, *FAST, ALLOW))
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert calls_to(sandbox, "+12125550451") == []
    done = bare_cli("-p", "production", *batch_args(csv_path, *FAST, ALLOW, "--yes"))
    assert done.exit_code == 0, done.stderr
    assert len(calls_to(sandbox, "+12125550451")) == 1


# ---------------------------------------------------------------- partial failure


def test_quiet_hours_defer_rows_and_exit_1(bare_cli: Cli, real_api: Any, tmp_path: Path) -> None:
    sandbox = real_api
    add_profile(bare_cli, sandbox, "ops")
    window = window_around("America/New_York", include_now=False)
    assert bare_cli("profiles", "set", "ops", "quiet_hours", window).exit_code == 0
    csv_path = write_csv(tmp_path / "q.csv", "to\n+12125550461\n+80012345678\n")
    result = bare_cli("-p", "ops", *batch_args(csv_path, *FAST))
    assert result.exit_code == 1, result.stderr
    rows = json_lines(result.stdout)
    local = datetime.now(ZoneInfo("America/New_York")).strftime("%H:%M")
    assert rows[2]["status"] == "deferred"
    assert rows[2]["error"].startswith(f"it is {local} in America/New_York there, outside")
    assert rows[3]["status"] == "queued"  # no known zone: warned, not refused
    assert "no time zone on record for +80012345678" in result.stderr
    assert calls_to(sandbox, "+12125550461") == []
    assert "1 deferred (callee's quiet hours)" in result.stderr
    assert "error: 1 of 2 valid rows were not queued" in result.stderr
    assert "to resume, re-run the same command: zaza --profile ops calls batch" in result.stderr


def fault_api(server: FaultServer, refuse: str | None = None, throttle: int = 0) -> list[str]:
    """Script `server` as an API with an active agent 12 whose POSTs queue calls, except
    the first `throttle` (429, Retry-After 1) and calls to `refuse` (422). Returns the
    numbers actually queued. Use with --concurrency 1."""
    queued: list[str] = []
    state = {"throttled": 0, "next_id": 100}

    def post(request: Request) -> Reply:
        if state["throttled"] < throttle:
            state["throttled"] += 1
            return Reply(429, {"message": "Rate limit exceeded"}, headers={"Retry-After": "1"})
        body = request.json()
        if body["toNumber"] == refuse:
            return Reply(422, {"status": 422, "message": "toNumber is on the do-not-call list"})
        state["next_id"] += 1
        queued.append(body["toNumber"])
        return Reply(201, {"id": state["next_id"], "status": "QUEUED", **body})

    server.route("GET", "/api/v1/agents/12", 200, {"id": 12, "name": "Zara", "isActive": True})
    server.route("GET", "/api/v1/calls", 200, {"content": [], "number": 0, "last": True})
    server.route("POST", "/api/v1/calls/outbound", answer=post)
    return queued


@pytest.mark.slow  # the pacer waits out each Retry-After (1 s) on the real clock
def test_429_slows_down_honours_retry_after_and_never_double_dials(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    queued = fault_api(fault_server, throttle=2)
    numbers = [f"+121255504{n}" for n in range(71, 77)]
    csv_path = write_csv(tmp_path / "r.csv", "to\n" + "\n".join(numbers) + "\n")
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_x"})
    started = time.monotonic()
    result = cli(*batch_args(csv_path, "--rate", "20", "--concurrency", "1", ALLOW))
    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - started >= 2.0
    assert sorted(queued) == sorted(numbers)  # each once, despite the retries
    posts = [r for r in fault_server.requests if r["method"] == "POST"]
    assert len(posts) == len(numbers) + 2
    # Two 429s in a row: each halves the rate, and each Retry-After pause was kept.
    assert "rate limited 2 times (HTTP 429), slowed down 2 times" in result.stderr


def test_refused_row_is_reported_and_retried_on_the_next_run(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    queued = fault_api(fault_server, refuse="+12125550482")
    csv_path = write_csv(tmp_path / "f.csv", "to\n+12125550481\n+12125550482\n+12125550483\n")
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_x"})
    one_at_a_time = ("--rate", "50", "--concurrency", "1", ALLOW)
    result = cli(*batch_args(csv_path, *one_at_a_time))
    assert result.exit_code == 1
    rows = json_lines(result.stdout)
    assert rows[3]["status"] == "failed"
    assert rows[3]["error"] == "HTTP 422: toNumber is on the do-not-call list"
    assert "line 3 +12125550482: failed: HTTP 422" in result.stderr
    assert "1 failed (refused by the API; nothing queued)" in result.stderr
    again = cli(*batch_args(csv_path, *one_at_a_time))
    assert "1 that failed before will be retried" in again.stderr
    assert sorted(queued) == ["+12125550481", "+12125550483"]  # queued rows not resent


# ---------------------------------------------------------------- resume


def test_resume_looks_up_a_row_in_flight_instead_of_resending(
    cli: Cli, sandbox: Any, tmp_path: Path
) -> None:
    """A crash after the POST but before its outcome line: the call is found, not redialled."""
    csv_path = write_csv(tmp_path / "s.csv", "to\n+12125550491\n+12125550492\n")
    assert cli(*batch_args(csv_path, "--dry-run", ALLOW)).exit_code == 0
    # The earlier run: an attempt for line 2, its POST (made here directly), then the crash
    # cut the next line short.
    # (Through another policy file: this ledger must not know the call as another dial's.)
    elsewhere = str(tmp_path / "elsewhere.sqlite3")
    assert cli("dnc", "--dnc", elsewhere).exit_code == 0
    dispatched = cli(
        "calls", "dispatch", "--from", FROM, "--to", "+12125550491", "--agent", "12", ALLOW,
        "--dnc", elsewhere,
    )  # fmt: skip
    call_id = int(dispatched.stdout)
    from zazacli.calls.batch.csv import CsvBatch, read_csv
    from zazacli.calls.batch.journal import journal_header

    batch: CsvBatch = read_csv(csv_path, region=None)
    stamp = (datetime.now(UTC) - timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
    lines = [
        json.dumps(journal_header(batch, FROM, 12)),
        json.dumps({"ts": stamp, "event": "attempt", "line": 2, "to": "+12125550491"}),
        '{"ts": "2026-11-26T03:00:0',
    ]
    (tmp_path / "s.csv.journal.jsonl").write_text("\n".join(lines))
    result = cli(*batch_args(csv_path, *FAST, ALLOW))
    assert result.exit_code == 0, result.stderr
    rows = json_lines(result.stdout)
    assert rows[2] == {
        "line": 2,
        "to": "+12125550491",
        "status": "reconciled",
        "callId": call_id,
        "error": None,
        "phoneColumn": "to",
        "note": None,
    }
    assert rows[3]["status"] == "queued"
    assert "1 in flight when the last run stopped" in result.stderr
    assert len(calls_to(sandbox, "+12125550491")) == 1
    assert len(calls_to(sandbox, "+12125550492")) == 1


@pytest.mark.slow
@pytest.mark.parametrize("kill_after_attempts", [1, 7])
def test_kill_9_mid_flight_then_rerun_dials_every_number_exactly_once(
    make_sandbox: Any, tmp_path: Path, kill_after_attempts: int
) -> None:
    # Slow answers keep POSTs in flight (queued by the API, answer not yet back) at the kill.
    slow = make_sandbox(slow_dispatch=1.0)
    started = datetime.now(UTC) - timedelta(seconds=2)
    numbers = [f"+1646555{n:04d}" for n in range(510, 522)]
    csv_path = write_csv(
        tmp_path / "kill.csv", "to,NAME\n" + "".join(f"{n},N{i}\n" for i, n in enumerate(numbers))
    )
    journal = tmp_path / "kill.csv.journal.jsonl"
    env = {"ZAZA_BASE_URL": slow.base_url, "ZAZA_API_KEY": slow.api_key, "ZAZA_RECONCILE_WAIT": "2"}
    args = batch_args(csv_path, "--rate", "20", "--concurrency", "4", ALLOW)
    with Zaza(*args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as zaza:
        wait_for(lambda: attempts(journal) >= kill_after_attempts, 20, "the attempts")
        zaza.proc.kill()
        zaza.proc.wait(timeout=10)
    killed_at = journal_entries_tolerant(journal)
    assert any(e.get("event") == "attempt" for e in killed_at)
    assert not any(e.get("event") == "end" for e in killed_at)  # it really died mid-run

    # --settle 0s: the sandbox lists a call at once, so a row whose call is not listed was
    # never queued (killed between its attempt line and its POST) and may be sent now.
    rerun = run_zaza(*args, "--settle", "0s", env=env)
    assert rerun.returncode == 0, rerun.stderr
    statuses = {row["line"]: row["status"] for row in map(json.loads, rerun.stdout.splitlines())}
    assert set(statuses.values()) <= {"skipped", "reconciled", "queued"}
    if kill_after_attempts >= 5:
        # Killed with POSTs at the API and their answers not back: found, not redialled.
        assert "reconciled" in statuses.values()
    assert len(statuses) == len(numbers)

    dialled = [c["toNumber"] for c in outbound_since(slow, started) if c["toNumber"] in numbers]
    assert sorted(dialled) == sorted(numbers)  # every number, each exactly once


def attempts(journal: Path) -> int:
    """How many attempt lines the journal has so far."""
    return journal.read_text().count('"event": "attempt"') if journal.exists() else 0


def journal_entries_tolerant(path: Path) -> list[dict[str, Any]]:
    entries = []
    for line in path.read_text().splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            pass
    return entries


@pytest.mark.slow
def test_ctrl_c_lets_calls_in_flight_finish_and_says_how_to_resume(
    make_sandbox: Any, tmp_path: Path
) -> None:
    slow = make_sandbox(slow_dispatch=0.25)
    numbers = [f"+1646555{n:04d}" for n in range(530, 538)]
    csv_path = write_csv(tmp_path / "int.csv", "to\n" + "\n".join(numbers) + "\n")
    journal = tmp_path / "int.csv.journal.jsonl"
    env = {"ZAZA_BASE_URL": slow.base_url, "ZAZA_API_KEY": slow.api_key}
    args = batch_args(csv_path, "--rate", "20", "--concurrency", "2", ALLOW)
    with Zaza(*args, env=env) as zaza:
        wait_for(lambda: attempts(journal) >= 2, 20, "two attempts")
        zaza.interrupt()
        code, _, stderr = zaza.finish(20)
    assert code == 130, stderr
    entries = journal_entries(journal)[1:]  # after the header
    attempted = {e["line"] for e in entries if e["event"] == "attempt"}
    finished = {e["line"] for e in entries if e["event"] == "queued"}
    assert attempted and attempted == finished  # nothing left in doubt
    assert entries[-1]["event"] == "end" and entries[-1]["interrupted"] is True
    assert "to resume, re-run the same command: zaza calls batch" in stderr
    assert "interrupted: calls already dispatched go on" in stderr


# ---------------------------------------------------------------- the dashboard's lead CSV


def test_lead_csv_uses_the_first_valid_phone_column_and_normalised_variables(
    cli: Cli, sandbox: Any, tmp_path: Path
) -> None:
    csv_path = write_csv(
        tmp_path / "leads.csv",
        "Name,phone1,PHONE2,Email,case number\n"
        "Alex,,+12125550701,alex@example.com,C-1\n"
        "Bo,555-CALL,+12125550702,,C-2\n"
        "Cy,+12125550703,+12125550799,cy@example.com,C-3\n"
        "Di,nope,,,C-4\n",
    )
    result = cli(*batch_args(csv_path, "--region", "US", *FAST, ALLOW))
    assert result.exit_code == 16, result.stderr  # Di has no number to call
    rows = json_lines(result.stdout)
    assert {line: (row["status"], row["phoneColumn"]) for line, row in rows.items()} == {
        2: ("queued", "PHONE2"),
        3: ("queued", "PHONE2"),
        4: ("queued", "phone1"),
        5: ("invalid", None),
    }
    assert rows[3]["note"] == "phone1: '555-CALL' is not a valid number in US; called on PHONE2"
    assert "line 3 +12125550702: queued (phone1: '555-CALL' is not a valid" in result.stderr
    assert rows[5]["error"] == "phone1: 'nope' is not a phone number"
    call = api_get(sandbox, f"calls/{rows[2]['callId']}")
    assert call["toNumber"] == "+12125550701"
    assert call["variables"] == {"NAME": "Alex", "EMAIL": "alex@example.com", "CASE_NUMBER": "C-1"}
    assert api_get(sandbox, f"calls/{rows[3]['callId']}")["variables"]["EMAIL"] == ""
    assert calls_to(sandbox, "+12125550799") == []  # phone2 is only a fallback


def test_headers_that_become_the_same_variable_are_a_usage_error(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    csv_path = write_csv(tmp_path / "dup.csv", "to,case number,Case_Number\n+12125550711,a,b\n")
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_x"})
    result = cli(*batch_args(csv_path, ALLOW))
    assert result.exit_code == 2
    assert (
        "the columns 'case number' and 'Case_Number' both become the variable CASE_NUMBER"
        in result.stderr
    )
    assert fault_server.requests == []
