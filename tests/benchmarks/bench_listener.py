"""Listener throughput: signed ~1 KB events from 16 concurrent senders into `listen --save`.

Run: python tests/benchmarks/bench_listener.py [--events 5000] [--senders 16] [--rounds 3]
     [--sender auto|wrk|threads] [--servers zaza,stdlib,aiohttp]
Goal: >= 2,000 events/s, and the saved count equals the acknowledged count, each event
exactly once; still so with the checks against hostile senders (a deadline per request, a
cap on connections, whole-line writes). The listener runs as `zaza webhooks listen --save F
--jsonl >/dev/null` in a subprocess. Senders: `wrk` with a generated Lua script when it is
installed, else threads on raw keep-alive sockets (cheap enough not to be the bottleneck).
Events/s is measured on the listener's side, from the first to the last saved
`received_at`, so both senders are timed the same way; medians over the rounds.

Anchors, run in the same rounds with the same senders and events (the order rotates each
round): `stdlib`, a bare `http.server.ThreadingHTTPServer` subprocess, and `aiohttp` (when
it is importable; else skipped with a note). Each does what the listener must do at the
least: the same HMAC check (`zazacli.webhooks.signing`), one line per event appended to a
file (`<time> <verdict> <raw body>`), then 200 (401 for a bad signature). Goal: zaza >= 1.0x
stdlib and >= 0.8x aiohttp, the ratio of the medians. With an API key in the environment,
`listen` also runs its opt-out hook (`before_ack`) before every ack, on a worker thread:
set ZAZA_API_KEY (and a scratch HOME) to measure that path too.
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
from zazacli.webhooks.signing import SIGNATURE_HEADER, verify_signature

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


def start_listener(save: Path, server: str = "zaza") -> tuple[subprocess.Popen[str], str]:
    if server == "zaza":
        command = ["-m", "zazacli", "webhooks", "listen", "--port", "0", "--save", str(save)]
        command.append("--jsonl")
    else:  # an anchor, served by this very script
        command = [__file__, "--serve", server, "--save", str(save)]
    proc = subprocess.Popen(
        [sys.executable, *command],
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


def read_saved(save: Path, server: str) -> list[tuple[float, int, bool]]:
    """(received at, event id, valid signature) of each saved line."""
    saved = []
    for line in save.read_bytes().splitlines():
        if not line.strip():
            continue
        if server == "zaza":
            record = json.loads(line)
            moment = datetime.fromisoformat(record["received_at"]).timestamp()
            saved.append((moment, record["body"]["data"]["id"], record["signature"] == "valid"))
        else:
            stamp, verdict, raw = line.split(b" ", 2)
            saved.append((float(stamp), json.loads(raw)["data"]["id"], verdict == b"valid"))
    return saved


def one_round(
    events: list[tuple[bytes, str]], senders: int, use_wrk: bool, server: str = "zaza"
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        save = Path(tmp) / "events.jsonl"
        proc, url = start_listener(save, server)
        try:
            if use_wrk:
                acked = send_with_wrk(url, events, senders, save, Path(tmp))
            else:
                acked = send_with_threads(url, events, senders)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(30)
        saved = read_saved(save, server)
    stamps = [moment for moment, _, _ in saved]
    span = (max(stamps) - min(stamps)) or 1e-3
    return {
        "acked": acked,
        "saved": len(saved),
        "unique": len({number for _, number, _ in saved}),
        "valid": sum(valid for _, _, valid in saved),
        "rate": len(saved) / span,
    }


# ---------------------------------------------------------------- the anchors


class Appender:
    """One line per event, `<time> <verdict> <raw body>`, appended whole under a lock."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.lock = threading.Lock()

    def save(self, raw: bytes, signature: str | None) -> int:
        valid = verify_signature(SECRET, raw, signature)
        with self.lock:
            line = b"%.6f %s " % (time.time(), b"valid" if valid else b"invalid")
            os.write(self.fd, line + raw + b"\n")
        return 200 if valid else 401


def announce(port: int) -> None:
    print(f"listening on http://127.0.0.1:{port}/webhooks", file=sys.stderr, flush=True)


