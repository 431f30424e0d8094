"""Run a server or follower from the docs as a reader would, then press Ctrl-C.

    python docs_follow.py FOLLOW LIMIT zaza ARGS…

Runs `zaza ARGS…`, copies its output through, and sends it SIGINT FOLLOW seconds after its
banner ("listening on", "following calls"), or LIMIT seconds after the start when no banner
comes. Only zaza gets the SIGINT, not the rest of a pipeline it writes into. Exits with
zaza's exit code (128 + N for a signal N).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from typing import IO

BANNERS = (b"listening on", b"following calls")
STOP_LIMIT = 15.0  # seconds zaza may take to stop after Ctrl-C before it is killed


def default_sigint() -> None:
    """In the child: Ctrl-C as in a terminal. A shell's background job (`pytest … &`, cron,
    nohup under a non-interactive shell) starts with SIGINT ignored, and Python would keep
    ignoring it, so the SIGINT below would do nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def pump(source: IO[bytes], sink: IO[bytes], seen: threading.Event) -> None:
    for line in iter(source.readline, b""):
        sink.write(line)
        sink.flush()
        if any(banner in line for banner in BANNERS):
            seen.set()


def main(argv: list[str]) -> int:
    follow, limit, command = float(argv[0]), float(argv[1]), argv[2:]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=default_sigint
    )
    assert proc.stdout is not None and proc.stderr is not None
    seen = threading.Event()
    pumps = [
        threading.Thread(target=pump, args=(proc.stdout, sys.stdout.buffer, seen), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, sys.stderr.buffer, seen), daemon=True),
    ]
    for thread in pumps:
        thread.start()
    deadline = time.monotonic() + limit
    while proc.poll() is None and not seen.is_set() and time.monotonic() < deadline:
        seen.wait(0.02)
    if seen.is_set():
        time.sleep(follow)  # the reader watches for a moment, as the docs describe
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(STOP_LIMIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    for thread in pumps:
        thread.join(STOP_LIMIT)
    if not seen.is_set():
        sys.stderr.write("docs_follow: no banner seen\n")
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
