"""A hostile API: names, variables, transcripts, dispositions and error messages full of
terminal escape sequences, C1 controls, bidi overrides and Rich markup. Every read command,
on a terminal (ZAZA_FORCE_TTY=1) and piped, must show them as inert text: no OSC, no CSI
but colour (SGR), no C1 or bidi character, no markup read from data, no crash; `--json`
must still carry exactly what the server sent."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import Cli, FaultServer, no_waiting, send, sized_pty

from zazacli.sanitize import json_safe, terminal_safe

KEY = "zaza_test_terminal_safety_fake"

# What an attacker would put in a field, each aimed at a terminal or at Rich.
HOSTILE = {
    "osc title": "\x1b]0;pwned\x07",
    "osc 52 clipboard": "\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07",
    "osc 8 link": "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
    "csi clear": "\x1b[2J\x1b[H",
    "csi cursor": "\x1b[1A\x1b[2K",
    "c1 csi": "\x9b2J",
    "c1 osc": "\x9d0;title\x9c",
    "bidi override": "\u202eevil\u202c",
    "bidi isolate": "\u2067x\u2069",
    "markup link": "[link=file:///etc/passwd]invoice[/link]",
    "markup close": "[/b]",
    "markup style": "[bold red on white]loud",
    "carriage return": "safe\rEVIL",
    "backspaces": "abc\x08\x08\x08XYZ",
    "bell and nul": "\x07a\x00b",
    "del": "x\x7fy",
    "newline and tab": "line1\nline2\tcol",
    "lone surrogate": "\ud83d",
}
ALL = "".join(HOSTILE.values())
NOW = datetime.now(UTC).replace(microsecond=0)


def stamp(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


AGENT = {
    "id": 1,
    "name": "Zara " + HOSTILE["osc title"] + HOSTILE["markup close"],
    "personality": HOSTILE["osc 52 clipboard"],
    "voiceType": HOSTILE["c1 csi"],
    "isActive": True,
    "greetingMessage": ALL,
    HOSTILE["markup link"] + "\x1b[2J": HOSTILE["osc 8 link"],  # an unknown field, hostile key
}
CAMPAIGN = {
    "id": 7,
    "name": HOSTILE["markup link"] + HOSTILE["bidi override"],
    "status": "RUNNING",
    "agentId": 1,
    "fromNumber": "+14155550100",
    "createdAt": stamp(600),
    "totalLeads": 10,
    "leadStats": {"PENDING": 5, HOSTILE["csi clear"] + "[/b]": 5},
    "callingHours": {"start": HOSTILE["c1 osc"], "end": "20:00", "timezone": ALL},
}
TURNS = [
    {"role": "AGENT", "text": "Hi " + ALL, "timestamp": stamp(9)},
    {"role": "CALLER" + HOSTILE["osc title"], "text": ALL + "\n\nbye", "timestamp": stamp(8.5)},
    {"role": HOSTILE["markup close"], "text": HOSTILE["markup link"], "timestamp": stamp(8.4)},
]
CALLS = [
    {
        "id": 90003,
        "direction": "OUTBOUND",
        "status": "VOICEMAIL" + HOSTILE["osc title"],  # a status zaza does not know
        "fromNumber": "+14155550100",
        "toNumber": HOSTILE["c1 csi"],
        "agentId": 1,
        "campaignId": None,
        "createdAt": stamp(3),
        "durationSeconds": None,
        "disposition": None,
        "failureReason": HOSTILE["osc 52 clipboard"],
    },
    {
        "id": 90002,
        "direction": "OUTBOUND",
        "status": "FAILED",
        "fromNumber": "+14155550100",
        "toNumber": "+14155550123",
        "agentId": 1,
        "createdAt": stamp(5),
        "startedAt": None,
        "endedAt": stamp(5),
        "durationSeconds": 0,
        "failureReason": ALL,
        "disposition": None,
    },
    {
        "id": 90001,
        "direction": "OUTBOUND",
        "status": "COMPLETED",
        "fromNumber": "+14155550100",
        "toNumber": "+14155550124",
        "agentId": 1,
        "campaignId": 7,
        "createdAt": stamp(10),
        "startedAt": stamp(9.1),
        "endedAt": stamp(8),
        "durationSeconds": 66,
        "disposition": HOSTILE["csi clear"] + HOSTILE["markup close"] + HOSTILE["bidi override"],
        "failureReason": None,
        "variables": {"NAME": HOSTILE["markup link"], HOSTILE["osc 8 link"]: ALL},
        "recordingUrl": HOSTILE["osc 8 link"],
    },
]
ERROR_MESSAGE = "Agent not found " + ALL


# Hand-written: one poisoned API for every read command; the 404 it gives anything unknown
# is part of what is checked (routes would fail those requests at teardown).
def hostile_api(handler: BaseHTTPRequestHandler) -> None:
    """The API with every field poisoned; anything unknown is a 404 with a poisoned message."""
    parts = urlsplit(handler.path)
    path = parts.path.removeprefix("/api/v1").rstrip("/")
    page = re.search(r"(?:^|&)page=(\d+)", parts.query or "")
    first_page = page is None or page.group(1) == "0"
    bodies: dict[str, Any] = {
        "/agents": [AGENT],
        "/agents/1": AGENT,
        "/campaigns": [CAMPAIGN],
        "/campaigns/7": CAMPAIGN,
        "/calls": {
            "content": [{k: v for k, v in c.items()} for c in CALLS] if first_page else [],
            "totalElements": len(CALLS),
            "totalPages": 1,
            "number": int(page.group(1)) if page else 0,
            "size": 100,
            "first": first_page,
            "last": True,
        },
    }
    for call in CALLS:
        bodies[f"/calls/{call['id']}"] = {**call, "turns": TURNS}
    if path in bodies:
        send(handler, 200, bodies[path])
    else:
        error = {"status": 404, "error": "Not Found", "message": ERROR_MESSAGE, "path": path}
        send(handler, 404, error)


@pytest.fixture
def hostile(fault_server: FaultServer) -> Cli:
    fault_server.set_handler(hostile_api)
    # No waiting: `calls tail --duration` ends on a clock that skips its polls' sleeps.
    return Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": KEY}, timing=no_waiting())


SGR = re.compile(r"\x1b\[[0-9;]*m")
C1_OR_BIDI = re.compile("[\x80-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def assert_inert(text: str, what: str) -> None:
    """No escape sequence but colour, no C1/bidi/surrogate, no markup link, no crash."""
    rest = SGR.sub("", text)
    assert "\x1b" not in rest, (what, rest[max(0, rest.find("\x1b") - 40) :][:120])
    found = C1_OR_BIDI.search(text)
    assert found is None, (what, repr(found.group()) if found else "")
    for char in ("\x07", "\x08", "\x00", "\x7f", "\r"):
        assert char not in text, (what, repr(char))
    for crash in ("Traceback", "internal error", "MarkupError"):
        assert crash not in text, (what, text[-500:])


READ_COMMANDS = [
    ["agents", "list"],
    ["agents", "show", "1"],
    ["campaigns", "list"],
    ["campaigns", "show", "7"],
    ["calls", "list"],
    ["calls", "list", "--csv"],
    ["calls", "show", "90001"],
    ["calls", "show", "90003"],
    ["calls", "transcript", "90001"],
    ["calls", "transcript", "90001", "--format", "srt"],
    ["calls", "stats", "--since", "1d"],
    ["calls", "stats", "--since", "1d", "--by", "disposition"],
    ["calls", "stats", "--since", "1d", "--by", "agent"],
    ["calls", "stats", "--since", "1d", "--by", "campaign"],
    ["calls", "tail", "--since", "1h", "--duration", "0.1s"],
    ["api", "agents"],
    ["api", "calls/90001"],
    ["api", "--include", "agents/1"],
]


@pytest.mark.parametrize("tty", ["tty", "piped"])
@pytest.mark.parametrize("args", READ_COMMANDS, ids=" ".join)
def test_hostile_data_is_inert(hostile: Cli, args: list[str], tty: str) -> None:
    env = {"ZAZA_FORCE_TTY": "1"} if tty == "tty" else {}
    result = hostile(*args, **env)
    assert result.exit_code == 0, (result.stdout[-800:], result.stderr[-800:])
    assert result.stdout.strip(), "the command printed nothing"
    if args[0] == "api" and tty == "piped":
        # Piped, `zaza api` is the server's bytes, as curl gives them (JSON escapes ESC).
        assert json.loads(result.stdout) is not None
        assert_inert(result.stderr, "stderr")
        return
    assert_inert(result.stdout, "stdout")
    assert_inert(result.stderr, "stderr")
    if tty == "tty" and args[0] != "api":
        # Data is printed, never read as Rich markup: the brackets survive as text.
        shown = result.stdout + result.stderr
        if args[:2] in (["calls", "show"], ["calls", "transcript"]) and args[2] == "90001":
            assert "[link=file:///etc/passwd]" in shown.replace("\n", "")


def test_markup_is_printed_literally(hostile: Cli) -> None:
    """`[/b]` used to crash `calls show` with a MarkupError; `[link=…]` became a link."""
    result = hostile("calls", "show", "90001", ZAZA_FORCE_TTY="1", COLUMNS="300")
    assert result.exit_code == 0, result.stderr
    text = SGR.sub("", result.stdout)
    assert "[link=file:///etc/passwd]invoice[/link]" in text
    assert "\\x1b[2J\\x1b[H[/b]\\u202eevil" in text  # the disposition, visibly escaped
    assert "\x1b]8;" not in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["agents", "list", "--json"],
        ["agents", "show", "1", "--json"],
        ["campaigns", "list", "--json"],
        ["campaigns", "show", "7", "--json"],
        ["calls", "list", "--json"],
        ["calls", "show", "90001", "--json"],
        ["calls", "transcript", "90001", "--format", "json"],
        ["calls", "list", "--jsonl"],
    ],
    ids=" ".join,
)
@pytest.mark.parametrize("tty", ["tty", "piped"])
def test_json_stays_exact(hostile: Cli, args: list[str], tty: str) -> None:
    env = {"ZAZA_FORCE_TTY": "1"} if tty == "tty" else {}
    result = hostile(*args, **env)
    assert result.exit_code == 0, result.stderr
    assert_inert(result.stdout, "json")  # C1 and bidi characters travel as \\u escapes
    if "--jsonl" in args:
        data: Any = [json.loads(line) for line in result.stdout.splitlines()]
    else:
        data = json.loads(result.stdout)
    expected: Any = {
        "agents list": [AGENT],
        "agents show": AGENT,
        "campaigns list": [CAMPAIGN],
        "campaigns show": CAMPAIGN,
        "calls list": CALLS,
        "calls show": {**CALLS[2], "turns": TURNS},
        "calls transcript": TURNS,
    }[" ".join(args[:2])]
    assert data == expected


@pytest.mark.parametrize("tty", ["tty", "piped"])
def test_error_lines_are_inert(hostile: Cli, tty: str) -> None:
    env = {"ZAZA_FORCE_TTY": "1"} if tty == "tty" else {}
    result = hostile("agents", "show", "666", **env)
    assert result.exit_code == 3
    assert result.stderr.startswith("error:")
    assert_inert(result.stderr, "error line")
    assert "Agent not found \\x1b]0;pwned\\x07" in result.stderr
    # One line (and a hint): a newline in the message cannot forge more lines.
    assert len([line for line in result.stderr.splitlines() if line.strip()]) <= 2


def on_a_terminal(args: list[str], url: str) -> tuple[int, str]:
    """`zaza ARGS` with stdout and stderr on a real pseudo-terminal: exit code and output."""
    import os
    import select
    import subprocess
    import sys
    import time

    env = {**os.environ, "ZAZA_BASE_URL": url, "ZAZA_API_KEY": KEY, "COLUMNS": "120"}
    leader, follower = sized_pty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "zazacli", *args],
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=follower,
            env=env,
        )
        os.close(follower)
        chunks = []
        deadline = time.monotonic() + 60
        while True:
            ready, _, _ = select.select([leader], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                proc.kill()
                raise AssertionError(f"the output did not end within 60 s: {chunks!r}")
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child has closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait(timeout=60)
    finally:
        os.close(leader)
    # The terminal turns each \n into \r\n (onlcr); any other \r would be the data's.
    return code, b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_error_line_honours_no_color(hostile: Cli) -> None:
    url = hostile.env["ZAZA_BASE_URL"]
    code, coloured = on_a_terminal(["agents", "show", "666"], url)
    assert code == 3
    assert "\x1b[31merror:" in coloured
    assert_inert(coloured, "pty")
    code, plain = on_a_terminal(["--no-color", "agents", "show", "666"], url)
    assert code == 3
    assert "\x1b[" not in plain and plain.startswith("error:")


def test_read_commands_on_a_real_terminal(hostile: Cli) -> None:
    from concurrent.futures import ThreadPoolExecutor

    url = hostile.env["ZAZA_BASE_URL"]
    commands = (
        ["agents", "list"],
        ["campaigns", "show", "7"],
        ["calls", "show", "90001"],
        ["calls", "tail", "--since", "1h", "--duration", "0.1s"],
    )
    with ThreadPoolExecutor(len(commands)) as pool:  # each on its own terminal, side by side
        ran = list(pool.map(lambda args: on_a_terminal(args, url), commands))
    for args, (code, output) in zip(commands, ran, strict=True):
        assert code == 0, (args, output[-500:])
        assert_inert(output, " ".join(args))
        assert "\\x1b]0;pwned\\x07" in output


def test_exported_transcripts_have_no_control_characters(hostile: Cli, tmp_path: Path) -> None:
    for fmt, ext in (("text", "txt"), ("srt", "srt")):
        out = tmp_path / fmt
        result = hostile("calls", "export-transcripts", str(out), "--format", fmt)
        assert result.exit_code == 0, result.stderr
        written = out / f"90001.{ext}"
        content = written.read_text(encoding="utf-8")
        assert "\\x1b]0;pwned\\x07" in content
        assert_inert(content, str(written))
        if fmt == "srt":
            # Cues are separated by one blank line each: a turn's own blank line is folded.
            assert content.count("\n\n") == len(TURNS) - 1


def test_piped_rows_stay_rows(hostile: Cli) -> None:
    """A tab or newline inside a field is written `\\t`/`\\n`: one call, one TSV line."""
    result = hostile("calls", "list")
    lines = result.stdout.splitlines()
    assert len(lines) == len(CALLS)
    widths = {len(line.split("\t")) for line in lines}
    assert len(widths) == 1, widths


# ---------------------------------------------------------------- the filter itself


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_terminal_safe_leaves_nothing_active(name: str) -> None:
    for multiline in (False, True):
        shown = terminal_safe(HOSTILE[name], multiline=multiline)
        assert_inert(shown, name)
        if not multiline:
            assert "\n" not in shown and "\t" not in shown


def test_terminal_safe_keeps_plain_text() -> None:
    for text in ("Zara from Acme", "Zoë — naïve café 日本語 👋🏽", "+14155550100", ""):
        assert terminal_safe(text) == text
    assert terminal_safe("a\nb\tc", multiline=True) == "a\nb\tc"
    assert terminal_safe("a\r\nb", multiline=True) == "a\nb"
    assert terminal_safe("a\nb\tc") == "a\\nb\\tc"
    assert terminal_safe("\x1b[31m\x9b") == "\\x1b[31m\\x9b"
    assert terminal_safe("\u202e") == "\\u202e"


def test_json_safe_is_the_same_json() -> None:
    data = {"name": ALL, HOSTILE["c1 osc"]: [HOSTILE["bidi override"], HOSTILE["lone surrogate"]]}
    document = json_safe(json.dumps(data, ensure_ascii=False))
    assert json.loads(document) == data
    assert C1_OR_BIDI.search(document) is None
