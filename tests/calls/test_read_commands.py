"""The read commands against a real sandbox: agents, campaigns, calls list/show/transcript."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import api_get


def tsv(stdout: str) -> list[list[str]]:
    return [line.split("\t") for line in stdout.splitlines() if line]


# ---------------------------------------------------------------- agents


def test_agents_list_json_is_the_api_document(cli: Any, sandbox: Any) -> None:
    result = cli("agents", "list", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == api_get(sandbox, "agents")


def test_agents_list_piped_is_headerless_tsv(cli: Any, sandbox: Any) -> None:
    result = cli("agents", "list")
    assert result.exit_code == 0
    rows = tsv(result.stdout)
    agents = api_get(sandbox, "agents")
    assert [int(r[0]) for r in rows] == [a["id"] for a in agents]
    assert all(len(r) == 5 for r in rows)
    inactive = [a for a in agents if not a["isActive"]]
    assert inactive, "the sandbox seeds one inactive agent"
    row = next(r for r in rows if int(r[0]) == inactive[0]["id"])
    assert row[1] == inactive[0]["name"] and row[2] == "false"
    assert "\x1b[" not in result.stdout


def test_agents_show_keeps_unknown_fields_in_json(cli: Any, sandbox: Any) -> None:
    agent = api_get(sandbox, "agents")[0]
    result = cli("agents", "show", str(agent["id"]), "--json")
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert shown == api_get(sandbox, f"agents/{agent['id']}")


def test_agents_show_terminal_view(cli: Any, sandbox: Any) -> None:
    agent = api_get(sandbox, "agents")[0]
    result = cli("agents", "show", str(agent["id"]), ZAZA_FORCE_TTY="1", NO_COLOR="1")
    assert result.exit_code == 0
    assert agent["name"] in result.stdout
    assert "Greeting" in result.stdout


def test_agents_show_unknown_id_is_exit_3(cli: Any) -> None:
    result = cli("agents", "show", "999999")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "HTTP 404" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert "Traceback" not in result.stderr


def test_bad_id_is_a_usage_error(cli: Any) -> None:
    result = cli("agents", "show", "abc")
    assert result.exit_code == 2
    assert "abc" in result.stderr


# ---------------------------------------------------------------- campaigns


def test_campaigns_list_and_show(cli: Any, sandbox: Any) -> None:
    campaigns = api_get(sandbox, "campaigns")
    campaigns = campaigns["content"] if isinstance(campaigns, dict) else campaigns
    listed = cli("campaigns", "list")
    assert [int(r[0]) for r in tsv(listed.stdout)] == [c["id"] for c in campaigns]
    with_stats = next(c for c in campaigns if c.get("leadStats"))
    shown = cli("campaigns", "show", str(with_stats["id"]))
    assert shown.exit_code == 0
    lines = shown.stdout.splitlines()
    assert "# Leads" in lines
    for status, count in with_stats["leadStats"].items():
        assert any(line.startswith(f"{status}\t{count}\t") for line in lines)
    assert "# Calling hours" in lines


def test_campaign_show_terminal_draws_bars(cli: Any, sandbox: Any) -> None:
    campaigns = api_get(sandbox, "campaigns")
    campaigns = campaigns["content"] if isinstance(campaigns, dict) else campaigns
    with_stats = next(c for c in campaigns if c.get("leadStats"))
    shown = cli("campaigns", "show", str(with_stats["id"]), ZAZA_FORCE_TTY="1")
    assert "█" in shown.stdout
    assert with_stats["name"] in shown.stdout


# ---------------------------------------------------------------- calls list


def test_calls_list_piped_prints_every_call(cli: Any, sandbox: Any) -> None:
    total = api_get(sandbox, "calls", size=1)["totalElements"]
    result = cli("calls", "list")
    assert result.exit_code == 0
    rows = tsv(result.stdout)
    assert len(rows) == total
    ids = [int(r[0]) for r in rows]
    assert len(set(ids)) == total
    # Newest first, RFC 3339 UTC times.
    created = [r[1] for r in rows]
    assert created == sorted(created, reverse=True)
    assert all(c.endswith("Z") and "T" in c for c in created)


def test_calls_list_limit_and_all_jsonl(cli: Any, sandbox: Any) -> None:
    total = api_get(sandbox, "calls", size=1)["totalElements"]
    limited = cli("calls", "list", "--limit", "7", "--jsonl")
    assert len(limited.stdout.splitlines()) == 7
    everything = cli("calls", "list", "--all", "--jsonl")
    items = [json.loads(line) for line in everything.stdout.splitlines()]
    assert len(items) == total
    first_page = api_get(sandbox, "calls", size=100)["content"]
    assert items[:100] == first_page


def test_calls_list_terminal_defaults_to_20(cli: Any) -> None:
    result = cli("calls", "list", ZAZA_FORCE_TTY="1")
    assert result.exit_code == 0
    assert "ID" in result.stdout and "STATUS" in result.stdout
    assert "showing the newest 20" in result.stderr


def test_calls_list_status_filter_case_insensitive(cli: Any, sandbox: Any) -> None:
    expected = api_get(sandbox, "calls", status="NO_ANSWER", size=100)["totalElements"]
    result = cli("calls", "list", "--status", "no_answer")
    rows = tsv(result.stdout)
    assert len(rows) == expected > 0
    assert {r[3] for r in rows} == {"NO_ANSWER"}


def test_calls_list_unknown_status_lists_valid_ones(cli: Any) -> None:
    result = cli("calls", "list", "--status", "exploded")
    assert result.exit_code == 2
    assert "exploded" in result.stderr and "completed" in result.stderr
    assert result.stdout == ""


def test_calls_list_direction_agent_and_since(cli: Any, sandbox: Any) -> None:
    agent = api_get(sandbox, "agents")[0]["id"]
    result = cli("calls", "list", "--direction", "INBOUND", "--agent", str(agent), "--jsonl")
    items = [json.loads(line) for line in result.stdout.splitlines()]
    assert items and all(i["direction"] == "INBOUND" and i["agentId"] == agent for i in items)
    recent = cli("calls", "list", "--since", "2d", "--jsonl")
    older = cli("calls", "list", "--until", "2d", "--jsonl")
    n_recent, n_older = len(recent.stdout.splitlines()), len(older.stdout.splitlines())
    assert n_recent > 0 and n_older > 0
    assert n_recent + n_older == api_get(sandbox, "calls", size=1)["totalElements"]


def since_form(form: str, now: datetime) -> tuple[str, datetime]:
    """(what the user types, the instant it means, worked out here): dates and `today` are
    local time; the date and the instant are ten days back, inside the seeded month."""
    midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    day = (now - timedelta(days=10)).date()
    return {
        "today": ("today", midnight),
        "yesterday": ("yesterday", midnight - timedelta(days=1)),
        "3h": ("3h", now - timedelta(hours=3)),
        "1w": ("1w", now - timedelta(weeks=1)),
        "date": (day.isoformat(), datetime(day.year, day.month, day.day).astimezone()),
        "instant": (
            f"{day.isoformat()}T00:00:00Z",
            datetime(day.year, day.month, day.day, tzinfo=UTC),
        ),
    }[form]


def all_calls(sandbox: Any) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    page = 0
    while True:
        data = api_get(sandbox, "calls", size=100, page=page)
        calls += data["content"]
        if data["last"]:
            return calls
        page += 1


@pytest.mark.parametrize("form", ["today", "yesterday", "3h", "1w", "date", "instant"])
def test_since_forms_return_the_calls_created_since_then(cli: Any, sandbox: Any, form: str) -> None:
    value, since = since_form(form, datetime.now(UTC))
    result = cli("calls", "list", "--since", value, "--all", "--jsonl")
    assert result.exit_code == 0, result.stderr
    got = {json.loads(line)["id"] for line in result.stdout.splitlines()}
    everything = all_calls(sandbox)
    created = {c["id"]: datetime.fromisoformat(c["createdAt"]) for c in everything}
    # A call within two seconds of a relative boundary may fall either side of it.
    near = {i for i, at in created.items() if abs((at - since).total_seconds()) < 2}
    assert got - near == {i for i, at in created.items() if at >= since} - near
    if form in ("1w", "date", "instant"):
        assert 0 < len(got) < len(everything)  # the boundary cuts the history


def test_unparseable_since_is_exit_2(cli: Any) -> None:
    result = cli("calls", "list", "--since", "last tuesday-ish")
    assert result.exit_code == 2
    assert "--since" in result.stderr and "last tuesday-ish" in result.stderr


def test_empty_result_is_exit_0_and_empty_json_array(cli: Any) -> None:
    result = cli("calls", "list", "--until", "1999-01-01", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    piped = cli("calls", "list", "--until", "1999-01-01")
    assert piped.exit_code == 0 and piped.stdout == ""


# ---------------------------------------------------------------- one call


def completed_call(sandbox: Any) -> dict[str, Any]:
    listed = api_get(sandbox, "calls", status="COMPLETED", size=20)["content"]
    return api_get(sandbox, f"calls/{listed[0]['id']}")


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


def test_sandbox_flag_needs_no_profile_or_key(bare_cli: Any) -> None:
    result = bare_cli("--sandbox", "agents", "list", "--json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) >= 3


def test_terminal_default_limit_applies_to_json_too(cli: Any) -> None:
    on_terminal = cli("calls", "list", "--json", ZAZA_FORCE_TTY="1")
    assert len(json.loads(on_terminal.stdout)) == 20
    assert "showing the newest 20" in on_terminal.stderr
    piped = cli("calls", "list", "--json")
    assert len(json.loads(piped.stdout)) > 20 and piped.stderr == ""
