"""`zaza ui`'s screens as pictures (pytest-textual-snapshot): Calls, a call, the keys and
Stats, at 80x24 and 120x40, over fixed calls from a fault server, in UTC at a fixed time,
so that nothing in them moves with the clock. After a change that is meant to show,
`python -m pytest tests/ui/test_ui_snapshots.py --snapshot-update`, then look at the SVGs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from ui_helpers import SERVED_KEY, settle, table_text

from zazacli.api.listing import CallFilter
from zazacli.context import AppContext
from zazacli.ui.app import ZazaUi
from zazacli.ui.call import CallScreen
from zazacli.ui.source import ApiSource
from zazacli.ui.stats import StatsScreen

# The app's end-to-end tests drive Textual (seconds in all): CI runs them, the fast loop not.
pytestmark = pytest.mark.slow

NOW = "2026-11-20T12:00:00Z"
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
AGENTS = [{"id": 12, "name": "Zara from Acme"}, {"id": 14, "name": "Renewals"}]


def fixed_call(ident: int, status: str, created: str, seconds: int | None, **more: Any) -> dict:
    return {
        "id": ident,
        "status": status,
        "direction": "OUTBOUND" if ident % 3 else "INBOUND",
        "fromNumber": "+14155550100",
        "toNumber": f"+1415555{ident:04d}",
        "agentId": 12 if ident % 2 else 14,
        "createdAt": created,
        "startedAt": created if seconds is not None else None,
        "durationSeconds": seconds,
        **more,
    }


TURNS = [
    {"role": "AGENT", "text": "Hi, this is Zara from Acme. Is this a good time?", "timestamp":
     "2026-11-20T09:15:03Z"},
    {"role": "CALLER", "text": "Yes, go ahead.", "timestamp": "2026-11-20T09:15:08Z"},
    {"role": "AGENT", "text": "Your plan renews next week; shall I keep it as it is?",
     "timestamp": "2026-11-20T09:15:12Z"},
    {"role": "CALLER", "text": "Please do, thanks.", "timestamp": "2026-11-20T09:15:20Z"},
]  # fmt: skip
CALLS = [
    fixed_call(108, "COMPLETED", "2026-11-20T09:15:00Z", 95, disposition="INTERESTED",
               turns=TURNS),
    fixed_call(107, "NO_ANSWER", "2026-11-20T08:40:00Z", None),
    fixed_call(106, "COMPLETED", "2026-11-19T16:05:00Z", 212, disposition="CALLBACK"),
    fixed_call(105, "FAILED", "2026-11-19T11:30:00Z", None, failureReason="NETWORK_ERROR"),
    fixed_call(104, "COMPLETED", "2026-11-18T14:00:00Z", 48),
    fixed_call(103, "BUSY", "2026-11-18T10:20:00Z", None),
    fixed_call(102, "COMPLETED", "2026-11-17T15:45:00Z", 130, disposition="NOT_INTERESTED"),
]  # fmt: skip
FILTER = CallFilter(since="2026-11-17T00:00:00Z", until="2026-11-21T00:00:00Z")


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """UTC, at NOW (ticking on from there, as a clock does)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    with time_machine.travel(NOW, tick=True):
        yield
    monkeypatch.undo()
    time.tzset()


def fixed_app(fault_server: Any) -> ZazaUi:
    """The app over the API client against fixed calls, as `zaza ui` with that filter."""
    listed = {"content": CALLS, "number": 0, "size": 50, "totalPages": 1, "last": True}
    fault_server.route("GET", "/api/v1/calls", 200, listed)
    fault_server.route("GET", "/api/v1/calls/108", 200, CALLS[0], optional=True)
    agents = {"content": AGENTS, "number": 0, "size": 20, "totalPages": 1, "last": True}
    fault_server.route("GET", "/api/v1/agents", 200, agents, optional=True)
    api = AppContext(env={}).client(fault_server.url, SERVED_KEY)
    return ZazaUi(ApiSource(api, label="api.zazavoice.example"), filters=FILTER)


@pytest.mark.parametrize("size", SIZES)
def test_calls_screen(snap_compare: Any, fault_server: Any, fixed_clock: None, size: Any) -> None:
    app = fixed_app(fault_server)

    async def listed(pilot: Any) -> None:
        await settle(pilot, lambda: len(table_text(app)) == len(CALLS))

    assert snap_compare(app, terminal_size=size, run_before=listed)


@pytest.mark.parametrize("size", SIZES)
def test_call_screen(snap_compare: Any, fault_server: Any, fixed_clock: None, size: Any) -> None:
    app = fixed_app(fault_server)

    async def opened(pilot: Any) -> None:
        await settle(pilot, lambda: len(table_text(app)) == len(CALLS))
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, CallScreen))
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=opened)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare: Any, fault_server: Any, fixed_clock: None, size: Any) -> None:
    app = fixed_app(fault_server)

    async def keys(pilot: Any) -> None:
        await settle(pilot, lambda: len(table_text(app)) == len(CALLS))
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=keys)


@pytest.mark.parametrize("size", SIZES)
def test_stats_screen(snap_compare: Any, fault_server: Any, fixed_clock: None, size: Any) -> None:
    app = fixed_app(fault_server)

    async def counted(pilot: Any) -> None:
        await settle(pilot, lambda: len(table_text(app)) == len(CALLS))
        await pilot.press("s")
        screen = app.screen
        await settle(pilot, lambda: isinstance(screen, StatsScreen) and screen.report is not None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=counted)
