"""Reading the examples out of README.md and docs/*.md, and turning a block into a script.

The conventions are described in tests/test_docs.py's docstring; this module implements
them: extraction, expected output, the substitutions, the network guards, and the bash
script that runs one block.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOLLOW_HELPER = Path(__file__).resolve().parent / "docs_follow.py"

RUN_LANGS = {"sh", "bash", "console"}
FOLLOW_SECONDS = 1.0  # how long foreground servers and followers run after their banner
STARTUP_LIMIT = 30.0  # seconds a follower may take to print its banner (a loaded CI machine)
BANNER = "listening on"
WILDCARD = "…"

LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}
URL_STORING_COMMANDS = {("profiles", "add"), ("profiles", "set")}
FORBIDDEN_PROGRAMS = {"curl", "wget", "cloudflared", "ngrok", "ssh", "nc"}
# Global options that take a value (skipped when finding the command words).
GLOBAL_VALUE_OPTIONS = {"--profile", "-p", "--base-url", "--timeout"}
# Nouns with subcommands (`zaza calls list`); the others are leaves (`zaza api GET /agents`).
GROUPS = {"agents", "calls", "campaigns", "dnc", "profiles", "webhooks"}


def doc_files() -> list[Path]:
    """The manual: README.md and docs/*.md, except the generated command reference."""
    docs = sorted(path for path in (REPO / "docs").glob("*.md") if path.name != "commands.md")
    return [REPO / "README.md", *docs]


def relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


# --------------------------------------------------------------------------- extraction


@dataclass
class Example:
    where: str  # "docs/webhooks.md:212"
    source: str  # the line as the doc shows it (prompt removed, continuations joined)
    command: str  # the shell text to run, before substitutions
    comment: str  # the trailing comment, without '#'
    expected: int
    background: bool
    words: list[str]  # command words after `zaza` and its global options: ["calls", "list"]
    output: list[str] = field(default_factory=list)  # a console block's lines after it


@dataclass
class Block:
    where: str
    heading: str
    lang: str
    lines: list[tuple[int, str]]
    examples: list[Example] = field(default_factory=list)


def fenced_blocks(text: str, name: str = "README.md") -> list[Block]:
    """Fenced blocks, also those indented under a list item (the indent is removed)."""
    blocks: list[Block] = []
    heading = ""
    current: Block | None = None
    indent = 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip(" ")
        if current is None:
            if line.startswith("#") and not line.startswith("#!"):
                heading = line.lstrip("#").strip()
            fence = re.match(r"^```\s*([\w-]*)", stripped)
            if fence:
                indent = len(line) - len(stripped)
                current = Block(f"{name}:{number}", heading, fence.group(1).lower(), [])
        elif stripped.startswith("```"):
            blocks.append(current)
            current = None
        else:
            unindented = line[indent:] if line[:indent].strip() == "" else stripped
            current.lines.append((number, unindented))
    assert current is None, f"{current.where}: the code block is not closed"
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
    """The part of a line to run, or None when the line is not a zaza example."""
    if line.startswith("zaza ") or _ASSIGNED.match(line) or _PIPED_IN.match(line):
        return line
    installed = _AFTER_INSTALL.match(line)
    return installed.group(1) if installed else None


def logical_lines(block: Block) -> list[tuple[int, str, list[str]]]:
    """(line number, command, output lines): `\\`-continued lines joined. In a console block
    only `$ ` lines are commands and the lines after one are its output; in sh and bash
    every line is a command (an optional `$ ` prompt removed)."""
    console = block.lang == "console"
    found: list[tuple[int, str, list[str]]] = []
    pending: tuple[int, str] | None = None
    for number, raw in block.lines:
        if pending is not None:
            continued = raw.strip().removeprefix("> ")
            number, line = pending[0], pending[1] + " " + continued
            pending = None
        elif console and not raw.startswith("$ "):
            assert found, f"{block.where}: output before the first `$ ` command"
            found[-1][2].append(raw.rstrip())
            continue
        else:
            line = raw.strip().removeprefix("$ ")
        if line.endswith("\\"):
            pending = (number, line[:-1].rstrip())
            continue
        found.append((number, line, []))
    assert pending is None, f"{block.where}: a '\\' continues past the block"
    for _, _, output in found:
        while output and not output[-1]:
            output.pop()
    return found


def extract(text: str, name: str = "README.md") -> list[Block]:
    """The blocks with at least one example, each example with its expected results."""
    blocks = [block for block in fenced_blocks(text, name) if block.lang in RUN_LANGS]
    for block in blocks:
        for number, line, output in logical_lines(block):
            source, comment = split_comment(line)
            command = example_command(source)
            if command is None:
                assert not output, (
                    f"{name}:{number}: output shown for a line the test does not run: {source}"
                )
                continue
            exit_note = re.search(r"\bexit (\d+)\b", comment)
            block.examples.append(
                Example(
                    where=f"{name}:{number}",
                    source=source,
                    command=command,
                    comment=comment,
                    expected=int(exit_note.group(1)) if exit_note else 0,
                    background=bool(re.search(r"\bterminal\b", comment)),
                    words=zaza_words(command),
                    output=output,
                )
            )
    return [block for block in blocks if block.examples]


def extract_all() -> list[Block]:
    return [
        block
        for path in doc_files()
        for block in extract(path.read_text(encoding="utf-8"), relative(path))
    ]


# ------------------------------------------------------------------------ expected output


def _normal(line: str) -> str:
    """Runs of spaces and tabs compare equal, so a doc may show a tab-separated line."""
    return " ".join(line.split())


def output_pattern(expected: list[str]) -> re.Pattern[str]:
    """A line that is only `…` stands for any number of lines; `…` inside a line for any
    text within that line; everything else must be as shown."""
    parts = []
    for line in expected:
        line = _normal(line)
        if line == WILDCARD:
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            pieces = (re.escape(piece) for piece in line.split(WILDCARD))
            parts.append(r"[^\n]*?".join(pieces) + r"\n")
    return re.compile("".join(parts))


# Said only when the callee's local time is outside the calling window, so whether a
# dispatch example prints it depends on the hour the test runs: not compared.
QUIET_HOURS_NOTICE = "the API is zaza's sandbox: no one is called, so quiet hours are not checked"


def output_matches(expected: list[str], actual: str) -> bool:
    lines = [_normal(line) for line in actual.splitlines() if line != QUIET_HOURS_NOTICE]
    while lines and not lines[-1]:
        lines.pop()
    text = "".join(line + "\n" for line in lines)
    return output_pattern(expected).fullmatch(text) is not None


# ------------------------------------------------------------------ substitutions, guards


@dataclass(frozen=True)
class Ports:
    listener: int  # stands in for the listener's default 4242
    app: int  # stands in for "your app" on localhost:3000


def _after_words(command: str, words: str, extra: str) -> str:
    """Insert `extra` right after the first `words` (e.g. "calls dispatch")."""
    return re.sub(rf"\b{re.escape(words)}\b", f"{words} {extra}", command, count=1)


def substitute(example: Example, ports: Ports) -> str:
    """The line as the test runs it; the three rules in tests/test_docs.py's docstring."""
    command = example.command
    pair = tuple(example.words[:2])
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
    where = f"{example.where}: {example.source}"
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

# An example with its output shown: both streams in one file, in the order written, as a
# terminal shows them.
FOREGROUND_SHOWN = """\
{{ {command}
}} >"$OUT/{n}.out" 2>&1 <"$STDIN"
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


def follow(command: str) -> str:
    """Run a server or follower under tests/docs_follow.py (its exit code is kept)."""
    assert command.startswith("zaza "), f"a follower must start with zaza: {command}"
    run = f"{shlex.quote(sys.executable)} {shlex.quote(str(FOLLOW_HELPER))}"
    return f"{run} {FOLLOW_SECONDS} {STARTUP_LIMIT} {command}"


def block_script(block: Block, out: Path, stdin: Path, ports: Ports) -> str:
    parts = [SCRIPT_HEAD.format(out=shlex.quote(str(out)), stdin=shlex.quote(str(stdin)))]
    for n, example in enumerate(block.examples):
        command = substitute(example, ports)
        check_network_safety(example, command)
        if example.background:
            assert is_server(example), f"{example.where}: only servers run in another terminal"
            assert not example.output, f"{example.where}: a background server's output varies"
            parts.append(BACKGROUND.format(command=command, n=n, banner=BANNER))
            continue
        if is_follower(example, command):
            command = follow(command)
        template = FOREGROUND_SHOWN if example.output else FOREGROUND
        parts.append(template.format(command=command, n=n))
    parts.append(SCRIPT_TAIL)
    return "".join(parts)
