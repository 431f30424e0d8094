"""`zaza ui --listen PORT`: `webhooks listen`'s listener runs beside the app, and `e` shows
each event as it comes, signature checked, its text shown literally."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from test_ui_terminal import Screen

from zazacli.webhooks.delivery import webhook_headers
from zazacli.webhooks.samples import encode_body, event_body, sample_data

# The app's end-to-end tests drive Textual (seconds in all): CI runs them, the fast loop not.
pytestmark = pytest.mark.slow

SECRET = "whsec_test_ui_events_7c2e"


def test_events_arrive_live_signed_and_literal(sandbox: Any) -> None:
    env = {
        "ZAZA_BASE_URL": sandbox.base_url,
        "ZAZA_API_KEY": sandbox.api_key,
        "ZAZA_WEBHOOK_SECRET": SECRET,
    }
    screen = Screen("ui", "--listen", "0", env=env, rows=30, columns=140)
    try:
        screen.wait_for(r"ID\s+CREATED")
        screen.press("e")
        screen.wait_for(r"listening on http://127\.0\.0\.1:\d+/webhooks")
        url = re.findall(r"listening on (http://127\.0\.0\.1:\d+/webhooks)", screen.text())[-1]
        data = {
            **sample_data("call.completed"),
            "disposition": "[link=http://evil]x[/link]\x1b]0;t\x07",
        }
        raw = encode_body(event_body("call.completed", data))
        answer = httpx.post(
            url, content=raw, headers=webhook_headers(raw, "call.completed", secret=SECRET)
        )
        assert answer.status_code == 200
        screen.wait_for(r"✓ call\.completed")
        screen.wait_for(re.escape("[link=http://evil]x[/link]"))
        assert "\x1b]0;t" not in screen.raw()
        screen.press("\x1b")
        time.sleep(0.3)  # an escape and a key at once read as alt+key
        screen.press("q")
        assert screen.finish() == 0
    finally:
        if screen.proc.poll() is None:
            screen.proc.kill()
