"""Every `zaza` example in README.md runs against a real sandbox, so the manual cannot drift.

Extraction
  Only fenced blocks tagged ``sh``, ``bash`` or ``console`` are read; ``text``, ``cron``, ``csv``,
  ``json`` and ``python`` blocks are output or not runnable. In those blocks a line (after an
  optional ``$ `` prompt, with ``\\``-continued lines joined) is an example when it
    - starts with ``zaza ``,
    - assigns its output: ``ID=$(zaza …)``,
    - pipes into it from printf/echo: ``printf %s "$ZAZA_PROD_KEY" | zaza profiles add prod``, or
    - follows an install command: ``pip install . && zaza …`` (only the ``zaza`` part runs).
  Other lines (``pip``, ``export``, ``curl``, ``cloudflared``, ``case …``) are for the reader only.

Running
  Each block is one bash script (``set -o pipefail``, no ``-e``), so ``$ID`` set by one line is
  seen by the next line of the same block. Every block runs in its own temporary directory
  holding fresh copies of the input files (``leads.csv`` is the README's own ``csv`` block) and
  with its own empty ``ZAZA_CONFIG_DIR``, so profiles made in one block do not leak into another;
  blocks run concurrently and share only the sandbox. The environment: ``ZAZA_BASE_URL`` and
  ``ZAZA_API_KEY`` point at the test's sandbox (it plays the one the tour starts in a second
  terminal), ``ZAZA_PROD_KEY`` is set, ``ZAZA_WEBHOOK_SECRET`` is the README's example secret,
  ``PATH`` starts with this interpreter's ``bin``, ``HOME`` is a temporary directory, and
  stdin is a file holding one made-up key (what you would type at a hidden prompt).

Expected results
  - exit 0, or N when the line's comment says ``# exit N``; never a ``Traceback``.
  - A line whose comment mentions a terminal (``# in a second terminal``) runs in the
    background until the end of its block, as it would in another terminal. The script waits
    for its "listening on" banner; the ``ZAZA_BASE_URL=``/``ZAZA_API_KEY=`` lines it prints
    (a sandbox) are exported for the rest of the block, as the reader pastes them. At the end
    of the block it gets SIGTERM and must exit 0.
  - Followers and servers in the foreground (``zaza sandbox``, ``zaza webhooks listen``,
    ``zaza calls tail`` without ``--duration``) run under FOLLOW_HELPER: once their banner is
    out ("listening on", "following calls") they run FOLLOW_SECONDS more, then get Ctrl-C
    (SIGINT) and must exit 0; servers must have printed their "listening on" banner.

Substitutions: the only changes made to README lines before they run (see `substitute`)
  1. quiet hours: ``calls dispatch`` and ``calls batch`` lines get ``--allow-quiet-hours``,
     because the TCPA check depends on the wall clock and the test must not.
  2. port 8081: ``zaza sandbox`` lines without ``--port`` get ``--port 0``; the default port
     may be taken (for instance by the sandbox the README tells you to run).
  3. port 4242: the listener's default port becomes a free port per block: ``:4242`` in URLs,
     ``webhooks listen`` without ``--port``, ``webhooks trigger`` without ``--to``.
  4. ``localhost:3000`` ("your app") becomes a stub app on a free loopback port answering 200.

Network guards (hard rule: no traffic beyond this machine)
  - A line may contain only loopback URLs (127.0.0.1, localhost), except ``profiles add`` and
    ``profiles set``, which only store a URL; ``ZAZA_BASE_URL`` (always set, loopback) wins over a
    stored one. A background sandbox's exported base URL is checked to be loopback too.
  - No line may run curl, wget, cloudflared, ngrok, ssh or nc.
  - HTTP(S)_PROXY point at a closed loopback port (NO_PROXY: loopback), so an httpx request to
    any other host would fail instead of leaving the machine.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer.main

from zazacli.errors import EXIT_CODES
from zazacli.main import app
from zazacli.sandbox import Sandbox
from zazacli.webhooks import sign

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
BIN = Path(sys.executable).parent

RUN_LANGS = {"sh", "bash", "console"}
FOLLOW_SECONDS = 1.0  # how long foreground servers and followers run after their banner
STARTUP_LIMIT = 30.0  # seconds a follower may take to print its banner (a loaded CI machine)
BANNER = "listening on"
BLOCK_TIMEOUT = 180.0

# Runs `zaza …` (argv after the two numbers), copies its output through, and presses Ctrl-C
# FOLLOW seconds after its banner. Only zaza gets the SIGINT, not the rest of a pipeline.
FOLLOW_HELPER = """\
import signal, subprocess, sys, threading, time

