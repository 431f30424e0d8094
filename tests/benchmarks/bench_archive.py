"""The local archive: sync against export-transcripts, a no-change sync, size, search, and
`calls stats --local` against `calls stats` over the API.

Run: python tests/benchmarks/bench_archive.py [--calls 20000] [--search-calls 100000]
     [--rounds 3] [--concurrency 4] [--keep DIR] [--only sync|search|stats|scaling]
     [--no-grep] [--scale 100000]

Goals:
  - a first `zaza calls sync` of N calls with transcripts takes <= 1.2x the time of
    `zaza calls export-transcripts` of the same calls (both subprocesses against the same
    sandbox subprocess, interleaved, medians);
  - a sync with nothing new makes <= 10 requests (counted from `--debug`);
  - archive size per call (reported);
  - over an archive of --search-calls calls: the query alone (in-process `search()`, the
    best 20 with snippets, 50 queries) has a median <= 20 ms (p95 reported); over
    1,000,000 calls a median <= 50 ms, a p95 <= 300 ms, and a very common word
    <= 1.0x the raw ranked FTS5 query (`--search-calls 1000000 --no-grep`); a whole
    `zaza calls search WORD` process (every hit, piped) takes <= 0.5x `grep -ril WORD`
    over the same transcripts exported as text files;
  - `zaza calls stats --local` over an archive of --search-calls calls takes <= 0.2x the
    time of `zaza calls stats` over the API of a sandbox with as many calls (both whole
    processes, --json, interleaved, medians; --by status, day and hour).
The big archive is filled in-process, through the archive's own writes, from the
sandbox's generator (the same calls and turns `GET /calls/{id}` would answer): syncing
100,000 calls over HTTP would take minutes and measure nothing new.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import measure, start_sandbox

SYNC_BUDGET = 1.2
REQUEST_BUDGET = 10
QUERY_BUDGET_MS = 20.0
PROCESS_BUDGET = 0.5
STATS_BUDGET = 0.2
STATS_GROUPINGS = ("status", "day", "hour")
# 50 varied queries over the sandbox's transcripts: rare and very common words, phrases,
# prefixes, NEAR, AND/OR/NOT, Spanish, French and Japanese.
QUERIES = [
    "refund", "thursday", "予約", "espanol", '"call you back"', "reschedul*",
    "NEAR(plan month, 6)", "refund AND card", "rembours* OR reembolso", "acme",
    "pro", "plan", "price", "month", "webinar", "salesforce", "delivery", "arrived",
    "cancel*", "subscription", "expensive", "renew*", "friday", "calendar", "appointment",
    "discount", "yearly", '"out for delivery"', '"pro plan"', '"end of the month"',
    "interested NOT thanks", "thursday AND friday", "booked OR reserved", "unlimited minutes",
    "NEAR(call back, 3)", "review*", "integrate", "message tone", "tomorrow afternoon",
    "reembolso", "jueves", "remboursement", "jeudi", "返金", "木曜日", "料金",
    "removed number", "fixed", "help*", "contract",
]  # fmt: skip
GREP_WORD = "refund"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--search-calls", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--keep", type=Path, help="work in DIR and leave it (default: a temp dir)")
    parser.add_argument(
        "--only", choices=("sync", "search", "stats", "scaling"), help="run one part only"
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=100_000,
        help="scaling: the larger list (the smaller is a tenth of it)",
    )
    parser.add_argument(
        "--no-grep",
        action="store_true",
        help="search: skip the grep comparison (exporting a million text files takes long)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        work = args.keep or Path(temp)
        work.mkdir(parents=True, exist_ok=True)
        ok = True
        if args.only in (None, "sync"):
            ok = bench_sync(work, args.calls, args.rounds, args.concurrency)
        if args.only in (None, "search"):
            ok = bench_search(work, args.search_calls, args.no_grep) and ok
        if args.only in (None, "stats"):
            ok = bench_stats(work, args.search_calls, args.rounds) and ok
        if args.only == "scaling":  # minutes: only when asked for
            ok = bench_scaling(work, args.scale, args.concurrency) and ok
    print("all goals met" if ok else "some goals MISSED")
    if not ok:
        raise SystemExit(1)


# ---------------------------------------------------------------- sync


def bench_sync(work: Path, calls: int, rounds: int, concurrency: int) -> bool:
    server, printed = start_sandbox("--calls", str(calls))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ZAZA_")}, **printed}
    zaza = [sys.executable, "-m", "zazacli"]
    c = ["-c", str(concurrency)]
    times: dict[str, list[float]] = {"export": [], "sync": []}
    try:
        for n in range(rounds):
            export = [*zaza, "calls", "export-transcripts", str(work / f"export{n}"), *c]
            times["export"].append(measure(export, env)[0])
            sync = [*zaza, "calls", "sync", "--archive", str(work / f"sync{n}.sqlite3"), *c]
            times["sync"].append(measure(sync, env)[0])
        resync = subprocess.run(
            [*zaza, "--debug", "calls", "sync", "--archive", str(work / "sync0.sqlite3")],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait()
    requests = [line for line in resync.stderr.splitlines() if line.startswith("debug: > ")]
    export, sync = (statistics.median(times[k]) for k in ("export", "sync"))
    size = (work / "sync0.sqlite3").stat().st_size
    print(f"{calls:,} calls, {rounds} rounds, concurrency {concurrency}, medians")
    print(f"  zaza calls export-transcripts   {export:7.2f} s")
    print(f"  zaza calls sync (first)          {sync:7.2f} s  {sync / export:4.2f}x  "
          f"(goal <= {SYNC_BUDGET}x)")  # fmt: skip
    print(f"  sync with nothing new            {len(requests)} requests (goal <= {REQUEST_BUDGET})")
    for line in requests:
        print(f"    {line.removeprefix('debug: > ')}")
    print(f"  archive size                     {size / 2**20:.1f} MiB, {size / calls:,.0f} B/call")
    return sync / export <= SYNC_BUDGET and len(requests) <= REQUEST_BUDGET


def bench_scaling(work: Path, large: int, concurrency: int) -> bool:
    """Time per call of a first sync and of export-transcripts at a tenth of `large` and at
    `large` (whole processes against a sandbox of as many calls): for 10x the calls, 10x
    the time, within 10%."""
    per_call: dict[tuple[str, int], float] = {}
    for calls in (large // 10, large):
        server, printed = start_sandbox("--calls", str(calls))
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("ZAZA_")}, **printed}
        zaza = [sys.executable, "-m", "zazacli"]
        c = ["-c", str(concurrency)]
        try:
            export = [*zaza, "calls", "export-transcripts", str(work / f"scale{calls}"), *c]
            per_call["export", calls] = measure(export, env)[0] / calls * 1000
            sync = [*zaza, "calls", "sync", "--archive", str(work / f"scale{calls}.sqlite3"), *c]
            per_call["sync", calls] = measure(sync, env)[0] / calls * 1000
        finally:
            server.terminate()
            server.wait()
    ok = True
    for what in ("export", "sync"):
        small, big = per_call[what, large // 10], per_call[what, large]
        ok = ok and big <= small * 1.1
        print(f"  {what:<6} {small:.3f} ms/call at {large // 10:,}, {big:.3f} at {large:,}: "
              f"{big / small:.2f}x (goal <= 1.10x)")  # fmt: skip
    return ok


# ---------------------------------------------------------------- search


def fill_archive(path: Path, calls: int) -> int:
    """The sandbox's seeded calls, stored as a sync stores them; returns how many have
    turns."""
    from zazacli.archive.store import Archive
    from zazacli.sandbox.app import SandboxApp, SandboxConfig

    app = SandboxApp(SandboxConfig(calls=calls, live_calls=False))
    archive = Archive.open(path, create=True)
    archive.save_agents(list(app.agents.values()))
    with_turns = 0
    try:
        records = app.calls
        for start in range(0, len(records), 100):
            details = [json.loads(app.call_detail(r)) for r in records[start : start + 100]]
            archive.store_listed([(d["id"], d) for d in details], run=1)
            archive.store_details([(d["id"], d) for d in details], run=1)
            with_turns += sum(bool(d["turns"]) for d in details)
    finally:
        archive.close()
    return with_turns


def export_texts(path: Path, directory: Path) -> int:
    """Every archived transcript as `<id>.txt`, as `export-transcripts` writes them."""
    import sqlite3

    from zazacli.calls.transcript import transcript_file

    directory.mkdir(exist_ok=True)
    count = 0
    with sqlite3.connect(path) as db:
        for raw, turns in db.execute("SELECT raw, turns FROM calls WHERE n_turns > 0"):
            call = {**json.loads(raw), "turns": json.loads(turns)}
            (directory / f"{call['id']}.txt").write_text(transcript_file(call, "text"))
            count += 1
    return count


def big_archive(work: Path, calls: int) -> Path:
    """The archive of `calls` seeded calls (made once, kept with --keep)."""
    path = work / f"search{calls}.sqlite3"
    if not path.exists():
        started = time.perf_counter()
        with_turns = fill_archive(path, calls)
        took, size = time.perf_counter() - started, path.stat().st_size
        print(f"{calls:,} calls archived in-process ({with_turns:,} with turns) in "
              f"{took:.0f} s, {size / calls:,.0f} B/call")  # fmt: skip
    return path


COMMON_WORD = "acme"  # in nearly every greeting of the sandbox's agents


def common_word_ratios(archive: Any) -> tuple[float, float]:
    """zaza's best 20 for a word in most turns (as searched, and with --rank-all) over the
    raw ranked FTS5 query (the floor any ranking of every match pays): medians of 7,
    interleaved."""
    from zazacli.api.listing import CallFilter
    from zazacli.archive.search import search

    raw = "SELECT rowid FROM turns_fts WHERE turns_fts MATCH ? ORDER BY rank LIMIT 20"
    ours, every, floor = [], [], []
    for _ in range(7):
        started = time.perf_counter()
        list(search(archive, COMMON_WORD, CallFilter(), limit=20).hits)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        list(search(archive, COMMON_WORD, CallFilter(), limit=20, rank_all=True).hits)
        every.append(time.perf_counter() - started)
        started = time.perf_counter()
        archive.conn.execute(raw, (COMMON_WORD,)).fetchall()
        floor.append(time.perf_counter() - started)
    base = statistics.median(floor)
    return statistics.median(ours) / base, statistics.median(every) / base


def bench_search(work: Path, calls: int, no_grep: bool = False) -> bool:
    from zazacli.api.listing import CallFilter
    from zazacli.archive.search import search
    from zazacli.archive.store import Archive
    from zazacli.archive.tokens import match_query

    path = big_archive(work, calls)
    archive = Archive.open(path, create=False)
    per_query: dict[str, list[float]] = {}
    try:
        for query in QUERIES:
            list(search(archive, query, CallFilter(), limit=20).hits)  # warm the cache
            per_query[query] = []
            for _ in range(10):
                started = time.perf_counter()
                found = search(archive, query, CallFilter(), limit=20)
                hits = list(found.hits)
                per_query[query].append((time.perf_counter() - started) * 1000)
            matches = archive.conn.execute(
                "SELECT count(*) FROM turns_fts WHERE turns_fts MATCH ?",
                (match_query(query),),
            ).fetchone()[0]
            among = "" if found.ranked is None else f", best of the newest {found.ranked:,}"
            print(f"  {query:<26} {statistics.median(per_query[query]):7.2f} ms median, "
                  f"{matches:>7,} matching turns, {len(hits)} shown{among}")  # fmt: skip
        common, common_all = common_word_ratios(archive)
    finally:
        archive.close()
    every = sorted(ms for values in per_query.values() for ms in values)
    median, p95 = statistics.median(every), every[int(len(every) * 0.95)]
    # The goals: a median of 20 ms below 1M calls; from 1M on, 50 ms with a p95 of 300 ms.
    median_goal, p95_goal = (QUERY_BUDGET_MS, None) if calls < 1_000_000 else (50.0, 300.0)
    goals = f"median <= {median_goal:.0f} ms" + (f", p95 <= {p95_goal:.0f} ms" if p95_goal else "")
    print(f"query alone (best 20, with snippets), {len(QUERIES)} queries, {calls:,} calls: "
          f"median {median:.2f} ms, p95 {p95:.2f} ms, max {every[-1]:.2f} ms "
          f"(goal: {goals})")  # fmt: skip
    print(f"a very common word ({COMMON_WORD!r}), best 20: {common:.2f}x FTS5's own ranked "
          f"LIMIT 20 (goal: <= 1.0x; issue 19); with --rank-all {common_all:.2f}x")  # fmt: skip
    ok = median <= median_goal and (p95_goal is None or p95 <= p95_goal) and common <= 1.0
    if no_grep:
        return ok

    texts = work / f"texts{calls}"
    if not texts.exists():
        print(f"  exported {export_texts(path, texts):,} transcript files for grep")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAZA_")}
    grep = ["grep", "-ril", GREP_WORD, str(texts)]
    zaza = [sys.executable, "-m", "zazacli", "calls", "search", GREP_WORD, "--archive", str(path)]
    limited = [*zaza, "--limit", "20"]
    measure(grep, env)  # the page cache warm for both
    runs: dict[str, list[float]] = {"grep": [], "zaza": [], "limited": []}
    for _ in range(5):
        runs["grep"].append(measure(grep, env)[0])
        runs["zaza"].append(measure(zaza, env)[0])
        runs["limited"].append(measure(limited, env)[0])
    grep_s, zaza_s, limited_s = (statistics.median(runs[k]) for k in ("grep", "zaza", "limited"))
    hits = subprocess.run(zaza, env=env, capture_output=True, text=True, check=True).stdout
    print(f"whole process, {GREP_WORD!r}, medians of 5:")
    print(f"  grep -ril over {texts.name}/        {grep_s:6.3f} s")
    print(f"  zaza calls search (every hit)    {zaza_s:6.3f} s  {zaza_s / grep_s:4.2f}x  "
          f"({len(hits.splitlines()):,} hits; goal <= {PROCESS_BUDGET}x)")  # fmt: skip
    print(f"  zaza calls search --limit 20     {limited_s:6.3f} s  {limited_s / grep_s:4.2f}x")
    return ok and zaza_s / grep_s <= PROCESS_BUDGET


# ---------------------------------------------------------------- stats


def bench_stats(work: Path, calls: int, rounds: int) -> bool:
    """The same report from the archive (SQL) and from the API (every page read)."""
    path = big_archive(work, calls)
    zaza = [sys.executable, "-m", "zazacli", "calls", "stats", "--json"]
    local_env = {k: v for k, v in os.environ.items() if not k.startswith("ZAZA_")}
    measure([*zaza, "--local", "--archive", str(path)], local_env)  # migrated, cache warm
    server, printed = start_sandbox("--calls", str(calls))
    api_env = {**local_env, **printed}
    ratios = []
    print(f"calls stats, {calls:,} calls, medians of {rounds}:")
    try:
        for by in STATS_GROUPINGS:
            times: dict[str, list[float]] = {"api": [], "local": []}
            for _ in range(rounds):
                times["api"].append(measure([*zaza, "--by", by], api_env)[0])
                local = [*zaza, "--by", by, "--local", "--archive", str(path)]
                times["local"].append(measure(local, local_env)[0])
            api_s, local_s = (statistics.median(times[k]) for k in ("api", "local"))
            ratios.append(local_s / api_s)
            print(f"  --by {by:<7} API {api_s:6.2f} s   --local {local_s:6.3f} s  "
                  f"{local_s / api_s:4.2f}x  (goal <= {STATS_BUDGET}x)")  # fmt: skip
    finally:
        server.terminate()
        server.wait()
    return max(ratios) <= STATS_BUDGET


if __name__ == "__main__":
    main()
