"""Start-up cost of `zaza`, as ratios to a bare `python -c pass`, measured side by side.

Run: python tests/benchmarks/bench_startup.py [--rounds 15]
Compiles zazacli's bytecode first, as `pip install .` does.
Targets (issue 3): --version <= 4x, --help <= 7x, agents list --json (sandbox) <= 12x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    # `pip install .` compiles bytecode at install time; an editable install under
    # PYTHONDONTWRITEBYTECODE=1 never would, and every run would pay for compiling.
    import compileall

    import zazacli
    from zazacli.sandbox import SandboxConfig, start_sandbox

    compileall.compile_dir(os.path.dirname(zazacli.__file__), quiet=1)

    sandbox = start_sandbox(SandboxConfig(port=0, quiet=True))
    env = {**os.environ, "ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key}
    # The installed console script, as users run it (no runpy, unlike `python -m`).
    script = os.path.join(os.path.dirname(sys.executable), "zaza")
    zaza = [script] if os.path.exists(script) else [sys.executable, "-m", "zazacli"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "zaza --version": [*zaza, "--version"],
        "zaza --help": [*zaza, "--help"],
        "zaza agents list --json": [*zaza, "agents", "list", "--json"],
    }
    targets = {"zaza --version": 4, "zaza --help": 7, "zaza agents list --json": 12}
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():  # warm the page cache and .pyc files
        timed(cmd, env)
    # Interleave the commands so machine noise hits all of them alike.
    for _ in range(args.rounds):
        for name, cmd in commands.items():
            samples[name].append(timed(cmd, env))
    sandbox.close()

    base = statistics.median(samples["python -c pass"])
    print(f"{'command':<28}{'median ms':>10}{'ratio':>8}{'target':>8}")
    for name, values in samples.items():
        median = statistics.median(values)
        target = targets.get(name)
        mark = "" if target is None else ("ok" if median / base <= target else "OVER")
        target_text = f"<={target}x" if target else ""
        print(f"{name:<28}{median * 1000:>10.1f}{median / base:>7.1f}x{target_text:>8} {mark}")


if __name__ == "__main__":
    main()
