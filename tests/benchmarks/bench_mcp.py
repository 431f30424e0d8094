"""`zaza mcp`: how soon an assistant sees the tools, and how fast search_transcripts answers
over a large archive.

Run: python tests/benchmarks/bench_mcp.py [--calls 100000] [--rounds 7] [--keep DIR]

Goals:
  - `tools/list` answered <= 1.5 s after the process starts: the whole `zaza mcp` process
    against a sandbox (in its own process), from its start through `initialize` to the
    `tools/list` answer read on its stdout, median of the rounds;
  - search_transcripts over an archive of --calls calls: median <= 50 ms inside the server
    (the time the server's log line gives each call: arguments read, search, JSON made),
    over 20 queries a round, `zaza mcp --local`; the round trip over the pipes is reported
    beside it.
The big archive is filled in-process as bench_archive.py fills it (kept with --keep).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import start_sandbox

TOOLS_LIST_S = 1.5
SEARCH_MS = 50.0
QUERIES = [
    "refund", "acme", "callback", "renew*", '"next week"', "price OR cost", "cancel",
    "appointment", "invoice", "hello", "thanks NOT bye", "manager", "discount", "email",
    "monday", "plan", "address", "schedule", "upgrade", "wrong number",
]  # fmt: skip
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "1"},
    },
}
_TOOK = re.compile(r"search_transcripts: ok \((\d+) ms\)")


class Server:
    """`zaza mcp ARGS` on pipes, spoken to in raw JSON-RPC lines; stderr to a file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "zazacli", "mcp", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log.open("w"),
            text=True, env=env,
        )  # fmt: skip
        self.next_id = 1

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)
        return self._answer(self.next_id)

    def initialize(self) -> None:
        self._send(INITIALIZE)
        self._answer(1)
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def _answer(self, message_id: int) -> dict[str, Any]:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            answer = json.loads(line)
            if answer.get("id") == message_id:
                return answer
        raise SystemExit(f"zaza mcp ended: {self.log.read_text()[-2000:]}")


def tools_list_seconds(env: dict[str, str], log: Path) -> float:
    server = Server([], env, log)
    server.initialize()
    tools = server.request("tools/list")["result"]["tools"]
    took = time.perf_counter() - server.started
    assert len(tools) == 11, tools
    server.close()
    return took


def search_ms(archive: Path, rounds: int, work: Path) -> tuple[list[float], list[float]]:
    """(inside the server, round trip) in ms, for every query of every round."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAZA_")}
    env["ZAZA_ARCHIVE"] = str(archive)
    log = work / "search.log"
    server = Server(["--local"], env, log)
    server.initialize()
    trips = []
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            result = server.request(
                "tools/call", {"name": "search_transcripts", "arguments": {"query": query}}
            )["result"]
            trips.append((time.perf_counter() - started) * 1000)
            assert not result.get("isError"), result
    server.close()
    inside = [float(ms) for ms in _TOOK.findall(log.read_text())]
    assert len(inside) == len(trips), log.read_text()[-2000:]
    return inside, trips


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_mcp_"))
    work.mkdir(parents=True, exist_ok=True)

    sandbox, printed = start_sandbox()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZAZA_")}
        env.update(printed)
        runs = [tools_list_seconds(env, work / "list.log") for _ in range(args.rounds)]
    finally:
        sandbox.terminate()
        sandbox.wait(10)

    from bench_archive import fill_archive

    archive = work / f"mcp{args.calls}.sqlite3"
    if not archive.exists():
        started = time.perf_counter()
        fill_archive(archive, args.calls)
        print(f"{args.calls:,} calls archived in-process in {time.perf_counter() - started:.0f} s")
    inside, trips = search_ms(archive, max(1, args.rounds // 2), work)

    listed, searched = statistics.median(runs), statistics.median(inside)
    print(f"tools/list after start (s)        {listed:7.3f}  goal <= {TOOLS_LIST_S}")
    print(f"  rounds: {', '.join(f'{run:.2f}' for run in runs)}")
    print(f"search_transcripts, {args.calls:,} calls (ms)  {searched:7.1f}  goal <= {SEARCH_MS}")
    print(f"  round trip median {statistics.median(trips):.1f} ms, slowest {max(inside):.0f} ms")
    ok = listed <= TOOLS_LIST_S and searched <= SEARCH_MS
    print("all goals met" if ok else "GOALS MISSED")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
