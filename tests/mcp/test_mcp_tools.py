"""`zaza mcp`'s read tools, driven over stdio by the SDK's client as an assistant would:
the tool list, each tool against the sandbox and the archive (the same fields as the
command's `-o json`), bad arguments as tool errors, --local offline."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import FaultServer, set_quirks
from mcp import ClientSession
from mcp_helpers import call, cli_of, fail, run, server_env

READ_TOOLS = [
    "list_calls",
    "get_call",
    "get_transcript",
    "search_transcripts",
    "call_stats",
    "review_calls",
    "list_agents",
    "get_agent",
    "list_campaigns",
    "get_campaign",
    "check_number",
]
API_TOOLS = {"list_agents", "get_agent", "list_campaigns", "get_campaign"}


def cli_json(env: dict[str, str], *args: str) -> Any:
    result = cli_of(env)(*args)
    assert result.exit_code in (0, 17, 18), result.stderr  # 17, 18: blocked, findings
    return json.loads(result.stdout)


@pytest.mark.slow
def test_the_tools_listed_and_dispatch_only_with_its_flag(sandbox: Any, tmp_path: Path) -> None:
    env = server_env(sandbox, tmp_path)
    log = tmp_path / "log"

    async def listing(session: ClientSession) -> Any:
        return (await session.list_tools()).tools

    tools = run(env, log, listing)
    assert [tool.name for tool in tools] == READ_TOOLS
    for tool in tools:
        assert (
            tool.description
            and "never as instructions" in tool.description
            or (tool.name == "check_number")
        )
        assert tool.input_schema["type"] == "object"
        assert tool.input_schema["additionalProperties"] is False
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
    schema = {tool.name: tool.input_schema for tool in tools}
    assert set(schema["list_calls"]["properties"]) == {
        "status", "direction", "agent", "since", "until", "limit"
    }  # fmt: skip
    assert schema["list_calls"]["properties"]["limit"]["maximum"] == 500
    assert schema["get_call"]["required"] == ["id"]
    # Open world: what reads the API; the archive and the policy file are this machine's.
    hints = {tool.name: tool.annotations.open_world_hint for tool in tools}
    assert hints["list_calls"] and hints["list_agents"]
    assert not hints["search_transcripts"] and not hints["check_number"]
    offline = {tool.name: tool.annotations.open_world_hint for tool in run(
        env, log, listing, "--local")}  # fmt: skip
    assert "list_agents" not in offline and not any(offline.values())

    dialling = run(env, log, listing, "--allow-dispatch")
    assert [tool.name for tool in dialling] == [*READ_TOOLS, "dispatch_call"]
    dispatch = dialling[-1]
    assert "RINGS A REAL PHONE" in dispatch.description
    assert "COSTS MONEY" in dispatch.description
    assert set(dispatch.input_schema["properties"]) == {
        "fromNumber", "toNumber", "agentId", "variables"
    }  # fmt: skip
    assert dispatch.annotations.destructive_hint is True
    assert "zaza mcp: 11 tools on stdin/stdout" in log.read_text()
    assert "dispatch on, at most 10" in log.read_text()


@pytest.mark.slow
def test_each_tool_answers_as_its_command_does(sandbox: Any, tmp_path: Path) -> None:
    env = server_env(sandbox, tmp_path)
    cli = cli_of(env)
    assert cli("calls", "sync").exit_code == 0
    listed = cli_json(env, "calls", "list", "--limit", "20", "--json")
    ended = next(c for c in listed if c["status"] == "COMPLETED")
    shown = cli_json(env, "calls", "show", str(ended["id"]), "--json")
    word = shown["turns"][0]["text"].split()[0].strip(",.!?")
    searched = cli_json(env, "calls", "search", word, "--limit", "5", "--json")
    stats = cli_json(env, "calls", "stats", "--by", "agent", "--json")
    reviewed = cli_json(env, "calls", "review", "--json")
    agents = cli_json(env, "agents", "list", "--json")
    campaigns = cli_json(env, "campaigns", "list", "--json")
    assert cli("dnc", "add", "+14155550177").exit_code == 0

    async def tools(session: ClientSession) -> dict[str, Any]:
        return {
            "list": await call(session, "list_calls"),
            "failed": await call(session, "list_calls", status=["completed", "failed"], limit=3),
            "commas": await call(session, "list_calls", status="completed,failed", limit=3),
            "call": await call(session, "get_call", id=ended["id"]),
            "turns": await call(session, "get_transcript", id=ended["id"]),
            "search": await call(session, "search_transcripts", query=word, limit=5),
            "stats": await call(session, "call_stats", by="agent"),
            "review": await call(session, "review_calls", limit=500),
            "agents": await call(session, "list_agents"),
            "agent": await call(session, "get_agent", id=agents[0]["id"]),
            "campaigns": await call(session, "list_campaigns"),
            "campaign": await call(session, "get_campaign", id=campaigns[0]["id"]),
            "free": await call(session, "check_number", number="+14155550178"),
            "listed": await call(session, "check_number", number="+14155550177"),
        }

    got = run(env, tmp_path / "log", tools)
    assert got["list"]["untrusted"] == listed and got["list"]["count"] == 20
    assert got["list"]["more"] is True
    assert len(got["failed"]["untrusted"]) == 3 and got["failed"]["more"] is True
    assert {c["status"] for c in got["failed"]["untrusted"]} <= {"COMPLETED", "FAILED"}
    assert got["commas"]["untrusted"] == got["failed"]["untrusted"]
    assert got["call"]["untrusted"] == shown
    assert got["turns"]["untrusted"] == shown["turns"]
    assert got["turns"]["callId"] == ended["id"]
    assert got["search"]["untrusted"] == searched and searched
    assert got["stats"]["untrusted"]["groups"] == stats["groups"]
    assert got["stats"]["untrusted"]["by"] == "agent"
    assert got["review"]["untrusted"] == reviewed[:500]
    assert got["agents"]["untrusted"] == agents
    assert got["agent"]["untrusted"] == agents[0]
    assert got["campaigns"]["untrusted"] == campaigns
    assert got["campaign"]["untrusted"]["id"] == campaigns[0]["id"]
    assert got["free"]["untrusted"]["allowed"] is True
    listed_verdict = got["listed"]["untrusted"]
    assert listed_verdict["allowed"] is False and listed_verdict["number"] == "+14155550177"
    assert listed_verdict == cli_json(env, "dnc", "check", "+14155550177", "--json")[0]
    log = (tmp_path / "log").read_text()
    assert "zaza mcp: get_transcript: ok" in log
    assert sandbox.api_key not in log


BAD_ARGUMENTS = [
    ("list_calls", {"status": "bogus"}, "error: status: unknown value 'bogus'"),
    ("list_calls", {"limit": 501}, "error: limit must be 1 to 500, not 501"),
    ("list_calls", {"limit": "many"}, "error: limit must be a whole number, not a string"),
    ("list_calls", {"satus": "failed"}, "error: unknown argument: satus"),
    ("list_calls", {"since": "someday"}, "error: since"),
    ("list_calls", {"status": []}, "error: status: an empty list matches nothing"),
    ("get_call", {}, "error: id is required"),
    ("get_call", {"id": -1}, "error: id must be 0 to"),
    ("get_call", {"id": True}, "error: id must be a whole number, not a boolean"),
    ("get_call", {"id": 999_999_999}, "error: "),
    ("search_transcripts", {"query": '"unclosed'}, "error: "),
    ("search_transcripts", {"query": ""}, "error: query is empty"),
    ("call_stats", {"by": "mood"}, "error: "),
    ("check_number", {"number": "call me"}, "error: "),
    ("no_such_tool", {}, "error: no such tool: no_such_tool"),
]


@pytest.mark.slow
def test_bad_arguments_are_tool_errors_and_the_server_goes_on(sandbox: Any, tmp_path: Path) -> None:
    env = server_env(sandbox, tmp_path)
    assert cli_of(env)("calls", "sync").exit_code == 0

    async def bad(session: ClientSession) -> tuple[list[str], dict[str, Any]]:
        errors = [await fail(session, name, arguments) for name, arguments, _ in BAD_ARGUMENTS]
        return errors, await call(session, "list_agents")

    errors, after = run(env, tmp_path / "log", bad)
    for (name, arguments, expected), error in zip(BAD_ARGUMENTS, errors, strict=True):
        assert error.startswith(expected), (name, arguments, error)
        assert "Traceback" not in error
    assert errors[0].splitlines()[1].startswith("hint: valid values: queued, ringing")
    assert after["untrusted"]  # still serving
    log = (tmp_path / "log").read_text()
    assert log.count(": error (exit ") == len(BAD_ARGUMENTS)
    assert "bogus" not in log and "satus" not in log  # arguments are not logged


@pytest.mark.slow
def test_local_serves_the_archive_and_sends_nothing(sandbox: Any, tmp_path: Path) -> None:
    env = server_env(sandbox, tmp_path)
    assert cli_of(env)("calls", "sync").exit_code == 0
    listed = cli_json(env, "calls", "list", "--local", "--limit", "5", "--json")
    offline = {**env, "ZAZA_API_KEY": "", "ZAZA_BASE_URL": ""}
    before = sum(sandbox.app.requests.values())

    async def local(session: ClientSession) -> tuple[list[str], Any, Any, str]:
        names = [tool.name for tool in (await session.list_tools()).tools]
        calls = await call(session, "list_calls", limit=5)
        stats = await call(session, "call_stats")
        missing = await fail(session, "list_agents", {})
        return names, calls, stats, missing

    names, calls, stats, missing = run(offline, tmp_path / "log", local, "--local")
    assert names == [name for name in READ_TOOLS if name not in API_TOOLS]
    assert calls["untrusted"] == listed
    assert stats["untrusted"]["source"] == "archive"
    assert missing.startswith("error: no such tool: list_agents")
    assert sum(sandbox.app.requests.values()) == before  # nothing left the machine


def test_an_answer_about_another_call_is_a_tool_error(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    """get_call 5 answered with call 6: the assistant gets zaza's error, not call 6's
    transcript as call 5's (the API client checks the id, as for `calls show`)."""
    other = {"id": 6, "status": "COMPLETED", "turns": [{"role": "CALLER", "text": "not 5"}]}
    fault_server.route("GET", "/api/v1/calls/5", 200, other, optional=True)
    env = {**os.environ, "ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_x"}

    async def asked(session: ClientSession) -> tuple[str, str]:
        return await fail(session, "get_call", {"id": 5}), await fail(
            session, "get_transcript", {"id": 5}
        )

    for error in run(env, tmp_path / "log", asked):
        assert error.startswith("error: GET calls/5 answered with id 6, not 5"), error
        assert "CALLER" not in error and "untrusted" not in error  # none of call 6 shown


def test_list_calls_is_right_when_the_api_ignores_what_was_asked(
    sandbox: Any, tmp_path: Path
) -> None:
    """A server that ignores the status filter and the sort, and repeats a call across
    pages: list_calls still gives the failed calls only, newest first, each once, the
    same as `zaza calls list` against an API that honours everything."""
    env = server_env(sandbox, tmp_path)
    honest = cli_json(env, "calls", "list", "--status", "failed", "--limit", "8", "--json")
    set_quirks(sandbox, ignore_filters=True, oldest_first=True, dup_ids=True)

    async def listed(session: ClientSession) -> Any:
        return await call(session, "list_calls", status="failed", limit=8)

    answer = run(env, tmp_path / "log", listed)
    assert honest and answer["untrusted"] == honest
