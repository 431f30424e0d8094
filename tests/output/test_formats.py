"""One output option (`-o/--format`, with `--json`, `--jsonl` and `--csv` as aliases),
`--fields` and `--header`, two formats as a usage error, and the pager on a terminal. The
real CLI against a real sandbox (or a fault server that records every request); the pager
through a real pseudo-terminal."""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, Cli, FaultServer, api_get, run_zaza

from zazacli.webhooks import sign

KEY = "zaza_test_formats_key_0000"
SECRET = "whsec_test_formats_5e1f"
FROM = "+14155550100"


def tsv(stdout: str) -> list[list[str]]:
    return [line.split("\t") for line in stdout.splitlines()]


def without_styles(text: str) -> str:
    """What a terminal shows: NO_COLOR drops colours, not bold."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def newest_call(sandbox: Any, **params: Any) -> dict[str, Any]:
    return api_get(sandbox, "calls", size=1, **params)["content"][0]


def one_line_usage_error(result: Any, *needles: str) -> str:
    """The single `error: …` line of a usage error (exit 2), with nothing on stdout."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# ---------------------------------------------------------------- -o and its aliases

# Read once per process: the instant is filled in when a test runs, never in a test's id
# (pytest-xdist's workers must collect the same ids).
SINCE_30D = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
# (command, formats it has an alias for): `-o FORMAT` prints what `--FORMAT` prints.
ALIASES = [
    (["agents", "list"], ["json", "jsonl", "csv"]),
    (["agents", "show", "12"], ["json", "jsonl", "csv"]),
    (["campaigns", "list"], ["json", "jsonl", "csv"]),
    (["campaigns", "show", "3"], ["json", "jsonl", "csv"]),
    (["calls", "list", "--limit", "5"], ["json", "jsonl", "csv"]),
    (["calls", "show", "{call}"], ["json", "jsonl", "csv"]),
    (["calls", "wait", "{call}"], ["json"]),
    # An instant, not `30d`: two runs a second apart must ask for the same range.
    (["calls", "stats", "--since", "{30 days ago}"], ["json", "csv"]),
    (["profiles", "list"], ["json"]),
    (["profiles", "show"], ["json"]),
    (["webhooks", "events"], ["json"]),
    (["capabilities"], ["json"]),
]


@pytest.mark.parametrize(("command", "formats"), ALIASES, ids=lambda v: " ".join(v))
def test_each_alias_prints_what_its_format_prints(
    cli: Cli, sandbox: Any, command: list[str], formats: list[str]
) -> None:
    args = [
        word.replace("{call}", str(newest_call(sandbox)["id"])).replace("{30 days ago}", SINCE_30D)
        for word in command
    ]
    for fmt in formats:
        by_format = cli(*args, "-o", fmt)
        by_alias = cli(*args, f"--{fmt}")
        assert by_format.exit_code == 0, by_format.stderr
        assert by_format.stdout == by_alias.stdout != "", fmt
        assert cli(*args, "--format", fmt.upper()).stdout == by_format.stdout


LISTS = [["agents", "list"], ["campaigns", "list"], ["calls", "list", "--limit", "5"]]


@pytest.mark.parametrize("command", LISTS, ids=lambda v: " ".join(v))
def test_every_list_prints_each_of_the_five_formats(
    cli: Cli, sandbox: Any, command: list[str]
) -> None:
    documents = json.loads(cli(*command, "-o", "json").stdout)
    ids = [str(item["id"]) for item in documents]
    assert len(ids) >= 5
    lines = cli(*command, "-o", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in lines] == documents
    rows = list(csv.reader(io.StringIO(cli(*command, "-o", "csv").stdout)))
    assert rows[0][0] == "id" and [row[0] for row in rows[1:]] == ids
    plain = cli(*command, "-o", "plain").stdout
    assert [row[0] for row in tsv(plain)] == ids
    assert cli(*command).stdout == plain  # piped, plain is the default
    table = cli(*command, "-o", "table", COLUMNS="200").stdout.splitlines()
    assert table[0].split()[0] == "ID" and "\t" not in table[0]
    assert [line.split()[0] for line in table[1:]] == ids


