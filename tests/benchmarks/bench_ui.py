"""`zaza ui`: how soon the first screen is drawn, how fast a long call opens and search
answers as you type, and how much memory a 100,000-call archive costs.

Run: python tests/benchmarks/bench_ui.py [--calls 100000] [--rounds 5] [--keep DIR]

Goals:
  - first screen against a sandbox <= 1.0 s: the whole `zaza ui` process on a
    pseudo-terminal (120x40), from its start to the call table drawn (its newest call's
    id on the screen), median of the rounds;
  - first screen with --local over an archive of --calls calls <= 1.5 s, measured alike;
  - peak memory of that --local process <= 150 MiB (its maximum resident set);
  - opening a call of 200 turns <= 100 ms, median: from `enter` on the list to the chat
    drawn (in-process, Textual's headless pilot, 120x40);
  - search as you type <= 150 ms, median over the queries on the --calls archive: from the
    last key to its results drawn, the debounce (DEBOUNCE, 60 ms of no typing) included;
    the query alone (running to drawn) is reported beside it.
The big archive is filled in-process as bench_archive.py fills it (kept with --keep).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from harness import start_sandbox

FIRST_SCREEN_API_S = 1.0
FIRST_SCREEN_LOCAL_S = 1.5
OPEN_CALL_MS = 100.0
SEARCH_MS = 150.0
PEAK_MIB = 150.0
TURNS = 200
QUERIES = [
    "refund", "acme", "callback", "renew*", '"next week"', "price OR cost", "cancel",
    "appointment", "invoice", "hello", "thanks NOT bye", "manager", "discount", "email",
    "monday", "plan", "address", "schedule", "upgrade", "wrong number",
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_ui_"))
    work.mkdir(parents=True, exist_ok=True)
    results: list[tuple[str, float, float, str]] = []

    server, env = start_sandbox()
    try:
        newest = _newest_api_id(env)
        runs = [first_screen(["ui"], env, newest) for _ in range(args.rounds)]
        results.append(("first screen, sandbox (s)", _median(runs, 0), FIRST_SCREEN_API_S, ""))
    finally:
        server.terminate()
        server.wait(10)

    archive = big_archive(work, args.calls)
    newest = _newest_archived_id(archive)
    local = {"ZAZA_ARCHIVE": str(archive)}
    runs = [first_screen(["ui", "--local"], local, newest) for _ in range(args.rounds)]
    label = f"first screen, --local {args.calls:,} calls (s)"
    results.append((label, _median(runs, 0), FIRST_SCREEN_LOCAL_S, ""))
    peak = max(run[1] for run in runs)
    results.append((f"peak memory, --local {args.calls:,} calls (MiB)", peak, PEAK_MIB, "max"))

    opened = asyncio.run(open_long_call(work))
    results.append((f"open a {TURNS}-turn call (ms)", statistics.median(opened), OPEN_CALL_MS, ""))
    searched, typed = asyncio.run(search_as_you_type(archive))
    results.append(("search: query run to results drawn (ms)", searched, 0.0, ""))
    results.append(("search: last key to results drawn (ms)", typed, SEARCH_MS, "debounce incl."))
    report(results)


def report(results: list[tuple[str, float, float, str]]) -> None:
    print(f"{'measure':<48}{'median':>10}{'goal':>8}")
    for name, value, goal, note in results:
        mark = "" if not goal else ("ok" if value <= goal else "OVER")
        goal_text = f"<={goal:g}" if goal else ""
        print(f"{name:<48}{value:>10.3f}{goal_text:>8} {mark} {note}".rstrip())


def _median(runs: list[tuple[float, float]], index: int) -> float:
    return statistics.median(run[index] for run in runs)


# ---------------------------------------------------------------- the whole process


def first_screen(args: list[str], env: dict[str, str], newest: int) -> tuple[float, float]:
    """Seconds from starting `zaza ARGS` on a 120x40 pseudo-terminal to the call table drawn
    (the newest call's id shown), then `q`; and the process's peak memory (MiB)."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    full = {**os.environ, "TERM": "xterm-256color", **env}
    for name in ("COLUMNS", "LINES", "ZAZA_FORCE_TTY", "NO_COLOR"):
        full.pop(name, None)
    script = Path(sys.executable).parent / "zaza"
    zaza = [str(script)] if script.exists() else [sys.executable, "-m", "zazacli"]
    drawn = threading.Event()
    seen = bytearray()
    pattern = re.compile(rb"CREATED.*\b" + str(newest).encode() + rb"\b", re.S)

    def read() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                return
            if not chunk:
                return
            seen.extend(chunk)
            if not drawn.is_set() and pattern.search(_plain(bytes(seen))):
                drawn.set()

    started = time.perf_counter()
    proc = subprocess.Popen(
        [*zaza, *args], stdin=follower, stdout=follower, stderr=follower, env=full,
        start_new_session=True,
    )  # fmt: skip
    os.close(follower)
    threading.Thread(target=read, daemon=True).start()
    if not drawn.wait(60):
        proc.kill()
        raise SystemExit(f"zaza {' '.join(args)}: the table never showed\n{_plain(bytes(seen))!r}")
    took = time.perf_counter() - started
    time.sleep(0.2)
    os.write(leader, b"q")
    _, status, usage = os.wait4(proc.pid, 0)
    os.close(leader)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"zaza {' '.join(args)} exited {os.waitstatus_to_exitcode(status)}")
    return took, usage.ru_maxrss / 1024


