"""Stats speed and memory: `zaza calls stats --by day` against `zaza calls list --all --jsonl`.

Run: python tests/benchmarks/bench_stats.py [--calls 100000] [--rounds 3]
Goal: stats takes <= 1.2x the time of the list on the same sandbox, with peak
RSS <= 60 MiB. Both run as subprocesses against the same sandbox (itself a subprocess),
interleaved, medians reported; stdout goes to /dev/null, so stats prints its TSV.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

from harness import interleaved, start_sandbox

TIME_BUDGET = 1.2
RSS_BUDGET_MIB = 60.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    server, printed = start_sandbox("--calls", str(args.calls))
    env = {**os.environ, **printed}
    zaza = [sys.executable, "-m", "zazacli"]
    baseline = "zaza calls list --all --jsonl"
    commands = {
        baseline: [*zaza, "calls", "list", "--all", "--jsonl"],
        "zaza calls stats --by day": [*zaza, "calls", "stats", "--by", "day"],
        "zaza calls stats --by hour --json": [*zaza, "calls", "stats", "--by", "hour", "--json"],
    }
    try:
        results = interleaved(commands, env, args.rounds)
    finally:
        server.terminate()
        server.wait()

    base = statistics.median(t for t, _ in results[baseline])
    print(f"{args.calls} calls, {args.rounds} rounds, medians")
    ok = True
    for name, values in results.items():
        seconds = statistics.median(t for t, _ in values)
        rss = max(r for _, r in values)
        ratio = seconds / base
        print(f"{name:<36} {seconds:6.2f} s  {ratio:4.2f}x  peak RSS {rss:5.1f} MiB (max)")
        if name != baseline:
            ok = ok and ratio <= TIME_BUDGET and rss <= RSS_BUDGET_MIB
    verdict = "met" if ok else "MISSED"
    print(f"goal: <= {TIME_BUDGET}x the list, <= {RSS_BUDGET_MIB:.0f} MiB: {verdict}")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