follow, limit, argv = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
banners = (b"listening on", b"following calls")
proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
seen = threading.Event()


def pump(source, sink):
    for line in iter(source.readline, b""):
        sink.write(line)
        sink.flush()
        if any(banner in line for banner in banners):
            seen.set()


pumps = [
    threading.Thread(target=pump, args=(proc.stdout, sys.stdout.buffer)),
    threading.Thread(target=pump, args=(proc.stderr, sys.stderr.buffer)),
]
for thread in pumps:
    thread.start()
deadline = time.monotonic() + limit
while proc.poll() is None and not seen.is_set() and time.monotonic() < deadline:
    time.sleep(0.02)
if seen.is_set():
    time.sleep(follow)
if proc.poll() is None:
    proc.send_signal(signal.SIGINT)
try:
    code = proc.wait(15)
except subprocess.TimeoutExpired:
    proc.kill()
    code = proc.wait()
for thread in pumps:
    thread.join()
if not seen.is_set():
    sys.stderr.write("follow helper: no banner seen\\n")
sys.exit(code if code >= 0 else 128 - code)
"""

# The README's example values, which the environment and input files must match.
WEBHOOK_SECRET = "whsec_readme_5b1f0c7e2a9d4e86"
PROD_KEY = "zaza_live_readme_7d1e0a9b3c5f8e2a4c9f2"
PROMPT_KEY = "zaza_test_readme_typed_at_prompt_0b7e"
# A raw webhook body, byte for byte, for the README's `webhooks verify` examples.
VERIFY_BODY = (
    b'{"event":"call.completed","data":{"id":90494,"status":"COMPLETED","durationSeconds":126,'
    b'"disposition":"APPOINTMENT_BOOKED"},"timestamp":"2026-11-26T12:37:05Z"}'
)

LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}
URL_STORING_COMMANDS = {("profiles", "add"), ("profiles", "set")}
FORBIDDEN_PROGRAMS = {"curl", "wget", "cloudflared", "ngrok", "ssh", "nc"}
# Global options that take a value (skipped when finding the command words).
GLOBAL_VALUE_OPTIONS = {"--profile", "-p", "--base-url", "--timeout"}
# Nouns with subcommands (`zaza calls list`); the others are leaves (`zaza api GET /agents`).
GROUPS = {"agents", "calls", "campaigns", "profiles", "webhooks"}


# --------------------------------------------------------------------------- extraction


@dataclass
class Example:
    lineno: int  # README line the example starts on
    source: str  # the line as the README shows it (prompt removed, continuations joined)
    command: str  # the shell text to run, before substitutions
    comment: str  # the trailing comment, without '#'
    expected: int
    background: bool
    words: list[str]  # command words after `zaza` and its global options: ["calls", "list"]


@dataclass
class Block:
    lineno: int
    heading: str
    lang: str
    lines: list[tuple[int, str]]
    examples: list[Example] = field(default_factory=list)


def fenced_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    heading = ""
    current: Block | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if current is None:
            if line.startswith("#") and not line.startswith("#!"):
                heading = line.lstrip("#").strip()
            fence = re.match(r"^```\s*([\w-]*)", line)
            if fence:
                current = Block(number, heading, fence.group(1).lower(), [])
        elif line.startswith("```"):
            blocks.append(current)
            current = None
        else:
            current.lines.append((number, line))
    assert current is None, f"README.md: the code block at line {current.lineno} is not closed"
    return blocks


def split_comment(line: str) -> tuple[str, str]:
    """`cmd args  # note` -> ("cmd args", "note"); a '#' inside quotes or a word is kept."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip(), line[index + 1 :].strip()
    return line.rstrip(), ""


