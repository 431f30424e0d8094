"""Output speed: `zaza calls list --all` as JSONL and as CSV, against a hand-written loop.

Run: python tests/benchmarks/bench_formats.py [--calls 100000] [--rounds 5]
Goals: --jsonl <= 1.0x the loop (paging GET /calls, json.dumps per item), and
--csv <= 1.1x --jsonl. All three run as subprocesses against one sandbox (itself a
subprocess), interleaved round by round, so a slow moment of the machine hits each alike;
medians reported, stdout to /dev/null.
"""

from __future__ import annotations

import argparse
import os
import sys

from harness import HTTPX_LOOP, interleaved, print_medians, start_sandbox

LOOP_NAME = "httpx loop"
JSONL = "zaza calls list --all --jsonl"
CSV = "zaza calls list --all --csv"
# (numerator, denominator, goal): the ratios printed, and what each must stay within.
GOALS = [(JSONL, LOOP_NAME, 1.0), (CSV, JSONL, 1.1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    # `pip install .` compiles bytecode at install time; an editable install under
    # PYTHONDONTWRITEBYTECODE=1 never would, and every zaza run would pay for compiling.
    import compileall

    import zazacli

    compileall.compile_dir(os.path.dirname(zazacli.__file__), quiet=1)

    server, printed = start_sandbox("--calls", str(args.calls))
    env = {**os.environ, **printed}
    zaza = [sys.executable, "-m", "zazacli", "calls", "list", "--all"]
    commands = {
        LOOP_NAME: [sys.executable, "-c", HTTPX_LOOP],
        JSONL: [*zaza, "--jsonl"],
        CSV: [*zaza, "--csv"],
    }
    try:
        results = interleaved(commands, env, args.rounds)
    finally:
        server.terminate()
        server.wait()

    medians = print_medians(results, f"{args.calls} calls, {args.rounds} rounds", 30)
    ok = True
    for numerator, denominator, goal in GOALS:
        ratio = medians[numerator] / medians[denominator]
        met = ratio <= goal
        ok = ok and met
        verdict = "met" if met else "MISSED"
        print(f"{numerator} / {denominator}: {ratio:4.2f}x (goal <= {goal}x: {verdict})")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
