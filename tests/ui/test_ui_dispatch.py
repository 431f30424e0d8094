"""`zaza ui`'s dispatch form (`d`): the dry run's verdicts, then a confirmation, and only a
yes dials, once, through `calls dispatch`'s own checks and contact-policy guard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, posts, queued_to
from ui_helpers import api_app, drive, fill_and_check, settle, static_text

from zazacli.commands.calls.shared import dialling
from zazacli.context import AppContext
from zazacli.ui.app import ZazaUi
from zazacli.ui.dispatch import DispatchScreen

# The app's end-to-end tests drive Textual (seconds in all): CI runs them, the fast loop not.
pytestmark = pytest.mark.slow

TO = "+14155550124"


def dialling_app(running: Any, dnc: Path, *listed: str) -> ZazaUi:
    """The app over the sandbox, dialling as `zaza calls dispatch --dnc DNC` would, with
    `listed` put on that do-not-call list first by `zaza dnc add`."""
    env = {"ZAZA_BASE_URL": running.base_url, "ZAZA_API_KEY": running.api_key}
    added = Cli(env=env)("dnc", "add", "+12125550100", *listed, "--dnc", str(dnc))
    assert added.exit_code == 0, added.stderr
    app_ctx = AppContext(env=env)
    return api_app(running, dialling=lambda: dialling(app_ctx, str(dnc)))


def verdict(app: ZazaUi) -> str:
    return static_text(app, "#verdict") + static_text(app, "#plan")


@drive
async def test_a_confirmed_dial_reaches_the_api_once(make_sandbox: Any, tmp_path: Path) -> None:
    running = make_sandbox(live_calls=False)
    app = dialling_app(running, tmp_path / "policy.sqlite3")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await fill_and_check(app, pilot, TO, typed=True)  # as a person types it
        shown = verdict(app)
        assert f"Dial {TO} now?" in shown, shown
        assert "do-not-call" in shown and "frequency cap" in shown and "calling window" in shown
        assert posts(running) == 0 and queued_to(running, TO) == []  # a dry run so far
        await pilot.press("y")
        await settle(pilot, lambda: screen.dialled is not None)
        assert queued_to(running, TO) == [screen.dialled]
        assert posts(running) == 1
        assert f"queued call {screen.dialled}" in verdict(app)
        await pilot.press("y")  # one yes, one dial
        await pilot.pause()
        assert posts(running) == 1


@drive
async def test_a_number_on_the_do_not_call_list_is_not_dialled(
    make_sandbox: Any, tmp_path: Path
) -> None:
    running = make_sandbox(live_calls=False)
    app = dialling_app(running, tmp_path / "policy.sqlite3", TO)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await fill_and_check(app, pilot, TO)
        assert screen.request is None and screen.refusal is not None
        shown = verdict(app)
        assert "not dialled:" in shown and "do-not-call" in shown, shown
        assert "BLOCKED" in shown
        await pilot.press("y")
        await pilot.pause()
        assert posts(running) == 0 and queued_to(running, TO) == []


@drive
async def test_cancelling_the_confirmation_dials_nothing(make_sandbox: Any, tmp_path: Path) -> None:
    running = make_sandbox(live_calls=False)
    app = dialling_app(running, tmp_path / "policy.sqlite3")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await fill_and_check(app, pilot, TO)
        assert screen.request is not None
        await pilot.press("n")
        assert "not dialled (cancelled)" in verdict(app)
        await pilot.press("y")
        await pilot.pause()
        assert posts(running) == 0 and queued_to(running, TO) == []
        await pilot.press("escape")
        assert not isinstance(app.screen, DispatchScreen)


@drive
async def test_an_unreadable_policy_file_dials_nothing(make_sandbox: Any, tmp_path: Path) -> None:
    """The contact-policy file turned to garbage after the app started: the form's check
    says why, no yes is asked, and nothing reaches the API (fail closed)."""
    running = make_sandbox(live_calls=False)
    policy = tmp_path / "policy.sqlite3"
    app = dialling_app(running, policy)
    policy.write_bytes(b"\x00\xffnot a database, whatever it once was\n" * 64)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await fill_and_check(app, pilot, TO)
        assert screen.request is None and screen.refusal is not None
        assert "not readable" in verdict(app) and "nothing was dialled" in verdict(app)
        await pilot.press("y")
        await pilot.pause()
        assert posts(running) == 0 and queued_to(running, TO) == []
