"""Shell completion: the committed scripts are current, work in real shells, and a
completion request is fast and touches neither the network nor the profiles."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO

COMPLETIONS = REPO / "completions"
GENERATOR = COMPLETIONS / "generate.py"
SCRIPTS = ("zaza.bash", "_zaza", "zaza.fish")
ZAZA = Path(sys.executable).parent / "zaza"

needs_zaza_on_path = pytest.mark.skipif(
    not ZAZA.exists(), reason="the zaza script is not installed next to this Python"
)


def shell_env(tmp_path: Path) -> dict[str, str]:
    """PATH with the installed `zaza` first; a HOME and config dir of the test's own."""
    return {
        **os.environ,
        "PATH": f"{ZAZA.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
    }


# ---------------------------------------------------------------- the committed scripts


def test_committed_scripts_are_current(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for name in SCRIPTS:
        fresh = (tmp_path / name).read_text(encoding="utf-8")
        committed = (COMPLETIONS / name).read_text(encoding="utf-8")
        assert committed == fresh, (
            f"completions/{name} is stale: run `python completions/generate.py` and commit it"
        )


@pytest.mark.slow
def test_check_mode_notices_a_stale_script(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(tmp_path)], timeout=120)
    fish = tmp_path / "zaza.fish"
    fish.write_text(fish.read_text() + "# edited by hand\n")
    done = subprocess.run(
        [sys.executable, str(GENERATOR), "--check", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "stale: completions/zaza.fish (run: python completions/generate.py)"
    ]


def test_zsh_script_starts_with_its_compdef_line() -> None:
    assert (COMPLETIONS / "_zaza").read_text().startswith("#compdef zaza\n")


# ---------------------------------------------------------------- a completion request


def complete(env: dict[str, str], *, modules: bool = False) -> tuple[str, set[str], float]:
    """Run a completion request as the shell would; (stdout, modules imported, seconds)."""
    code = (
        "import sys; sys.argv = ['zaza']\n"
        "from zazacli.main import app\n"
        "try:\n    app(prog_name='zaza')\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)))"
    )
    command = [sys.executable, "-c", code] if modules else [sys.executable, "-m", "zazacli"]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    elapsed = time.monotonic() - started
    found: set[str] = set()
    if modules:
        marker = done.stderr.rsplit("MODULES ", 1)
        assert len(marker) == 2, done.stderr
        found = set(marker[1].split())
    return done.stdout, found, elapsed


def test_a_completion_request_is_fast_and_does_no_io(tmp_path: Path) -> None:
    config_dir = tmp_path / "never-created"
    env = {
        **os.environ,
        "_ZAZA_COMPLETE": "complete_bash",
        "COMP_WORDS": "zaza cal",
        "COMP_CWORD": "1",
        "ZAZA_CONFIG_DIR": str(config_dir),
        # Unreachable on purpose: nothing may try to use it.
        "ZAZA_BASE_URL": "http://192.0.2.1:9/api/v1",
        "ZAZA_API_KEY": "zaza_test_completion",
    }
    out, modules, _ = complete(env, modules=True)
    assert out.split() == ["calls"]
    for heavy in ("httpx", "rich.table", "zazacli.output", "zazacli.context", "zazacli.config"):
        assert heavy not in modules, heavy
    assert not config_dir.exists()
    timings = sorted(complete(env)[2] for _ in range(3))
    assert timings[1] < 2.0, timings  # the median, on a busy machine; ~0.1 s when idle


def test_subcommands_and_option_values_complete(tmp_path: Path) -> None:
    env = {**os.environ, "_ZAZA_COMPLETE": "complete_bash"}
    cases = {
        ("zaza calls t", "2"): ["tail", "transcript"],
        ("zaza calls tail --status c", "4"): ["completed", "canceled"],
        ("zaza api p", "2"): ["post", "put", "patch"],
        # Hidden dashboard-only stubs are not offered.
        ("zaza s", "1"): ["sandbox"],
        ("zaza campaigns s", "2"): ["show"],
    }
    for (words, cword), expected in cases.items():
        out, _, _ = complete({**env, "COMP_WORDS": words, "COMP_CWORD": cword})
        assert sorted(out.split()) == sorted(expected), words


# ---------------------------------------------------------------- real shells


def in_bash(tmp_path: Path, words: str) -> subprocess.CompletedProcess[str]:
    """What bash's completion function offers for `words` (the last word being completed)."""
    script = (
        f"source {COMPLETIONS / 'zaza.bash'}\n"
        f"COMP_WORDS=({words}); COMP_CWORD={len(words.split()) - 1}; _zaza_completion zaza\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    return subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        capture_output=True,
        text=True,
        env=shell_env(tmp_path),
        timeout=60,
    )


def in_fish(tmp_path: Path, typed: str) -> subprocess.CompletedProcess[str]:
    """fish's `complete -C` for what was typed: a candidate per line, TAB, description."""
    script = f"source {COMPLETIONS / 'zaza.fish'}; complete -C '{typed}'"
    return subprocess.run(
        ["fish", "--no-config", "-c", script],
        capture_output=True,
        text=True,
        env=shell_env(tmp_path),
        timeout=60,
    )


ZSH_DRIVER = r"""
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z 'PS1="> "; fpath=(%(fpath)s $fpath); autoload -Uz compinit; compinit -u'
zpty -w -n z "%(typed)s"$'\t'
all=""
for i in {1..100}; do
  while zpty -r -t z chunk; do all+="$chunk"; done
  [[ "$all" == *"%(until)s"* ]] && break
  sleep 0.1
done
zpty -d z
print -r -- "$all"
"""


def in_zsh(tmp_path: Path, typed: str, until: str) -> subprocess.CompletedProcess[str]:
    """An interactive zsh (on a pty) with _zaza autoloaded from $fpath, as installed: what
    the screen shows after one TAB, read until `until` appears (or 10 s)."""
    fpath = tmp_path / "zfunc"
    fpath.mkdir()
    shutil.copy(COMPLETIONS / "_zaza", fpath / "_zaza")
    driver = tmp_path / "driver.zsh"
    driver.write_text(ZSH_DRIVER % {"fpath": fpath, "typed": typed, "until": until})
    return subprocess.run(
        ["zsh", "-f", str(driver)],
        capture_output=True,
        text=True,
        env=shell_env(tmp_path),
        timeout=60,
    )


@needs_zaza_on_path
@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_script_completes_in_bash(tmp_path: Path) -> None:
    done = in_bash(tmp_path, "zaza calls ta")
    assert done.stdout.split() == ["tail"], done.stderr


@pytest.mark.slow
@needs_zaza_on_path
@pytest.mark.skipif(shutil.which("fish") is None, reason="no fish")
def test_fish_script_completes_in_fish(tmp_path: Path) -> None:
    done = in_fish(tmp_path, "zaza cap")
    assert done.stdout.split("\t")[0] == "capabilities", done.stdout + done.stderr


@pytest.mark.slow
@needs_zaza_on_path
@pytest.mark.skipif(shutil.which("zsh") is None, reason="no zsh")
def test_zsh_script_completes_on_the_first_tab_when_autoloaded(tmp_path: Path) -> None:
    """Installed the usual way (a file on $fpath, loaded by compinit), the very first TAB
    completes: Typer's own script only registers itself on the first one."""
    done = in_zsh(tmp_path, "zaza cal", until="zaza calls")
    assert "zaza calls" in done.stdout, done.stdout[-500:] + done.stderr


# ---------------------------------------------------------------- values, in real shells


@needs_zaza_on_path
@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_option_values_complete_in_bash(tmp_path: Path) -> None:
    done = in_bash(tmp_path, "zaza calls list --status c")
    assert sorted(done.stdout.split()) == ["canceled", "completed"], done.stderr


@pytest.mark.slow
@needs_zaza_on_path
@pytest.mark.skipif(shutil.which("fish") is None, reason="no fish")
def test_option_values_complete_in_fish(tmp_path: Path) -> None:
    done = in_fish(tmp_path, "zaza calls stats --by d")
    offered = sorted(line.split("\t")[0] for line in done.stdout.splitlines())
    assert offered == ["day", "direction", "disposition"], done.stdout + done.stderr


@pytest.mark.slow
@needs_zaza_on_path
@pytest.mark.skipif(shutil.which("zsh") is None, reason="no zsh")
def test_option_values_complete_in_zsh(tmp_path: Path) -> None:
    done = in_zsh(tmp_path, "zaza calls list --direction ou", until="outbound")
    assert "--direction outbound" in done.stdout, done.stdout[-500:] + done.stderr


# ---------------------------------------------------------------- Typer's own install path


def test_show_and_install_completion_still_work(tmp_path: Path) -> None:
    env = {**shell_env(tmp_path), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    shown = subprocess.run(
        [sys.executable, "-m", "zazacli", "--show-completion", "bash"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert "complete -o default -F _zaza_completion zaza" in shown.stdout
    installed = subprocess.run(
        [sys.executable, "-m", "zazacli", "--install-completion", "fish"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )
    assert installed.returncode == 0, installed.stderr
    script = tmp_path / ".config" / "fish" / "completions" / "zaza.fish"
    assert "_ZAZA_COMPLETE=complete_fish" in script.read_text()
