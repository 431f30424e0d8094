"""`dispatch_call`: the guards of `calls dispatch` (quiet hours, the do-not-call list, E.164),
the --max-dispatches cap, and a lost answer found in GET /calls without a second POST.
Asserted: the tool's answer and the POSTs that reached the sandbox."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import posts, queued_to, set_quirks
from mcp import ClientSession
from mcp_helpers import call, cli_of, fail, run, server_env

FROM = "+14155550100"
ALLOW = "--allow-dispatch"


def dial(to: str, **more: Any) -> dict[str, Any]:
    return {"fromNumber": FROM, "toNumber": to, "agentId": 12, **more}


def window_around(zone: str, *, include_now: bool) -> str:
    """A calling window that contains (or excludes) the current time in `zone`."""
    local = datetime.now(ZoneInfo(zone))
    minute = local.hour * 60 + local.minute
    start, end = (minute - 60, minute + 60) if include_now else (minute + 60, minute + 120)
    return "-".join(f"{(m % 1440) // 60:02d}:{m % 60:02d}" for m in (start, end))


@pytest.mark.slow
def test_quiet_hours_refuse_and_nothing_is_posted(real_api: Any, tmp_path: Path) -> None:
    env = server_env(real_api, tmp_path)
    cli = cli_of(env)
    added = cli("profiles", "add", "night", "--base-url", real_api.base_url, input=real_api.api_key)
    assert added.exit_code == 0, added.stderr
    window = window_around("America/New_York", include_now=False)
    assert cli("profiles", "set", "night", "quiet_hours", window).exit_code == 0
    env = {**env, "ZAZA_PROFILE": "night"}
    del env["ZAZA_API_KEY"], env["ZAZA_BASE_URL"]

    async def refused(session: ClientSession) -> str:
        return await fail(session, "dispatch_call", dial("+12125550194"))

    error = run(env, tmp_path / "log", refused, ALLOW)
    local = datetime.now(ZoneInfo("America/New_York")).strftime("%H:%M")
    assert error.splitlines()[0] == (
        f"error: it is {local} in America/New_York for +12125550194, outside the allowed "
        f"calling window {window} (TCPA quiet hours)"
    )
    assert error.splitlines()[1] == (
        "hint: call later; the window is the profile's quiet_hours "
        "(zaza profiles set NAME quiet_hours HH:MM-HH:MM)"
    )
    assert posts(real_api) == 0


@pytest.mark.slow
def test_the_do_not_call_list_bad_numbers_and_the_cap(sandbox: Any, tmp_path: Path) -> None:
    env = server_env(sandbox, tmp_path)
    assert cli_of(env)("dnc", "add", "+14155550188").exit_code == 0

    async def dials(session: ClientSession) -> tuple[list[str], list[dict[str, Any]]]:
        refused = [
            await fail(session, "dispatch_call", dial("+14155550188")),
            await fail(session, "dispatch_call", dial("call me maybe")),
            await fail(session, "dispatch_call", {"fromNumber": FROM, "toNumber": "+1415"}),
        ]
        queued = [
            await call(session, "dispatch_call", dial("+14155550181", variables={"NAME": "Al"})),
            await call(session, "dispatch_call", dial("+14155550182")),
        ]
        refused.append(await fail(session, "dispatch_call", dial("+14155550183")))
        return refused, queued

    refused, queued = run(env, tmp_path / "log", dials, ALLOW, "--max-dispatches", "2")
    listed, bad, missing, capped = refused
    assert listed.startswith("error: +14155550188 is on the do-not-call list")
    assert bad.startswith("error: toNumber: ")
    assert missing == "error: agentId is required"
    assert capped.startswith("error: this server has dispatched 2 calls, its --max-dispatches")
    first, second = queued
    assert first["untrusted"]["toNumber"] == "+14155550181"
    assert first["untrusted"]["variables"] == {"NAME": "Al"}
    assert [first["callId"]] == queued_to(sandbox, "+14155550181")
    assert first["dispatchesLeft"] == 1 and second["dispatchesLeft"] == 0
    assert first["reconciled"] is False
    # The refused ones never reached the POST, and the cap held the third.
    assert posts(sandbox) == 2
    assert queued_to(sandbox, "+14155550188") == queued_to(sandbox, "+14155550183") == []


@pytest.mark.slow
def test_a_lost_answer_is_reconciled_without_a_second_post(
    make_sandbox: Any, tmp_path: Path
) -> None:
    running = make_sandbox(live_calls=False)
    set_quirks(running, lost_answer=True)
    env = server_env(running, tmp_path, ZAZA_RECONCILE_WAIT="10")

    async def lost(session: ClientSession) -> dict[str, Any]:
        return await call(session, "dispatch_call", dial("+12125550603"))

    found = run(env, tmp_path / "log", lost, ALLOW)
    [queued] = queued_to(running, "+12125550603")
    assert found["callId"] == queued and found["untrusted"]["id"] == queued
    assert found["reconciled"] is True
    assert any("it was not sent again" in note for note in found["notes"])
    assert posts(running) == 1


@pytest.mark.slow
def test_an_unreadable_policy_file_dials_nothing(sandbox: Any, tmp_path: Path) -> None:
    """The contact-policy file is garbage: dispatch_call is zaza's error naming it, and no
    POST reaches the API (fail closed, as calls dispatch does); the file is left as it was."""
    garbage = b"\x00\xffnot a database, whatever it once was\n" * 64
    policy = tmp_path / "policy.sqlite3"
    policy.write_bytes(garbage)
    env = server_env(sandbox, tmp_path, ZAZA_DNC=str(policy))

    async def refused(session: ClientSession) -> str:
        return await fail(session, "dispatch_call", dial("+12125550789"))

    error = run(env, tmp_path / "log", refused, ALLOW)
    assert f"the contact-policy file {policy} is not readable" in error
    assert "nothing was dialled" in error
    assert posts(sandbox) == 0 and policy.read_bytes() == garbage
