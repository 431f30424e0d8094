"""`zaza agents list` and `zaza agents show` against a real sandbox."""

from __future__ import annotations

import json
from typing import Any

from conftest import api_get, tsv


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


def test_sandbox_flag_needs_no_profile_or_key(bare_cli: Any) -> None:
    result = bare_cli("--sandbox", "agents", "list", "--json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) >= 3
