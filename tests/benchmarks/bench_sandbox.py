"""Requests per second of `GET /calls?size=100` pages from one keep-alive client.

Run: python tests/benchmarks/bench_sandbox.py [--calls 10000] [--rounds 5] [--in-thread]
The server runs as a subprocess (`python -m zazacli sandbox`) by default, so that client
and server do not share one GIL; --in-thread measures both in one process.
"""

from __future__ import annotations

import argparse
import http.client
import signal
import statistics
import time
from urllib.parse import urlsplit

from harness import start_sandbox as start_subprocess


def one_round(base_url: str, key: str, seconds: float, query: str) -> float:
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    headers = {"Authorization": f"Bearer {key}"}
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        conn.request(
            "GET", f"{parts.path}/calls?size=100&page={done % 100}{query}", headers=headers
        )
        response = conn.getresponse()
        body = response.read()
        if response.status != 200 or not body.startswith(b'{"content":['):
            raise SystemExit(f"unexpected answer {response.status}: {body[:200]!r}")
        done += 1
    elapsed = time.perf_counter() - started
    conn.close()
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one round")
    parser.add_argument("--in-thread", action="store_true", help="serve from this process")
    parser.add_argument("--filter", default="", help="extra query, e.g. '&status=COMPLETED'")
    args = parser.parse_args()

    proc = None
    if args.in_thread:
        from zazacli.sandbox import SandboxConfig, start_sandbox

        sandbox = start_sandbox(SandboxConfig(port=0, calls=args.calls))
        base_url, key = sandbox.base_url, sandbox.api_key
    else:
        proc, printed = start_subprocess("--calls", str(args.calls))
        base_url, key = printed["ZAZA_BASE_URL"], printed["ZAZA_API_KEY"]
    try:
        one_round(base_url, key, 0.5, args.filter)  # warm-up: fills the serialized-call cache
        rates = [one_round(base_url, key, args.seconds, args.filter) for _ in range(args.rounds)]
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)
        else:
            sandbox.close()
    where = "in-thread" if args.in_thread else "subprocess"
    print(
        f"GET /calls?size=100{args.filter} ({args.calls} calls, {where}, one keep-alive "
        f"client): " + ", ".join(f"{r:.0f}" for r in rates) + " req/s"
    )
    print(f"median: {statistics.median(rates):.0f} req/s")


if __name__ == "__main__":
    main()
