"""`zaza ui`: the Calls screen and a call, driven by Textual's pilot against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable
from ui_helpers import (
    api_app,
    chat_text,
    drive,
    links,
    served_app,
    settle,
    static_text,
    table_text,
)

from zazacli.sandbox import ORG_NUMBERS
from zazacli.ui.base import TitleBar
from zazacli.ui.call import CallScreen
from zazacli.ui.calls import CallsScreen
from zazacli.ui.help import HelpScreen

# The app's end-to-end tests drive Textual (seconds in all): CI runs them, the fast loop not.
pytestmark = pytest.mark.slow


@drive
async def test_calls_newest_first_open_one_and_back(sandbox: Any) -> None:
    app = api_app(sandbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CallsScreen) and table_text(app))
        rows = table_text(app)
        ids = [int(row.split("\t")[0]) for row in rows]
        assert ids == sorted(ids, reverse=True)
        assert "STATUS" in [str(c.label) for c in app.screen.query_one(DataTable).columns.values()]
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, CallScreen))
        screen = app.screen
        assert isinstance(screen, CallScreen)
        assert screen.call["id"] == ids[0]
        await settle(pilot, lambda: chat_text(app).strip() != "")
        text = chat_text(app)
        turns = screen.call.get("turns") or []
        if turns:
            assert "AGENT" in text and "00:" in text
            await pilot.press("t")
            assert "00:0" not in chat_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, CallsScreen)
        await pilot.press("q")
    assert app.return_code == 0


@drive
async def test_the_agent_is_named_in_a_call(sandbox: Any) -> None:
    app = api_app(sandbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: table_text(app))
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, CallScreen))
        screen = app.screen
        assert isinstance(screen, CallScreen)
        assert screen.agent, "the agent has a name"
        agents = {a["id"]: a["name"] for a in app.source.api.list_agents()}  # type: ignore[attr-defined]
        assert screen.agent == agents[screen.call["agentId"]]


@drive
async def test_columns_follow_the_width_with_calls_list_priorities(sandbox: Any) -> None:
    app = api_app(sandbox)
    async with app.run_test(size=(60, 24)) as pilot:
        await settle(pilot, lambda: table_text(app))
        narrow = [str(c.label) for c in app.screen.query_one(DataTable).columns.values()]
        assert narrow[:2] == ["ID", "CREATED"] and "FROM" not in narrow
        await pilot.resize_terminal(160, 40)
        await settle(pilot, lambda: len(app.screen.query_one(DataTable).columns) > len(narrow))
        wide = [str(c.label) for c in app.screen.query_one(DataTable).columns.values()]
        assert "FROM" in wide and "OUTCOME" in wide
        for size in ((60, 24), (80, 24), (120, 40), (160, 40)):  # never past the right edge
            await pilot.resize_terminal(*size)
            await pilot.pause()
            table = app.screen.query_one(DataTable)
            assert table.virtual_size.width <= table.scrollable_content_region.width, size
            assert table.region.width == size[0], size  # and the screen does not scroll


@drive
async def test_a_value_longer_than_its_column_ends_in_an_ellipsis(fault_server: Any) -> None:
    long = {
        "id": 9,
        "status": "FAILED",
        "direction": "OUTBOUND",
        "toNumber": "+14155550109",
        "createdAt": "2026-01-01T10:00:00Z",
        "failureReason": "NUMBER_DISCONNECTED_" * 3,
    }
    app = served_app(fault_server, [long], [])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: table_text(app))
        outcome = table_text(app)[0].split("\t")[-1]
        assert outcome.startswith("NUMBER_DISCONNECT") and outcome.endswith("…")


@drive
async def test_more_calls_are_read_as_the_cursor_nears_the_end(make_sandbox: Any) -> None:
    running = make_sandbox(live_calls=False, calls=450)
    app = api_app(running)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: table_text(app))
        assert len(table_text(app)) == 100  # one page, not the whole history
        assert static_text(app, "#status").startswith("100+ calls (more as you scroll)")
        await pilot.press("ctrl+end")
        await settle(pilot, lambda: len(table_text(app)) > 100)
        await pilot.press("ctrl+end")
        await settle(pilot, lambda: len(table_text(app)) > 200)


@drive
async def test_a_new_call_appears_on_top_and_changes_live(make_sandbox: Any) -> None:
    running = make_sandbox(live_calls=False)
    app = api_app(running, interval=0.05)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, lambda: table_text(app))
        agent = app.source.api.list_agents()[0]["id"]  # type: ignore[attr-defined]
        dialled = app.source.api.dispatch_call(  # type: ignore[attr-defined]
            from_number=ORG_NUMBERS[0],
            to_number="+14155550124",
            agent_id=agent,
        )
        await settle(pilot, lambda: table_text(app)[0].startswith(f"{dialled['id']}\t"))
        await settle(pilot, lambda: "COMPLETED" in table_text(app)[0], timeout=15)


@drive
async def test_keys_and_quit_and_ctrl_c(sandbox: Any) -> None:
    app = api_app(sandbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: table_text(app))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        described = dict(app.screen.rows)
        assert {"q", "?", "enter", "r", "ctrl+c"} <= set(described)
        await pilot.press("escape")
        assert isinstance(app.screen, CallsScreen)
        await pilot.press("ctrl+c")
    assert app.return_code == 130


HOSTILE = "[bold red]x[/] [link=https://evil.example]click[/link] \x1b]0;pwned\x07 \u202eevil"


@drive
async def test_hostile_text_renders_literally(fault_server: Any) -> None:
    call = {
        "id": 7,
        "status": "[blink]COMPLETED",
        "direction": "OUTBOUND",
        "toNumber": HOSTILE,
        "createdAt": "2026-01-01T10:00:00Z",
        "startedAt": "2026-01-01T10:00:01Z",
        "agentId": 3,
        "disposition": HOSTILE,
        "turns": [
            {"role": "AGENT", "text": HOSTILE, "timestamp": "2026-01-01T10:00:02Z"},
            {"role": "[red]CALLER", "text": "line one\nline two", "timestamp": None},
        ],
    }
    app = served_app(fault_server, [call], [{"id": 3, "name": "[i]Zara\x1b[2J\u202e"}])
    app.sub_title = "archive /tmp/[b]a\x1b]0;pwned\x07\u202e.sqlite3"  # a path as given
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot, lambda: table_text(app))
        title = str(app.screen.query_one(TitleBar).render())
        assert "/tmp/[b]a\\x1b]0;pwned\\x07\\u202e.sqlite3" in title
        row = table_text(app)[0]
        # Markup shown as typed; cut with … to its column, never with a raw control left.
        assert "[blink]COMPLETED" in row and "[bold red]x[/] [l…" in row
        assert "\x1b" not in row and "\u202e" not in row
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, CallScreen) and chat_text(app))
        text = chat_text(app)
        assert "[link=https://evil.example]click[/link]" in text
        assert "\\x1b]0;pwned\\x07" in text and "\\u202eevil" in text
        assert "\x1b" not in text and "\u202e" not in text
        assert links(app) == []
        assert "[red]CALLER" in text
        details = static_text(app, "#details")
        assert "[i]Zara\\x1b[2J\\u202e" in details and "\x1b" not in details
