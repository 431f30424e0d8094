"""Pagination speed and memory: `zaza calls list --all --jsonl` against a hand-written loop.

Run: python tests/benchmarks/bench_list.py [--calls 100000] [--rounds 3]
Goals: <= 1.3x the loop's time, peak RSS <= 60 MiB; at 1,000,000 calls
(`--calls 1000000 --rounds 1`), peak RSS <= 1.2x the loop's (memory must not grow
with the listing). Both run as subprocesses against the same sandbox (itself a
subprocess), interleaved, medians reported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

from harness import HTTPX_LOOP, interleaved, start_sandbox


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    server, printed = start_sandbox("--calls", str(args.calls))
    env = {**os.environ, **printed}
    try:
        commands = {
            "httpx loop": [sys.executable, "-c", HTTPX_LOOP],
            "zaza calls list --all --jsonl": [
                sys.executable,
                "-m",
                "zazacli",
                "calls",
                "list",
                "--all",
                "--jsonl",
            ],
        }
        results = interleaved(commands, env, args.rounds)
    finally:
        server.terminate()
        server.wait()

    loop_time = statistics.median(t for t, _ in results["httpx loop"])
    loop_rss = statistics.median(r for _, r in results["httpx loop"])
    print(f"{args.calls} calls, {args.rounds} rounds, medians")
    for name, values in results.items():
        seconds = statistics.median(t for t, _ in values)
        rss = statistics.median(r for _, r in values)
        print(
            f"{name:<32} {seconds:6.2f} s  {seconds / loop_time:4.2f}x  "
            f"peak RSS {rss:5.1f} MiB  {rss / loop_rss:4.2f}x"
        )


if __name__ == "__main__":
    main()
