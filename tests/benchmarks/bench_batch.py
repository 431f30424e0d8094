"""Batch dispatch pace and safety: `zaza calls batch` against a rate-limited sandbox.

Run: python tests/benchmarks/bench_batch.py [--rows 300] [--rate 600/min]
Goal: the achieved dispatch rate is >= 90% of the sandbox's limit
(--rate-limit 600, i.e. 10/s), and no number is dialled twice. Three scenarios: a clean
API, one that fails 5% of GETs (--error-rate 0.05), and one that answers every dispatch a
second late (--slow-dispatch 1, with enough concurrency to keep the pace). The rate is
measured from the journal (first attempt to last outcome) and the dials from GET /calls.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from harness import start_sandbox

LIMIT_PER_MINUTE = 600
FROM = "+14155550100"
SCENARIOS: list[tuple[str, list[str], list[str]]] = [
    # (name, extra sandbox flags, extra batch flags)
    ("clean API", [], ["--concurrency", "4"]),
    ("--error-rate 0.05", ["--error-rate", "0.05"], ["--concurrency", "4"]),
    ("--slow-dispatch 1", ["--slow-dispatch", "1"], ["--concurrency", "16"]),
]


def stamp(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def dials(env: dict[str, str], since: datetime, numbers: set[str]) -> Counter[str]:
    """Calls per number created since `since`, read back through GET /calls."""
    counts: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {env['ZAZA_API_KEY']}"}
    page = 0
    with httpx.Client(headers=headers, timeout=30) as client:
        while True:
            params = {
                "direction": "OUTBOUND",
                "page": page,
                "size": 100,
                "startDate": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            response = client.get(env["ZAZA_BASE_URL"] + "/calls", params=params)
            if response.status_code in (429, 500, 503):  # the sandbox's own limit and faults
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            data = response.json()
            counts.update(c["toNumber"] for c in data["content"] if c["toNumber"] in numbers)
            if data["last"]:
                return counts
            page += 1


def run_scenario(
    name: str, sandbox_flags: list[str], batch_flags: list[str], rows: int, rate: str, workdir: Path
) -> dict[str, object]:
    numbers = [f"+1646555{3000 + i:04d}" for i in range(rows)]
    csv_path = workdir / f"bench-{len(os.listdir(workdir))}.csv"
    csv_path.write_text("to,NAME\n" + "".join(f"{n},Lead {i}\n" for i, n in enumerate(numbers)))
    server, env = start_sandbox(
        "--speed", "50", "--rate-limit", str(LIMIT_PER_MINUTE), *sandbox_flags
    )
    started_at = datetime.now(UTC) - timedelta(seconds=1)
    try:
        began = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "zazacli",
                "calls",
                "batch",
                str(csv_path),
                "--from",
                FROM,
                "--agent",
                "12",
                "--rate",
                rate,
                "--allow-quiet-hours",
                *batch_flags,
            ],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - began
        counts = dials(env, started_at, set(numbers))
    finally:
        server.terminate()
        server.wait()
    journal = [
        json.loads(line)
        for line in Path(str(csv_path) + ".journal.jsonl").read_text().splitlines()[1:]
    ]
    attempts = [stamp(e["ts"]) for e in journal if e["event"] == "attempt"]
    outcomes = [stamp(e["ts"]) for e in journal if e["event"] in ("queued", "reconciled")]
    span = max(outcomes) - min(attempts) if outcomes and attempts else float("nan")
    achieved = len(outcomes) / span if span else float("nan")
    summary = [line for line in done.stderr.splitlines() if line.strip().startswith("rate:")]
    return {
        "name": name,
        "exit": done.returncode,
        "queued": len(outcomes),
        "achieved": achieved,
        "share": achieved / (LIMIT_PER_MINUTE / 60),
        "wall": wall,
        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
        "missing": len(set(numbers) - set(counts)),
        "attempts": len(attempts),
        "cli_rate_line": summary[0].strip() if summary else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--rate", default=f"{LIMIT_PER_MINUTE}/min")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [
            run_scenario(name, sb, flags, args.rows, args.rate, Path(tmp))
            for name, sb, flags in SCENARIOS
        ]
    print(
        f"{args.rows} rows, --rate {args.rate}, sandbox --rate-limit {LIMIT_PER_MINUTE} "
        f"({LIMIT_PER_MINUTE / 60:g}/s)"
    )
    print(
        f"{'scenario':<20} {'exit':>4} {'queued':>6} {'calls/s':>8} {'of limit':>8} "
        f"{'wall s':>7} {'dupes':>5} {'missing':>7} {'POSTs':>5}"
    )
    for r in results:
        print(
            f"{r['name']:<20} {r['exit']:>4} {r['queued']:>6} {r['achieved']:>8.2f} "
            f"{r['share']:>8.0%} {r['wall']:>7.1f} {r['duplicates']:>5} {r['missing']:>7} "
            f"{r['attempts']:>5}   ({r['cli_rate_line']})"
        )


if __name__ == "__main__":
    main()
