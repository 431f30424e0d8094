"""`zaza ui`'s screens as pictures (pytest-textual-snapshot): Calls, a call, the keys,
Stats, the filter bar, Search (over an archive of the same calls), the dispatch form's
verdicts and Events (a signed and an unsigned event through the real listener), at
80x24 and 120x40, over fixed calls from a fault server, in UTC at a fixed time, so that
nothing in them moves with the clock. What would still differ from run to run is pinned:
the API's address on the form (a fixed base URL, forwarded to the fault server), its
idempotency key, the listener's address (the feed's label) and the events' receive time.
After a change that is meant to show,
`python -m pytest tests/ui/test_ui_snapshots.py --snapshot-update`, then look at the SVGs."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from conftest import LOOPBACK, Cli
from textual.widgets import Input
from ui_helpers import SERVED_KEY, fill_and_check, settle, table_text

from zazacli.api.listing import CallFilter
from zazacli.archive.store import Archive
from zazacli.commands.calls.shared import dialling
from zazacli.commands.webhooks.common import DEFAULT_PORT
from zazacli.context import AppContext
from zazacli.ui.app import ZazaUi
from zazacli.ui.call import CallScreen
from zazacli.ui.events import EventFeed, EventsScreen
from zazacli.ui.filters import FilterBar
from zazacli.ui.search import SearchScreen
from zazacli.ui.source import ApiSource
from zazacli.ui.stats import StatsScreen
from zazacli.webhooks.delivery import webhook_headers
from zazacli.webhooks.listener import WebhookListener
from zazacli.webhooks.model import ListenerConfig
from zazacli.webhooks.samples import encode_body, event_body, sample_data

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


def fixed_app(fault_server: Any, **options: Any) -> ZazaUi:
    """The app over the API client against fixed calls, as `zaza ui` with that filter."""
    listed = {"content": CALLS, "number": 0, "size": 50, "totalPages": 1, "last": True}
    fault_server.route("GET", "/api/v1/calls", 200, listed)
    fault_server.route("GET", "/api/v1/calls/108", 200, CALLS[0], optional=True)
    agents = {"content": AGENTS, "number": 0, "size": 20, "totalPages": 1, "last": True}
    fault_server.route("GET", "/api/v1/agents", 200, agents, optional=True)
    api = AppContext(env={}).client(fault_server.url, SERVED_KEY)
    return ZazaUi(ApiSource(api, label="api.zazavoice.example"), filters=FILTER, **options)


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


@pytest.mark.parametrize("size", SIZES)
def test_filter_bar(snap_compare: Any, fault_server: Any, fixed_clock: None, size: Any) -> None:
    app = fixed_app(fault_server)

    async def typed(pilot: Any) -> None:
        await settle(pilot, lambda: len(table_text(app)) == len(CALLS))
        await pilot.press("f", *"completed")
        field = app.screen.query_one("#filter-status", Input)
        bar = app.screen.query_one(FilterBar)
        await settle(pilot, lambda: bar.has_class("shown") and field.value == "completed")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=typed)


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    """An archive holding the fixed calls, written as `calls sync` writes them."""
    store = Archive.open(tmp_path / "archive.sqlite3", create=True)
    try:
        store.save_agents(AGENTS)
        store.store_listed([(call["id"], call) for call in CALLS], run=1)
        store.store_details([(call["id"], call) for call in CALLS], run=1)
        yield store
    finally:
        store.close()


@pytest.mark.parametrize("size", SIZES)
def test_search_screen(
    snap_compare: Any, fault_server: Any, fixed_clock: None, archive: Archive, size: Any
) -> None:
    app = fixed_app(fault_server, archive=archive)

    async def found(pilot: Any) -> None:
        await settle(pilot, lambda: len(table_text(app)) == len(CALLS))
        await pilot.press("slash")
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        await pilot.press(*"pl*")  # "plan" and "please": two turns
        await settle(pilot, lambda: len(screen.hits) == 2)  # the debounced query has run
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=found)


BASE_URL = "https://api.zazavoice.example/api/v1"
KEY = "zaza-snapshot-idempotency-key"  # the form's idempotency key, not a new one
LONDON = "+442079460958"  # 12:00 there at NOW: inside the calling window


class Forward(httpx.BaseTransport):
    """Requests for BASE_URL sent to the fault server: the form shows the API's address,
    which must not be the server's port of the day."""

    def __init__(self, url: str) -> None:
        self.to = httpx.URL(url)
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(
            scheme=self.to.scheme, host=self.to.host, port=self.to.port
        )
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("size", SIZES)
def test_dispatch_screen(
    snap_compare: Any,
    fault_server: Any,
    fixed_clock: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    size: Any,
) -> None:
    monkeypatch.setattr("zazacli.calls.dispatch.new_idempotency_key", lambda: KEY)
    agent = {**AGENTS[0], "isActive": True}
    fault_server.route("GET", f"/api/v1/agents/{agent['id']}", 200, agent)
    env = {
        "ZAZA_CONFIG_DIR": os.environ["ZAZA_CONFIG_DIR"],
        "ZAZA_BASE_URL": BASE_URL,
        "ZAZA_API_KEY": SERVED_KEY,
    }
    app_ctx = AppContext(env=env, transport=Forward(fault_server.url))
    dnc = str(tmp_path / "policy.sqlite3")
    # The form dials through a contact-policy file: `zaza dnc add` makes one (not this callee).
    added = Cli()("dnc", "add", "+12125550100", "--dnc", dnc)
    assert added.exit_code == 0, added.stderr
    app = fixed_app(fault_server, dialling=lambda: dialling(app_ctx, dnc))

    async def checked(pilot: Any) -> None:
        screen = await fill_and_check(app, pilot, LONDON)
        assert screen.request is not None, screen.refusal  # may be dialled: y/n asked
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=checked)


SECRET = "whsec_test_ui_snapshots_41d9"


@pytest.fixture
def feed(fixed_clock: None) -> Iterator[EventFeed]:
    """What `zaza ui --listen` would have received: a signed event and an unsigned one,
    through `webhooks listen`'s listener, both at NOW to the millisecond. Labelled as the
    listener on its default port (it is bound to a free one: tests run side by side)."""
    feed = EventFeed(f"http://127.0.0.1:{DEFAULT_PORT}/webhooks")
    config = ListenerConfig(port=0, secret=SECRET)
    listener = WebhookListener(config, on_event=feed.event, on_notice=feed.notice).start()
    now = datetime.fromisoformat(NOW)
    try:
        with time_machine.travel(NOW, tick=False):  # each event's receive time: NOW
            for event, secret, status in (
                ("call.completed", SECRET, 200),
                ("call.failed", None, 401),
            ):
                raw = encode_body(event_body(event, sample_data(event, now), now))
                headers = webhook_headers(raw, event, secret=secret)
                answer = LOOPBACK.post(listener.url, content=raw, headers=headers)
                assert answer.status_code == status
        yield feed
    finally:
        listener.close()


@pytest.mark.parametrize("size", SIZES)
def test_events_screen(snap_compare: Any, fault_server: Any, feed: EventFeed, size: Any) -> None:
    app = fixed_app(fault_server, feed=feed)

    async def received(pilot: Any) -> None:
        await settle(pilot, lambda: len(table_text(app)) == len(CALLS))
        await settle(pilot, lambda: len(feed.since(0)) == 2)  # handed over after the answer
        await pilot.press("e")
        screen = app.screen
        await settle(pilot, lambda: isinstance(screen, EventsScreen) and screen.shown == 2)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=received)
