"""The contact policy at scale: a million listed numbers and a hundred thousand dials.

Run: python tests/benchmarks/bench_policy.py [--numbers 1000000] [--ledger 100000]
     [--rows 10000] [--rounds 11]
Targets:
- `zaza dnc import` of 1,000,000 numbers: <= 30 s (one run, whole process);
- `zaza dnc check NUMBER` against that list: whole process <= 1.1x `zaza --version`
  (interleaved rounds, medians; `python -c "import sqlite3"` over `python -c pass` is shown
  as the floor any SQLite read pays);
- the policy adds <= 2 ms per batch row: a 10,000-row `calls batch --dry-run` against the
  full list and ledger, and against an empty one (interleaved; the difference per row),
  and the policy's own check of those rows in-process (`Guard.verdicts`), per row;
- a single dispatch makes no more requests than before the policy (`--before`, a checkout
  of the earlier version, is run beside it; requests counted from `--debug`).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import interleaved, measure, start_sandbox

FROM = "+14155550100"


# Area codes in service, so every number is valid (a batch row must be, to be decided).
AREAS = (202, 206, 212, 213, 303, 305, 312, 404, 415, 512, 602, 617, 646, 702, 713, 718, 917)


def numbers(count: int, seed: int) -> list[str]:
    """Distinct, valid US numbers in E.164, in random order."""
    rng = random.Random(seed)
    found: dict[str, None] = {}
    while len(found) < count:
        area, exchange, line = rng.choice(AREAS), rng.randint(200, 999), rng.randint(0, 9999)
        found[f"+1{area}{exchange}{line:04d}"] = None
    return list(found)


def fill_ledger(path: Path, count: int, seed: int) -> None:
    """`count` dials in the last day, as many processes would have written them."""
    from zazacli.policy.store import PolicyStore

    rng = random.Random(seed)
    now = time.time()
    with PolicyStore.open(path) as store, store.transaction() as conn:
        conn.executemany(
            "INSERT INTO dials (to_number, from_number, agent_id, at, source, outcome) "
            "VALUES (?, ?, 12, ?, 'bench.csv', 'queued')",
            ((number, FROM, now - rng.random() * 86400) for number in numbers(count, seed)),
        )


def median_ratio(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    return statistics.median(x[0] / y[0] for x, y in zip(a, b, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--numbers", type=int, default=1_000_000)
    parser.add_argument("--ledger", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument(
        "--before",
        help="a checkout of an earlier zaza (git worktree add /tmp/before 4477033): its "
        "single dispatch's requests are counted beside today's",
    )
    args = parser.parse_args()

    import compileall

    import zazacli

    compileall.compile_dir(os.path.dirname(zazacli.__file__), quiet=1)
    script = os.path.join(os.path.dirname(sys.executable), "zaza")
    zaza = [script] if os.path.exists(script) else [sys.executable, "-m", "zazacli"]
    work = Path(tempfile.mkdtemp(prefix="bench-policy-"))
    server, api = start_sandbox()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ZAZA_")},
        **api,
        "ZAZA_CONFIG_DIR": str(work / "config"),
        "XDG_DATA_HOME": str(work / "data"),
    }
    try:
        listed = numbers(args.numbers, seed=1)
        source = work / "optouts.txt"
        source.write_text("".join(n + "\n" for n in listed))
        full, empty = work / "full.sqlite3", work / "empty.sqlite3"

        seconds, rss = measure([*zaza, "dnc", "import", str(source), "--dnc", str(full)], env)
        print(f"dnc import of {args.numbers:,} numbers: {seconds:.1f} s (target <= 30 s), "
              f"peak RSS {rss:.0f} MiB")  # fmt: skip

        fill_ledger(full, args.ledger, seed=2)
        measure([*zaza, "dnc", "--dnc", str(empty)], env)  # an empty list, same schema

        check_env = {**env, "ZAZA_DNC": str(full)}
        # An unlisted number (exit 0): the same look-up as a listed one, which exits 17.
        taken = set(listed)
        probe = next(n for n in numbers(50, seed=9) if n not in taken)
        blocked = subprocess.run(
            [*zaza, "dnc", "check", listed[0]], env=check_env, capture_output=True
        )
        assert blocked.returncode == 17, blocked
        checks = interleaved(
            {
                "check": [*zaza, "dnc", "check", probe],
                "version": [*zaza, "--version"],
                "sqlite": [sys.executable, "-c", "import sqlite3"],
                "pass": [sys.executable, "-c", "pass"],
            },
            check_env,
            args.rounds,
        )
        ratio = median_ratio(checks["check"], checks["version"])
        print(
            f"dnc check against {args.numbers:,}: {ratio:.2f}x "
            f"zaza --version (target <= 1.1x; medians of {args.rounds} rounds: "
            f"{statistics.median(s for s, _ in checks['check']) * 1000:.1f} ms vs "
            f"{statistics.median(s for s, _ in checks['version']) * 1000:.1f} ms); floor: "
            f"`import sqlite3` is {median_ratio(checks['sqlite'], checks['pass']):.2f}x "
            "`python -c pass`"
        )

        # Rows: half listed or dialled, half new (the dry run decides every one).
        rows = numbers(args.rows, seed=3)[: args.rows // 2] + listed[: args.rows // 2]
        csv_path = work / "bench.csv"
        csv_path.write_text("to\n" + "".join(n + "\n" for n in rows))
        batch = [*zaza, "calls", "batch", str(csv_path), "--from", FROM, "--agent", "12",
                 "--dry-run", "--allow-quiet-hours"]  # fmt: skip
        runs = interleaved(
            {
                "full": [*batch, "--dnc", str(full)],
                "empty": [*batch, "--dnc", str(empty)],
            },
            env,
            max(3, args.rounds // 2),
            ok=(0, 17),  # 17: the policy holds rows (the full list), as it should
        )
        full_s = statistics.median(s for s, _ in runs["full"])
        empty_s = statistics.median(s for s, _ in runs["empty"])
        per_row = (full_s - empty_s) / args.rows * 1000
        print(
            f"calls batch --dry-run of {args.rows:,} rows: {full_s:.2f} s against "
            f"{args.numbers:,} listed and {args.ledger:,} dials, {empty_s:.2f} s against an "
            f"empty list: {per_row:+.3f} ms per row (target <= 2 ms)"
        )

        from zazacli.policy.rules import Guard, Listed, parse_cap
        from zazacli.policy.store import PolicyStore

        with PolicyStore.open(full) as store:
            guard = Guard(store, cap=parse_cap(None), repeat_after=86400.0, listed=Listed())
            started = time.perf_counter()
            guard.verdicts(rows, repeat=True, journal=str(work / "j.jsonl"))
            spent = time.perf_counter() - started
        per_check = spent / args.rows * 1000
        print(f"the policy's check of those rows in-process: {per_check:.3f} ms per row")

        print("requests of one dispatch (--debug lines):")
        arms = {"now": dict(env)}
        if args.before:
            arms["before"] = {**env, "PYTHONPATH": args.before}
        for name, arm_env in arms.items():
            done = subprocess.run(
                [sys.executable, "-m", "zazacli", "--debug", "calls", "dispatch", "--from", FROM,
                 "--to", f"+1415555015{len(name)}", "--agent", "12", "--allow-quiet-hours"],
                env=arm_env, capture_output=True, text=True, cwd=work,
            )  # fmt: skip
            sent = [line.split(" ")[2:4] for line in done.stderr.splitlines()
                    if line.startswith("debug: > ")]  # fmt: skip
            print(f"  {name}: {len(sent)} requests: " + ", ".join(" ".join(s) for s in sent))
    finally:
        server.kill()


if __name__ == "__main__":
    main()
