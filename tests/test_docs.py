"""Every `zaza` example in README.md and docs/*.md runs against a real sandbox, so the manual
cannot drift. (docs/commands.md is generated from the command tree and checked for staleness.)

Extraction (tests/docs_examples.py)
  Only fenced blocks tagged ``sh``, ``bash`` or ``console`` are read, also when indented under
  a list item; ``text``, ``cron``, ``csv``, ``json`` and ``python`` blocks are output or not
  runnable. A line (``\\``-continued lines joined) is an example when it
    - starts with ``zaza ``,
    - assigns its output: ``ID=$(zaza …)``,
    - pipes into it from printf/echo: ``printf %s "$ZAZA_PROD_KEY" | zaza profiles add prod``, or
    - follows an install command: ``pip install . && zaza …`` (only the ``zaza`` part runs).
  Other lines (``pip``, ``export``, ``curl``, ``cloudflared``, ``case …``) are for the reader only.
  In ``sh`` and ``bash`` blocks every line is a command (a ``$ `` prompt is allowed). In a
  ``console`` block only ``$ `` lines are commands, and the lines after one are its output.

Running
  Each block is one bash script (``set -o pipefail``, no ``-e``), so ``$ID`` set by one line is
  seen by the next line of the same block. Every block runs in its own temporary directory
  holding fresh copies of the input files (``leads.csv`` is the docs' own ``csv`` block,
  ``review.toml`` docs/review.md's ``toml`` block) and
  with its own empty ``ZAZA_CONFIG_DIR``, so profiles made in one block do not leak into another;
  blocks run concurrently and share only the sandbox (seed 42, 300 calls). The environment:
  ``ZAZA_BASE_URL`` and ``ZAZA_API_KEY`` point at the test's sandbox (it plays the one the tour
  starts in a second terminal), ``ZAZA_PROD_KEY`` is that sandbox's key too (so that
  ``profiles add`` can check it there), ``ZAZA_WEBHOOK_SECRET`` is the docs' example secret,
  ``PATH`` starts with this interpreter's ``bin``, ``HOME`` is a temporary
  directory, and stdin is a file holding one made-up key (what you would type at a prompt).

Expected results
  - exit 0, or N when the line's comment says ``# exit N``; never a ``Traceback``.
  - Output, in ``console`` blocks: the lines after a ``$ zaza …`` command are what it prints,
    stdout and stderr together in the order written, as a script sees it (not a terminal).
    They are compared line by line; runs of spaces and tabs compare equal (so a doc may show
    a tab-separated line), ``…`` inside a line stands for any text (ids, times, versions), and
    a line that is only ``…`` for any number of lines. A command with no lines after it is
    not compared. Show only what is the same on every run: the seeded calls themselves
    change with the time the sandbox starts, agents, campaigns and dispatched calls do not.
    The sandbox's quiet-hours notice is not compared: it is said only at night where the
    callee is (see QUIET_HOURS_NOTICE).
  - A line whose comment mentions a terminal (``# in a second terminal``) runs in the
    background until the end of its block, as it would in another terminal. The script waits
    for its "listening on" banner; the ``ZAZA_BASE_URL=``/``ZAZA_API_KEY=`` lines it prints
    (a sandbox) are exported for the rest of the block, as the reader pastes them. At the end
    of the block it gets SIGTERM and must exit 0.
  - Followers and servers in the foreground (``zaza sandbox``, ``zaza webhooks listen``,
    ``zaza calls tail`` without ``--duration``) run under tests/docs_follow.py: once their
    banner is out ("listening on", "following calls") they run FOLLOW_SECONDS more, then get
    Ctrl-C (SIGINT, with the default handler even when the suite itself ignores SIGINT) and
    must exit 0; servers must have printed their "listening on" banner.

Substitutions: the only changes made to doc lines before they run (see `substitute`)
  (Quiet hours need no substitution: the sandbox says it is one, and zaza does not hold a
  sandbox on this machine to them, so the examples run at any hour, as they do for a reader.)
  1. port 8081: ``zaza sandbox`` lines without ``--port`` get ``--port 0``; the default port
     may be taken (for instance by the sandbox the README tells you to run).
  2. port 4242: the listener's default port becomes a free port per block: ``:4242`` in URLs,
     ``webhooks listen`` without ``--port``, ``webhooks trigger`` without ``--to``.
  3. ``localhost:3000`` ("your app") becomes a stub app on a free loopback port answering 200.

Network guards (hard rule: no traffic beyond this machine)
  - A line may contain only loopback URLs (127.0.0.1, localhost), except ``profiles add`` and
    ``profiles set``, which only store a URL; ``ZAZA_BASE_URL`` (always set, loopback) wins over a
    stored one. A background sandbox's exported base URL is checked to be loopback too.
  - No line may run curl, wget, cloudflared, ngrok, ssh or nc.
  - HTTP(S)_PROXY point at a closed loopback port (NO_PROXY: loopback), so an httpx request to
    any other host would fail instead of leaving the machine.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import pytest
from conftest import FaultServer, api_get
from docs_examples import (
    BANNER,
    GROUPS,
    REPO,
    RUN_LANGS,
    Block,
    Example,
    Ports,
    block_script,
    check_network_safety,
    doc_files,
    extract,
    extract_all,
    fenced_blocks,
    is_server,
    output_matches,
    relative,
    split_comment,
    substitute,
)

from zazacli.errors import EXIT_CODES
from zazacli.sandbox import Sandbox
from zazacli.webhooks import sign

DOCS = REPO / "docs"
BIN = Path(sys.executable).parent
BLOCK_TIMEOUT = 90.0  # within pytest-timeout's limit for the whole test (pyproject)
LIVE_CALLS_LIMIT = 30.0  # seconds the sandbox's seeded live calls may take to end

# The docs' example values, which the environment and input files must match.
WEBHOOK_SECRET = "whsec_readme_5b1f0c7e2a9d4e86"
PROD_KEY = "zaza_live_readme_7d1e0a9b3c5f8e2a4c9f2"
PROMPT_KEY = "zaza_test_readme_typed_at_prompt_0b7e"
# A raw webhook body, byte for byte, for the docs' `webhooks verify` examples.
VERIFY_BODY = (
    b'{"event":"call.completed","data":{"id":90494,"status":"COMPLETED","durationSeconds":126,'
    b'"disposition":"APPOINTMENT_BOOKED"},"timestamp":"2026-11-26T12:37:05Z"}'
)


def doc_text(name: str) -> str:
    return (REPO / name).read_text(encoding="utf-8")


def all_docs_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in doc_files())


# ----------------------------------------------------------------------------- fixtures


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def input_files() -> dict[str, bytes]:
    """The files the examples read, with realistic content."""
    csv_blocks = [
        block
        for path in doc_files()
        for block in fenced_blocks(path.read_text(encoding="utf-8"), relative(path))
        if block.lang == "csv"
    ]
    assert csv_blocks, "the calls batch section shows leads.csv in a csv block"
    leads = "".join(line + "\n" for _, line in csv_blocks[0].lines)
    rules = next(
        block
        for block in fenced_blocks(doc_text("docs/review.md"), "docs/review.md")
        if block.lang == "toml"
    )
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
        # docs/review.md: the rules file its examples read (its toml block).
        "review.toml": "".join(line + "\n" for _, line in rules.lines).encode(),
        # docs/contact-policy.md: a CRM's opt-out export (one bad line), and an inbound STOP.
        "optouts.txt": b"+14155550171\n(415) 555-0172\n+1 415 555 0173\nnot a number\n",
        "stop.json": json.dumps(
            {
                "id": 502,
                "fromNumber": "+14155550174",
                "toNumber": "+14155550100",
                "body": "STOP",
                "receivedAt": "2026-12-03T10:00:00Z",
            }
        ).encode(),
    }


def base_env(sandbox: Sandbox, home: Path) -> dict[str, str]:
    dropped = {"NO_COLOR", "FORCE_COLOR", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}
    # platformdirs reads these before HOME: the default archive must land in the temp HOME.
    dropped |= {"XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"}
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


def wait_for_live_calls_to_end(sandbox: Sandbox) -> None:
    """The seeded calls that are live at start end within seconds; the examples expect a
    history that holds still."""
    deadline = time.monotonic() + LIVE_CALLS_LIMIT
    live = {"QUEUED", "RINGING", "IN_PROGRESS"}
    while any(call["status"] in live for call in api_get(sandbox, "calls", size=10)["content"]):
        assert time.monotonic() < deadline, "the sandbox's seeded live calls never ended"
        time.sleep(0.02)


# -------------------------------------------------------------------------------- running


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
    if example.output and not output_matches(example.output, outcome.stdout):
        shown = "\n".join(f"    {line}" for line in example.output)
        problems.append(f"output differs from the doc's:\n{shown}")
    return problems


def test_the_docs_hold_enough_examples_to_test() -> None:
    examples = [example for block in extract_all() for example in block.examples]
    assert len(examples) >= 80, f"only {len(examples)} examples found: is the extractor broken?"
    assert sum(bool(example.output) for example in examples) >= 10, "few outputs are checked"


# One test per manual page, so the parallel workers share them out.
@pytest.mark.slow
@pytest.mark.parametrize("doc", [relative(path) for path in doc_files()])
def test_every_doc_example_runs(
    make_sandbox: Callable[..., Sandbox], fault_server: FaultServer, tmp_path: Path, doc: str
) -> None:
    if shutil.which("bash") is None:
        pytest.skip("needs bash")
    blocks = [block for block in extract_all() if block.where.startswith(f"{doc}:")]
    examples = [example for block in blocks for example in block.examples]
    if not examples:
        return

    # Speed 50: a dispatched call ends in 0.16 s. 300 calls, seed 42: the ids the docs use.
    # Its key is the docs' production key, so `profiles add prod` can check it.
    sandbox = make_sandbox(speed=50.0, calls=300, seed=42, api_key=PROD_KEY)
    wait_for_live_calls_to_end(sandbox)
    home = tmp_path / "home"
    home.mkdir()
    env = base_env(sandbox, home)
    files = input_files()
    # The network guard sees every line before anything runs.
    for example in examples:
        check_network_safety(example, substitute(example, Ports(listener=4242, app=3000)))
    # "Your app" on localhost:3000: the fault server answers every POST 200.
    fault_server.route("POST", "*", 200, [], optional=True)
    app_port = int(urlsplit(fault_server.url).port or 0)

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [
            pool.submit(run_block, i, block, tmp_path, env, files, app_port)
            for i, block in enumerate(blocks)
        ]
        results = [future.result() for future in futures]

    report = []
    for block, (outcomes, script_stderr) in zip(blocks, results, strict=True):
        for outcome in outcomes:
            problems = problems_of(outcome)
            if problems:
                report.append(
                    f"{outcome.example.where} ({block.heading}): "
                    f"{'; '.join(problems)}\n  $ {outcome.ran}\n"
                    f"  stdout: {outcome.stdout[-800:]!r}\n  stderr: {outcome.stderr[-800:]!r}"
                )
        if script_stderr.strip():
            report.append(f"{block.where} script: {script_stderr[-800:]}")
    assert not report, f"{len(report)} doc example(s) failed:\n\n" + "\n\n".join(report)
    # "Your app" got the events the docs forward, trigger and replay to it.
    if doc == "docs/webhooks.md":
        assert any(request["method"] == "POST" for request in fault_server.requests), (
            "no example reached the stub app standing in for localhost:3000"
        )


# ---------------------------------------------------------------------- structural checks


def load_generator() -> ModuleType:
    """docs/generate.py, which walks the live command tree (docs/ is not a package)."""
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up while it loads
    spec.loader.exec_module(module)
    return module


def command_tree() -> list[list[str]]:
    """Every visible command path: ["calls"], ["calls", "list"], …, ["api"]."""
    return [entry.path[1:] for entry in load_generator().walk()[1:]]


def test_every_command_has_an_example() -> None:
    """In README.md or a task doc; the generated reference does not count."""
    text = all_docs_text()
    run = [example.words for block in extract_all() for example in block.examples]
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
    assert not missing, f"commands without a tested example in README.md or docs/: {missing}"


def section(text: str, heading: str, name: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"{name} has no '## {heading}' section"
    return match.group(1)


def test_exit_code_table_matches_errors_module() -> None:
    name = "docs/scripting.md"
    table = section(doc_text(name), "Errors and exit codes", name)
    codes = [int(code) for code in re.findall(r"^\|\s*(\d+)\s*\|", table, re.M)]
    assert codes == sorted(EXIT_CODES), (codes, sorted(EXIT_CODES))


def test_docs_fixed_points() -> None:
    """Lines other tools and tests depend on."""
    readme = doc_text("README.md")
    first = next(block for block in fenced_blocks(readme) if block.lang in RUN_LANGS)
    assert first.lines[0][1].startswith("pip install . && zaza --sandbox ")
    development = section(readme, "Development", "README.md")
    # .ci/run runs these two (the mcp extra too: tests/mcp drive `zaza mcp`).
    install, test = "python -m pip install -e '.[test,mcp]'", "python -m pytest -n auto"
    assert f"```sh\n{install}\n{test}\n```" in development
    ci = (REPO / ".ci" / "run").read_text()
    assert "python -m pip install --quiet -e '.[test,mcp]'" in ci and f"\n{test}\n" in ci
    for command in (
        'python -m pytest -m "not slow" -n auto',
        "ruff check",
        "ruff format --check",
        "mypy zazacli",
        "python docs/generate.py",
        "python completions/generate.py",
    ):
        assert command in development, f"README.md, Development: no {command!r}"
    assert f"ZAZA_WEBHOOK_SECRET={WEBHOOK_SECRET}" in readme
    webhooks = doc_text("docs/webhooks.md")
    assert "from zazacli.webhooks import verify_signature" in webhooks
    # The signature in the verify examples is the real one of body.json under that secret.
    signatures = set(re.findall(r"webhooks verify --signature ([0-9a-f]{64})", webhooks))
    assert signatures == {sign(WEBHOOK_SECRET, VERIFY_BODY)}


def test_commands_reference_is_current() -> None:
    generator = load_generator()
    fresh = generator.render()
    committed = (DOCS / "commands.md").read_text(encoding="utf-8")
    assert committed == fresh, f"docs/commands.md is stale: run `{generator.REGENERATE}`"
    # Every visible command has its section, and hidden ones (dashboard-only stubs) none.
    for path in command_tree():
        assert f"`zaza {' '.join(path)}`\n" in fresh, path
    assert "zaza campaigns start" not in fresh


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    found: set[str] = set()
    fence = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
        elif not fence and re.match(r"^#{1,6} ", line):
            base = slug(line.lstrip("#"))
            name, n = base, 0
            while name in found:  # GitHub numbers repeated headings
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def links(text: str) -> list[str]:
    """Targets of Markdown links outside code blocks and code spans."""
    prose = re.sub(r"^\s*```.*?^\s*```", "", text, flags=re.M | re.S)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    return re.findall(r"\]\(([^)\s]+)\)", prose)


def test_links_and_anchors_resolve() -> None:
    broken = []
    for path in [*doc_files(), DOCS / "commands.md"]:
        for target in links(path.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target):
                continue  # https:, mailto:
            file_part, _, fragment = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            if not linked.exists():
                broken.append(f"{relative(path)}: {target}: no such file")
            elif fragment and linked.suffix == ".md":
                if fragment not in anchors(linked.read_text(encoding="utf-8")):
                    broken.append(f"{relative(path)}: {target}: no such heading")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_extractor_conventions() -> None:
    """The extraction, substitution and output rules on the forms the docs use."""
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
        "- a list item:\n\n"
        "  ```console\n"
        "  $ zaza --version\n"
        "  zaza …\n"
        "  $ zaza calls show 1   # exit 3\n"
        "  error: HTTP 404: Call 1 not found\n"
        "  $ zaza agents list\n"
        "  ```\n"
    )
    examples = [example for block in extract(sample) for example in block.examples]
    assert [example.words for example in examples] == [
        ["calls", "list"],
        ["calls", "dispatch"],
        ["profiles", "add"],
        ["api"],
        ["sandbox"],
        ["webhooks", "trigger"],
        [],
        ["calls", "show"],
        ["agents", "list"],
    ]
    assert [example.expected for example in examples] == [0, 0, 0, 2, 0, 0, 0, 3, 0]
    assert [example.background for example in examples] == [False] * 4 + [True] + [False] * 4
    assert examples[3].command.endswith("-f fromNumber=+14155550100 -f agentId=12")
    assert [example.output for example in examples[6:]] == [
        ["zaza …"],
        ["error: HTTP 404: Call 1 not found"],
        [],
    ]
    assert substitute(examples[1], ports) == examples[1].command  # no --allow-quiet-hours
    assert substitute(examples[4], ports) == "zaza sandbox --port 0 --speed 10"
    assert substitute(examples[5], ports).endswith(
        "--to http://127.0.0.1:5555/webhooks call.completed"
    )
    assert split_comment("zaza api GET 'calls?a=1#x'  # note") == (
        "zaza api GET 'calls?a=1#x'",
        "note",
    )
    with pytest.raises(AssertionError, match="output shown for a line the test does not run"):
        extract("```console\n$ cut -f1 calls.tsv\n90512\n```\n")
    unsafe = Example(
        "README.md:1",
        "",
        "zaza --base-url https://api.example.com/api/v1 agents list",
        "",
        0,
        False,
        ["agents", "list"],
    )
    with pytest.raises(AssertionError, match="only loopback"):
        check_network_safety(unsafe, unsafe.command)


def test_output_matching() -> None:
    assert output_matches(["zaza …"], "zaza 0.1.0\n")
    assert not output_matches(["zaza …"], "zaza 0.1.0\nsomething else\n")
    assert output_matches(["12 Zara from Acme"], "12\tZara from Acme\n\n")
    assert not output_matches(["12 Zara from Acme"], "12\tZara from Acme!\n")
    assert output_matches(
        ["queued call …: +1 -> +2", "…", "done"], "queued call 7: +1 -> +2\ndone\n"
    )
    assert output_matches(["first", "…", "last"], "first\na\nb\nlast\n")
    assert not output_matches(["first", "…", "last"], "first\na\nlast\nafter\n")
    assert not output_matches(["a.c"], "abc\n")  # only `…` is special
