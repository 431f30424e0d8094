"""`zaza ui`'s Stats screen (`s`): the figures `zaza calls stats --json` gives for the same
filter, counted by the same code, over the API and over the archive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli
from ui_helpers import api_app, archive_app, drive, settle, static_text, table_text

from zazacli.ui.stats import StatsScreen

# The app's end-to-end tests drive Textual (seconds in all): CI runs them, the fast loop not.
pytestmark = pytest.mark.slow


def stats_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = Cli(env=env)("calls", "stats", "--json", *args)
    assert result.exit_code == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def counted(app: Any) -> dict[str, Any] | None:
    screen = app.screen
    return screen.report if isinstance(screen, StatsScreen) else None


@drive
async def test_stats_are_those_of_calls_stats_for_the_filter(make_sandbox: Any) -> None:
    running = make_sandbox(live_calls=False, calls=300)
    env = {"ZAZA_BASE_URL": running.base_url, "ZAZA_API_KEY": running.api_key}
    app = api_app(running)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: table_text(app))
        await pilot.press("f", *"failed,completed", "enter")
        await settle(pilot, lambda: app.screen.filters.statuses == ("FAILED", "COMPLETED"))
        await pilot.press("s")
        await settle(pilot, lambda: counted(app) is not None)
        by_day = counted(app)
        assert by_day == stats_json(env, "--status", "failed,completed", "--by", "day")
        assert by_day is not None and by_day["total"] > 0
        shown = static_text(app, "#figures", 118)
        assert f"{by_day['total']:,} calls · answer rate" in shown and "█" in shown
        assert "Calls by day" in shown and "EST. COST" in shown
        await pilot.press("b", "b")  # day, hour, then status again
        await settle(pilot, lambda: (counted(app) or {}).get("by") == "status")
        assert counted(app) == stats_json(env, "--status", "failed,completed")
        await pilot.press("escape")
        await pilot.press("q")
    assert app.return_code == 0


@drive
async def test_local_stats_are_those_of_calls_stats_local(
    make_sandbox: Any, tmp_path: Path
) -> None:
    running = make_sandbox(live_calls=False, calls=200)
    env = {"ZAZA_BASE_URL": running.base_url, "ZAZA_API_KEY": running.api_key}
    path = tmp_path / "archive.sqlite3"
    synced = Cli(env=env)("calls", "sync", "--archive", str(path))
    assert synced.exit_code == 0, synced.stderr
    app = archive_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: table_text(app))
        await pilot.press("s")
        await settle(pilot, lambda: counted(app) is not None)
        assert counted(app) == stats_json(env, "--local", "--archive", str(path), "--by", "day")
