"""Start-up discipline: help and version must not import the heavy modules."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def imported_modules(*args: str) -> set[str]:
    code = (
        "import sys; from zazacli.main import app; sys.argv = ['zaza', *sys.argv[1:]]\n"
        "try:\n    app(prog_name='zaza')\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    marker = done.stderr.rsplit("MODULES ", 1)
    assert len(marker) == 2, done.stderr
    return set(marker[1].split())


def test_help_and_version_import_neither_httpx_nor_rich_tables() -> None:
    for args in (["--help"], ["--version"], ["calls", "--help"], ["calls", "list", "--help"]):
        modules = imported_modules(*args)
        assert "httpx" not in modules, args
        assert "rich.table" not in modules, args
        assert "phonenumbers" not in modules, args


def test_version_output() -> None:
    from zazacli import __version__

    done = subprocess.run(
        [sys.executable, "-m", "zazacli", "--version"], capture_output=True, text=True, cwd=REPO
    )
    assert done.returncode == 0
    assert done.stdout == f"zaza {__version__}\n"


def test_help_lists_nouns_and_exit_codes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zazacli", "-h"], capture_output=True, text=True, cwd=REPO
    )
    assert done.returncode == 0
    for noun in ("calls", "agents", "campaigns", "profiles", "sandbox"):
        assert noun in done.stdout
    assert "Exit codes" in done.stdout and "4    authentication failed" in done.stdout
