"""`zaza calls show` against a real sandbox."""

from __future__ import annotations

import json
from typing import Any

from conftest import Cli, FaultServer, completed_call


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


def test_an_answer_about_another_call_is_refused_not_shown(fault_server: FaultServer) -> None:
    """GET /calls/5 answering call 6 (a cache, a proxy, a bug): exit 1 naming both ids,
    nothing of call 6 printed as call 5's, in every face that reads one call or agent."""
    other = {"id": 6, "status": "COMPLETED", "toNumber": "+14155550106", "turns": []}
    fault_server.route("GET", "/api/v1/calls/5", 200, other, optional=True)
    fault_server.route("GET", "/api/v1/agents/12", 200, {"id": 14, "name": "x"}, optional=True)
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_x"})
    for args in (["calls", "show", "5"], ["calls", "transcript", "5"], ["agents", "show", "12"]):
        refused = cli(*args)
        assert refused.exit_code == 1, (args, refused.stderr)
        assert "answered with id " in refused.stderr and "not shown" in refused.stderr
        assert "+14155550106" not in refused.stdout and refused.stdout == ""
