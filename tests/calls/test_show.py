"""`zaza calls show` against a real sandbox."""

from __future__ import annotations

import json
from typing import Any

from conftest import completed_call


def test_calls_show_json_has_turns(cli: Any, sandbox: Any) -> None:
    call = completed_call(sandbox)
    result = cli("calls", "show", str(call["id"]), "--json")
    assert json.loads(result.stdout) == call
    assert call["turns"]


def test_calls_show_piped_has_details_and_transcript(cli: Any, sandbox: Any) -> None:
    call = completed_call(sandbox)
    result = cli("calls", "show", str(call["id"]))
    assert result.exit_code == 0
    assert f"status\t{call['status']}" in result.stdout
    assert "# Transcript" in result.stdout
    first = call["turns"][0]
    assert f"{first['role']}: " in result.stdout


def test_calls_show_terminal_conversation(cli: Any, sandbox: Any) -> None:
    call = completed_call(sandbox)
    result = cli("calls", "show", str(call["id"]), ZAZA_FORCE_TTY="1", NO_COLOR="1")
    assert result.exit_code == 0
    assert call["toNumber"] in result.stdout
    assert "AGENT" in result.stdout
    assert "00:0" in result.stdout  # offsets from the start of the call
