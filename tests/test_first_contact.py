"""The first hour of a new operator: the mistakes they make first get a way forward."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from conftest import Cli
from typer.testing import CliRunner

from zazacli.api.values import SANDBOX_HEADER
from zazacli.context import AppContext
from zazacli.main import app


def zaza(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), prog_name="zaza")
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        (["call", "list"], "'calls'"),
        (["agent", "list"], "'agents'"),
        (["cals"], "'calls'"),
        (["campaign", "show", "3"], "'campaigns'"),
        (["--profile", "prod", "webhook", "listen"], "'webhooks'"),
        (["calls", "lst"], "'list'"),
        (["calls", "transcripts", "1"], "'transcript'"),
    ],
)
def test_did_you_mean_at_every_level(typed: list[str], meant: str) -> None:
    code, output = zaza(*typed)
    assert code == 2
    assert f"Did you mean {meant}" in output


def test_no_suggestion_when_nothing_is_close() -> None:
    code, output = zaza("frobnicate")
    assert code == 2
    assert output.startswith("error: no such command 'frobnicate'\n")
    assert "Did you mean" not in output


def test_a_suggestion_imports_no_noun() -> None:
    code = (
        "import sys\n"
        "from zazacli.main import app\n"
        "try:\n    app(['call', 'list'], prog_name='zaza')\nexcept SystemExit as e:\n"
        "    print(e.code, sorted(m for m in sys.modules if m.startswith('zazacli.commands.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "Did you mean 'calls'?" in done.stderr
    assert done.stdout.split(None, 1)[0] == "2"
    loaded = done.stdout.split(None, 1)[1]
    assert "zazacli.commands.calls" not in loaded and "zazacli.commands.agents" not in loaded


# ---------------------------------------------------------------- the sandbox rings no one


def closed_window(zone: str = "America/New_York") -> str:
    """A calling window that opens an hour from now in `zone`: closed right now."""
    local = datetime.now(ZoneInfo(zone))
    start = local.hour * 60 + local.minute + 60
    return "-".join(f"{(m % 1440) // 60:02d}:{m % 60:02d}" for m in (start, start + 60))


DISPATCH = ["calls", "dispatch", "--from", "+14155550100", "--to", "+12125550124", "--agent", "12"]


def test_a_separately_started_sandbox_is_not_held_to_quiet_hours(sandbox: Any) -> None:
    cli = Cli()
    cli("profiles", "add", "local", "--base-url", sandbox.base_url, input=sandbox.api_key)
    assert cli("profiles", "set", "local", "quiet_hours", closed_window()).exit_code == 0
    result = cli("-p", "local", *DISPATCH)
    assert result.exit_code == 0, result.stderr
    notices = [line for line in result.stderr.splitlines() if "quiet hours" in line]
    assert notices == [
        "the API is zaza's sandbox: no one is called, so quiet hours are not checked"
    ]
    assert result.stdout.strip().isdigit()


def test_the_sandbox_header_from_another_host_does_not_lift_quiet_hours() -> None:
    """A header is no proof of anything from a host that is not this machine: quiet hours
    protect real people, so only a loopback sandbox is believed."""
    sent: list[str] = []

    def api(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        return httpx.Response(200, json=[], headers={SANDBOX_HEADER: "zazacli 0"})

    cli = Cli()
    base = "https://api.example.test/api/v1"
    key = "zaza_test_remote_0000"
    cli("profiles", "add", "remote", "--base-url", base, "--no-verify", input=key)
    assert cli("profiles", "set", "remote", "quiet_hours", closed_window()).exit_code == 0
    result = CliRunner().invoke(
        app, ["-p", "remote", *DISPATCH], obj=AppContext(transport=httpx.MockTransport(api))
    )
    assert result.exit_code == 2
    assert "outside the allowed calling window" in result.stderr
    assert not any(line.startswith("POST") for line in sent)


# ---------------------------------------------------------------- options that cannot both hold


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["calls", "list", "--limit", "1", "--all"], "--limit and --all cannot be used together"),
        (
            ["calls", "export-transcripts", "out", "--limit", "1", "--all"],
            "--limit and --all cannot be used together",
        ),
        (
            ["calls", "list", "--since", "1w", "--until", "2w"],
            "--until 2w is not after --since 1w: no call can match",
        ),
        (
            ["calls", "stats", "--since", "2026-11-02", "--until", "2026-11-02"],
            "--until 2026-11-02 is not after --since 2026-11-02: no call can match",
        ),
        (["calls", "tail", "--last", "5", "--since", "1h"], "--last and --since cannot be used"),
        ([*DISPATCH, "--transcript"], "--transcript needs --wait"),
        ([*DISPATCH, "--wait-timeout", "5m"], "--wait-timeout needs --wait"),
        (
            [
                "calls",
                "batch",
                "leads.csv",
                "--from",
                "+14155550100",
                "--agent",
                "12",
                "--settle",
                "1m",
                "--redial-unknown",
            ],
            "--settle and --redial-unknown cannot be used together",
        ),
    ],
)
def test_options_that_cannot_both_hold_are_usage_errors(
    args: list[str], message: str, fault_server: Any
) -> None:
    """Exit 2 with one line, before anything is sent (the API here records every request)."""
    result = Cli()(*args, ZAZA_BASE_URL=fault_server.url, ZAZA_API_KEY="zaza_test_conflicts")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {message}")
    assert fault_server.requests == []


# ---------------------------------------------------------------- onboarding


def test_the_first_run_without_a_key_offers_the_sandbox_and_a_profile() -> None:
    result = Cli()("calls", "tail")
    assert result.exit_code == 4
    assert result.stdout == ""  # no banner before the error
    assert result.stderr.splitlines() == [
        "error: no API key configured",
        "hint: add a profile (zaza profiles add NAME) or set ZAZA_API_KEY; to try zaza without "
        "a key, on a private sandbox: zaza --sandbox calls list",
    ]


def test_a_host_that_does_not_resolve_fails_once_and_fast() -> None:
    """`.invalid` never resolves (RFC 2606): one try, and a hint that is not the command."""
    cli = Cli()
    base = "https://api.zaza-test.invalid/api/v1"
    cli("profiles", "add", "typo", "--base-url", base, "--no-verify", input="zaza_test_typo_0000")
    started = time.monotonic()
    result = cli("profiles", "test", "typo")
    assert time.monotonic() - started < 10
    assert result.exit_code == 6
    assert result.stderr.splitlines() == [
        "error: cannot connect to api.zaza-test.invalid: no such host",
        "hint: check the base URL (zaza profiles show, --base-url or ZAZA_BASE_URL)",
    ]


# ---------------------------------------------------------------- completion of values


def complete(words: str, env: dict[str, str] | None = None) -> tuple[list[str], float]:
    """Ask for completions as bash does: (candidates, seconds the request took)."""
    cword = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    full_env = {
        **os.environ,
        **(env or {}),
        "_ZAZA_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": cword,
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "zazacli"], env=full_env, capture_output=True, text=True, timeout=60
    )
    return sorted(done.stdout.split()), time.monotonic() - started


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("zaza calls list --status c", ["canceled", "completed"]),
        ("zaza calls stats --status no", ["no_answer"]),
        ("zaza calls export-transcripts out --direction ", ["inbound", "outbound"]),
        ("zaza calls stats --by d", ["day", "direction", "disposition"]),
        ("zaza calls tail --status r", ["ringing"]),
        ("zaza webhooks trigger call.", ["call.completed", "call.failed", "call.started"]),
    ],
)
def test_option_values_complete(words: str, expected: list[str]) -> None:
    assert complete(words)[0] == expected


def test_profile_names_complete_from_the_config_without_the_network(isolated_env: Any) -> None:
    cli = Cli()
    for name in ("prod", "Staging", "local"):
        added = cli("profiles", "add", name, "--no-verify", input="zaza_test_completion_0000")
        assert added.exit_code == 0, added.stderr
    env = {"ZAZA_CONFIG_DIR": str(isolated_env), "ZAZA_BASE_URL": "http://192.0.2.1:9/api/v1"}
    assert complete("zaza -p ", env)[0] == ["Staging", "local", "prod"]
    assert complete("zaza --profile S", env)[0] == ["Staging"]
    timings = sorted(complete("zaza -p p", env)[1] for _ in range(3))
    assert timings[1] < 2.0, timings  # the whole process, median; ~0.1 s on an idle machine


def test_profiles_add_checks_the_key_and_says_where(sandbox: Any) -> None:
    cli = Cli()
    added = cli("profiles", "add", "local", "--base-url", sandbox.base_url, input=sandbox.api_key)
    assert added.exit_code == 0, added.stderr
    assert f"the key works: {sandbox.base_url} answered (" in added.stderr
    assert "local" in cli("profiles", "list").stdout


def test_profiles_add_saves_nothing_when_the_key_is_refused(sandbox: Any) -> None:
    cli = Cli()
    refused = cli(
        "profiles", "add", "typo", "--base-url", sandbox.base_url, input="zaza_test_wrong_key_00"
    )
    assert refused.exit_code == 4
    assert refused.stderr.splitlines()[-1].endswith(
        "nothing was saved; to save it unchecked: zaza profiles add typo --no-verify"
    )
    assert "typo" not in cli("profiles", "list").stdout
    unchecked = cli(
        "profiles",
        "add",
        "typo",
        "--base-url",
        sandbox.base_url,
        "--no-verify",
        input="zaza_test_wrong_key_00",
    )
    assert unchecked.exit_code == 0 and "the key works" not in unchecked.stderr
    assert "typo" in cli("profiles", "list").stdout


def test_a_private_sandbox_has_no_archive_to_read_and_leaves_none(tmp_path: Any) -> None:
    """`--sandbox` lives for one command, and so does its archive: a sync fills a temporary
    one and removes it, a reader says why there is nothing to read."""
    cli = Cli()
    searched = cli("--sandbox", "calls", "search", "refund")
    assert searched.exit_code == 2
    assert searched.stderr.startswith(
        "error: --sandbox starts a new private sandbox for each command, so it has no "
        "archive to read"
    )
    synced = cli("--sandbox", "calls", "sync", "--since", "1h")
    assert synced.exit_code == 0, synced.stderr
    assert "synced:" in synced.stderr
    assert not (tmp_path / "data").exists()  # XDG_DATA_HOME of this test: nothing left
