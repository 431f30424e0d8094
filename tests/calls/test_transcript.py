"""`zaza calls transcript` against a real sandbox: text, JSON and SRT."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import Cli, FaultServer, api_get, completed_call


def test_transcript_text_format(cli: Any, sandbox: Any) -> None:
    call = completed_call(sandbox)
    result = cli("calls", "transcript", str(call["id"]))
    lines = result.stdout.splitlines()
    assert len(lines) == len(call["turns"])
    for line, turn in zip(lines, call["turns"], strict=True):
        assert line.startswith("[") and line[3] == ":" and line[6] == "]"
        assert line.endswith(f"{turn['role']}: {' '.join(turn['text'].split())}")


def test_transcript_json_and_srt(cli: Any, sandbox: Any) -> None:
    call = completed_call(sandbox)
    as_json = cli("calls", "transcript", str(call["id"]), "--format", "json")
    assert json.loads(as_json.stdout) == call["turns"]
    srt = cli("calls", "transcript", str(call["id"]), "-o", "srt")
    blocks = srt.stdout.strip().split("\n\n")
    assert len(blocks) == len(call["turns"])
    first = blocks[0].splitlines()
    assert first[0] == "1"
    assert " --> " in first[1] and first[1].startswith("00:00:")


def test_non_ascii_transcripts_survive(cli: Any, sandbox: Any) -> None:
    for item in api_get(sandbox, "calls", status="COMPLETED", size=100)["content"]:
        call = api_get(sandbox, f"calls/{item['id']}")
        text = " ".join(t["text"] for t in call.get("turns", []))
        if not text.isascii():
            result = cli("calls", "transcript", str(call["id"]))
            assert any(not line.isascii() for line in result.stdout.splitlines())
            return
    pytest.fail("the sandbox should seed non-ASCII transcripts")


def test_a_call_without_turns_says_why_on_stderr(cli: Any, sandbox: Any) -> None:
    failed = api_get(sandbox, "calls", status="FAILED", size=1)["content"][0]
    assert failed["failureReason"] and not api_get(sandbox, f"calls/{failed['id']}")["turns"]
    note = f"no transcript: FAILED, {failed['failureReason']}"
    for fmt, stdout in (("text", ""), ("srt", ""), ("json", "[]\n")):
        result = cli("calls", "transcript", str(failed["id"]), "-o", fmt)
        assert (result.exit_code, result.stdout) == (0, stdout), fmt
        assert result.stderr.splitlines() == [note], fmt
    unanswered = api_get(sandbox, "calls", status="NO_ANSWER", size=1)["content"][0]
    result = cli("calls", "transcript", str(unanswered["id"]))
    assert result.exit_code == 0 and result.stderr.splitlines() == ["no transcript: NO_ANSWER"]
    spoken = cli("calls", "transcript", str(completed_call(sandbox)["id"]))
    assert spoken.stdout and spoken.stderr == ""


def test_the_no_transcript_note_shows_the_servers_words_inert(fault_server: FaultServer) -> None:
    call = {"id": 7, "status": "FAILED\x1b[2J", "failureReason": "carrier\x1b]0;x\x07 rejected"}
    fault_server.route("GET", "/api/v1/calls/7", 200, {**call, "turns": []})
    result = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_t"})(
        "calls", "transcript", "7"
    )
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "no transcript: FAILED\\x1b[2J, carrier\\x1b]0;x\\x07 rejected\n"


def test_transcript_takes_o_for_its_format_like_every_command(cli: Any, sandbox: Any) -> None:
    """`-f` is `zaza api --field`: one letter, one meaning across the CLI."""
    call_id = str(completed_call(sandbox)["id"])
    as_o = cli("calls", "transcript", call_id, "-o", "json")
    assert as_o.exit_code == 0 and json.loads(as_o.stdout)
    assert cli("calls", "transcript", call_id, "--json").stdout == as_o.stdout
    old = cli("calls", "transcript", call_id, "-f", "json")
    assert old.exit_code == 2 and "no such option: -f" in old.stderr