def test_a_format_sets_the_view_on_a_terminal_and_in_a_pipe(cli: Cli, sandbox: Any) -> None:
    """`-o plain` on a terminal prints what a pipe gets; `-o table` in a pipe a table,
    without colour. The rest of the command follows (calls show's sections)."""
    piped = cli("agents", "list").stdout
    assert cli("agents", "list", "-o", "plain", ZAZA_FORCE_TTY="1").stdout == piped
    table = cli("agents", "list", "-o", "table")
    drawn = cli("agents", "list", ZAZA_FORCE_TTY="1", NO_COLOR="1").stdout
    assert table.stdout == without_styles(drawn)
    assert "\x1b[" not in table.stdout
    call = newest_call(sandbox, status="COMPLETED")
    shown = cli("calls", "show", str(call["id"]), "-o", "plain", ZAZA_FORCE_TTY="1").stdout
    assert shown == cli("calls", "show", str(call["id"])).stdout
    assert "\n# Transcript\n" in shown and "╭" not in shown


def test_show_prints_one_record_in_each_format(cli: Cli, sandbox: Any) -> None:
    agent = api_get(sandbox, "agents/12")
    assert json.loads(cli("agents", "show", "12", "-o", "json").stdout) == agent
    assert json.loads(cli("agents", "show", "12", "-o", "jsonl").stdout) == agent
    header, row = csv.reader(io.StringIO(cli("agents", "show", "12", "-o", "csv").stdout))
    assert dict(zip(header, row, strict=True))["name"] == agent["name"]
    plain = dict(tsv(cli("agents", "show", "12", "-o", "plain").stdout))
    assert plain["name"] == agent["name"] and plain["id"] == "12"
    assert "agent 12" in cli("agents", "show", "12", "-o", "table").stdout


def test_reports_and_results_print_their_formats(cli: Cli, sandbox: Any, tmp_path: Path) -> None:
    stats = json.loads(cli("calls", "stats", "--since", "30d", "-o", "json").stdout)
    stats_csv = cli("calls", "stats", "--since", "30d", "-o", "csv").stdout
    assert stats_csv.startswith("key,") and stats["total"] > 0
    assert cli("calls", "stats", "--since", "30d", "-o", "table").stdout.strip()
    events = json.loads(cli("webhooks", "events", "-o", "json").stdout)
    assert [row[0] for row in tsv(cli("webhooks", "events", "-o", "plain").stdout)] == [
        event["event"] for event in events
    ]
    capabilities = json.loads(cli("capabilities", "-o", "json").stdout)
    assert capabilities["api"] and capabilities["dashboardOnly"]
    assert cli("capabilities", "-o", "plain").stdout.startswith("api\t")
    assert json.loads(cli("profiles", "list", "-o", "json").stdout) == []
    assert json.loads(cli("profiles", "show", "-o", "json").stdout)["base_url"] == sandbox.base_url
    body = tmp_path / "body.json"
    body.write_bytes(b'{"event": "call.started"}')
    signature = sign(SECRET, body.read_bytes())
    verified = cli("webhooks", "verify", str(body), "--signature", signature, "-o", "json",
                   ZAZA_WEBHOOK_SECRET=SECRET)  # fmt: skip
    assert json.loads(verified.stdout) == {"matches": True, "form": "whole-secret"}


def test_doctor_prints_json_or_its_lines(cli: Cli) -> None:
    report = json.loads(cli("doctor", "-o", "json").stdout)
    assert report["ok"] is True
    lines = cli("doctor", "-o", "plain").stdout.splitlines()
    assert lines and all(line[0] in "✓✗? " for line in lines)


@pytest.mark.slow
def test_dispatch_and_wait_print_the_call_as_json(cli: Cli, sandbox: Any) -> None:
    dispatch = ["calls", "dispatch", "--from", FROM, "--to", "+12125550188", "--agent", "12"]
    queued = cli(*dispatch, "-o", "json", "--allow-quiet-hours")
    assert queued.exit_code == 0, queued.stderr
    call = json.loads(queued.stdout)
    assert call["toNumber"] == "+12125550188"
    waited = cli("calls", "wait", str(call["id"]), "-o", "json")
    assert json.loads(waited.stdout)["id"] == call["id"]
    plain = dict(tsv(cli("calls", "wait", str(call["id"]), "-o", "plain").stdout))
    assert plain["id"] == str(call["id"])


