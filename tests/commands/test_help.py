"""Help that teaches: every command's `--help` shows realistic examples that really parse,
and a noun's `--help` lists each verb with the whole first line of its help.

An example is a line of an `Example:` or `Examples:` block (a `\\`-continued line joined
with the next). Its `zaza …` commands are found as a shell would split the line: also in
a pipe (`printf %s "$KEY" | zaza …`), a substitution (`ID=$(zaza …)`), after `VAR=value`,
and before a redirection (`> calls.csv`). Each must name the command whose help shows
it, after global options (`--profile prod`, `--sandbox`) that the root accepts, and
that command must accept its options and arguments."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from zazacli.main import app

ROOT = typer.main.get_command(app)
USAGE_ERRORS = ("UsageError", "BadParameter", "NoSuchOption", "MissingParameter")
# Words that name an input file (`leads.csv`, `events.jsonl`): made in the test's directory,
# as the reader would have them, for options and arguments that must exist.
INPUT_FILE = re.compile(r"^[\w.-]+\.(csv|jsonl|json)$")


def visible_children(group: Any) -> list[tuple[str, Any]]:
    children = [(name, group.get_command(None, name)) for name in group.list_commands(None)]
    return [(name, child) for name, child in children if child is not None and not child.hidden]


def leaf_commands() -> dict[str, Any]:
    """Every visible command that is not a group, by its path: `calls list`, `doctor`."""
    found: dict[str, Any] = {}

    def visit(command: Any, path: list[str]) -> None:
        if not hasattr(command, "list_commands"):
            found[" ".join(path)] = command
            return
        for name, child in visible_children(command):
            visit(child, [*path, name])

    visit(ROOT, [])
    return found


LEAVES = leaf_commands()
NOUN_GROUPS = [name for name, child in visible_children(ROOT) if hasattr(child, "list_commands")]


def help_text(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], prog_name="zaza")
    assert result.exit_code == 0, result.output
    return result.output


def example_lines(text: str) -> list[str]:
    """The lines of the help's `Example:`/`Examples:` blocks, continuations joined."""
    raw: list[str] = []
    in_block = False
    for line in text.splitlines():
        if re.fullmatch(r"\s*Examples?:\s*", line):
            in_block = True
        elif not line.strip():
            in_block = False
        elif in_block:
            raw.append(line.strip())
    return "\n".join(raw).replace("\\\n", " ").splitlines()


def invocations(line: str) -> list[list[str]]:
    """The words after `zaza` of each `zaza …` command in a shell line."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    segments: list[list[str]] = [[]]
    for word in lexer:
        if word and all(char in lexer.punctuation_chars for char in word):
            segments.append([])  # | ; && ( ) > end one command
        elif segments[-1] or not re.match(r"^[A-Za-z_]\w*=", word):  # VAR=value before it
            segments[-1].append(word)
    return [words[1:] for words in segments if words[:1] == ["zaza"]]


def parse(command: Any, name: str, args: list[str]) -> None:
    """`command` accepts `args`, or the test fails with the usage error `zaza` would print
    (Typer exports no class for usage errors, hence the names). As in zaza, the format
    aliases (--json, --jsonl, --csv) and the values an option may leave out are put in
    first."""
    from zazacli.commands.app import command_args

    try:
        command.make_context(name, command_args(command, args), resilient_parsing=False)
    except Exception as exc:
        if type(exc).__name__ in USAGE_ERRORS:
            pytest.fail(f"{name} {shlex.join(args)}: {exc}")
        raise


def resolve(words: list[str]) -> tuple[str, Any, list[str]]:
    """The command path the words name, that command, and the words left for it. Global
    options before the noun must be the root's, with valid values."""
    options = {opt: param for param in ROOT.params for opt in param.opts}
    rest = list(words)
    given: list[str] = []
    while rest and rest[0].startswith("-"):
        param = options.get(rest[0])
        assert param is not None, f"{rest[0]} is not a global option"
        takes = 1 if param.is_flag else 2
        given, rest = [*given, *rest[:takes]], rest[takes:]
    parse(ROOT, "zaza", [*given, *rest[:1]])
    command, path = ROOT, []
    while hasattr(command, "list_commands"):
        assert rest and not rest[0].startswith("-"), f"no command after {path}"
        name = rest.pop(0)
        command = command.get_command(None, name)
        assert command is not None and not command.hidden, f"no command {name!r}"
        path.append(name)
    return " ".join(path), command, rest


