"""The shape of the house: each noun's description is written once, the package root
holds infrastructure only (features live in their own packages), and no function or
module is too big to read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zazacli.commands import NOUNS
from zazacli.main import app

ROOT = Path(__file__).resolve().parent.parent / "zazacli"


def help_text(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], prog_name="zaza")
    assert result.exit_code == 0, result.output
    return result.output


def root_listing() -> dict[str, str]:
    """`zaza --help`'s Commands section as name -> description (continuation lines joined)."""
    section = help_text().split("Commands:\n", 1)[1]
    listing: dict[str, str] = {}
    name = ""
    for line in section.splitlines():
        match = re.match(r"^  (\S+)\s+(.*)$", line)
        if match:
            name = match.group(1)
            listing[name] = match.group(2).strip()
        elif line.startswith("    ") and name:
            listing[name] += " " + line.strip()
        elif not line.strip():
            break
    return listing


def first_paragraph(text: str) -> str:
    """The description under the Usage line of `zaza NOUN --help`, unwrapped."""
    body = text.split("\n\n", 2)[1]
    return " ".join(body.split())


def test_root_help_lists_every_noun_once_in_table_order() -> None:
    assert list(root_listing()) == list(NOUNS)


@pytest.mark.parametrize("noun", list(NOUNS))
def test_noun_help_agrees_with_root_help(noun: str) -> None:
    listed = root_listing()[noun]
    described = first_paragraph(help_text(noun))
    assert described == NOUNS[noun].help
    assert listed == NOUNS[noun].help


def test_the_root_holds_infrastructure_only() -> None:
    modules = {p.stem for p in ROOT.glob("*.py")}
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert modules == {
        "__init__",
        "__main__",
        "main",
        "context",
        "config",
        "errors",
        "files",
        "times",
        "sanitize",
        "terminal",
    }
    assert packages == {
        "api",
        "archive",
        "calls",
        "commands",
        "output",
        "policy",
        "sandbox",
        "ui",
        "mcp",
        "webhooks",
    }


# ---------------------------------------------------------------- sizes
# A function a reader can hold at once, a module a reader can find their way in. Complexity
# is ruff's C901 (pyproject.toml, max 15), checked by `ruff check` in CI.
MAX_FUNCTION_LINES = 60  # the signature and docstring included
MAX_MODULE_LINES = 600


def _sources() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def test_no_function_is_too_long_to_read() -> None:
    import ast

    long = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} {node.name}")
    assert long == [], f"over {MAX_FUNCTION_LINES} lines: split them"


def test_no_module_is_too_long_to_find_your_way_in() -> None:
    long = [
        f"{path.relative_to(ROOT.parent)} ({count} lines)"
        for path in _sources()
        if (count := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    ]
    assert long == [], f"over {MAX_MODULE_LINES} lines: split by concern"