def test_tail_prints_event_lines_or_json_lines(cli: Cli, sandbox: Any) -> None:
    newest = newest_call(sandbox)
    args = ["calls", "tail", "--last", "1", "--max-events", "1"]
    jsonl = cli(*args, "-o", "jsonl")
    assert json.loads(jsonl.stdout)["call"]["id"] == newest["id"]
    assert cli(*args).stdout.startswith("{")  # piped, JSON lines are the default
    lines = cli(*args, "-o", "table").stdout.splitlines()
    assert len(lines) == 1 and str(newest["id"]) in lines[0] and "{" not in lines[0]


def test_tab_completes_the_formats_a_command_prints() -> None:
    def complete(words: str) -> list[str]:
        """What bash is offered for the last word of `words` (empty after a space)."""
        cword = len(words.split()) - (0 if words.endswith(" ") else 1)
        env = {"_ZAZA_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
        return run_zaza(env=env).stdout.split()

    assert complete("zaza calls list -o ") == ["table", "plain", "json", "jsonl", "csv"]
    assert complete("zaza calls tail -o ") == ["table", "jsonl"]
    assert complete("zaza agents show 12 --format j") == ["json", "jsonl"]


# ---------------------------------------------------------------- usage errors


# A format the command does not print: one line naming the ones it does.
NOT_PRINTED = [
    ("calls stats", [], "jsonl", "table, plain, json, csv"),
    ("calls tail", [], "plain", "table, jsonl"),
    ("doctor", [], "csv", "table, plain, json"),
    ("calls wait", ["1"], "csv", "table, plain, json"),
    ("webhooks events", [], "jsonl", "table, plain, json"),
    ("webhooks listen", ["--port", "0"], "plain", "table, jsonl"),
    ("calls list", [], "xml", "table, plain, json, jsonl, csv"),
]


@pytest.mark.parametrize(("command", "args", "fmt", "valid"), NOT_PRINTED, ids=str)
def test_a_format_a_command_does_not_print_is_a_usage_error(
    fault_server: FaultServer, command: str, args: list[str], fmt: str, valid: str
) -> None:
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": KEY})
    line = one_line_usage_error(cli(*command.split(), *args, "-o", fmt))
    assert line == f"error: zaza {command} cannot print {fmt}; --format is one of: {valid}"
    assert fault_server.requests == []


CONFLICTS = [
    ["calls", "list", "--json", "--csv"],
    ["calls", "list", "-o", "csv", "--json"],
    ["calls", "list", "--jsonl", "--json"],
    ["agents", "list", "-o", "json", "--jsonl"],
    ["campaigns", "show", "3", "-o", "plain", "--json"],
    ["calls", "show", "1", "--csv", "--json"],
    ["calls", "stats", "-o", "csv", "--json"],
    ["calls", "tail", "-o", "table", "--jsonl"],
    ["calls", "wait", "1", "-o", "plain", "--json"],
    ["calls", "dispatch", "--from", FROM, "--to", "+12125550189", "--agent", "12",
     "-o", "table", "--json"],
    ["doctor", "-o", "plain", "--json"],
    ["profiles", "list", "-o", "table", "--json"],
]  # fmt: skip


@pytest.mark.parametrize("args", CONFLICTS, ids=" ".join)
def test_two_formats_are_a_usage_error_before_any_request(
    fault_server: FaultServer, args: list[str]
) -> None:
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": KEY})
    one_line_usage_error(cli(*args), "cannot be used together")
    assert fault_server.requests == []


def test_the_conflict_names_what_was_given(fault_server: FaultServer) -> None:
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": KEY})
    line = one_line_usage_error(cli("calls", "list", "-o", "csv", "--json"))
    assert line == "error: --format csv and --json cannot be used together"
    header = one_line_usage_error(cli("calls", "list", "--header", "--jsonl"), "--header")
    assert "plain" in header
    assert fault_server.requests == []


def test_the_same_format_twice_is_one_format(cli: Cli) -> None:
    twice = cli("agents", "list", "-o", "json", "--json")
    assert twice.exit_code == 0 and twice.stdout == cli("agents", "list", "--json").stdout


@pytest.mark.parametrize(
    ("args", "given"),
    [
        (["--format=csv", "--json"], "--format csv and --json"),
        (["-ocsv", "--jsonl"], "--format csv and --jsonl"),
        (["--jsonl", "-o", "plain"], "--jsonl and --format plain"),
    ],
)
def test_every_spelling_of_the_format_is_one_option(
    fault_server: FaultServer, args: list[str], given: str
) -> None:
    """--json, --jsonl and --csv are rewritten to --format before parsing: each spelling of
    -o counts, and a conflict names them as typed."""
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": KEY})
    line = one_line_usage_error(cli("agents", "list", *args))
    assert line == f"error: {given} cannot be used together"
    assert fault_server.requests == []


def test_a_command_whose_json_is_its_own_keeps_it(cli: Cli, tmp_path: Path) -> None:
    """`calls sync --json` prints its summary as JSON: not an alias of a format it lacks."""
    synced = cli("calls", "sync", "--json", "--archive", str(tmp_path / "a.sqlite3"))
    assert synced.exit_code == 0, synced.stderr
    assert "new" in json.loads(synced.stdout)


# ---------------------------------------------------------------- --fields and --header


def test_fields_choose_the_columns_and_keys_in_their_order(cli: Cli) -> None:
    base = ["calls", "list", "--limit", "4"]
    calls = json.loads(cli(*base, "--json").stdout)
    fields = ["toNumber", "id", "status"]
    expected = [[str(call[name]) for name in fields] for call in calls]
    picked = ["--fields", ",".join(fields)]
    assert tsv(cli(*base, *picked).stdout) == expected
    assert list(csv.reader(io.StringIO(cli(*base, *picked, "--csv").stdout))) == [
        fields,
        *expected,
    ]
    documents = json.loads(cli(*base, *picked, "--json").stdout)
    assert documents == [{name: call[name] for name in fields} for call in calls]
    assert [list(d) for d in documents] == [fields] * len(calls)
    jsonl = [json.loads(line) for line in cli(*base, *picked, "-o", "jsonl").stdout.splitlines()]
    assert jsonl == documents
    table = cli(*base, *picked, "-o", "table").stdout.splitlines()
    assert table[0].split() == ["TO", "ID", "STATUS"]
    assert [line.split() for line in table[1:]] == expected


def test_header_names_the_plain_columns(cli: Cli) -> None:
    base = ["calls", "list", "--limit", "2", "-o", "plain"]
    lines = cli(*base, "--header").stdout.splitlines()
    assert lines[0].split("\t") == [
        "ID", "CREATED", "DIRECTION", "STATUS", "FROM", "TO", "AGENT", "DURATION", "DISPOSITION",
    ]  # fmt: skip
    assert lines[1:] == cli(*base).stdout.splitlines()
    picked = cli(*base, "--header", "--fields", "id,durationSeconds").stdout
    assert picked.splitlines()[0] == "ID\tDURATION"
    agents = cli("agents", "list", "--header", "--fields", "id,isActive,language").stdout
    assert agents.splitlines()[0] == "ID\tACTIVE\tLANGUAGE"  # the API's own: from its name
    # An empty list: the header alone, as a CSV has its header row.
    none = cli("calls", "list", "--agent", "999999", "-o", "plain", "--header", "--fields", "id")
    assert none.stdout == "ID\n"


def test_fields_reach_into_objects_and_keep_what_the_api_sends(cli: Cli, sandbox: Any) -> None:
    agents = api_get(sandbox, "agents")
    languages = tsv(cli("agents", "list", "--fields", "id,language").stdout)
    assert languages == [[str(a["id"]), a["language"]] for a in agents]
    call = newest_call(sandbox)
    picked = cli("calls", "show", str(call["id"]), "--json", "--fields", "id,variables.NAME")
    assert json.loads(picked.stdout) == {
        "id": call["id"], "variables": {"NAME": call["variables"]["NAME"]}
    }  # fmt: skip
    header = cli("calls", "show", str(call["id"]), "--csv", "--fields", "id,variables")
    assert next(csv.reader(io.StringIO(header.stdout))) == [
        "id", *(f"variables.{name}" for name in call["variables"])
    ]  # fmt: skip


def test_show_with_fields_prints_only_those(cli: Cli, sandbox: Any) -> None:
    call = newest_call(sandbox, status="COMPLETED")
    args = ["calls", "show", str(call["id"]), "--fields", "status,disposition"]
    plain = cli(*args).stdout
    assert tsv(plain) == [["status", call["status"]], ["disposition", call["disposition"]]]
    table = without_styles(cli(*args, ZAZA_FORCE_TTY="1", NO_COLOR="1").stdout)
    assert [line.split() for line in table.splitlines()] == [
        ["status", call["status"]], ["disposition", call["disposition"]]
    ]  # fmt: skip


def test_an_unknown_field_is_a_usage_error_listing_the_valid_ones(cli: Cli) -> None:
    result = cli("calls", "list", "--fields", "id,stauts")
    assert result.exit_code == 2 and result.stdout == ""
    error, hint = result.stderr.splitlines()
    assert error == "error: --fields: calls have no field 'stauts'"
    assert hint.startswith("hint: valid fields: id, createdAt, direction, status,")
    assert "variables.KEY" in hint
    as_json = cli("agents", "list", "--json", "--fields", "name,colour")
    assert as_json.exit_code == 2 and as_json.stdout == ""  # not even the opening `[`
    assert "the API also sent: language" in as_json.stderr


# ---------------------------------------------------------------- the pager


def on_a_terminal(
    sandbox: Any, *args: str, rows: int = 12, columns: int = 100, **env: str
) -> tuple[int, str, str]:
    """`zaza ARGS` with stdout on a pseudo-terminal of that size: (exit code, what the
    terminal showed, stderr). The pager, if any, shares the terminal."""
    full_env = {**os.environ, "ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key,
                "NO_COLOR": "1", **env}  # fmt: skip
    for name in ("PAGER", "LESS", "LINES", "COLUMNS"):
        if name not in env:
            full_env.pop(name, None)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "zazacli", *args],
            stdin=subprocess.DEVNULL, stdout=follower, stderr=subprocess.PIPE, env=full_env,
            cwd=REPO,
        )  # fmt: skip
        os.close(follower)
        chunks = []
        deadline = time.monotonic() + 60
        while True:
            ready, _, _ = select.select([leader], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, f"the terminal output did not end: {b''.join(chunks)[-300:]!r}"
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: every writer has closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        err = proc.stderr.read().decode() if proc.stderr else ""
        code = proc.wait(timeout=60)
    finally:
        os.close(leader)
    return code, b"".join(chunks).decode().replace("\r\n", "\n"), err


def every_call_id(sandbox: Any) -> set[str]:
    found, page = set(), 0
    while True:
        data = api_get(sandbox, "calls", size=100, page=page)
        found |= {str(call["id"]) for call in data["content"]}
        if data["last"]:
            return found
        page += 1


def listed_ids(text: str) -> set[str]:
    return set(re.findall(r"^\s*(\d{5})\s", text, re.MULTILINE))


def pager_into(path: Path) -> str:
    return f"sh -c 'cat > {path}'"


@pytest.mark.slow
def test_a_list_taller_than_the_terminal_goes_through_the_pager(
    sandbox: Any, tmp_path: Path
) -> None:
    paged = tmp_path / "paged.txt"
    code, screen, err = on_a_terminal(sandbox, "calls", "list", "--all",
                                      ZAZA_PAGER=pager_into(paged))  # fmt: skip
    assert code == 0, err
    assert listed_ids(paged.read_text()) == every_call_id(sandbox)
    assert "ID" in paged.read_text().splitlines()[0]
    assert listed_ids(screen) == set()  # the pager had it all, the terminal none of it


def test_the_default_page_of_a_list_is_paged_when_taller_and_the_notice_follows(
    sandbox: Any, tmp_path: Path
) -> None:
    paged = tmp_path / "paged.txt"
    code, _, err = on_a_terminal(sandbox, "calls", "list", ZAZA_PAGER=pager_into(paged))
    assert code == 0
    assert len(listed_ids(paged.read_text())) == 20
    assert "showing the newest 20" in err


def test_output_that_fits_is_printed_without_the_pager(sandbox: Any, tmp_path: Path) -> None:
    paged = tmp_path / "paged.txt"
    code, screen, _ = on_a_terminal(sandbox, "calls", "list", "--limit", "5", rows=40,
                                    ZAZA_PAGER=pager_into(paged))  # fmt: skip
    assert code == 0
    assert not paged.exists()
    assert len(listed_ids(screen)) == 5


@pytest.mark.slow
def test_no_pager_option_and_empty_or_cat_pager_print_to_the_terminal(
    sandbox: Any, tmp_path: Path
) -> None:
    paged = tmp_path / "paged.txt"
    everything = every_call_id(sandbox)
    code, screen, _ = on_a_terminal(sandbox, "--no-pager", "calls", "list", "--all",
                                    ZAZA_PAGER=pager_into(paged))  # fmt: skip
    assert code == 0 and listed_ids(screen) == everything
    for none in ("", "cat"):
        code, screen, _ = on_a_terminal(sandbox, "calls", "list", "--all", ZAZA_PAGER=none,
                                        PAGER=pager_into(paged))  # fmt: skip
        assert code == 0 and listed_ids(screen) == everything
    assert not paged.exists()


@pytest.mark.slow
def test_pager_comes_from_zaza_pager_then_pager(sandbox: Any, tmp_path: Path) -> None:
    first, second = tmp_path / "zaza_pager.txt", tmp_path / "pager.txt"
    on_a_terminal(sandbox, "calls", "list", "--all",
                  ZAZA_PAGER=pager_into(first), PAGER=pager_into(second))  # fmt: skip
    assert first.exists() and not second.exists()
    on_a_terminal(sandbox, "calls", "list", "--all", PAGER=pager_into(second))
    assert listed_ids(second.read_text()) == every_call_id(sandbox)


@pytest.mark.slow
def test_never_a_pager_when_stdout_is_not_a_terminal(sandbox: Any, tmp_path: Path) -> None:
    paged = tmp_path / "paged.txt"
    env = {"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key,
           "ZAZA_PAGER": pager_into(paged)}  # fmt: skip
    piped = run_zaza("calls", "list", "--all", env=env)
    assert piped.returncode == 0 and listed_ids(piped.stdout) == every_call_id(sandbox)
    # Terminal output forced into a pipe (for `watch`) is not paged either.
    forced = run_zaza("calls", "list", "--all", env={**env, "ZAZA_FORCE_TTY": "1"})
    assert forced.returncode == 0 and "ID" in forced.stdout.splitlines()[0]
    assert not paged.exists()


@pytest.mark.slow
def test_a_pager_that_cannot_start_is_one_warning_and_the_output_still_shows(
    sandbox: Any,
) -> None:
    missing = "/nonexistent/zaza-test-pager"
    code, screen, err = on_a_terminal(sandbox, "calls", "list", "--all",
                                      ZAZA_PAGER=f"{missing} -R")  # fmt: skip
    assert code == 0
    assert listed_ids(screen) == every_call_id(sandbox)
    [warning] = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warning.startswith("warning: cannot start the pager") and missing in warning


def test_a_pager_that_quits_early_ends_the_command_quietly(
    make_sandbox: Any, tmp_path: Path
) -> None:
    """Far more than a pipe holds (~500 KB of JSON lines): the pager reads one line and
    quits, and zaza stops writing without an error."""
    running = make_sandbox(calls=1500, live_calls=False)
    paged = tmp_path / "paged.txt"
    code, screen, err = on_a_terminal(running, "calls", "list", "--all", "--jsonl",
                                      ZAZA_PAGER=f"sh -c 'head -n 1 > {paged}'")  # fmt: skip
    assert code == 0, err
    assert err == ""
    assert len(paged.read_text().splitlines()) == 1
    assert json.loads(paged.read_text())["id"]


@pytest.mark.slow
def test_long_transcripts_go_through_the_pager(sandbox: Any, tmp_path: Path) -> None:
    call = newest_call(sandbox, status="COMPLETED")
    transcript = run_zaza("calls", "transcript", str(call["id"]),
                          env={"ZAZA_BASE_URL": sandbox.base_url,
                               "ZAZA_API_KEY": sandbox.api_key}).stdout  # fmt: skip
    assert len(transcript.splitlines()) > 6
    paged = tmp_path / "transcript.txt"
    code, screen, _ = on_a_terminal(sandbox, "calls", "transcript", str(call["id"]), rows=6,
                                    ZAZA_PAGER=pager_into(paged))  # fmt: skip
    assert code == 0 and paged.read_text() == transcript
    shown = tmp_path / "show.txt"
    code, _, _ = on_a_terminal(sandbox, "calls", "show", str(call["id"]), rows=6,
                               ZAZA_PAGER=pager_into(shown))  # fmt: skip
    assert code == 0
    text = shown.read_text()
    assert f"call {call['id']}" in text and "Transcript" in text


def test_the_same_notice_is_printed_once_per_process() -> None:
    """A batch asks about quiet hours for each row; against the sandbox the answer (and its
    notice) is the same every time: said once."""
    from zazacli.output import Output

    stderr = io.StringIO()
    out = Output(stdout=io.StringIO(), stderr=stderr)
    for _ in range(3):
        out.notice("the API is zaza's sandbox: no one is called")
    out.notice("another notice")
    assert stderr.getvalue() == ("the API is zaza's sandbox: no one is called\nanother notice\n")
