"""The contact policy, end to end: the do-not-call list, the frequency cap and the repeat
window, each refusing a dial with exit 17 before a single POST; `dnc check`, import and
opt-outs; a list that cannot be read dials nothing; batches remember who they called; and
no second dial under servers whose createdAt cannot be trusted. Real CLI, real sandbox over
loopback; asserted: exit codes, what the user reads, files, and the POSTs on the wire.

The sandbox rings no one, so zaza applies neither the cap nor the repeat window to it (the
list still applies): tests of those rules play the real API (quirk no-sandbox-header)."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    Cli,
    Zaza,
    api_get,
    listen_process,
    posts,
    queued_to,
    run_zaza,
    set_quirks,
    start,
    wait_for,
)

from zazacli.context import Timing

FROM = "+14155550100"
ALLOW = "--allow-quiet-hours"
POST = "POST /calls/outbound"
SECRET = "whsec_policy_tests_3f9a1c"
# How long a dispatch whose answer was lost looks for its call (its waits are skipped).
LOOK = "1"
# Servers whose createdAt zaza must not trust (see zazacli/calls/dispatch.py).
CLOCK_QUIRKS = [
    "created-lag=1",
    "created-lag=5",
    "created-epoch-ms",
    "created-local=America/New_York",
    "created-local=Asia/Tokyo",
]
GARBAGE = b"\x00\xffnot a database, whatever it once was\n" * 64


# ---------------------------------------------------------------- helpers


def start_real(make_sandbox: Any, *quirks: str) -> tuple[Any, Cli]:
    """A sandbox that plays the real API (no X-Zaza-Sandbox): the cap and repeat apply."""
    return start(make_sandbox, "no-sandbox-header", *quirks)


def dispatch(cli: Cli, to: str, *extra: str, **env: str) -> Any:
    return cli(
        "calls", "dispatch", "--from", FROM, "--to", to, "--agent", "12", ALLOW, *extra, **env
    )


def batch_args(csv_path: Path, *extra: str) -> list[str]:
    return [
        "calls", "batch", str(csv_path), "--from", FROM, "--agent", "12", "--rate", "50", ALLOW,
        *extra,
    ]  # fmt: skip


def write_csv(path: Path, numbers: list[str]) -> Path:
    path.write_text("to\n" + "".join(f"{number}\n" for number in numbers))
    return path


def batch_rows(stdout: str) -> dict[int, dict[str, Any]]:
    """The JSON lines a batch prints when piped, by CSV line."""
    return {row["line"]: row for row in map(json.loads, stdout.splitlines())}


def statuses(stdout: str) -> dict[int, str]:
    return {line: row["status"] for line, row in batch_rows(stdout).items()}


def listed(cli: Cli, *dnc: str) -> list[dict[str, Any]]:
    """`zaza dnc list -o json`: the entries of the list."""
    result = cli("dnc", "list", "-o", "json", *dnc)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def listed_numbers(cli: Cli, *dnc: str) -> list[str]:
    return [entry["number"] for entry in listed(cli, *dnc)]


def policy_file(cli: Cli) -> Path:
    """The default policy file of the CLI's API and key, as `zaza dnc -o json` names it."""
    result = cli("dnc", "-o", "json")
    assert result.exit_code == 0, result.stderr
    return Path(json.loads(result.stdout)["file"])


def plan_lines(stdout: str) -> dict[str, str]:
    """A dry run's `label<TAB>value` lines."""
    return dict(line.split("\t", 1) for line in stdout.splitlines())


def wait_listed(running: Any, numbers: list[str]) -> None:
    """Until GET /calls lists a call to every number (a list-lag quirk has passed)."""

    def all_listed() -> bool:
        page = api_get(running, "calls", direction="OUTBOUND", size=100)
        return set(numbers) <= {call["toNumber"] for call in page["content"]}

    wait_for(all_listed, 15, f"{numbers} listed")


def dnc_log(path: Path) -> list[tuple[str, str | None, str | None]]:
    """(action, number, reason) of the list's history, oldest first."""
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT action, number, reason FROM dnc_log ORDER BY id").fetchall()


# ---------------------------------------------------------------- do-not-call list


def test_a_listed_number_is_never_dialled(cli: Cli, sandbox: Any) -> None:
    """`zaza dnc add`, then a dispatch to that number: exit 17, the reason and how to lift
    it on stderr, and not one request to POST /calls/outbound."""
    added = cli("dnc", "add", "+12125550741", "--reason", "asked on a call")
    assert added.exit_code == 0, added.stderr
    assert "+12125550741: added" in added.stderr
    result = dispatch(cli, "+12125550741")
    assert result.exit_code == 17, result.stderr
    assert result.stdout == ""
    assert (
        "error: +12125550741 is on the do-not-call list, added " in result.stderr
        and "(manual: asked on a call); nothing was sent" in result.stderr
    )
    assert "zaza dnc remove +12125550741" in result.stderr
    assert posts(sandbox) == 0 and queued_to(sandbox, "+12125550741") == []


def test_a_number_listed_in_national_format_is_blocked_in_e164(cli: Cli, sandbox: Any) -> None:
    """`dnc add '(212) 555-0744' --region US` lists +12125550744: a dispatch to the E.164
    form is refused (exit 17, zero POSTs)."""
    added = cli("dnc", "add", "(212) 555-0744", "--region", "US")
    assert added.exit_code == 0, added.stderr
    assert "+12125550744: added" in added.stderr
    assert listed_numbers(cli) == ["+12125550744"]
    result = dispatch(cli, "+12125550744")
    assert result.exit_code == 17, result.stderr
    assert "+12125550744 is on the do-not-call list" in result.stderr
    assert posts(sandbox) == 0


def test_remove_lets_a_number_be_called_again(cli: Cli, sandbox: Any) -> None:
    """Only `zaza dnc remove` lifts a listing: then the dispatch goes out (once)."""
    assert cli("dnc", "add", "+12125550745").exit_code == 0
    assert dispatch(cli, "+12125550745").exit_code == 17
    removed = cli("dnc", "remove", "+12125550745", "--reason", "consented again")
    assert removed.exit_code == 0 and "+12125550745: removed" in removed.stderr
    result = dispatch(cli, "+12125550745")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{queued_to(sandbox, '+12125550745')[0]}\n"
    assert posts(sandbox) == 1


