"""`zaza ui` on a real pseudo-terminal: it draws the call list, quits on q with exit 0 and
gives the terminal back; it refuses to start without a terminal; --local reads the archive."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, Cli, sized_pty
from textual.widgets import DataTable
from ui_helpers import archive_app, chat_text, drive, settle, table_text

from zazacli.ui.call import CallScreen

# The app's end-to-end tests drive Textual (seconds in all): CI runs them, the fast loop not.
pytestmark = pytest.mark.slow


class Screen:
    """`python -m zazacli ARGS` with its input and output on one pseudo-terminal."""

    def __init__(self, *args: str, env: dict[str, str], rows: int = 24, columns: int = 80):
        full_env = {**os.environ, "TERM": "xterm-256color", **env}
        for name in ("COLUMNS", "LINES", "ZAZA_FORCE_TTY", "NO_COLOR"):
            full_env.pop(name, None)
        self.leader, follower = sized_pty(rows=rows, columns=columns)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "zazacli", *args],
            stdin=follower, stdout=follower, stderr=follower, env=full_env, cwd=REPO,
            start_new_session=True,
        )  # fmt: skip
        os.close(follower)
        self.chunks: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.leader, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.chunks.append(chunk)

    def raw(self) -> str:
        return b"".join(self.chunks).decode("utf-8", "replace")

    def text(self) -> str:
        return re.sub(r"\x1b\[[0-9;?<>]*[A-Za-z]|\x1b\][^\x07]*\x07", "", self.raw())

    def wait_for(self, pattern: str, timeout: float = 20.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if re.search(pattern, self.text()):
                return
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} never shown:\n{self.text()[-2000:]}")

    def press(self, keys: str) -> None:
        os.write(self.leader, keys.encode())

    def finish(self, timeout: float = 20.0) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)
            os.close(self.leader)


@pytest.mark.slow
def test_the_app_draws_the_calls_and_quits_on_q(sandbox: Any) -> None:
    env = {"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key}
    screen = Screen("ui", env=env)
    screen.wait_for(r"ID\s+CREATED")
    screen.wait_for(r"\b9\d{4}\b")  # the sandbox's call ids
    screen.press("?")
    screen.wait_for("Cursor up")
    screen.press("?q")  # `?` closes the keys again (an escape would wait for more bytes)
    assert screen.finish() == 0
    assert_terminal_given_back(screen.raw())
    assert "Traceback" not in screen.raw()


def assert_terminal_given_back(raw: str) -> None:
    """The alternate screen left, the cursor shown, mouse reporting off: as it was."""
    assert raw.rfind("\x1b[?1049l") > raw.rfind("\x1b[?1049h") >= 0
    assert raw.rfind("\x1b[?25h") > raw.rfind("\x1b[?25l")
    assert raw.rfind("\x1b[?1000l") > raw.rfind("\x1b[?1000h") >= 0


CRASH = """\
import zazacli.ui.help

def compose(self):
    raise RuntimeError("the keys screen broke")
    yield

zazacli.ui.help.HelpScreen.compose = compose
"""


def test_a_crash_gives_the_terminal_back_and_says_one_line(sandbox: Any, tmp_path: Path) -> None:
    """An exception inside the app (here: the keys screen fails to draw, put in from
    outside by a sitecustomize module): the terminal is restored first, then one error
    line and exit 1, as for any command; no traceback, no half-drawn screen after it."""
    (tmp_path / "sitecustomize.py").write_text(CRASH)
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    env = {"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key, "PYTHONPATH": path}
    screen = Screen("ui", env=env)
    screen.wait_for(r"ID\s+CREATED")
    screen.press("?")
    assert screen.finish() == 1
    raw = screen.raw()
    assert_terminal_given_back(raw)
    after = raw[raw.rfind("\x1b[?1049l") :]
    said = re.sub(r"\x1b\[[0-9;?<>]*[A-Za-z]", "", after).strip().splitlines()
    assert said[0] == "error: internal error: RuntimeError: the keys screen broke", said
    assert all(line.startswith(("error:", "hint:")) for line in said), said
    assert "Traceback" not in raw


def test_without_a_terminal_it_says_so(cli: Cli) -> None:
    result = cli("ui")
    assert result.exit_code == 2
    assert "zaza ui needs a terminal" in result.output


def test_a_bad_key_is_one_error_line_before_any_screen(sandbox: Any) -> None:
    env = {"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": "zaza_test_wrong"}
    screen = Screen("ui", env=env)
    assert screen.finish() == 4
    assert "\x1b[?1049h" not in screen.raw()
    assert re.search(r"^error: ", screen.text(), re.M)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of 350 ended calls, synced from a sandbox."""
    from zazacli.sandbox import SandboxConfig, start_sandbox

    path = tmp_path_factory.mktemp("ui") / "archive.sqlite3"
    running = start_sandbox(
        SandboxConfig(port=0, quiet=True, speed=100.0, calls=350, live_calls=False)
    )
    try:
        env = {"ZAZA_BASE_URL": running.base_url, "ZAZA_API_KEY": running.api_key}
        result = Cli(env=env)("calls", "sync", "--archive", str(path))
        assert result.exit_code == 0, result.output
    finally:
        running.close()
    return path


@drive
async def test_local_reads_the_archive_a_page_at_a_time(archive: Path) -> None:
    app = archive_app(archive)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert len(table_text(app)) == 100
        app.screen.query_one(DataTable).move_cursor(row=90)
        await pilot.pause()
        assert len(table_text(app)) == 200
        await pilot.press("g", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CallScreen)
        await pilot.pause()
        assert "AGENT" in chat_text(app)
        assert app.screen.agent


@drive
async def test_search_as_you_type_opens_the_call_at_the_matching_turn(archive: Path) -> None:
    from textual.widgets import OptionList

    from zazacli.ui.search import SearchScreen

    app = archive_app(archive)
    app.archive = app.source.store  # type: ignore[attr-defined]
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"refund")
        hits = app.screen.query_one(OptionList)
        await settle(pilot, lambda: hits.option_count > 0)  # once typing has paused
        first = app.screen.hits[0]
        await pilot.press("enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CallScreen)
        assert app.screen.call["id"] == first.call_id and app.screen.turn == first.turn
        await pilot.pause()
        assert "refund" in chat_text(app).lower()
        await pilot.press("escape", "escape")
        assert not isinstance(app.screen, SearchScreen | CallScreen)