def _plain(raw: bytes) -> bytes:
    return re.sub(rb"\x1b\[[0-9;?<>]*[A-Za-z]|\x1b\][^\x07]*\x07", b"", raw)


def _newest_api_id(env: dict[str, str]) -> int:
    import httpx

    page = httpx.get(
        env["ZAZA_BASE_URL"] + "/calls",
        params={"page": 0, "size": 1, "sort": "createdAt,desc"},
        headers={"Authorization": "Bearer " + env["ZAZA_API_KEY"]},
    ).json()
    return int(page["content"][0]["id"])


def _newest_archived_id(path: Path) -> int:
    """The first row `zaza ui --local` lists (newest first, by the archive's own order)."""
    from zazacli.api.listing import CallFilter
    from zazacli.archive.local import archived_calls
    from zazacli.archive.store import Archive

    store = Archive.open(path, create=False)
    try:
        return int(next(iter(archived_calls(store, CallFilter(), None, False)))["id"])
    finally:
        store.close()


def big_archive(work: Path, calls: int) -> Path:
    from bench_archive import fill_archive

    path = work / f"ui{calls}.sqlite3"
    if not path.exists():
        started = time.perf_counter()
        fill_archive(path, calls)
        print(f"{calls:,} calls archived in-process in {time.perf_counter() - started:.0f} s")
    return path


# ---------------------------------------------------------------- in-process, headless


def long_call_archive(work: Path) -> Path:
    """An archive holding one call of TURNS turns (its words the sandbox's own)."""
    from zazacli.archive.store import Archive

    path = work / "long_call.sqlite3"
    path.unlink(missing_ok=True)
    turns = [
        {
            "role": "AGENT" if index % 2 == 0 else "CALLER",
            "text": f"Turn {index}: about the renewal of the plan, and when it would start "
            "again if the price were the same as last year.",
            "timestamp": f"2026-11-20T09:{15 + index // 60:02d}:{index % 60:02d}Z",
        }
        for index in range(TURNS)
    ]
    call = {
        "id": 4242, "status": "COMPLETED", "direction": "OUTBOUND", "agentId": 1,
        "fromNumber": "+14155550100", "toNumber": "+14155550124",
        "createdAt": "2026-11-20T09:15:00Z", "startedAt": "2026-11-20T09:15:00Z",
        "endedAt": "2026-11-20T12:35:00Z", "durationSeconds": 12000, "turns": turns,
    }  # fmt: skip
    archive = Archive.open(path, create=True)
    try:
        archive.store_listed([(4242, call)], run=1)
        archive.store_details([(4242, json.loads(json.dumps(call)))], run=1)
    finally:
        archive.close()
    return path


async def open_long_call(work: Path, rounds: int = 20) -> list[float]:
    """Milliseconds from opening the call under the cursor (what `enter` runs) to its
    200-turn chat laid out and the screen painted, each round. Timed on the app's own loop,
    not with the pilot's waits for idleness, which cost more than the work measured."""
    from zazacli.archive.store import Archive
    from zazacli.ui.app import ZazaUi
    from zazacli.ui.call import CallScreen, ChatLog
    from zazacli.ui.calls import CallsScreen
    from zazacli.ui.source import ArchiveSource

    store = Archive.open(long_call_archive(work), create=False)
    app = ZazaUi(ArchiveSource(store))
    took: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        listed = app.screen
        assert isinstance(listed, CallsScreen)
        for _ in range(rounds):
            call = listed.calls[0]
            started = time.perf_counter()
            app.open_call(call)
            while not _painted(app, CallScreen, ChatLog):
                await asyncio.sleep(0.0005)
            took.append((time.perf_counter() - started) * 1000)
            await pilot.press("escape")
            await pilot.pause()
    store.close()
    return took


def _painted(app: Any, screen_type: type, log_type: type) -> bool:
    """The screen is up, its chat filled, and nothing is left to paint."""
    screen = app.screen
    if not isinstance(screen, screen_type) or not screen.is_mounted:
        return False
    logs = screen.query(log_type)
    if not logs or not logs.first().lines:
        return False
    return not screen._dirty_widgets and not screen._layout_required


async def search_as_you_type(path: Path) -> tuple[float, float]:
    """Medians, in ms: a query run to its results drawn; and its last key to the same."""
    from zazacli.archive.store import Archive
    from zazacli.ui.app import ZazaUi
    from zazacli.ui.search import SearchScreen
    from zazacli.ui.source import ArchiveSource

    store = Archive.open(path, create=False)
    app = ZazaUi(ArchiveSource(store), archive=store)
    ran: list[float] = []
    typed: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        for query in QUERIES:  # the query alone, then drawn
            started = time.perf_counter()
            screen.run_query(query)
            await pilot.pause()
            ran.append((time.perf_counter() - started) * 1000)
        for query in [q for q in QUERIES if q.isalpha()]:  # as typed: the last key, the
            # debounce, the query, drawn
            screen.run_query("")
            await pilot.press(*query[:-1])
            await pilot.pause(0.3)
            before = screen.hits
            started = time.perf_counter()
            await pilot.press(query[-1])
            while screen.hits is before:
                await asyncio.sleep(0.002)
            await pilot.pause()
            typed.append((time.perf_counter() - started) * 1000)
    store.close()
    return statistics.median(ran), statistics.median(typed)


if __name__ == "__main__":
    main()
