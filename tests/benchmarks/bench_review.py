"""`zaza calls review` over a large archive, against `zaza calls search` of its phrases.

Run: python tests/benchmarks/bench_review.py [--calls 100000] [--rounds 3] [--keep DIR]
     [--profile]

Goals, over an archive of --calls calls (100,000: about 576,000 turns), with the built-in
rules plus a rule of 20 forbidden phrases, every finding printed (piped):
  - the whole `zaza calls review` process takes <= 5 s;
  - and <= 2x the time of `zaza calls search` printing every hit of one of its phrases:
    the one that matches the most turns (the disclosure the built-in rule requires), so
    that the search prints about as much as the review does;
  - peak RSS is reported (memory stays flat: findings stream out call by call).
Whole processes, interleaved rounds, medians. --profile then runs the review in-process:
the time of each step (the marks of each rule, the pass over the calls) and cProfile's
top functions.

The archive is filled in-process from the sandbox's generator, through the archive's own
writes (bench_archive.fill_archive): the same calls and turns a sync would store.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_archive import fill_archive
from harness import interleaved

WHOLE_BUDGET = 5.0
SEARCH_BUDGET = 2.0
# Twenty promises a compliance team forbids: some the sandbox's agents make, most never.
FORBIDDEN = [
    "guaranteed approval", "risk free", "crédit garanti", "no questions asked",
    "first month is free", "offer ends", "great deal", "only takes a minute",
    "no credit check", "act now", "limited time", "100% free", "lowest price",
    "you have won", "no obligation", "once in a lifetime", "double your money",
    "zero risk", "special promotion", "sans aucun risque",
]  # fmt: skip
REVIEW_OK = (0, 18)  # no finding, or findings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="work in DIR and leave it (default: a temp dir)")
    parser.add_argument("--profile", action="store_true", help="then profile one review")
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare, args.calls)
        return
    with tempfile.TemporaryDirectory() as temp:
        work = args.keep or Path(temp)
        work.mkdir(parents=True, exist_ok=True)
        # In a child: this process stays small, so its children's peak RSS is their own
        # (a child inherits its parent's high-water mark through fork and exec).
        done = subprocess.run(
            [sys.executable, __file__, "--prepare", str(work), "--calls", str(args.calls)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        *said, counts = done.stdout.splitlines()
        print("\n".join(said))
        archive, rules = work / f"review{args.calls}.sqlite3", work / "rules.toml"
        ok = bench(archive, rules, args.rounds, json.loads(counts))
        if args.profile:
            profile(archive, rules)
    print("all goals met" if ok else "some goals MISSED")
    if not ok:
        raise SystemExit(1)


def prepare(work: Path, calls: int) -> None:
    """The archive (made once, kept with --keep), the rules file, and how many turns each
    phrase matches (the last line, JSON)."""
    from zazacli.archive.review.phrases import compile_phrase
    from zazacli.archive.review.rules import DEFAULT_RULES, FORBID, Rule, rules_toml

    archive = work / f"review{calls}.sqlite3"
    if not archive.exists():
        started = time.perf_counter()
        with_turns = fill_archive(archive, calls)
        print(f"{calls:,} calls archived in-process ({with_turns:,} with turns) in "
              f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    forbidden = Rule("no-promises", FORBID, tuple(map(compile_phrase, FORBIDDEN)), "agent")
    (work / "rules.toml").write_text(rules_toml((*DEFAULT_RULES, forbidden)), encoding="utf-8")
    counts = {}
    with sqlite3.connect(archive) as db:
        for phrase in [*(p.source for p in DEFAULT_RULES[0].phrases), *FORBIDDEN]:
            sql = "SELECT count(*) FROM turns_fts WHERE turns_fts MATCH ?"
            counts[phrase] = db.execute(sql, (compile_phrase(phrase).index_query,)).fetchone()[0]
    print(json.dumps(counts))


def bench(archive: Path, rules: Path, rounds: int, counts: dict[str, int]) -> bool:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAZA_")}
    zaza = [sys.executable, "-m", "zazacli", "calls"]
    busiest = max(counts, key=lambda phrase: counts[phrase])
    rare = min((p for p in FORBIDDEN if counts[p]), key=lambda phrase: counts[phrase])
    commands = {
        "review": [*zaza, "review", "--archive", str(archive), "--rules", str(rules)],
        "review (built-in rules)": [*zaza, "review", "--archive", str(archive)],
        "search (busiest phrase)": [*zaza, "search", f'"{busiest}"', "--archive", str(archive)],
        "search (rarest phrase)": [*zaza, "search", f'"{rare}"', "--archive", str(archive)],
    }
    for cmd in commands.values():  # the archive in the page cache, migrated if need be
        interleaved({"warm": cmd}, env, 1, ok=REVIEW_OK)
    results = interleaved(commands, env, rounds, ok=REVIEW_OK)
    with sqlite3.connect(archive) as db:
        sql = "SELECT (SELECT count(*) FROM calls), count(*) FROM turns"
        calls, turns = db.execute(sql).fetchone()
    found = summary_line(commands["review"], env)
    print(f"{calls:,} calls, {turns:,} turns; {rounds} interleaved rounds, medians "
          f"(peak RSS: the largest):")  # fmt: skip
    print(f"  {found}")
    medians = {name: statistics.median(s for s, _ in runs) for name, runs in results.items()}
    for name, runs in results.items():
        rss = max(r for _, r in runs)
        print(f"  {name:<26} {medians[name]:6.2f} s  {rss:5.0f} MiB")
    print(f"  phrases: {busiest!r} in {counts[busiest]:,} turns, {rare!r} in {counts[rare]:,}")
    review, search = medians["review"], medians["search (busiest phrase)"]
    print(f"review: {review:.2f} s (goal <= {WHOLE_BUDGET:.0f} s); {review / search:.2f}x the "
          f"search of {busiest!r} (goal <= {SEARCH_BUDGET:.0f}x)")  # fmt: skip
    return review <= WHOLE_BUDGET and review / search <= SEARCH_BUDGET


def summary_line(cmd: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    return next(line for line in done.stderr.splitlines() if line.startswith("reviewed"))


def profile(archive: Path, rules: Path) -> None:
    """The review in-process: each step timed, then cProfile's view of the whole."""
    from zazacli.api.listing import CallFilter
    from zazacli.archive.review.evaluate import Review
    from zazacli.archive.review.marks import Marker, by_call, temporary_tables, turn_range
    from zazacli.archive.review.rules import parse_rules
    from zazacli.archive.store import Archive

    checked = parse_rules(rules.read_text(encoding="utf-8"), str(rules))
    store = Archive.open(archive, create=False)
    try:
        print("where the time goes (in-process, after start-up):")
        with store.snapshot() as conn:
            # What Review.findings does, a step at a time.
            temporary_tables(conn)
            turns = turn_range(conn, CallFilter())
            for index, rule in enumerate(checked):
                started = time.perf_counter()
                Marker(conn, CallFilter(), index, rule, turns).mark()
                print(f"  marks of {rule.name:<22} {time.perf_counter() - started:6.3f} s")
            started = time.perf_counter()
            by_call(conn)
            print(f"  the marks by call           {time.perf_counter() - started:6.3f} s")
            review = Review(store, checked, CallFilter())
            started = time.perf_counter()
            count = sum(1 for _ in review._calls(conn))
            print(f"  the pass over the calls     {time.perf_counter() - started:6.3f} s "
                  f"({count:,} findings made, not printed)")  # fmt: skip
        from zazacli.output import Output
        from zazacli.output.formats import Format
        from zazacli.output.review import review_findings

        out = Output(stdout=io.StringIO(), stderr=io.StringIO())
        profiler = cProfile.Profile()
        profiler.enable()
        review_findings(out, Review(store, checked, CallFilter()).findings(), Format.plain)
        profiler.disable()
    finally:
        store.close()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(15)
    print("cProfile, the review printed as plain lines (tottime):")
    print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[:4000])


if __name__ == "__main__":
    main()
