"""What the benchmark scripts share: a sandbox in its own process, a measured child run,
rounds of commands run interleaved, and the hand-written httpx loop zaza is held against."""

from __future__ import annotations

import os
import re
import subprocess
import sys

_ENV_LINE = re.compile(r"(?:export )?(ZAZA_BASE_URL|ZAZA_API_KEY)=(\S+)")


def start_sandbox(*flags: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`zaza sandbox --port 0 --quiet FLAGS` as a subprocess (so it does not share our GIL),
    and the ZAZA_BASE_URL / ZAZA_API_KEY it printed."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ZAZA_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "zazacli", "sandbox", "--port", "0", "--quiet", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=clean,
    )  # fmt: skip
    printed: dict[str, str] = {}
    assert server.stdout is not None
    for line in server.stdout:
        if match := _ENV_LINE.match(line):
            printed[match.group(1)] = match.group(2)
        if len(printed) == 2:
            return server, printed
    server.kill()
    raise SystemExit("the sandbox did not start")


def measure(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """Wall time in seconds and peak RSS in MiB of one child process (stdout discarded);
    an exit status outside `ok` stops the benchmark."""
    import tempfile
    import time

    # stderr to a file, not a pipe: a command that says a lot (a dry run listing thousands
    # of rows) would fill a pipe nobody reads until it ends, and wait on it forever.
    with open(os.devnull, "w") as devnull, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=devnull, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        stderr.seek(0)
        error = stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) not in ok:
        raise SystemExit(f"{cmd} failed: {error[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


# The baseline of the list benchmarks: every call as a JSON line, paging by hand.
HTTPX_LOOP = r"""
import json, os, sys, httpx
base, key = os.environ["ZAZA_BASE_URL"], os.environ["ZAZA_API_KEY"]
out = sys.stdout
with httpx.Client(headers={"Authorization": "Bearer " + key}) as client:
    page = 0
    while True:
        data = client.get(base + "/calls", params={"page": page, "size": 100}).json()
        for item in data["content"]:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
        if data["last"]:
            break
        page += 1
"""


def print_medians(
    results: dict[str, list[tuple[float, float]]], title: str, width: int = 30
) -> dict[str, float]:
    """Each command's median time, median peak RSS and every round's time; the medians."""
    import statistics

    medians = {name: statistics.median(t for t, _ in values) for name, values in results.items()}
    print(f"{title}, interleaved, medians")
    for name, values in results.items():
        rss = statistics.median(r for _, r in values)
        spread = ", ".join(f"{t:.2f}" for t, _ in values)
        print(f"{name:<{width}} {medians[name]:6.2f} s  peak RSS {rss:6.1f} MiB  ({spread})")
    return medians


def interleaved(
    commands: dict[str, list[str]], env: dict[str, str], rounds: int, ok: tuple[int, ...] = (0,)
) -> dict[str, list[tuple[float, float]]]:
    """`rounds` rounds of every command in turn, so machine noise hits them all alike:
    name -> [(seconds, peak RSS MiB), …]."""
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            results[name].append(measure(cmd, env, ok))
    return results