def first_paragraph(command: Any) -> str:
    """A verb's description as written: its help up to the first blank line, on one line."""
    return " ".join(re.split(r"\n\s*\n", command.help.strip(), maxsplit=1)[0].split())


def commands_section(text: str) -> list[tuple[str, str]]:
    """A group's `Commands:` section as (name, description), continuation lines joined."""
    rows: list[tuple[str, str]] = []
    for line in text.split("\nCommands:\n", 1)[1].splitlines():
        if not line.strip():
            break
        match = re.match(r"^  (\S+)\s+(.*)$", line)
        if match:
            rows.append((match.group(1), match.group(2).strip()))
        else:
            name, described = rows[-1]
            rows[-1] = (name, f"{described} {line.strip()}")
    return rows


def test_every_leaf_command_is_found() -> None:
    assert {"calls list", "calls dispatch", "webhooks verify", "doctor", "sandbox"} <= set(LEAVES)
    assert len(LEAVES) >= 29


@pytest.mark.parametrize("path", sorted(LEAVES))
def test_help_shows_an_example(path: str) -> None:
    lines = example_lines(help_text(*path.split()))
    assert any(line.startswith("zaza ") for line in lines), f"zaza {path} --help: no example"


@pytest.mark.parametrize("path", sorted(LEAVES))
def test_examples_name_their_command_and_parse(
    path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for line in example_lines(help_text(*path.split())):
        found = invocations(line)
        assert found, f"zaza {path} --help: {line!r} runs no zaza command"
        for words in found:
            for word in words:
                if INPUT_FILE.match(word):
                    Path(word).touch()
            named, command, args = resolve(words)
            assert named == path, f"zaza {path} --help shows an example of zaza {named}: {line}"
            parse(command, f"zaza {path}", args)


@pytest.mark.parametrize("noun", NOUN_GROUPS)
def test_group_help_lists_each_verb_with_its_whole_first_line(noun: str) -> None:
    group = ROOT.get_command(None, noun)
    expected = [(name, first_paragraph(child)) for name, child in visible_children(group)]
    assert commands_section(help_text(noun)) == expected


def test_the_checks_cover_calls_webhooks_and_profiles() -> None:
    assert {"calls", "webhooks", "profiles"} <= set(NOUN_GROUPS)
    listing = dict(commands_section(help_text("calls")))
    assert not listing["list"].endswith("...")
    assert listing["list"] == first_paragraph(LEAVES["calls list"])


# --------------------------------------------------------------- zaza help, version, bare


def test_bare_zaza_and_a_bare_noun_show_help_and_succeed(bare_cli: Any) -> None:
    bare = bare_cli()
    assert bare.exit_code == 0
    assert bare.stdout.startswith("Usage: zaza [OPTIONS] COMMAND")
    noun = bare_cli("calls")
    assert noun.exit_code == 0 and noun.stdout.startswith("Usage: zaza calls")


def test_zaza_help_prints_what_dash_dash_help_prints(bare_cli: Any) -> None:
    for words in ([], ["calls"], ["calls", "list"], ["webhooks", "listen"], ["doctor"]):
        shown = bare_cli("help", *words)
        assert shown.exit_code == 0, (words, shown.stderr)
        assert shown.stdout == bare_cli(*words, "--help").stdout, words


def test_zaza_help_of_an_unknown_command_is_a_usage_error(bare_cli: Any) -> None:
    result = bare_cli("help", "calls", "nope")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: no such command: zaza calls nope"


def test_zaza_version_is_dash_dash_version(bare_cli: Any) -> None:
    assert bare_cli("version").stdout == bare_cli("--version").stdout
    assert bare_cli("version").stdout.startswith("zaza ")
