"""`zaza ui`'s filter bar: the CLI's filter syntax, its errors, and keys typed into it."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input, Static
from ui_helpers import api_app, drive, settle, table_text

from zazacli.ui.calls import CallsScreen
from zazacli.ui.filters import FilterBar

# The app's end-to-end tests drive Textual (seconds in all): CI runs them, the fast loop not.
pytestmark = pytest.mark.slow


def status_line(app: Any) -> str:
    return str(app.screen.query_one("#status", Static).render())


@drive
async def test_the_filter_bar_filters_as_the_cli_does(sandbox: Any) -> None:
    app = api_app(sandbox)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, lambda: table_text(app))
        await pilot.press("f")
        assert app.screen.query_one(FilterBar).has_class("shown")
        await pilot.press(*"failed,no_answer")
        await pilot.press("enter")
        await settle(pilot, lambda: app.screen.filters.statuses == ("FAILED", "NO_ANSWER"))
        await settle(pilot, lambda: len(table_text(app)) > 0)
        for row in table_text(app):
            assert "\tFAILED\t" in row or "\tNO_ANSWER\t" in row, row
        assert not app.screen.query_one(FilterBar).has_class("shown")
        assert "status FAILED,NO_ANSWER" in status_line(app)
        assert isinstance(app.screen, CallsScreen)
        assert app.screen.filters.statuses == ("FAILED", "NO_ANSWER")


@drive
async def test_a_bad_value_says_what_the_cli_would_and_q_is_typed_not_quit(sandbox: Any) -> None:
    app = api_app(sandbox)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, lambda: table_text(app))
        before = table_text(app)
        await pilot.press("f", "q", "x")
        assert app.is_running and app.screen.query_one("#filter-status", Input).value == "qx"
        await pilot.press("enter")
        await pilot.pause()
        assert "error: --status: unknown value 'qx'" in status_line(app)
        assert app.screen.query_one(FilterBar).has_class("shown")
        await pilot.press("escape")
        assert not app.screen.query_one(FilterBar).has_class("shown")
        assert table_text(app) == before
        await pilot.press("q")
    assert app.return_code == 0
