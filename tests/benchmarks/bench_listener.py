"""Listener throughput: signed ~1 KB events from 16 concurrent senders into `listen --save`.

Run: python tests/benchmarks/bench_listener.py [--events 5000] [--senders 16] [--rounds 3]
     [--sender auto|wrk|threads]
Goal: >= 2,000 events/s, and the saved count equals the acknowledged count, each event
exactly once; still so with the checks against hostile senders (a deadline per request, a
cap on connections, whole-line writes). The listener runs as `zaza webhooks listen --save F
--jsonl >/dev/null` in a subprocess. Senders: `wrk` with a generated Lua script when it is
installed, else threads on raw keep-alive sockets (cheap enough not to be the bottleneck).
Events/s is measured on the listener's side, from the first to the last saved
`received_at`, so both senders are timed the same way; medians over the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from zazacli.webhooks.delivery import webhook_headers
from zazacli.webhooks.samples import encode_body, event_body, sample_data

SECRET = "whsec_bench_0123456789abcdef"
EVENT = "call.completed"
TARGET_SIZE = 1024


def make_events(count: int) -> list[tuple[bytes, str]]:
    """`count` distinct signed bodies of about 1 KB: (raw, signature)."""
    events = []
    for number in range(count):
        data = {**sample_data(EVENT), "id": number}
        raw = encode_body(event_body(EVENT, data))
        padding = "x" * max(0, TARGET_SIZE - len(raw) - 12)
        data["variables"] = {**data["variables"], "NOTES": padding}
        raw = encode_body(event_body(EVENT, data))
        events.append((raw, webhook_headers(raw, EVENT, secret=SECRET)["X-ZazaVoice-Signature"]))
    return events


def start_listener(save: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zazacli",
            "webhooks",
            "listen",
            "--port",
            "0",
            "--save",
            str(save),
            "--jsonl",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "ZAZA_WEBHOOK_SECRET": SECRET},
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        match = re.match(r"listening on (http://\S+)$", line.strip())
        if match:
            # Keep draining stderr so the listener never blocks on a full pipe.
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, match.group(1)
    raise SystemExit(f"listener did not start (exit {proc.wait()})")


def send_with_threads(url: str, events: list[tuple[bytes, str]], senders: int) -> int:
    """Each thread posts its share over one keep-alive connection; returns the 200s."""
    parts = urlsplit(url)
    host, port, path = parts.hostname or "", parts.port or 80, parts.path
    acked: queue.SimpleQueue[int] = queue.SimpleQueue()

    def request(raw: bytes, signature: str) -> bytes:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"X-ZazaVoice-Event: {EVENT}\r\nX-ZazaVoice-Signature: {signature}\r\n"
            f"Content-Length: {len(raw)}\r\n\r\n"
        )
        return head.encode() + raw

    def sender(share: list[bytes]) -> None:
        count = 0
        with socket.create_connection((host, port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buffer = b""
            for data in share:
                sock.sendall(data)
                while b"\r\n\r\n" not in buffer:
                    buffer += sock.recv(65536)
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                match = re.search(rb"(?i)content-length: *(\d+)", head)
                length = int(match.group(1)) if match else 0
                while len(buffer) < length:
                    buffer += sock.recv(65536)
                buffer = buffer[length:]
                count += head.startswith(b"HTTP/1.1 200 ")
        acked.put(count)

    requests = [request(raw, sig) for raw, sig in events]
    threads = [
        threading.Thread(target=sender, args=(requests[i::senders],)) for i in range(senders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(acked.get() for _ in threads)


LUA = r"""
local bodies = {%(bodies)s}
local sigs = {%(sigs)s}
local N, T, PATH = #bodies, %(threads)d, "%(path)s"
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  nexti, acked, answered, mine = tid + 1, 0, 0, 0
  for _ = tid + 1, N, T do mine = mine + 1 end
  -- wrk calls request() once on thread 0 to check for pipelining, and never sends it.
  dry_run = tid == 0