# ---------------------------------------------------------------- frequency cap


def test_the_fourth_dispatch_in_24h_is_refused(make_sandbox: Any) -> None:
    """Against the real API, 3 dispatches to one number go out; the 4th says
    "cap 3/24h reached" and exits 17 without a POST."""
    running, cli = start_real(make_sandbox)
    for _ in range(3):
        assert dispatch(cli, "+12125550746").exit_code == 0
    assert posts(running) == 3
    fourth = dispatch(cli, "+12125550746")
    assert fourth.exit_code == 17, fourth.stderr
    assert (
        "error: frequency cap: 3 calls to +12125550746 in the window; cap 3/24h reached; "
        "nothing was sent" in fourth.stderr
    )
    assert fourth.stdout == ""
    assert posts(running) == 3 and len(queued_to(running, "+12125550746")) == 3


def test_max_calls_per_number_from_the_environment(make_sandbox: Any) -> None:
    """ZAZA_MAX_CALLS_PER_NUMBER=2/24h: the 3rd dispatch is refused; `off` lifts the cap."""
    running, cli = start_real(make_sandbox)
    cap = {"ZAZA_MAX_CALLS_PER_NUMBER": "2/24h"}
    assert dispatch(cli, "+12125550747", **cap).exit_code == 0
    assert dispatch(cli, "+12125550747", **cap).exit_code == 0
    third = dispatch(cli, "+12125550747", **cap)
    assert third.exit_code == 17, third.stderr
    assert "2 calls to +12125550747 in the window; cap 2/24h reached" in third.stderr
    assert posts(running) == 2
    uncapped = dispatch(cli, "+12125550747", ZAZA_MAX_CALLS_PER_NUMBER="off")
    assert uncapped.exit_code == 0, uncapped.stderr
    assert posts(running) == 3


def test_the_cap_counts_calls_the_api_does_not_list_yet(make_sandbox: Any) -> None:
    """list-lag=30: GET /calls shows none of the 3 calls yet, yet the 4th is refused: the
    ledger counts every dial zaza made."""
    running, cli = start_real(make_sandbox, "list-lag=30")
    for _ in range(3):
        result = dispatch(cli, "+12125550748")
        assert result.exit_code == 0, result.stderr
    listing = api_get(running, "calls", direction="OUTBOUND", size=100)["content"]
    assert "+12125550748" not in {call["toNumber"] for call in listing}  # not listed yet
    fourth = dispatch(cli, "+12125550748")
    assert fourth.exit_code == 17, fourth.stderr
    assert "3 calls to +12125550748 in the window; cap 3/24h reached" in fourth.stderr
    assert posts(running) == 3 and len(queued_to(running, "+12125550748")) == 3


def test_the_cap_counts_calls_the_api_lists_that_zaza_did_not_make(
    make_sandbox: Any, tmp_path: Path
) -> None:
    """Calls made elsewhere (here: through another ledger) are listed by the API: the
    4th dial is refused though this ledger has none of them."""
    running, cli = start_real(make_sandbox)
    elsewhere = str(tmp_path / "elsewhere.sqlite3")
    assert cli("dnc", "--dnc", elsewhere).exit_code == 0
    for _ in range(3):
        assert dispatch(cli, "+12125550749", "--dnc", elsewhere).exit_code == 0
    fourth = dispatch(cli, "+12125550749")
    assert fourth.exit_code == 17, fourth.stderr
    assert "3 calls to +12125550749 in the window; cap 3/24h reached" in fourth.stderr
    assert posts(running) == 3


def test_a_single_dispatch_makes_no_more_requests_than_before(cli: Cli, sandbox: Any) -> None:
    """The policy rides on the one GET /calls a dispatch always made (after the clock's):
    two GET /calls and the POST, nothing else."""
    sandbox.app.requests.clear()
    assert dispatch(cli, "+12125550750").exit_code == 0
    assert dict(sandbox.app.requests) == {"GET /calls": 2, POST: 1}


def test_calls_listed_without_an_id_still_count_for_the_cap(fault_server: Any) -> None:
    """A server that lists three calls to the number without their ids: no id to match the
    ledger's by, yet each is a call to that person: the next dial is refused, no POST."""

    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    calls = [
        {"direction": "OUTBOUND", "toNumber": "+12125550792", "fromNumber": FROM,
         "agentId": 12, "status": "COMPLETED", "createdAt": an_hour_ago}
    ] * 3  # fmt: skip
    page = {"content": calls, "totalElements": 3, "totalPages": 1, "number": 0, "size": 100}
    fault_server.route("GET", "/api/v1/calls", 200, {**page, "first": True, "last": True})
    # No POST route: a POST would be answered 404 and fail the test at teardown too.
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_noid"})
    result = dispatch(cli, "+12125550792")
    assert result.exit_code == 17, result.stderr
    assert "3 calls to +12125550792 in the window; cap 3/24h reached" in result.stderr
    assert not [r for r in fault_server.requests if r["method"] == "POST"]


def test_a_held_rows_reason_stays_inert_in_the_json_lines(
    cli: Cli, sandbox: Any, tmp_path: Path
) -> None:
    """A reason someone wrote into a shared list (C1 CSI, bidi override, an escape) reaches
    a batch's JSON lines as exact JSON that no terminal obeys."""
    reason = "evil\x9b2J\u202eabc\x1b]0;x\x07"
    assert cli("dnc", "add", "+12125550793", "--reason", reason).exit_code == 0
    csv_path = write_csv(tmp_path / "h.csv", ["+12125550793"])
    result = cli(*batch_args(csv_path))
    assert result.exit_code == 17, result.stderr
    for raw in ("\x9b", "\u202e", "\x1b", "\x07"):
        assert raw not in result.stdout and raw not in result.stderr
    [row] = map(json.loads, result.stdout.splitlines())
    assert row["status"] == "blocked" and reason in row["error"]
    assert posts(sandbox) == 0


