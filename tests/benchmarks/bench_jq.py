"""`--jq` speed: `zaza calls list --all --jq '.[].id'` against the pipeline it replaces,
`zaza calls list --all -o json | jq '.[].id'` (the system jq, run through `sh -c`).

Run: python tests/benchmarks/bench_jq.py [--calls 100000] [--rounds 5] [--jq /usr/bin/jq]
Goal: --jq <= 1.2x the pipeline. In the pipeline jq works on a second core while zaza
writes; in-process, a program shaped `.[].a.b` reads each item's field as it arrives (no
second parse of the JSON), and any other `.[] | …` runs on slices of the list (see
zazacli/output/query.py). A second, unshaped program (`map(.id) | .[]`: the whole document
handed to jq at once) is measured for information, without a goal. All run as subprocesses
against one sandbox (itself a subprocess), interleaved round by round; medians reported,
stdout to /dev/null.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from harness import interleaved, print_medians, start_sandbox

PIPELINE = "zaza calls list --all -o json | jq '.[].id'"
JQ = "zaza calls list --all --jq '.[].id'"
SLICED = "zaza calls list --all --jq '.[] | .id'"
WHOLE = "zaza calls list --all --jq 'map(.id) | .[]'"
# (numerator, denominator, goal): the ratios printed; a goal of None is for information.
GOALS = [(JQ, PIPELINE, 1.2), (SLICED, PIPELINE, None), (WHOLE, PIPELINE, None)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jq", default="/usr/bin/jq", help="the jq binary of the pipeline")
    args = parser.parse_args()

    # `pip install .` compiles bytecode at install time; an editable install under
    # PYTHONDONTWRITEBYTECODE=1 never would, and every zaza run would pay for compiling.
    import compileall

    import zazacli

    compileall.compile_dir(os.path.dirname(zazacli.__file__), quiet=1)

    server, printed = start_sandbox("--calls", str(args.calls))
    env = {**os.environ, **printed}
    zaza = [sys.executable, "-m", "zazacli", "calls", "list", "--all"]
    pipeline = f"{shlex.join([*zaza, '-o', 'json'])} | {shlex.quote(args.jq)} '.[].id'"
    commands = {
        PIPELINE: ["sh", "-c", pipeline],
        JQ: [*zaza, "--jq", ".[].id"],
        SLICED: [*zaza, "--jq", ".[] | .id"],
        WHOLE: [*zaza, "--jq", "map(.id) | .[]"],
    }
    try:
        results = interleaved(commands, env, args.rounds)
    finally:
        server.terminate()
        server.wait()

    medians = print_medians(results, f"{args.calls} calls, {args.rounds} rounds", 48)
    ok = True
    for numerator, denominator, goal in GOALS:
        ratio = medians[numerator] / medians[denominator]
        if goal is None:
            print(f"{numerator} / pipeline: {ratio:4.2f}x (for information)")
            continue
        met = ratio <= goal
        ok = ok and met
        verdict = "met" if met else "MISSED"
        print(f"{numerator} / pipeline: {ratio:4.2f}x (goal <= {goal}x: {verdict})")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
