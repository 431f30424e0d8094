"""Start-up cost of `zaza`, as ratios to a bare `python -c pass`, measured side by side.

Run: python tests/benchmarks/bench_startup.py [--rounds 15]
Compiles zazacli's bytecode first, as `pip install .` does.
Targets: --version <= 4x, --help <= 7x, agents list --json (sandbox) <= 11x, and
zazacli's own modules <= 5% of that command's import time (`python -X importtime`, the
medians of the self times over the rounds). `import typer, httpx` is the floor for reference.
"""

from __future__ import annotations

import argparse
import os
import re
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
        "python -c 'import typer, httpx'": [sys.executable, "-c", "import typer, httpx"],
    }
    targets = {"zaza --version": 4, "zaza --help": 7, "zaza agents list --json": 11}
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():  # warm the page cache and .pyc files
        timed(cmd, env)
    # Interleave the commands so machine noise hits all of them alike.
    for _ in range(args.rounds):
        for name, cmd in commands.items():
            samples[name].append(timed(cmd, env))
    own, total = import_share([sys.executable, "-X", "importtime", "-m", "zazacli"], env, args)
    sandbox.close()

    base = statistics.median(samples["python -c pass"])
    print(f"{'command':<32}{'median ms':>10}{'ratio':>8}{'target':>8}")
    for name, values in samples.items():
        median = statistics.median(values)
        target = targets.get(name)
        mark = "" if target is None else ("ok" if median / base <= target else "OVER")
        target_text = f"<={target}x" if target else ""
        print(f"{name:<32}{median * 1000:>10.1f}{median / base:>7.1f}x{target_text:>8} {mark}")
    share = own / total
    mark = "ok" if share <= 0.05 else "OVER"
    print(
        f"zazacli's own modules: {own / 1000:.1f} ms of {total / 1000:.1f} ms of imports "
        f"({share:.1%}, target <=5%) {mark}"
    )


def import_share(
    cmd: list[str], env: dict[str, str], args: argparse.Namespace
) -> tuple[float, float]:
    """(zazacli's own self time, all imports' self time) in microseconds for `agents list
    --json`: per module the median over the rounds, then summed."""
    times: dict[str, list[int]] = {}
    for _ in range(args.rounds):
        done = subprocess.run(
            [*cmd, "agents", "list", "--json"], env=env, capture_output=True, text=True, check=True
        )
        for line in done.stderr.splitlines():
            found = re.match(r"import time:\s+(\d+) \|\s+\d+ \| *(\S+)", line)
            if found:
                times.setdefault(found.group(2), []).append(int(found.group(1)))
    medians = {name: statistics.median(values) for name, values in times.items()}
    own = sum(v for name, v in medians.items() if name.split(".")[0] == "zazacli")
    return own, sum(medians.values())


if __name__ == "__main__":
    main()