def zaza_words(command: str) -> list[str]:
    """The words naming the zaza command: ["calls", "dispatch"], ["api"], ["sandbox"]."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    start = next(i for i, token in enumerate(tokens) if token == "zaza")
    words: list[str] = []
    index = start + 1
    while index < len(tokens) and len(words) < (2 if words[:1] and words[0] in GROUPS else 1):
        token = tokens[index]
        if token and all(c in "|&;()<>" for c in token):
            break
        if token.startswith("-"):
            if not words and token in GLOBAL_VALUE_OPTIONS:
                index += 1
        else:
            words.append(token)
        index += 1
    return words


_ASSIGNED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=\$\(zaza\s")
_PIPED_IN = re.compile(r"^(?:printf|echo)\s[^|]*\|\s*zaza\s")
_AFTER_INSTALL = re.compile(r"^(?:pip|pip3|pipx|uv)\s.*?&&\s*(zaza\s.*)$")


def example_command(line: str) -> str | None:
    """The part of a README line to run, or None when the line is not a zaza example."""
    if line.startswith("zaza ") or _ASSIGNED.match(line) or _PIPED_IN.match(line):
        return line
    installed = _AFTER_INSTALL.match(line)
    return installed.group(1) if installed else None


def extract(text: str) -> list[Block]:
    blocks = [block for block in fenced_blocks(text) if block.lang in RUN_LANGS]
    for block in blocks:
        joined: list[tuple[int, str]] = []
        pending: tuple[int, str] | None = None
        for number, raw in block.lines:
            line = raw.strip()
            if pending is not None:
                line = pending[1] + " " + line
                number = pending[0]
                pending = None
            if line.endswith("\\"):
                pending = (number, line[:-1].rstrip())
                continue
            joined.append((number, line))
        assert pending is None, f"README.md:{block.lineno}: a '\\' continues past the block"
        for number, line in joined:
            if line.startswith("$ "):
                line = line[2:]
            source, comment = split_comment(line)
            command = example_command(source)
            if command is None:
                continue
            exit_note = re.search(r"\bexit (\d+)\b", comment)
            block.examples.append(
                Example(
                    lineno=number,
                    source=source,
                    command=command,
                    comment=comment,
                    expected=int(exit_note.group(1)) if exit_note else 0,
                    background=bool(re.search(r"\bterminal\b", comment)),
                    words=zaza_words(command),
                )
            )
    return [block for block in blocks if block.examples]


# ------------------------------------------------------------------ substitutions, guards


@dataclass(frozen=True)
class Ports:
    listener: int  # stands in for the listener's default 4242
    app: int  # stands in for "your app" on localhost:3000


def _after_words(command: str, words: str, extra: str) -> str:
    """Insert `extra` right after the first `words` (e.g. "calls dispatch")."""
    return re.sub(rf"\b{re.escape(words)}\b", f"{words} {extra}", command, count=1)


def substitute(example: Example, ports: Ports) -> str:
    """The README line as the test runs it; the four rules in the module docstring."""
    command = example.command
    pair = tuple(example.words[:2])
    if pair in {("calls", "dispatch"), ("calls", "batch")} and "--allow-quiet-hours" not in command:
        command = _after_words(command, " ".join(pair), "--allow-quiet-hours")
    if example.words[:1] == ["sandbox"] and "--port" not in command:
        command = _after_words(command, "zaza sandbox", "--port 0")
    command = command.replace(":4242", f":{ports.listener}")
    if pair == ("webhooks", "listen") and "--port" not in command:
        command = _after_words(command, "webhooks listen", f"--port {ports.listener}")
    if pair == ("webhooks", "trigger") and "--to" not in command:
        target = f"--to http://127.0.0.1:{ports.listener}/webhooks"
        command = _after_words(command, "webhooks trigger", target)
    return command.replace("localhost:3000", f"127.0.0.1:{ports.app}")


def check_network_safety(example: Example, command: str) -> None:
    """Refuse any example that could send traffic beyond this machine."""
    where = f"README.md:{example.lineno}: {example.source}"
    for host in re.findall(r"https?://([^/\s'\"]+)", command):
        hostname = host.rsplit("@", 1)[-1].split(":")[0].strip("[]").lower()
        if hostname in LOOPBACK_HOSTS:
            continue
        assert tuple(example.words[:2]) in URL_STORING_COMMANDS, (
            f"{where}\n  runs against {hostname}: only loopback URLs may be used by examples "
            "(profiles add/set may store other URLs)"
        )
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    programs = set(lexer) & FORBIDDEN_PROGRAMS
    assert not programs, f"{where}\n  would run {sorted(programs)}"


def is_follower(example: Example, command: str) -> bool:
    """Servers and followers that run until Ctrl-C."""
    pair = tuple(example.words[:2])
    if example.words[:1] == ["sandbox"] or pair == ("webhooks", "listen"):
        return True
    return pair == ("calls", "tail") and "--duration" not in command


def is_server(example: Example) -> bool:
    return example.words[:1] == ["sandbox"] or example.words[:2] == ["webhooks", "listen"]


# ------------------------------------------------------------------------- block scripts

SCRIPT_HEAD = """\
set -o pipefail
OUT={out}
STDIN={stdin}
bg=()
"""

# Foreground example: stdout/stderr/exit code into OUT/N.*; the line's own redirections win.
FOREGROUND = """\
{{ {command}
}} >"$OUT/{n}.out" 2>"$OUT/{n}.err" <"$STDIN"
echo $? >"$OUT/{n}.rc"
"""

BACKGROUND = """\
{command} >"$OUT/{n}.out" 2>"$OUT/{n}.err" <"$STDIN" &
bg+=("$!:{n}")
for _ in $(seq 400); do
  grep -qs "{banner}" "$OUT/{n}.out" "$OUT/{n}.err" && break
  kill -0 "$!" 2>/dev/null || break
  sleep 0.05