# ---------------------------------------------------------------- dnc check


def test_check_answers_ok_or_blocked_with_the_rule(cli: Cli) -> None:
    """`zaza dnc check`: `NUMBER<TAB>ok` and exit 0 for an unlisted number; the rule and
    its detail and exit 17 for a listed one; -o json gives each rule's verdict."""
    assert cli("dnc", "add", "+12125550754", "--reason", "STOP by email").exit_code == 0
    ok = cli("dnc", "check", "+12125550755")
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout == "+12125550755\tok\n"
    blocked = cli("dnc", "check", "+12125550754", "+12125550755")
    assert blocked.exit_code == 17, blocked.stderr
    first, second = blocked.stdout.splitlines()
    assert re.fullmatch(
        r"\+12125550754\tblocked\tdnc: on the do-not-call list, added "
        r"\d{4}-\d\d-\d\d \d\d:\d\d UTC \(manual: STOP by email\)",
        first,
    ), first
    assert second == "+12125550755\tok"

    as_json = cli("dnc", "check", "+12125550754", "+12125550755", "-o", "json")
    assert as_json.exit_code == 17, as_json.stderr
    answers = json.loads(as_json.stdout)
    assert [(a["number"], a["allowed"]) for a in answers] == [
        ("+12125550754", False),
        ("+12125550755", True),
    ]
    for answer in answers:
        assert [v["rule"] for v in answer["verdicts"]] == ["dnc", "cap"]
        assert all(set(v) == {"rule", "allowed", "detail"} for v in answer["verdicts"])
    assert answers[0]["verdicts"][0]["allowed"] is False
    assert answers[0]["verdicts"][1] == {
        "rule": "cap",
        "allowed": True,
        "detail": "0 of 3 calls in the window (3/24h)",
    }


