"""`zaza capabilities`, and the one-line answers for what only the dashboard can do."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from conftest import Cli, run_zaza

from zazacli.api.capabilities import CAPABILITIES, DASHBOARD_ONLY

# What users will try, as they would type it (with arguments and options the stub never knew).
TRIES = [
    ("sms", "send", "--to", "+14155550123", "--body", "hi"),
    ("sms",),
    ("numbers", "list"),
    ("numbers", "buy", "--area-code", "415"),
    ("agents", "create", "--name", "Zara", "--voice", "FEMALE_1"),
    ("agents", "update", "12", "--greeting", "Hi"),
    ("agents", "delete", "12", "--yes"),
    ("campaigns", "create", "--name", "November"),
    ("campaigns", "start", "12"),
    ("campaigns", "pause", "12"),
    ("campaigns", "leads", "add", "12", "leads.csv"),
    ("webhooks", "add", "https://example.com/hook", "--events", "call.*"),
    ("webhooks", "delete", "7"),
    ("calls", "record", "90500", "--stop"),
    ("sms", "send", "--help"),
]


@pytest.mark.parametrize("args", TRIES, ids=[" ".join(t[:2]) for t in TRIES])
def test_dashboard_only_commands_answer_with_one_line_and_exit_2(
    bare_cli: Cli, args: tuple[str, ...]
) -> None:
    result = bare_cli(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert "not available in the ZazaVoice API yet; use the dashboard: " in line
    assert line.startswith(f"error: zaza {' '.join(args[:2])}") or line.startswith(
        f"error: zaza {args[0]}"
    )
    assert "no such command" not in result.output.lower()


def test_the_verb_tried_on_a_missing_noun_is_named() -> None:
    done = run_zaza("sms", "send", "--to", "+14155550123")
    assert done.returncode == 2
    assert done.stderr.startswith("error: zaza sms send: sending SMS is not available")
    assert "use the dashboard: " in done.stderr


def listed_commands(help_text: str) -> set[str]:
    section = help_text.split("Commands:", 1)[1].split("Exit codes", 1)[0]
    return {m.group(1) for m in re.finditer(r"^  (\S+)", section, re.M)}


def test_stubs_are_hidden_from_help(bare_cli: Cli) -> None:
    root = listed_commands(bare_cli("--help").stdout)
    assert {"capabilities", "api", "calls", "agents"} <= root
    assert not root & {"sms", "numbers"}
    assert listed_commands(bare_cli("campaigns", "--help").stdout) == {"list", "show"}
    assert listed_commands(bare_cli("agents", "--help").stdout) == {"list", "show"}
    assert "record" not in listed_commands(bare_cli("calls", "--help").stdout)
    assert "add" not in listed_commands(bare_cli("webhooks", "--help").stdout)


def test_real_commands_are_not_shadowed_by_stubs(bare_cli: Cli) -> None:
    # `webhooks listen` and `calls list` are real; a stub never replaces a command.
    assert "Usage:" in bare_cli("webhooks", "listen", "--help").stdout
    listed = bare_cli("calls", "list", "--help")
    assert listed.exit_code == 0 and "--status" in listed.stdout


def test_an_unknown_command_is_still_a_usage_error(bare_cli: Cli) -> None:
    result = bare_cli("campaigns", "frobnicate")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: no such command 'frobnicate'",
        "hint: see 'zaza campaigns --help'",
    ]


def test_every_dashboard_only_feature_of_the_contract_is_covered() -> None:
    """The contract's list: SMS, agents, campaigns, numbers, webhook endpoints, recording."""
    dashboard = " ".join(c.feature for c in CAPABILITIES if c.dashboard).lower()
    for word in ("sms", "agents", "campaigns", "phone numbers", "webhook", "recording"):
        assert word in dashboard, word
    assert {"sms", "numbers", "agents create", "campaigns start", "webhooks add"} <= set(
        DASHBOARD_ONLY
    )


def test_capabilities_json_for_scripts(bare_cli: Cli) -> None:
    result = bare_cli("capabilities", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert set(document) == {"api", "dashboardOnly"}
    endpoints = {e for item in document["api"] for e in item["endpoints"]}
    assert {"GET /agents", "POST /calls/outbound", "GET /calls", "GET /calls/{id}"} <= endpoints
    assert "GET /campaigns" in endpoints
    features = [item["feature"] for item in document["dashboardOnly"]]
    assert any("SMS" in f for f in features)
    assert all(item["dashboard"] for item in document["dashboardOnly"])


def test_capabilities_piped_is_tab_separated(bare_cli: Cli) -> None:
    result = bare_cli("capabilities")
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert {row[0] for row in rows} == {"api", "dashboard"}
    api_rows = [row for row in rows if row[0] == "api"]
    assert all(len(row) == 4 for row in api_rows)
    dispatch = next(row for row in api_rows if "POST /calls/outbound" in row[2])
    assert "zaza calls dispatch" in dispatch[3]
    assert "\x1b[" not in result.stdout


def test_capabilities_on_a_terminal_shows_both_groups(bare_cli: Cli) -> None:
    result = bare_cli("capabilities", ZAZA_FORCE_TTY="1", NO_COLOR="1", COLUMNS="120")
    assert result.exit_code == 0
    text = result.stdout
    supported = text.index("Supported by the ZazaVoice API today")
    dashboard = text.index("Dashboard only")
    assert supported < text.index("POST /calls/outbound") < dashboard
    assert dashboard < text.index("Sending SMS")
    assert "Settings → Webhooks" in text


def test_capabilities_needs_no_key_and_sends_nothing(bare_cli: Cli, fault_server: Any) -> None:
    result = bare_cli("capabilities", ZAZA_BASE_URL=fault_server.url)
    assert result.exit_code == 0
    assert fault_server.requests == []


def test_help_of_the_new_commands_and_the_stubs_stay_light() -> None:
    from test_startup import modules_of_each

    commands = (
        ["api", "--help"],
        ["calls", "tail", "--help"],
        ["capabilities", "--help"],
        ["sms", "send", "--to", "+14155550123"],
        ["campaigns", "start", "12"],
    )
    for args, modules in zip(commands, modules_of_each(*commands), strict=True):
        for heavy in ("httpx", "rich", "zazacli.output.formats.table", "zazacli.calls.tail"):
            assert heavy not in modules, (args, heavy)
