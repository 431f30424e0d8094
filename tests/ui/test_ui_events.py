"""`zaza ui --listen PORT`: `webhooks listen`'s listener runs beside the app, and `e` shows
each event as it comes, signature checked, its text shown literally."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from test_ui_terminal import Screen

from zazacli.webhooks.delivery import webhook_headers
from zazacli.webhooks.samples import encode_body, event_body, sample_data

# The app's end-to-end tests drive Textual (seconds in all): CI runs them, the fast loop not.
pytestmark = pytest.mark.slow

SECRET = "whsec_test_ui_events_7c2e"


def test_events_arrive_live_signed_literal_and_saved(sandbox: Any, tmp_path: Path) -> None:
    env = {
        "ZAZA_BASE_URL": sandbox.base_url,
        "ZAZA_API_KEY": sandbox.api_key,
        "ZAZA_WEBHOOK_SECRET": SECRET,
    }
    saved = tmp_path / "events.jsonl"
    screen = Screen("ui", "--listen", "0", "--save", str(saved), env=env, rows=30, columns=140)
    try:
        screen.wait_for(r"ID\s+CREATED")
        screen.press("e")
        screen.wait_for(r"listening on http://127\.0\.0\.1:\d+/webhooks, saving to ")
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
        screen.press("q")
        assert screen.finish() == 0
        # Saved before it was answered, byte for byte, as `webhooks listen --save` does.
        (line,) = saved.read_text().splitlines()
        assert json.loads(line)["raw"] == raw.decode()
    finally:
        if screen.proc.poll() is None:
            screen.proc.kill()


def test_listen_without_a_port_is_webhooks_listens_port() -> None:
    """`--listen` alone takes `webhooks listen`'s port; before another option too."""
    from zazacli.commands.app import optional_values
    from zazacli.commands.ui import app
    from zazacli.commands.webhooks.common import DEFAULT_PORT

    command = typer.main.get_command(app)
    port = str(DEFAULT_PORT)
    assert optional_values(command, ["--listen"]) == ["--listen", port]
    assert optional_values(command, ["--listen", "--local"]) == ["--listen", port, "--local"]
    assert optional_values(command, ["--listen", "5000"]) == ["--listen", "5000"]
    assert optional_values(command, ["--", "--listen"]) == ["--", "--listen"]
