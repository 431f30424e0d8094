"""`zaza calls transcript` against a real sandbox: text, JSON and SRT."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import api_get, completed_call


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
    srt = cli("calls", "transcript", str(call["id"]), "-f", "srt")
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
