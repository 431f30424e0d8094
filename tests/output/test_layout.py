"""Layouts that fit the terminal, and output with no Python in it (no None, True or False).

Event lines (`calls tail`, `webhooks listen`) and tables are checked on a real
pseudo-terminal of 80 and 120 columns (no COLUMNS: zaza asks the terminal), or through the
CLI runner with ZAZA_FORCE_TTY and COLUMNS where the terminal itself does not matter.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from conftest import Cli, FaultServer, Terminal, api_get, wait_for
from rich.cells import cell_len

from zazacli.output.columns import LAYOUTS
from zazacli.output.values import duration
from zazacli.webhooks.delivery import webhook_headers
from zazacli.webhooks.samples import EVENT_TYPES, encode_body, event_body, sample_data

KEY = "zaza_test_layout_key_0000"
SECRET = "whsec_test_layout_3c1d"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PYTHON_LITERAL = re.compile(r"\b(None|True|False)\b")
CLOCK = re.compile(r"^\d\d:\d\d(:\d\d)?  ")


def shown_on(columns: int, *args: str, **env: str) -> str:
    """What `zaza ARGS` shows on a terminal `columns` wide; it must exit 0."""
    code, text = Terminal(*args, columns=columns, env=env).finish()
    assert code == 0, text
    return text


def sandbox_env(sandbox: Any) -> dict[str, str]:
    return {"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key}


def event_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if CLOCK.match(line)]


# ---------------------------------------------------------------- calls tail


def test_tail_is_one_compact_line_per_event_at_80_columns(sandbox: Any) -> None:
    args = ("calls", "tail", "--last", "12", "--max-events", "12")
    narrow = event_lines(shown_on(80, *args, **sandbox_env(sandbox)))
    wide = event_lines(shown_on(120, *args, **sandbox_env(sandbox)))
    assert len(narrow) == len(wide) == 12  # one line per event: nothing wrapped onto two
    assert [line.split()[1] for line in narrow] == [line.split()[1] for line in wide]
    for line in narrow:
        assert cell_len(line) <= 80, line
        # `14:03  90512  COMPLETED    out  +1415…0100 → +1617…0166  1:02  INTERESTED`
        assert re.match(r"^\d\d:\d\d  +\d+  [A-Z_]+ ", line), line
        assert re.search(r"\+\d{4}…\d{4} → \+\d{4}…\d{4}", line), line
        assert not line.endswith("…"), line  # the sandbox's calls fit without cutting
    for line in wide:  # today's layout: seconds, whole numbers, the agent
        assert cell_len(line) <= 120, line
        assert re.match(r"^\d\d:\d\d:\d\d  +\d+  [A-Z_]+ +(outbound|inbound) ", line), line
        assert re.search(r"\+\d{10,15} → \+\d{10,15}  agent \d+", line), line
    assert not PYTHON_LITERAL.search("\n".join(narrow + wide))


# ---------------------------------------------------------------- webhooks listen


def post_event(url: str, event: str, **data: Any) -> None:
    raw = encode_body(event_body(event, {**sample_data(event), **data}))
    headers = webhook_headers(raw, event, secret=SECRET)
    response = httpx.post(url, content=raw, headers=headers, timeout=5, trust_env=False)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("columns", [80, 120])
def test_listen_is_one_line_per_event_that_fits(columns: int) -> None:
    env = {"ZAZA_WEBHOOK_SECRET": SECRET}
    terminal = Terminal("webhooks", "listen", "--port", "0", columns=columns, env=env)
    try:
        found = wait_for(
            lambda: re.search(r"listening on (http://\S+)", terminal.text()), 20, "the banner"
        )
        url = found.group(1)
        for event in EVENT_TYPES:
            post_event(url, event)
        post_event(url, "call.completed", id=None)  # a sender that left the id out
        wait_for(lambda: len(event_lines(terminal.text())) == 7, 10, "seven event lines")
    finally:
        code, text = terminal.finish(stop=True)
    assert code == 0, text
    lines = event_lines(text)
    assert [line.split()[2] for line in lines] == [*EVENT_TYPES, "call.completed"]
    for line in lines:
        assert cell_len(line) <= columns, line
        assert re.match(r"^\d\d:\d\d  ✓ " if columns < 100 else r"^\d\d:\d\d:\d\d  ✓ ", line)
    assert "call ?" in lines[-1]
    assert not PYTHON_LITERAL.search(text), text
    if columns < 100:  # numbers shortened from the middle, the ids always there
        assert re.search(r"call 90211  \+1415…0100 → \+1415…0123$", lines[0])
        assert "lead 4421" in lines[3] and "appointment 77" in lines[5]


# ---------------------------------------------------------------- tables


def table_header(stdout: str) -> list[str]:
    return ANSI.sub("", stdout).splitlines()[0].split()


CALL_HEADERS = [column.header for column in LAYOUTS["call"].table]


def ended_call(call_id: int, status: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": call_id, "direction": "OUTBOUND", "status": status,
        "fromNumber": "+14155550100", "toNumber": "+14155550123", "agentId": 12,
        "createdAt": f"2026-11-26T14:0{call_id}:11Z", "durationSeconds": 0,
        "disposition": None, "failureReason": None, **fields,
    }  # fmt: skip


OUTCOMES = [
    ended_call(4, "COMPLETED", durationSeconds=107, disposition="INTERESTED"),
    ended_call(3, "FAILED", failureReason="\x1b[31mcarrier rejected: number not in service"),
    ended_call(2, "FAILED", failureReason="NETWORK_ERROR"),
    ended_call(1, "NO_ANSWER"),
]


@pytest.mark.parametrize("columns", [80, 120])
def test_outcome_is_the_disposition_else_the_failure_reason_cut_to_its_column(
    fault_server: FaultServer, columns: int
) -> None:
    page = {"content": OUTCOMES, "number": 0, "size": 20, "totalPages": 1, "last": True}
    fault_server.route("GET", "/api/v1/calls", 200, page)
    env = {"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": KEY}
    lines = shown_on(columns, "calls", "list", **env).splitlines()
    header = next(line for line in lines if line.startswith("ID "))
    rows = {line.split()[0]: line for line in lines if re.match(r"^\d  ", line)}
    assert header.split()[-1] == "OUTCOME" and "DISPOSITION" not in header
    start = header.index("OUTCOME")  # the last column: each row's cell starts here
    cells = {call_id: row[start:].rstrip() for call_id, row in rows.items()}
    assert cells == {
        "4": "INTERESTED",
        # The server's text, made visible and cut to the column's 18 cells.
        "3": "\\x1b[31mcarrier r…",
        "2": "NETWORK_ERROR",
        "1": "-",
    }
    assert all(cell_len(line) <= columns for line in lines)


def test_a_table_at_80_columns_hides_the_same_columns_whatever_the_data(cli: Cli) -> None:
    tty = {"ZAZA_FORCE_TTY": "1", "NO_COLOR": "1", "COLUMNS": "80"}
    results = [
        cli("calls", "list", *filters, **tty)
        for filters in ([], ["--status", "completed"], ["--status", "no_answer", "--limit", "1"])
    ]
    for result in results:
        assert result.exit_code == 0, result.stderr
        shown = table_header(result.stdout)
        hidden = [header for header in CALL_HEADERS if header not in shown]
        assert hidden and shown == [h for h in CALL_HEADERS if h in shown]
        # The lowest priorities go first: every hidden column ranks below every shown one.
        rank = {column.header: column.priority for column in LAYOUTS["call"].table}
        assert min(rank[h] for h in hidden) > max(rank[h] for h in shown if rank[h] > 1)
        assert all(cell_len(line) <= 80 for line in ANSI.sub("", result.stdout).splitlines())
        assert f"columns hidden: {', '.join(hidden)}; see all with --wide (or --json)" in (
            result.stderr.splitlines()
        )
    assert len({tuple(table_header(result.stdout)) for result in results}) == 1
    # The layout this guards against: 20 columns free while DIRECTION, FROM and AGENT were
    # dropped.
    assert "AGENT" in table_header(results[0].stdout)


@pytest.mark.parametrize("columns", [80, 120])
def test_stats_figures_are_never_cut_for_the_bar(cli: Cli, columns: int) -> None:
    """`calls stats` on a terminal: every figure whole (a day, a p90), the bar drawn only
    in the width they leave (at 80 columns the day table had `Sun 2026-11-…` and `5:…`)."""
    tty = {"ZAZA_FORCE_TTY": "1", "NO_COLOR": "1", "COLUMNS": str(columns)}
    json_report = cli("calls", "stats", "--by", "day", "--json")
    shown = cli("calls", "stats", "--by", "day", **tty)
    assert shown.exit_code == 0 and json_report.exit_code == 0, shown.stderr
    lines = ANSI.sub("", shown.stdout).splitlines()
    assert "…" not in shown.stdout and all(cell_len(line) <= columns for line in lines)
    header = next(line for line in lines if line.startswith("DAY"))
    assert header.split() == ["DAY", "CALLS", "SHARE", "ANSWERED", "MEDIAN", "P90", "TALK",
                              "MIN", "EST.", "COST"]  # fmt: skip
    for group in json.loads(json_report.stdout)["groups"]:
        if group["p90_duration_s"] is not None:
            day = next(line for line in lines if re.match(rf"\w{{3}} {group['key']} ", line))
            assert duration(group["p90_duration_s"]) in day.split()
    if columns == 120:  # room for the bars (at 80 they come and go with the figures' widths)
        assert "█" in shown.stdout


def test_wide_shows_every_column_and_a_wide_terminal_needs_no_flag(cli: Cli) -> None:
    tty = {"ZAZA_FORCE_TTY": "1", "NO_COLOR": "1"}
    wide = cli("calls", "list", "--limit", "3", "--wide", COLUMNS="80", **tty)
    assert wide.exit_code == 0, wide.stderr
    assert table_header(wide.stdout) == CALL_HEADERS
    assert "hidden" not in wide.stderr
    rows = ANSI.sub("", wide.stdout).splitlines()[1:]
    assert len(rows) == 3 and all(re.search(r"\+\d{10,15} +\+\d{10,15}", row) for row in rows)
    roomy = cli("calls", "list", "--limit", "3", COLUMNS="120", **tty)
    assert table_header(roomy.stdout) == CALL_HEADERS and "hidden" not in roomy.stderr
    piped = cli("calls", "list", "--limit", "3", "--wide")  # plain lines have every column
    assert [len(line.split("\t")) for line in piped.stdout.splitlines()] == [9, 9, 9]


def test_campaigns_and_agents_hide_by_their_own_priorities(cli: Cli) -> None:
    tty = {"ZAZA_FORCE_TTY": "1", "NO_COLOR": "1", "COLUMNS": "80"}
    campaigns = cli("campaigns", "list", **tty)
    assert table_header(campaigns.stdout) == ["ID", "NAME", "STATUS", "AGENT", "LEADS", "CREATED"]
    assert "columns hidden: FROM; see all with --wide (or --json)" in campaigns.stderr
    agents = cli("agents", "list", **tty)
    assert table_header(agents.stdout) == ["ID", "NAME", "ACTIVE", "PERSONALITY", "VOICE"]
    assert agents.stderr == ""
    narrow = cli("agents", "list", **{**tty, "COLUMNS": "50"})
    assert "PERSONALITY" not in table_header(narrow.stdout) and "PERSONALITY" in narrow.stderr


def test_notices_fold_between_words_on_a_narrow_terminal(sandbox: Any) -> None:
    text = shown_on(40, "agents", "list", **sandbox_env(sandbox))
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("columns hidden:"))
    notice = lines[start:]
    assert len(notice) > 1 and all(cell_len(line) <= 40 for line in notice), notice
    assert " ".join(notice) == (
        "columns hidden: PERSONALITY, VOICE; see all with --wide (or --json)"
    )


# ---------------------------------------------------------------- calls show


def test_calls_show_names_the_agent_on_a_terminal(cli: Cli, sandbox: Any) -> None:
    listed = cli("calls", "list", "--agent", "12", "--limit", "1", "--json")
    [call] = json.loads(listed.stdout)
    name = api_get(sandbox, "agents/12")["name"]
    shown = cli("calls", "show", str(call["id"]), ZAZA_FORCE_TTY="1", NO_COLOR="1", COLUMNS="120")
    assert shown.exit_code == 0, shown.stderr
    assert re.search(rf"│ Agent +12 \({re.escape(name)}\) ", ANSI.sub("", shown.stdout))
    piped = cli("calls", "show", str(call["id"]))  # scripts keep the API's value
    assert "agentId\t12\n" in piped.stdout and f"({name})" not in piped.stdout


CALL = {
    "id": 77,
    "status": "COMPLETED",
    "direction": "OUTBOUND",
    "agentId": 12,
    "disposition": None,
    "someNewField": "kept",
    "callQualityScore": 4,
    "sentiment": "POSITIVE",
    "turns": [],
}


def fault_cli(server: FaultServer) -> Cli:
    return Cli(env={"ZAZA_BASE_URL": server.url, "ZAZA_API_KEY": KEY})


def test_unknown_fields_are_labelled_like_known_ones_and_a_failed_name_is_no_failure(
    fault_server: FaultServer,
) -> None:
    fault_server.route("GET", "/api/v1/calls/77", 200, CALL)
    fault_server.route("GET", "/api/v1/agents/12", 404, {"message": "agent not found"})
    result = fault_cli(fault_server)(
        "calls", "show", "77", ZAZA_FORCE_TTY="1", NO_COLOR="1", COLUMNS="100"
    )
    assert result.exit_code == 0, result.stderr
    shown = ANSI.sub("", result.stdout)
    for label, value in (
        ("Some new field", "kept"), ("Call quality score", "4"), ("Sentiment", "POSITIVE"),
        ("Agent", "12"), ("Direction", "OUTBOUND"),
    ):  # fmt: skip
        assert re.search(rf"│ {label} +{value} +│", shown), (label, shown)
    assert "someNewField" not in shown and "sentiment" not in shown
    assert not PYTHON_LITERAL.search(shown)
    paths = [request["path"] for request in fault_server.requests]
    assert paths == ["/api/v1/calls/77", "/api/v1/agents/12"]  # one lookup, not retried
    piped = fault_cli(fault_server)("calls", "show", "77")
    assert "someNewField\tkept" in piped.stdout.splitlines()


# ---------------------------------------------------------------- no Python literals


def test_profiles_speak_toml_not_python(bare_cli: Cli) -> None:
    nameless = bare_cli("profiles", "show", ZAZA_API_KEY=KEY)  # no profile at all
    assert nameless.exit_code == 0, nameless.stderr
    assert "name\t" in nameless.stdout.splitlines()
    added = bare_cli("profiles", "add", "dev", "--no-verify", input=KEY + "\n")
    assert added.exit_code == 0, added.stderr
    changed = bare_cli("profiles", "set", "dev", "confirm", "yes")
    assert changed.stderr.strip() == "profile dev: confirm = true"
    shown = bare_cli("profiles", "show", "dev")
    assert "confirm\ttrue" in shown.stdout.splitlines()
    for result in (nameless, added, changed, shown):
        assert not PYTHON_LITERAL.search(result.output), result.output


def test_batch_names_a_nameless_agent_by_its_id(fault_server: FaultServer, tmp_path: Any) -> None:
    fault_server.route("GET", "/api/v1/agents/12", 200, {"id": 12, "isActive": False})
    leads = tmp_path / "leads.csv"
    leads.write_text("to\n+14155550123\n")
    result = fault_cli(fault_server)(
        "calls", "batch", str(leads), "--from", "+14155550100", "--agent", "12",
        "--allow-quiet-hours", "--yes",
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("error: agent 12 is not active; the API would refuse")
    assert not PYTHON_LITERAL.search(result.output)


# ---------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    ("args", "message", "command"),
    [
        (["calls", "list", "--bogus"], "no such option: --bogus", "zaza calls list"),
        (["--bogus", "calls", "list"], "no such option: --bogus", "zaza"),
        (["calls", "show"], "missing argument 'ID'", "zaza calls show"),
        (["calls", "list", "--limit", "many"], "invalid value for '--limit'", "zaza calls list"),
        (["call", "list"], "no such command 'call'. Did you mean 'calls'?", "zaza"),
        (["calls", "lst"], "no such command 'lst'. Did you mean 'list'?", "zaza calls"),
    ],
)
def test_usage_errors_speak_like_every_other_error(
    bare_cli: Cli, args: list[str], message: str, command: str
) -> None:
    result = bare_cli(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    error, hint = result.stderr.splitlines()
    assert error.startswith(f"error: {message}"), error
    assert hint == f"hint: see '{command} --help'"
    assert "Usage:" not in result.stderr and "Error:" not in result.stderr


def test_a_group_given_nothing_shows_its_help_and_succeeds(bare_cli: Cli) -> None:
    result = bare_cli("calls")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: zaza calls") and result.stderr == ""
    # A noun that answers alone still does: `zaza dnc` is the contact policy's summary.
    summary = bare_cli("dnc", ZAZA_API_KEY="zaza_test_layout_key_0000")
    assert summary.exit_code == 0, summary.stderr
    assert "Usage" not in summary.stdout and "repeat" in summary.stdout


# ---------------------------------------------------------------- folding prose to the width


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_help_epilogs_fold_between_words(columns: int) -> None:
    """The exit-code tables were printed as written, and a terminal broke their long lines
    in the middle of a word; now each description continues under itself."""
    for words in (["calls", "--help"], ["calls", "dispatch", "--help"], ["--help"]):
        text = shown_on(columns, *words)
        table = text.partition("Exit codes:")[2].splitlines()
        assert len(table) > 5, text
        assert all(cell_len(line) <= columns for line in table), table
        continued = [line for line in table if line.startswith(" " * 9) and line.strip()]
        if columns < 100:
            assert continued, table  # the contact-policy line is longer than the screen
        joined = " ".join(line.strip() for line in table)
        assert "a guard that cannot be read" in joined or "cannot be read" in joined


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_the_sandbox_banner_folds_between_words(columns: int) -> None:
    from conftest import Terminal

    terminal = Terminal("sandbox", "--port", "0", columns=columns, env={})
    wait_for(lambda: "Press Ctrl-C" in terminal.text(), what="the sandbox banner")
    _, text = terminal.finish(stop=True)
    note = text[text.index("Dispatched calls") : text.index("Press Ctrl-C")].splitlines()
    assert all(cell_len(line) <= columns for line in note), note
    assert (
        " ".join(note).split()
        == (
            "Dispatched calls end by the last digit of toNumber: 0 FAILED, 1 NO_ANSWER, 2 BUSY, "
            "3 CANCELED, 4-9 COMPLETED (4 INTERESTED, 5 NOT_INTERESTED, 6 CALLBACK_REQUESTED, "
            "7 VOICEMAIL, 8 APPOINTMENT_BOOKED, 9 DO_NOT_CALL)."
        ).split()
    )