def serve_stdlib(appender: Appender) -> None:
    """A bare ThreadingHTTPServer: Content-Length body, HMAC check, append, 200."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the senders expect
        disable_nagle_algorithm = True  # else head and body wait on delayed ACKs

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = appender.save(raw, self.headers.get(SIGNATURE_HEADER))
            data = b'{"received": true}' if status == 200 else b'{"error": "invalid signature"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # wrk's end-of-share marker: 404, as the listener says
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    announce(server.server_address[1])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def serve_aiohttp(appender: Appender) -> None:
    """The same in aiohttp: one event loop, the append done in it."""
    from aiohttp import web

    async def receive(request: web.Request) -> web.Response:
        raw = await request.read()
        status = appender.save(raw, request.headers.get(SIGNATURE_HEADER))
        answer = {"received": True} if status == 200 else {"error": "invalid signature"}
        return web.json_response(answer, status=status)

    app = web.Application()
    app.router.add_post("/webhooks", receive)
    sock = socket.create_server(("127.0.0.1", 0), backlog=256)
    announce(sock.getsockname()[1])
    web.run_app(app, sock=sock, print=None, access_log=None, handle_signals=True)


def have_aiohttp() -> bool:
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        return False
    return True


def report(server: str, results: list[dict[str, float]], count: int) -> tuple[float, bool]:
    median = statistics.median(r["rate"] for r in results)
    exact = all(r["acked"] == r["saved"] == r["unique"] == count for r in results)
    rounds = ", ".join(f"{r['rate']:,.0f}" for r in results)
    print(
        f"{server:>8} median: {median:,.0f} events/s (rounds: {rounds}); "
        f"saved == acked, each exactly once: {'yes' if exact else 'NO'}"
    )
    return median, exact


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sender", choices=("auto", "wrk", "threads"), default="auto")
    parser.add_argument("--servers", default="zaza,stdlib,aiohttp", help="which, in order")
    parser.add_argument("--serve", choices=("stdlib", "aiohttp"), help=argparse.SUPPRESS)
    parser.add_argument("--save", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        (serve_stdlib if args.serve == "stdlib" else serve_aiohttp)(Appender(args.save))
        return
    servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    if "aiohttp" in servers and not have_aiohttp():
        print("note: aiohttp is not installed; its anchor is skipped (pip install aiohttp)")
        servers.remove("aiohttp")
    use_wrk = args.sender == "wrk" or (args.sender == "auto" and shutil.which("wrk") is not None)
    events = make_events(args.events)
    size = statistics.mean(len(raw) for raw, _ in events)
    print(
        f"{args.events} signed events of ~{size:.0f} bytes, {args.senders} concurrent senders "
        f"({'wrk' if use_wrk else 'threads'}), {args.rounds} rounds; servers: {', '.join(servers)}"
    )
    results: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
    for number in range(1, args.rounds + 1):
        turn = number - 1
        for server in servers[turn % len(servers) :] + servers[: turn % len(servers)]:
            result = one_round(events, args.senders, use_wrk, server)
            results[server].append(result)
            print(
                f"round {number} {server:>8}: {result['rate']:,.0f} events/s; "
                f"acked {result['acked']:.0f}, saved {result['saved']:.0f} "
                f"({result['unique']:.0f} unique, {result['valid']:.0f} valid signatures)"
            )
    medians, all_exact = {}, True
    for server in servers:
        medians[server], exact = report(server, results[server], args.events)
        all_exact = all_exact and exact
    ok = all_exact
    if "zaza" in medians:
        print(f"zaza median: {medians['zaza']:,.0f} events/s (goal >= 2,000)")
        ok = ok and medians["zaza"] >= 2000
        for anchor, goal in (("stdlib", 1.0), ("aiohttp", 0.8)):
            if anchor in medians:
                ratio = medians["zaza"] / medians[anchor]
                met = "met" if ratio >= goal else "NOT met"
                print(f"zaza / {anchor}: {ratio:.2f}x (goal >= {goal:.1f}x: {met})")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