def test_check_before_typer_prints_the_same_lines_as_the_full_command(
    cli: Cli, sandbox: Any
) -> None:
    """`python -m zazacli dnc check` (answered in zazacli/__main__.py before Typer is
    imported) prints exactly what the full command prints, with the same exit code."""
    assert cli("dnc", "add", "+12125550756", "--reason", "asked").exit_code == 0
    env = {"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key}
    for numbers, code in (
        (["+12125550756", "+12125550757"], 17),
        (["+12125550757"], 0),
        (["+12125550756"], 17),
    ):
        full = cli("dnc", "check", *numbers)
        # The interpreter reports its imports: the quick path must not need Typer.
        quick = run_zaza("dnc", "check", *numbers, env={**env, "PYTHONPROFILEIMPORTTIME": "1"})
        assert (full.exit_code, quick.returncode) == (code, code), (full.stderr, quick.stderr)
        assert quick.stdout == full.stdout
        assert len(quick.stdout.splitlines()) == len(numbers)
        assert not re.search(r"\|\s+typer$", quick.stderr, re.M), "the quick path loaded Typer"


def test_a_reason_never_reaches_the_terminal_as_control_codes(cli: Cli) -> None:
    """A reason holding an escape sequence and a tab (a shared list file: someone else
    wrote it) prints as visible text, in check's lines and in every list format."""
    reason = "evil\x1b]0;pwned\x07\ttab"
    assert cli("dnc", "add", "+12125550791", "--reason", reason).exit_code == 0
    check = cli("dnc", "check", "+12125550791")
    assert check.exit_code == 17
    assert check.stdout.count("\t") == 2 and "\x1b" not in check.stdout
    assert "evil\\x1b]0;pwned\\x07\\ttab" in check.stdout
    for fmt in ("plain", "table", "csv"):
        listed = cli("dnc", "list", "-o", fmt)
        assert listed.exit_code == 0 and "\x1b" not in listed.stdout, fmt
    assert json.loads(cli("dnc", "list", "-o", "json").stdout)[0]["reason"] == reason


# ---------------------------------------------------------------- dnc import


def test_import_stores_the_valid_lines_and_names_the_bad_ones(cli: Cli, tmp_path: Path) -> None:
    """A file with 2 lines that are not numbers: exit 16, stderr names lines 2 and 4, and
    `dnc export` has exactly the valid numbers."""
    numbers = tmp_path / "optouts.txt"
    numbers.write_text("+12125550761\nhello\n+12125550762\n12\n(212) 555-0763\n\n")
    result = cli("dnc", "import", str(numbers), "--region", "US")
    assert result.exit_code == 16, result.stderr
    assert "line 2: 'hello' is not a phone number" in result.stderr
    assert re.search(r"^line 4: '12' ", result.stderr, re.M)
    assert "imported optouts.txt: 3 numbers, 3 new; 3 listed in all" in result.stderr
    assert f"2 lines of {numbers} were not numbers and were not stored" in result.stderr
    exported = cli("dnc", "export")
    assert exported.exit_code == 0, exported.stderr
    assert exported.stdout == "+12125550761\n+12125550762\n+12125550763\n"


def test_import_reads_a_csv_by_its_phone_column(cli: Cli, tmp_path: Path) -> None:
    """A CRM export with a `Phone` column among others: its numbers are listed (source
    import, the file's name as reason); the other columns are not read as numbers."""
    crm = tmp_path / "crm.csv"
    crm.write_text("name,Phone,notes\nAlex,+12125550764,call 12 times\nBo,(212) 555-0765,\n")
    result = cli("dnc", "import", str(crm), "--region", "US")
    assert result.exit_code == 0, result.stderr
    assert "imported crm.csv: 2 numbers, 2 new; 2 listed in all" in result.stderr
    entries = listed(cli)
    assert [(e["number"], e["source"], e["reason"]) for e in entries] == [
        ("+12125550764", "import", "crm.csv"),
        ("+12125550765", "import", "crm.csv"),
    ]


def test_import_replace_makes_the_list_the_file_and_logs_removals(cli: Cli, tmp_path: Path) -> None:
    """--replace: numbers listed but not in the file are removed (and each removal kept in
    the list's history); the list then equals the file."""
    assert cli("dnc", "add", "+12125550766", "+12125550767", "--reason", "manual").exit_code == 0
    before = listed(cli)
    assert [e["number"] for e in before] == ["+12125550766", "+12125550767"]
    nightly = tmp_path / "nightly.txt"
    nightly.write_text("+12125550767\n+12125550768\n")
    result = cli("dnc", "import", str(nightly), "--replace")
    assert result.exit_code == 0, result.stderr
    assert "imported nightly.txt: 2 numbers, 1 new, 1 removed; 2 listed in all" in result.stderr
    after = listed(cli)
    assert [e["number"] for e in after] == ["+12125550767", "+12125550768"]
    kept = next(e for e in after if e["number"] == "+12125550767")
    assert kept == next(e for e in before if e["number"] == "+12125550767")  # untouched
    removals = [row for row in dnc_log(policy_file(cli)) if row[0] == "remove"]
    assert removals == [("remove", "+12125550766", "not in nightly.txt (--replace)")]


def test_import_replace_with_a_bad_line_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    """--replace with a line that is not a number: exit 2, and the list is as it was (a
    garbled line must not unlist the person it was meant to be)."""
    assert cli("dnc", "add", "+12125550769", "+12125550774").exit_code == 0
    before = listed(cli)
    garbled = tmp_path / "garbled.txt"
    garbled.write_text("+12125550774\n+1212555O769\n+12125550775\n")
    result = cli("dnc", "import", str(garbled), "--replace")
    assert result.exit_code == 2, result.stderr
    assert "line 2: '+1212555O769'" in result.stderr
    assert "nothing changed" in result.stderr
    assert listed(cli) == before


@pytest.mark.slow
def test_kill_9_during_a_large_import_leaves_all_or_none(tmp_path: Path) -> None:
    """`kill -9` while 300,000 numbers are being imported: the list still reads, and holds
    either every one of them or none (one transaction)."""
    big = tmp_path / "big.txt"
    big.write_text("".join(f"+1646{n:07d}\n" for n in range(300_000)))
    policy = tmp_path / "dnc.sqlite3"
    dnc = ("--dnc", str(policy))
    cli = Cli()
    assert cli("dnc", "add", "+12125550776", *dnc).exit_code == 0
    wal = Path(f"{policy}-wal")
    assert not wal.exists()  # the last writer closed cleanly
    with Zaza(
        "dnc", "import", str(big), *dnc, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as zaza:
        # The import's transaction has started to write once its WAL grows.
        wait_for(
            lambda: zaza.proc.poll() is not None or (wal.exists() and wal.stat().st_size > 0),
            30,
            "the import to start writing",
            every=0.002,
        )
        zaza.proc.kill()
        code = zaza.proc.wait(10)
    assert code == -signal.SIGKILL, "the import finished before it could be killed"

    # Straight after the kill (hot WAL): the quick path and the full command agree.
    quick = run_zaza("dnc", "check", "+16460000123", env={"ZAZA_DNC": str(policy)})
    assert quick.returncode in (0, 17), quick.stderr
    summary = cli("dnc", "-o", "json", *dnc)
    assert summary.exit_code == 0, summary.stderr
    count = json.loads(summary.stdout)["listed"]
    assert count in (1, 300_001), count
    every = count == 300_001
    check = cli("dnc", "check", "+16460000123", "+16460299999", *dnc)
    assert check.exit_code == (17 if every else 0), check.stdout
    assert quick.returncode == check.exit_code
    entries = listed(cli, *dnc)
    assert len(entries) == count
    assert "+12125550776" in {e["number"] for e in entries}  # the earlier entry survives


# ---------------------------------------------------------------- a list that cannot be read


def test_a_corrupt_default_list_dials_nothing(cli: Cli, sandbox: Any, tmp_path: Path) -> None:
    """Garbage in the default policy file: a dispatch and a batch both exit 17 naming the
    file, and nothing is sent; the file is left as it was for the user to restore."""
    path = policy_file(cli)
    path.write_bytes(GARBAGE)
    result = dispatch(cli, "+12125550784")
    assert result.exit_code == 17, result.stderr
    assert f"the contact-policy file {path} is not readable" in result.stderr
    assert "nothing was dialled" in result.stderr
    csv_path = write_csv(tmp_path / "c.csv", ["+12125550785", "+12125550786"])
    batch = cli(*batch_args(csv_path))
    assert batch.exit_code == 17, batch.stderr
    assert str(path) in batch.stderr
    raw = cli("api", "POST", "calls/outbound", "-f", f"fromNumber={FROM}",
              "-f", "toNumber=+12125550786", "-f", "agentId=12")  # fmt: skip
    assert raw.exit_code == 17, raw.stderr
    assert str(path) in raw.stderr
    assert posts(sandbox) == 0
    assert path.read_bytes() == GARBAGE  # never "repaired" by overwriting


def test_a_corrupt_or_foreign_or_missing_dnc_file_dials_nothing(
    cli: Cli, sandbox: Any, tmp_path: Path
) -> None:
    """--dnc naming garbage, another program's SQLite database, or no file at all: exit 17,
    the file named, zero POSTs (a typo must not mean an empty list)."""
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(GARBAGE)
    foreign = tmp_path / "crm.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE contacts (phone TEXT)")
        conn.execute("INSERT INTO contacts VALUES ('+12125550787')")
    conn.close()
    missing = tmp_path / "typo.sqlite3"
    csv_path = write_csv(tmp_path / "f.csv", ["+12125550788"])
    for path, needle in (
        (corrupt, f"the contact-policy file {corrupt} is not readable"),
        (foreign, f"{foreign} is not a zaza contact-policy file"),
        (missing, f"there is no contact-policy file at {missing}"),
    ):
        result = dispatch(cli, "+12125550787", "--dnc", str(path))
        assert result.exit_code == 17, result.stderr
        assert needle in result.stderr and "nothing was dialled" in result.stderr
        batch = cli(*batch_args(csv_path, "--dnc", str(path)))
        assert batch.exit_code == 17, batch.stderr
        assert needle in batch.stderr
    assert posts(sandbox) == 0
    assert not missing.exists()
    with sqlite3.connect(foreign) as conn:
        assert conn.execute("SELECT phone FROM contacts").fetchall() == [("+12125550787",)]
    conn.close()


def test_calls_that_cannot_be_counted_dial_no_one(make_sandbox: Any, tmp_path: Path) -> None:
    """A server that pages forever (stuck-page, ignore-dates): the cap cannot be counted, so
    the batch stops before its first row, exit 17, and a dispatch is refused the same way."""
    running, cli = start_real(make_sandbox, "stuck-page", "ignore-dates", "page-cap=2")
    csv_path = write_csv(tmp_path / "s.csv", ["+12125550789", "+12125550790"])
    batch = cli(*batch_args(csv_path))
    assert batch.exit_code == 17, batch.stderr
    assert "frequency cap: cannot count the calls of the last 24h" in batch.stderr
    assert "nothing was dialled" in batch.stderr
    assert batch.stdout == ""
    single = dispatch(cli, "+12125550789")
    assert single.exit_code == 17, single.stderr
    assert "cannot count the calls to +12125550789" in single.stderr
    raw = cli("api", "POST", "calls/outbound", "-f", f"fromNumber={FROM}",
              "-f", "toNumber=+12125550790", "-f", "agentId=12")  # fmt: skip
    assert raw.exit_code == 17, raw.stderr
    assert "cannot count the calls to +12125550790" in raw.stderr
    assert posts(running) == 0


@pytest.mark.slow
def test_a_policy_file_locked_by_another_process_dials_nothing(
    cli: Cli, sandbox: Any, tmp_path: Path
) -> None:
    """Another process holds the list's write lock past the wait (10 s, shortened here to
    0.3 s through Timing): the dial cannot be written to the ledger first, so it is not
    sent (exit 17), and the list is untouched."""
    path = tmp_path / "locked.sqlite3"
    assert cli("dnc", "add", "+12125550791", "--dnc", str(path)).exit_code == 0
    impatient = Cli(env=cli.env, timing=Timing(lock_wait=0.3))
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        result = dispatch(impatient, "+12125550792", "--dnc", str(path))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 17, result.stderr
    assert "locked by another zaza past 0.3 s" in result.stderr
    assert "nothing was dialled" in result.stderr
    assert posts(sandbox) == 0
    listed = cli("dnc", "list", "--dnc", str(path), "-o", "plain")
    assert "+12125550791" in listed.stdout


# ---------------------------------------------------------------- opt-outs from texts


def sms(tmp_path: Path, sender: str, text: str) -> Path:
    """A --data-file for an inbound text from `sender`."""
    path = tmp_path / f"sms-{sender[1:]}-{abs(hash(text))}.json"
    data = {"id": 501, "fromNumber": sender, "toNumber": FROM, "body": text}
    path.write_text(json.dumps(data))
    return path


def trigger(url: str, data_file: Path, secret: str = SECRET) -> Any:
    return Cli()(
        "webhooks", "trigger", "sms.received", "--data-file", str(data_file),
        "--to", url, "--secret", secret,
    )  # fmt: skip


def test_a_verified_stop_text_lists_its_sender_and_nothing_else_does(tmp_path: Path) -> None:
    """`webhooks listen`: a signed STOP (or QUIT, `Opt out`, `Unsubscribe.`) puts its sender
    on the list (source sms) before the sender is answered, and says so; a forged STOP
    says NOT added; a sentence that merely contains "stop" adds no one. `dnc import-events`
    on the saved events then adds only the verified opt-outs."""
    policy = tmp_path / "dnc.sqlite3"
    save = tmp_path / "events.jsonl"
    env = {"ZAZA_DNC": str(policy)}
    senders = {
        "+12125550791": "STOP",
        "+12125550794": "quit",
        "+12125550795": "  Opt   Out ",
        "+12125550796": "Unsubscribe.",
    }
    with listen_process("--secret", SECRET, "--save", str(save), env=env) as running:
        assert running.zaza.stderr is not None and running.zaza.stdout is not None
        for sender, text in senders.items():
            sent = trigger(running.url, sms(tmp_path, sender, text))
            assert sent.exit_code == 0, sent.output
            # Answered "received" only once it is on the list.
            assert sender in listed_numbers(Cli(env=env))
            keyword = " ".join(text.strip(" .").split()).upper()
            running.zaza.stderr.until(
                lambda line, s=sender, k=keyword: (
                    f"opt-out: {s} replied {k}: added to the do-not-call list" in line
                ),
                10,
            )
        forged = trigger(running.url, sms(tmp_path, "+12125550797", "STOP"), "whsec_wrong")
        assert forged.exit_code == 1 and "\t401\t" in forged.stdout
        line = running.zaza.stderr.until(lambda line: "+12125550797" in line, 10)
        assert "NOT added to the do-not-call list" in line and "invalid" in line
        chatty = sms(tmp_path, "+12125550798", "stop calling me at work")
        assert trigger(running.url, chatty).exit_code == 0
        running.zaza.stdout.until(lambda line: "+12125550798" in line, 10)  # shown
        _, err = running.stop(signal.SIGINT)
    assert running.proc.returncode == 0, err
    assert "+12125550798" not in err  # nothing said: a person reads that one
    cli = Cli(env=env)
    entries = listed(cli)
    assert [e["number"] for e in entries] == sorted(senders)
    assert {e["source"] for e in entries} == {"sms"}
    assert next(e for e in entries if e["number"] == "+12125550791")["reason"] == "replied STOP"

    # The saved events into another list: only the verified opt-outs.
    other = ("--dnc", str(tmp_path / "other.sqlite3"))
    imported = cli("dnc", "import-events", str(save), "--secret", SECRET, *other)
    assert imported.exit_code == 0, imported.stderr
    assert "1 opt-out events were not verified and were left out" in imported.stderr
    assert f"4 opt-outs in {save.name}, 4 new on the list" in imported.stderr
    assert listed_numbers(cli, *other) == sorted(senders)
    assert all(e["source"] == "sms" for e in listed(cli, *other))


def test_no_opt_outs_lists_no_one(tmp_path: Path) -> None:
    """`webhooks listen --no-opt-outs`: a verified STOP is shown and saved, but its sender
    is not put on the list."""
    policy = tmp_path / "dnc.sqlite3"
    save = tmp_path / "events.jsonl"
    env = {"ZAZA_DNC": str(policy)}
    args = ("--secret", SECRET, "--save", str(save), "--no-opt-outs")
    with listen_process(*args, env=env) as running:
        assert running.zaza.stdout is not None
        assert trigger(running.url, sms(tmp_path, "+12125550799", "STOP")).exit_code == 0
        running.zaza.stdout.until(lambda line: "+12125550799" in line, 10)
        _, err = running.stop(signal.SIGINT)
    assert running.proc.returncode == 0, err
    assert "opt-out" not in err
    assert listed(Cli(env=env)) == []
    [saved] = [json.loads(line) for line in save.read_text().splitlines()]
    assert saved["signature"] == "valid"  # kept for `zaza dnc import-events`


# ---------------------------------------------------------------- batches remember people


def test_a_new_journal_does_not_dial_people_the_last_batch_called(
    make_sandbox: Any, tmp_path: Path
) -> None:
    """A batch over leads.csv queues 4. A second run with another journal, over the same CSV
    plus one row, dials only the new row: the 4 are `repeat` ("called HH:MM by leads.csv"),
    exit 17. --dry-run lists the held rows by line; --allow-repeat would dial them."""
    running, cli = start_real(make_sandbox)
    numbers = [f"+1646555071{n}" for n in (4, 5, 6, 7)]
    csv_path = write_csv(tmp_path / "leads.csv", numbers)
    first = cli(*batch_args(csv_path))
    assert first.exit_code == 0, first.stderr
    assert set(statuses(first.stdout).values()) == {"queued"}
    assert posts(running) == 4

    with csv_path.open("a") as csv_file:
        csv_file.write("+16465550718\n")
    other = tmp_path / "other.jsonl"
    again = cli(*batch_args(csv_path, "--journal", str(other)))
    assert again.exit_code == 17, again.stderr
    rows = batch_rows(again.stdout)
    assert {line: row["status"] for line, row in rows.items()} == {
        2: "repeat",
        3: "repeat",
        4: "repeat",
        5: "repeat",
        6: "queued",
    }
    called = r"called (\w{3} \d\d )?\d\d:\d\d by leads\.csv"
    for line in (2, 3, 4, 5):
        assert re.fullmatch(called, rows[line]["error"]), rows[line]
        assert re.search(
            rf"^line {line} {re.escape(numbers[line - 2])}: repeat: {called}$", again.stderr, re.M
        )
    assert "held 4 of 5 valid rows (0 blocked, 4 dialled within the repeat window)" in (
        again.stderr
    )
    assert posts(running) == 5 and len(queued_to(running, "+16465550718")) == 1
    journaled = [json.loads(line) for line in other.read_text().splitlines()]
    assert sorted(e["line"] for e in journaled if e.get("event") == "repeat") == [2, 3, 4, 5]

    plan = cli(*batch_args(csv_path, "--journal", str(other), "--dry-run"))
    assert plan.exit_code == 17, plan.stderr
    assert plan_lines(plan.stdout)["would send"] == "0"
    for line in (2, 3, 4, 5):
        assert re.search(
            rf"^line {line} {re.escape(numbers[line - 2])}: repeat: {called}$", plan.stderr, re.M
        )
    lifted = cli(*batch_args(csv_path, "--journal", str(other), "--dry-run", "--allow-repeat"))
    assert lifted.exit_code == 0, lifted.stderr
    assert plan_lines(lifted.stdout)["would send"] == "4"
    assert posts(running) == 5
    assert all(len(queued_to(running, number)) == 1 for number in numbers)


def test_a_csv_that_gained_rows_resumes_with_its_journal(make_sandbox: Any, tmp_path: Path) -> None:
    """Rows appended to a CSV after its batch ran: the same command dials only them (exit 0,
    "gained rows at its end"); a CSV edited in the middle is refused (exit 2)."""
    running, cli = start_real(make_sandbox)
    csv_path = write_csv(tmp_path / "grow.csv", ["+16465550724", "+16465550725", "+16465550726"])
    first = cli(*batch_args(csv_path))
    assert first.exit_code == 0, first.stderr
    assert posts(running) == 3
    with csv_path.open("a") as csv_file:
        csv_file.write("+16465550727\n+16465550728\n")
    grown = cli(*batch_args(csv_path))
    assert grown.exit_code == 0, grown.stderr
    assert "grow.csv gained rows at its end since grow.csv.journal.jsonl was started" in (
        grown.stderr
    )
    assert statuses(grown.stdout) == {
        2: "skipped",
        3: "skipped",
        4: "skipped",
        5: "queued",
        6: "queued",
    }
    assert posts(running) == 5

    text = csv_path.read_text().replace("+16465550725", "+16465550729")
    csv_path.write_text(text)
    edited = cli(*batch_args(csv_path))
    assert edited.exit_code == 2, edited.stderr
    journal = tmp_path / "grow.csv.journal.jsonl"
    assert f"{csv_path} has changed since {journal} was started" in edited.stderr
    assert posts(running) == 5 and queued_to(running, "+16465550729") == []


def test_an_emptied_journal_is_refused_when_the_ledger_shows_its_dials(
    cli: Cli, sandbox: Any, tmp_path: Path
) -> None:
    """A journal emptied by `: > file` (a log rotation) after its run: the re-run exits 2
    naming it and sends nothing. A brand-new empty journal for a CSV never run is fine."""
    csv_path = write_csv(tmp_path / "rot.csv", ["+16465550734", "+16465550735"])
    first = cli(*batch_args(csv_path))
    assert first.exit_code == 0, first.stderr
    journal = tmp_path / "rot.csv.journal.jsonl"
    journal.write_bytes(b"")
    again = cli(*batch_args(csv_path))
    assert again.exit_code == 2, again.stderr
    assert f"error: {journal} is empty, but the ledger shows 2 dials from it" in again.stderr
    assert posts(sandbox) == 2
    assert journal.read_bytes() == b""

    fresh_csv = write_csv(tmp_path / "new.csv", ["+16465550736"])
    fresh_journal = tmp_path / "new.jsonl"
    fresh_journal.write_bytes(b"")
    fresh = cli(*batch_args(fresh_csv, "--journal", str(fresh_journal)))
    assert fresh.exit_code == 0, fresh.stderr
    assert statuses(fresh.stdout) == {2: "queued"}
    assert posts(sandbox) == 3
    assert json.loads(fresh_journal.read_text().splitlines()[0])["csv"] == str(fresh_csv)


def test_a_batch_holds_listed_rows_and_dials_the_others(
    cli: Cli, sandbox: Any, tmp_path: Path
) -> None:
    """A listed number in a batch is journaled `blocked` and never dialled; the others are
    queued; exit 17 says the policy held one."""
    assert cli("dnc", "add", "+16465550745").exit_code == 0
    csv_path = write_csv(tmp_path / "mix.csv", ["+16465550744", "+16465550745", "+16465550746"])
    result = cli(*batch_args(csv_path))
    assert result.exit_code == 17, result.stderr
    rows = batch_rows(result.stdout)
    assert {line: row["status"] for line, row in rows.items()} == {
        2: "queued",
        3: "blocked",
        4: "queued",
    }
    assert rows[3]["error"].startswith("on the do-not-call list, added ")
    assert posts(sandbox) == 2 and queued_to(sandbox, "+16465550745") == []
    journal = [json.loads(line) for line in (tmp_path / "mix.csv.journal.jsonl").open()]
    assert [e["line"] for e in journal if e.get("event") == "blocked"] == [3]


# ---------------------------------------------------------------- no second dial


@pytest.mark.parametrize("quirk", CLOCK_QUIRKS)
def test_a_lost_answer_under_an_untrusted_created_at_is_found_not_resent(
    make_sandbox: Any, quirk: str
) -> None:
    """The answer to the POST is lost and createdAt is skewed, numeric or zone-less: the
    dispatch still finds its call, prints its id and exits 0, after exactly one POST."""
    running, cli = start(make_sandbox, quirk, "lost-answer")
    result = dispatch(cli, "+17185550754", ZAZA_RECONCILE_WAIT=LOOK)
    assert result.exit_code == 0, result.stderr
    [queued] = queued_to(running, "+17185550754")
    assert result.stdout == f"{queued}\n"
    assert f"the call was queued as {queued}" in result.stderr
    assert posts(running) == 1


@pytest.mark.parametrize("quirk", CLOCK_QUIRKS)
def test_a_lost_answer_never_takes_an_older_call_for_the_new_one(
    make_sandbox: Any, quirk: str
) -> None:
    """An older call to the same number exists; the new dispatch's answer is lost: the id
    printed is the new call's, under every createdAt quirk."""
    running, cli = start(make_sandbox, quirk)
    older = dispatch(cli, "+17185550755")
    assert older.exit_code == 0, older.stderr
    set_quirks(running, lost_answer=True)
    result = dispatch(cli, "+17185550755", ZAZA_RECONCILE_WAIT=LOOK)
    assert result.exit_code == 0, result.stderr
    [old_id, new_id] = queued_to(running, "+17185550755")
    assert older.stdout == f"{old_id}\n"
    assert result.stdout == f"{new_id}\n"
    assert posts(running) == 2


@pytest.mark.parametrize("settle", ["0s", None], ids=["settle-0s", "settle-default"])
@pytest.mark.parametrize("quirk", CLOCK_QUIRKS)
def test_a_batch_whose_answers_are_lost_dials_each_number_once(
    make_sandbox: Any, tmp_path: Path, quirk: str, settle: str | None
) -> None:
    """Every POST's answer is lost, createdAt is not to be trusted: a batch of 4, run and
    then run again, sends 4 POSTs in all, one call per number, every row found."""
    running, cli = start(make_sandbox, quirk, "lost-answer")
    numbers = [f"+1718555076{n}" for n in (4, 5, 6, 7)]
    csv_path = write_csv(tmp_path / "lost.csv", numbers)
    extra = ("--settle", settle) if settle is not None else ()
    env = {"ZAZA_RECONCILE_WAIT": LOOK}
    # Every answer is lost: the first run finds each call, the re-run skips each row.
    for run, status in (("first", "reconciled"), ("again", "skipped")):
        result = cli(*batch_args(csv_path, *extra), **env)
        assert result.exit_code == 0, (run, result.stderr)
        assert statuses(result.stdout) == dict.fromkeys((2, 3, 4, 5), status), result.stdout
        assert posts(running) == 4, run
        assert all(len(queued_to(running, number)) == 1 for number in numbers), run
    ids = {row["callId"] for row in batch_rows(result.stdout).values()}
    assert ids == {queued_to(running, number)[0] for number in numbers}


@pytest.mark.slow
@pytest.mark.parametrize("quirk", CLOCK_QUIRKS)
def test_batch_rows_left_unknown_are_found_by_the_re_run_not_dialled_again(
    make_sandbox: Any, tmp_path: Path, quirk: str
) -> None:
    """The answers are lost and GET /calls shows new calls 2 s late: the first run leaves
    every row unknown (exit 1). Once they are listed, a re-run at --settle 0s finds each
    call instead of dialling again: 4 POSTs in all, one call per number."""
    running, cli = start(make_sandbox, quirk, "lost-answer", "list-lag=2")
    numbers = [f"+1718555077{n}" for n in (4, 5, 6, 7)]
    csv_path = write_csv(tmp_path / "late.csv", numbers)
    env = {"ZAZA_RECONCILE_WAIT": "0"}
    first = cli(*batch_args(csv_path), **env)
    assert first.exit_code == 1, first.stderr
    assert statuses(first.stdout) == dict.fromkeys((2, 3, 4, 5), "unknown"), first.stdout
    assert posts(running) == 4
    wait_listed(running, numbers)
    settled = cli(*batch_args(csv_path, "--settle", "0s"), **env)
    assert settled.exit_code == 0, settled.stderr
    assert statuses(settled.stdout) == dict.fromkeys((2, 3, 4, 5), "reconciled")
    assert posts(running) == 4
    assert all(len(queued_to(running, number)) == 1 for number in numbers)
    ids = {row["callId"] for row in batch_rows(settled.stdout).values()}
    assert ids == {queued_to(running, number)[0] for number in numbers}


# ---------------------------------------------------------------- dry run, zaza api, doctor


def test_dry_run_shows_each_rules_verdict(cli: Cli, sandbox: Any) -> None:
    """`calls dispatch --dry-run`: a `do-not-call` and a `frequency cap` line; a listed
    number's plan says BLOCKED and exits 17; -o json has a `policy` list. Nothing is sent."""
    plan = dispatch(cli, "+12125550804", "--dry-run")
    assert plan.exit_code == 0, plan.stderr
    lines = plan_lines(plan.stdout)
    assert lines["do-not-call"] == "ok: not on the do-not-call list"
    assert lines["frequency cap"].startswith("ok: ")
    assert "3/24h" in lines["frequency cap"]

    assert cli("dnc", "add", "+12125550805", "--reason", "lawyer").exit_code == 0
    blocked = dispatch(cli, "+12125550805", "--dry-run")
    assert blocked.exit_code == 17, blocked.stderr
    assert plan_lines(blocked.stdout)["do-not-call"].startswith(
        "BLOCKED: on the do-not-call list, added "
    )
    as_json = dispatch(cli, "+12125550805", "--dry-run", "-o", "json")
    assert as_json.exit_code == 17, as_json.stderr
    policy = json.loads(as_json.stdout)["policy"]
    assert [(v["rule"], v["allowed"]) for v in policy] == [("dnc", False), ("cap", True)]
    assert policy[0]["detail"].endswith("(manual: lawyer)")
    assert posts(sandbox) == 0


def test_dry_run_names_floridas_calling_window(make_sandbox: Any) -> None:
    """Against the real API, a Florida number (area code 305) gets Florida's window,
    08:00-20:00, named with its law; the cap line counts its calls."""
    running, cli = start_real(make_sandbox)
    plan = dispatch(cli, "+13055550147", "--dry-run")
    assert plan.exit_code == 0, plan.stderr
    lines = plan_lines(plan.stdout)
    florida = "08:00-20:00 (Florida, Fla. Stat. 501.616(6)(a)), within: "
    assert lines["calling window"].startswith(florida), lines["calling window"]
    assert lines["frequency cap"] == "ok: 0 of 3 calls in the window (3/24h)"
    assert lines["do-not-call"] == "ok: not on the do-not-call list"
    as_json = dispatch(cli, "+13055550147", "--dry-run", "-o", "json")
    assert as_json.exit_code == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["callingWindow"] == "08:00-20:00"
    assert document["callingWindowRule"].startswith("Florida")
    assert [v["rule"] for v in document["policy"]] == ["dnc", "cap"]
    assert posts(running) == 0


def test_a_batch_dry_run_names_each_calling_window_that_applies(
    make_sandbox: Any, tmp_path: Path
) -> None:
    """Two Florida rows and a California one: the plan names both windows, with the law for
    Florida's, and how many rows each applies to (quiet hours checked: no --allow-quiet-hours)."""
    running, cli = start_real(make_sandbox)
    csv_path = write_csv(tmp_path / "w.csv", ["+13055550151", "+13055550152", "+14155550153"])
    args = ["calls", "batch", str(csv_path), "--from", FROM, "--agent", "12", "--dry-run"]
    plan = cli(*args)
    assert plan.exit_code == 0, plan.stderr
    windows = [line for line in plan.stdout.splitlines() if line.startswith("calling window")]
    assert sorted(windows) == [
        "calling window\t08:00-20:00 (Florida, Fla. Stat. 501.616(6)(a)): 2 rows",
        "calling window\t08:00-21:00 (quiet_hours): 1 row",
    ], plan.stdout
    assert posts(running) == 0


def test_zaza_api_post_to_a_listed_number_is_refused(cli: Cli, sandbox: Any) -> None:
    """`zaza api POST calls/outbound` goes through the list too: exit 17, zero POSTs; an
    unlisted number goes out and is written to the ledger."""
    assert cli("dnc", "add", "+12125550814").exit_code == 0
    fields = ("-f", f"fromNumber={FROM}", "-f", "agentId=12")
    result = cli("api", "POST", "calls/outbound", *fields, "-f", "toNumber=+12125550814")
    assert result.exit_code == 17, result.stderr
    assert "+12125550814 is on the do-not-call list" in result.stderr
    assert posts(sandbox) == 0
    sent = cli("api", "POST", "calls/outbound", *fields, "-f", "toNumber=+12125550815")
    assert sent.exit_code == 0, sent.stderr
    assert posts(sandbox) == 1
    summary = json.loads(cli("dnc", "-o", "json").stdout)
    assert summary["ledgerDials"] == 1


def test_doctor_ends_with_the_contact_policy(cli: Cli, tmp_path: Path) -> None:
    """`zaza doctor`: its last line says the list and ledger are readable; with a corrupt
    --dnc file it says so (nothing is dialled until it is fixed) and exits 1."""
    good = cli("doctor")
    assert good.exit_code == 0, good.output
    last = good.stdout.splitlines()[-1]
    assert last.startswith("✓ contact policy: do-not-call list (0 numbers) and dial ledger")
    assert "readable" in last

    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(GARBAGE)
    bad = cli("doctor", "--dnc", str(corrupt))
    assert bad.exit_code == 1, bad.output
    lines = bad.stdout.splitlines()
    line = next(i for i, text in enumerate(lines) if "contact policy" in text)
    assert lines[line].startswith("✗ contact policy: ")
    assert str(corrupt) in lines[line]
    assert "nothing is dialled until it is fixed" in "\n".join(lines[line:])