end

function request()
  if dry_run or nexti > N then
    dry_run = false
    return wrk.format("GET", "/__done")  -- never sent (dry run) or answered 404 (share done)
  end
  local k = nexti
  nexti = nexti + T
  return wrk.format("POST", PATH, {["Content-Type"] = "application/json",
    ["X-ZazaVoice-Event"] = "%(event)s", ["X-ZazaVoice-Signature"] = sigs[k]}, bodies[k])
end

function response(status, headers, body)
  if status == 200 then acked = acked + 1 end
  if status ~= 404 then answered = answered + 1 end
  if answered >= mine then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("acked") end
  io.write("ACKED " .. total .. "\n")
end
"""


def send_with_wrk(
    url: str, events: list[tuple[bytes, str]], senders: int, save: Path, workdir: Path
) -> int:
    threads = min(senders, os.cpu_count() or 1)
    script = workdir / "events.lua"
    script.write_text(
        LUA
        % {
            "bodies": ",\n".join(f"[==[{raw.decode()}]==]" for raw, _ in events),
            "sigs": ",".join(f'"{sig}"' for _, sig in events),
            "threads": threads,
            "path": urlsplit(url).path,
            "event": EVENT,
        }
    )
    base = url[: -len(urlsplit(url).path)]
    wrk = subprocess.Popen(
        ["wrk", "-t", str(threads), "-c", str(senders), "-d", "120s", "-s", str(script), base],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # wrk runs for its whole -d; stop it (it then reports) once every event is in the file.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and count_lines(save) < len(events):
        time.sleep(0.05)
    time.sleep(0.2)
    wrk.send_signal(signal.SIGINT)
    output, _ = wrk.communicate(timeout=30)
    match = re.search(r"^ACKED (\d+)$", output, re.M)
    if not match:
        raise SystemExit(f"wrk did not report:\n{output}")
    return int(match.group(1))


def count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


def one_round(events: list[tuple[bytes, str]], senders: int, use_wrk: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        save = Path(tmp) / "events.jsonl"
        proc, url = start_listener(save)
        try:
            if use_wrk:
                acked = send_with_wrk(url, events, senders, save, Path(tmp))
            else:
                acked = send_with_threads(url, events, senders)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(30)
        lines = [json.loads(line) for line in save.read_text().splitlines()]
    ids = [line["body"]["data"]["id"] for line in lines]
    stamps = [datetime.fromisoformat(line["received_at"]) for line in lines]
    span = (max(stamps) - min(stamps)).total_seconds() or 1e-3
    return {
        "acked": acked,
        "saved": len(lines),
        "unique": len(set(ids)),
        "valid": sum(line["signature"] == "valid" for line in lines),
        "rate": len(lines) / span,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sender", choices=("auto", "wrk", "threads"), default="auto")
    args = parser.parse_args()
    use_wrk = args.sender == "wrk" or (args.sender == "auto" and shutil.which("wrk") is not None)
    events = make_events(args.events)
    size = statistics.mean(len(raw) for raw, _ in events)
    print(
        f"{args.events} signed events of ~{size:.0f} bytes, {args.senders} concurrent senders "
        f"({'wrk' if use_wrk else 'threads'}), {args.rounds} rounds"
    )
    results = []
    for number in range(1, args.rounds + 1):
        result = one_round(events, args.senders, use_wrk)
        results.append(result)
        print(
            f"round {number}: {result['rate']:,.0f} events/s; acked {result['acked']:.0f}, "
            f"saved {result['saved']:.0f} ({result['unique']:.0f} unique, "
            f"{result['valid']:.0f} valid signatures)"
        )
    median = statistics.median(r["rate"] for r in results)
    exact = all(r["acked"] == r["saved"] == r["unique"] == args.events for r in results)
    print(
        f"median: {median:,.0f} events/s (goal >= 2,000); "
        f"saved == acked, each exactly once: {'yes' if exact else 'NO'}"
    )
    if not exact or median < 2000:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
