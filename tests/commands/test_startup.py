"""Start-up discipline: help and version must not import the heavy modules."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from conftest import REPO

CODE = (
    "import sys; from zazacli.main import app; sys.argv = ['zaza', *sys.argv[1:]]\n"
    "try:\n    app(prog_name='zaza')\nexcept SystemExit:\n    pass\n"
    "sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)))"
)


def modules_of_each(*commands: list[str]) -> list[set[str]]:
    """The modules each `zaza ARGS` had imported when it ended, each in its own interpreter;
    the interpreters run side by side."""
    running = [
        subprocess.Popen(
            [sys.executable, "-c", CODE, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for args in commands
    ]
    found = []
    for proc in running:
        _, err = proc.communicate(timeout=60)
        marker = err.rsplit("MODULES ", 1)
        assert len(marker) == 2, err
        found.append(set(marker[1].split()))
    return found


def imported_modules(*args: str) -> set[str]:
    return modules_of_each(list(args))[0]


def test_help_and_version_import_neither_httpx_nor_rich_tables() -> None:
    commands = (["--help"], ["--version"], ["calls", "--help"], ["calls", "list", "--help"])
    for args, modules in zip(commands, modules_of_each(*commands), strict=True):
        assert "httpx" not in modules, args
        assert "rich.table" not in modules, args
        assert "phonenumbers" not in modules, args
        # typer >= 0.29 imports pydantic at start (~100 ms): why pyproject pins it below.
        assert "pydantic" not in modules, args
        # --jq and --template load their engines only when given (output/query.py).
        assert "jq" not in modules and "jinja2" not in modules, args
        # Textual is for `zaza ui` alone (~100 ms to import).
        assert "textual" not in modules, args
        # The MCP SDK (pydantic, starlette, …) is for `zaza mcp` alone.
        assert "mcp" not in modules and "zazacli.mcp" not in modules, args


def test_json_output_imports_neither_jq_nor_jinja2(sandbox: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("ZAZA_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("ZAZA_API_KEY", sandbox.api_key)
    plain, queried, templated = modules_of_each(
        ["agents", "list", "--json"],
        ["agents", "list", "--jq", ".[].id"],
        ["agents", "list", "--template", "{{ id }}"],
    )
    assert "jq" not in plain and "jinja2" not in plain
    # The same check would see them: each is imported when its option is given.
    assert "jq" in queried and "jinja2" not in queried
    assert "jinja2" in templated and "jq" not in templated


def test_version_output() -> None:
    from zazacli import __version__

    done = subprocess.run(
        [sys.executable, "-m", "zazacli", "--version"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stdout == f"zaza {__version__}\n"


def test_help_lists_nouns_and_exit_codes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zazacli", "-h"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 0
    for noun in ("calls", "agents", "campaigns", "profiles", "sandbox"):
        assert noun in done.stdout
    assert "Exit codes" in done.stdout and "4    authentication failed" in done.stdout