done
eval "$(grep -E '^export ZAZA_(BASE_URL|API_KEY|WEBHOOK_SECRET)=[^ ]*$' "$OUT/{n}.out")"
case "$ZAZA_BASE_URL" in
  http://127.0.0.1:*|http://localhost:*) ;;
  *) echo "ZAZA_BASE_URL is not loopback: $ZAZA_BASE_URL" >&2; exit 99 ;;
esac
"""

# Background servers are stopped at the end of the block; the pause covers a block that
# ends right after the banner, before the server has installed its SIGTERM handler.
SCRIPT_TAIL = """\
[ ${#bg[@]} -gt 0 ] && sleep 0.5
for entry in "${bg[@]}"; do
  pid="${entry%%:*}"; n="${entry##*:}"
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"
  echo $? >"$OUT/$n.rc"
done
"""


def follow(command: str, helper: Path) -> str:
    """Run a server or follower under FOLLOW_HELPER (its exit code is kept)."""
    assert command.startswith("zaza "), f"a follower must start with zaza: {command}"
    run = f"{shlex.quote(sys.executable)} {shlex.quote(str(helper))}"
    return f"{run} {FOLLOW_SECONDS} {STARTUP_LIMIT} {command}"


def block_script(block: Block, out: Path, stdin: Path, ports: Ports) -> str:
    helper = out / "follow.py"
    helper.write_text(FOLLOW_HELPER)
    parts = [SCRIPT_HEAD.format(out=shlex.quote(str(out)), stdin=shlex.quote(str(stdin)))]
    for n, example in enumerate(block.examples):
        command = substitute(example, ports)
        check_network_safety(example, command)
        if example.background:
            assert is_server(example), f"README.md:{example.lineno}: only servers run elsewhere"
            parts.append(BACKGROUND.format(command=command, n=n, banner=BANNER))
        else:
            if is_follower(example, command):
                command = follow(command, helper)
            parts.append(FOREGROUND.format(command=command, n=n))
    parts.append(SCRIPT_TAIL)
    return "".join(parts)


# ----------------------------------------------------------------------------- fixtures


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class StubApp:
    port: int
    requests: list[str]


@pytest.fixture
def stub_app() -> Iterator[StubApp]:
    """The README's "your app" on localhost:3000 in the README: answers every POST with 200."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            requests.append(self.path)
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield StubApp(port=int(server.server_address[1]), requests=requests)
    server.shutdown()
    server.server_close()


def saved_events() -> str:
    """events.jsonl as `zaza webhooks listen --save` writes it: three signed events."""
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    call = {
        "id": 90494,
        "direction": "OUTBOUND",
        "fromNumber": "+14155550101",
        "toNumber": "+16465550138",
        "agentId": 12,
        "campaignId": None,
        "variables": {"NAME": "Tomás", "AMOUNT": "2000", "PLAN": "Pro"},
    }
    bodies = [
        {"event": "call.started", "data": {**call, "status": "IN_PROGRESS"}},
        {
            "event": "call.completed",
            "data": {
                **call,
                "status": "COMPLETED",
                "durationSeconds": 126,
                "disposition": "APPOINTMENT_BOOKED",
            },
        },
        {
            "event": "call.failed",
            "data": {
                **call,
                "id": 90487,
                "toNumber": "+14155550180",
                "status": "FAILED",
                "failureReason": "CARRIER_ERROR",
            },
        },
    ]
    lines = []
    for body in bodies:
        body["timestamp"] = stamp
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        record = {
            "received_at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "event": body["event"],
            "signature": "valid",
            "headers": {
                "Content-Type": "application/json",
                "X-ZazaVoice-Event": body["event"],
                "X-ZazaVoice-Signature": sign(WEBHOOK_SECRET, raw.encode()),
            },
            "body": body,
            "raw": raw,
        }
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    return "".join(lines)


def input_files(readme: str) -> dict[str, bytes]:
    """The files the README's examples read, with realistic content."""
    csv_blocks = [block for block in fenced_blocks(readme) if block.lang == "csv"]
    assert csv_blocks, "README.md: the calls batch section shows leads.csv in a csv block"
    leads = "".join(line + "\n" for _, line in csv_blocks[0].lines)
    call = {
        "fromNumber": "+14155550100",
        "toNumber": "+14155550125",
        "agentId": 12,
        "variables": {"NAME": "Sam", "CASE_NUMBER": "CASE-7742"},
    }
    lead = {
        "leadId": 4421,
        "campaignId": 12,
        "targetName": "Alex Chen",
        "status": "REACHED",
        "lastDisposition": "INTERESTED",
    }
    return {
        "leads.csv": leads.encode(),
        "vars.json": json.dumps({"NAME": "Alex", "CASE_NUMBER": "CASE-7741"}).encode(),
        "call.json": json.dumps(call).encode(),
        "lead.json": json.dumps(lead).encode(),
        "body.json": VERIFY_BODY,
        "events.jsonl": saved_events().encode(),
        "stdin.txt": PROMPT_KEY.encode(),
    }


def base_env(sandbox: Sandbox, home: Path) -> dict[str, str]:
    dropped = {"NO_COLOR", "FORCE_COLOR", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ZAZA_") and name.upper() not in dropped
    }
    dead_proxy = f"http://127.0.0.1:{free_port()}"
    env.update(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        HOME=str(home),
        ZAZA_BASE_URL=sandbox.base_url,
        ZAZA_API_KEY=sandbox.api_key,
        ZAZA_PROD_KEY=PROD_KEY,
        ZAZA_WEBHOOK_SECRET=WEBHOOK_SECRET,
        HTTP_PROXY=dead_proxy,
        HTTPS_PROXY=dead_proxy,
        ALL_PROXY=dead_proxy,
        NO_PROXY="127.0.0.1,localhost",
        http_proxy=dead_proxy,
        https_proxy=dead_proxy,
        all_proxy=dead_proxy,
        no_proxy="127.0.0.1,localhost",
    )
    assert sandbox.base_url.startswith("http://127.0.0.1:")
    return env


# -------------------------------------------------------------------------------- tests


def readme_text() -> str:
    return README.read_text(encoding="utf-8")


@dataclass
class Outcome:
    example: Example
    ran: str
    rc: int | None
    stdout: str
    stderr: str


def run_block(
    index: int, block: Block, root: Path, env: dict[str, str], files: dict[str, bytes], app: int
) -> tuple[list[Outcome], str]:
    workdir = root / f"block{index:02d}"
    out = workdir / ".out"
    out.mkdir(parents=True)
    for name, content in files.items():
        (workdir / name).write_bytes(content)
    ports = Ports(listener=free_port(), app=app)
    (out / "script.sh").write_text(block_script(block, out, workdir / "stdin.txt", ports))
    block_env = {**env, "ZAZA_CONFIG_DIR": str(workdir / ".config")}
    # A session of its own, so that whatever the block leaves running is ended with it.
    script = subprocess.Popen(
        ["bash", "--noprofile", "--norc", str(out / "script.sh")],
        cwd=workdir,
        env=block_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, script_stderr = script.communicate(timeout=BLOCK_TIMEOUT)
    except subprocess.TimeoutExpired:
        script_stderr = f"the block did not finish in {BLOCK_TIMEOUT:.0f} s"
    finally:
        try:
            os.killpg(script.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        script.wait()
    outcomes = []
    for n, example in enumerate(block.examples):
        rc_file = out / f"{n}.rc"

        def read(suffix: str, n: int = n) -> str:
            path = out / f"{n}.{suffix}"
            return path.read_text(errors="replace") if path.exists() else ""

        outcomes.append(
            Outcome(
                example=example,
                ran=substitute(example, ports),
                rc=int(rc_file.read_text()) if rc_file.exists() else None,
                stdout=read("out"),
                stderr=read("err"),
            )
        )
    return outcomes, script_stderr


def problems_of(outcome: Outcome) -> list[str]:
    example = outcome.example
    problems = []
    if outcome.rc is None:
        problems.append("did not run (the block's script stopped before it)")
    elif outcome.rc != example.expected:
        problems.append(f"exit {outcome.rc}, expected {example.expected}")
    if "Traceback" in outcome.stdout + outcome.stderr:
        problems.append("printed a Traceback")
    if is_server(example) and BANNER not in outcome.stdout + outcome.stderr:
        problems.append(f"never printed {BANNER!r}")
    return problems


@pytest.mark.slow
def test_every_readme_example_runs(
    make_sandbox: Callable[..., Sandbox], stub_app: StubApp, tmp_path: Path
) -> None:
    if shutil.which("bash") is None:
        pytest.skip("needs bash")
    text = readme_text()
    blocks = extract(text)
    examples = [example for block in blocks for example in block.examples]
    assert len(examples) >= 60, f"only {len(examples)} examples found: is the extractor broken?"

    # Speed 50: a dispatched call ends in 0.16 s. 300 calls, seed 42: the ids the README uses.
    sandbox = make_sandbox(speed=50.0, calls=300, seed=42)
    time.sleep(9 / 50)  # the seeded live calls end
    home = tmp_path / "home"
    home.mkdir()
    env = base_env(sandbox, home)
    files = input_files(text)
    # The network guard sees every line before anything runs.
    for example in examples:
        check_network_safety(example, substitute(example, Ports(listener=4242, app=3000)))

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [
            pool.submit(run_block, i, block, tmp_path, env, files, stub_app.port)
            for i, block in enumerate(blocks)
        ]
        results = [future.result() for future in futures]

    report = []
    for block, (outcomes, script_stderr) in zip(blocks, results, strict=True):
        for outcome in outcomes:
            problems = problems_of(outcome)
            if problems:
                report.append(
                    f"README.md:{outcome.example.lineno} ({block.heading}): "
                    f"{'; '.join(problems)}\n  $ {outcome.ran}\n"
                    f"  stdout: {outcome.stdout[-800:]!r}\n  stderr: {outcome.stderr[-800:]!r}"
                )
        if script_stderr.strip():
            report.append(f"README.md:{block.lineno} script: {script_stderr[-800:]}")
    assert not report, f"{len(report)} README example(s) failed:\n\n" + "\n\n".join(report)
    # "Your app" got the events the README forwards, triggers and replays to it.
    assert stub_app.requests, "no example reached the stub app standing in for localhost:3000"


def command_tree() -> list[list[str]]:
    """Every visible command path: ["calls"], ["calls", "list"], …, ["api"]."""
    paths: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        for name in command.list_commands(None):
            sub = command.get_command(None, name)
            if sub is None or sub.hidden:
                continue
            paths.append([*path, name])
            if hasattr(sub, "list_commands"):
                walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


def test_every_command_has_an_example() -> None:
    text = readme_text()
    run = [example.words for block in extract(text) for example in block.examples]
    tree = command_tree()
    assert len(tree) > 30
    groups = {path[0] for path in tree if len(path) == 2}
    assert groups == GROUPS
    missing = []
    for path in tree:
        if path[0] in groups and len(path) == 1:
            ok = f"zaza {path[0]}" in text
        else:
            ok = any(words[: len(path)] == path for words in run)
        if not ok:
            missing.append("zaza " + " ".join(path))
    assert not missing, f"commands without a tested example in README.md: {missing}"


def section(text: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README.md has no '## {heading}' section"
    return match.group(1)


def test_exit_code_table_matches_errors_module() -> None:
    table = section(readme_text(), "Errors and exit codes")
    codes = [int(code) for code in re.findall(r"^\|\s*(\d+)\s*\|", table, re.M)]
    assert codes == sorted(EXIT_CODES), (codes, sorted(EXIT_CODES))


def test_readme_fixed_points() -> None:
    """Lines other tools and tests depend on."""
    text = readme_text()
    first = next(block for block in fenced_blocks(text) if block.lang in RUN_LANGS)
    assert first.lines[0][1].startswith("pip install . && zaza --sandbox ")
    development = section(text, "Development")
    assert "```sh\npip install -e '.[test]'\npytest\n```" in development  # .ci/run runs these
    assert "from zazacli.webhooks import verify_signature" in text
    assert f"ZAZA_WEBHOOK_SECRET={WEBHOOK_SECRET}" in text
    # The signature in the verify examples is the real one of body.json under that secret.
    signatures = set(re.findall(r"webhooks verify --signature ([0-9a-f]{64})", text))
    assert signatures == {sign(WEBHOOK_SECRET, VERIFY_BODY)}


def test_extractor_conventions() -> None:
    """The extraction and substitution rules on the forms the README uses."""
    ports = Ports(listener=5555, app=6666)
    sample = (
        "```sh\n"
        "$ zaza calls list --limit 5     # exit 0\n"
        "ID=$(zaza calls dispatch --from +14155550100 --to +14155550124 --agent 12)\n"
        'printf %s "$ZAZA_PROD_KEY" | zaza profiles add prod --default\n'
        "zaza api POST /calls/outbound -f fromNumber=+14155550100 \\\n"
        "    -f agentId=12     # exit 2\n"
        "zaza sandbox --speed 10      # in a second terminal\n"
        "zaza webhooks trigger call.completed\n"
        "export ZAZA_API_KEY=zaza_test_sandbox_4f1c2a9e7b3d\n"
        "curl -s http://example.com/\n"
        "```\n"
        "```text\nzaza calls list\n```\n"
    )
    examples = [example for block in extract(sample) for example in block.examples]
    assert [example.words for example in examples] == [
        ["calls", "list"],
        ["calls", "dispatch"],
        ["profiles", "add"],
        ["api"],
        ["sandbox"],
        ["webhooks", "trigger"],
    ]
    assert [example.expected for example in examples] == [0, 0, 0, 2, 0, 0]
    assert [example.background for example in examples] == [False] * 4 + [True, False]
    assert examples[3].command.endswith("-f fromNumber=+14155550100 -f agentId=12")
    assert "calls dispatch --allow-quiet-hours --from" in substitute(examples[1], ports)
    assert substitute(examples[4], ports) == "zaza sandbox --port 0 --speed 10"
    assert substitute(examples[5], ports).endswith(
        "--to http://127.0.0.1:5555/webhooks call.completed"
    )
    assert split_comment("zaza api GET 'calls?a=1#x'  # note") == (
        "zaza api GET 'calls?a=1#x'",
        "note",
    )
    unsafe = Example(
        1,
        "",
        "zaza --base-url https://api.example.com/api/v1 agents list",
        "",
        0,
        False,
        ["agents", "list"],
    )
    with pytest.raises(AssertionError, match="only loopback"):
        check_network_safety(unsafe, unsafe.command)
