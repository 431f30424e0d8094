"""Profiles: keys from stdin only, 0600 atomic writes, masking, resolution order, locking."""

from __future__ import annotations

import json
import os
import stat
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, run_zaza

LIVE_KEY = "zaza_live_TEST_NOT_A_REAL_KEY_c9f2"


def test_add_reads_key_from_stdin_and_writes_0600(bare_cli: Cli, isolated_env: Path) -> None:
    result = bare_cli("profiles", "add", "prod", "--no-verify", input=LIVE_KEY + "\n")
    assert result.exit_code == 0, result.stderr
    path = isolated_env / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(isolated_env.stat().st_mode) == 0o700
    data = tomllib.loads(path.read_text())
    assert data["profiles"]["prod"]["api_key"] == LIVE_KEY
    assert data["default"] == "prod"
    assert LIVE_KEY not in result.stdout + result.stderr
    assert "zaza_live_…c9f2" in result.stderr


def test_key_is_never_an_argument(bare_cli: Cli, isolated_env: Path) -> None:
    result = bare_cli("profiles", "add", "prod", "--no-verify", LIVE_KEY)
    assert result.exit_code == 2
    assert "unexpected extra argument" in result.stderr
    assert LIVE_KEY not in result.output  # the usage error does not echo it
    secret = bare_cli("profiles", "set", "prod", "api_key", LIVE_KEY)
    assert secret.exit_code == 2
    assert "api_key is a secret and is not taken on the command line" in secret.stderr
    assert "printf %s" in secret.stderr and LIVE_KEY not in secret.output
    assert not (isolated_env / "config.toml").exists()  # nothing was saved


def test_empty_key_is_refused(bare_cli: Cli, isolated_env: Path) -> None:
    result = bare_cli("profiles", "add", "prod", "--no-verify", input="")
    assert result.exit_code == 2
    assert "no api key" in result.stderr
    assert not (isolated_env / "config.toml").exists()


def test_warns_on_key_without_prefix(bare_cli: Cli) -> None:
    result = bare_cli("profiles", "add", "odd", "--no-verify", input="sk_live_123456789")
    assert result.exit_code == 0
    assert "does not start with 'zaza_'" in result.stderr


def test_list_show_masks_keys(bare_cli: Cli) -> None:
    bare_cli("profiles", "add", "prod", "--no-verify", input=LIVE_KEY)
    bare_cli(
        "profiles",
        "add",
        "staging",
        "--no-verify",
        "--base-url",
        "https://staging.example.com/api/v1",
        input="zaza_test_0000000000abcd",
    )
    listed = bare_cli("profiles", "list")
    assert listed.exit_code == 0
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert rows[0][:3] == ["prod", "default", "zaza_live_…c9f2"]
    assert rows[1][0] == "staging" and rows[1][3] == "https://staging.example.com/api/v1"
    as_json = json.loads(bare_cli("profiles", "list", "--json").stdout)
    assert {p["name"] for p in as_json} == {"prod", "staging"}
    shown = bare_cli("profiles", "show", "staging")
    assert "zaza_test_…abcd" in shown.stdout
    for result in (listed, shown):
        assert LIVE_KEY not in result.stdout and "0000000000abcd" not in result.stdout


def test_use_and_remove(bare_cli: Cli, isolated_env: Path) -> None:
    bare_cli("profiles", "add", "a", "--no-verify", input="zaza_test_aaaaaaaaaaaa")
    bare_cli("profiles", "add", "b", "--no-verify", input="zaza_test_bbbbbbbbbbbb")
    assert bare_cli("profiles", "use", "b").exit_code == 0
    assert tomllib.loads((isolated_env / "config.toml").read_text())["default"] == "b"
    assert bare_cli("profiles", "use", "zzz").exit_code == 2
    assert bare_cli("profiles", "remove", "b").exit_code == 0
    data = tomllib.loads((isolated_env / "config.toml").read_text())
    assert "b" not in data["profiles"] and "default" not in data
    assert bare_cli("profiles", "remove", "b").exit_code == 2


def test_set_values_and_secret_from_stdin(bare_cli: Cli, isolated_env: Path) -> None:
    bare_cli("profiles", "add", "prod", "--no-verify", input=LIVE_KEY)
    assert bare_cli("profiles", "set", "prod", "region", "us").exit_code == 0
    assert bare_cli("profiles", "set", "prod", "confirm", "true").exit_code == 0
    assert bare_cli("profiles", "set", "prod", "quiet_hours", "09:00-20:00").exit_code == 0
    assert bare_cli("profiles", "set", "prod", "quiet_hours", "late").exit_code == 2
    secret = bare_cli(
        "profiles", "set", "prod", "webhook_secret", input="whsec_TEST_not_real_secret"
    )
    assert secret.exit_code == 0 and "whsec_TEST_not_real_secret" not in secret.stderr
    profile = tomllib.loads((isolated_env / "config.toml").read_text())["profiles"]["prod"]
    assert profile == {
        "api_key": LIVE_KEY,
        "region": "US",
        "confirm": True,
        "quiet_hours": "09:00-20:00",
        "webhook_secret": "whsec_TEST_not_real_secret",
    }


def test_an_unknown_region_is_refused_when_saved(bare_cli: Cli, isolated_env: Path) -> None:
    """`region XX` used to be saved, and failed at the next dispatch."""
    bare_cli("profiles", "add", "prod", "--no-verify", input=LIVE_KEY)
    before = (isolated_env / "config.toml").read_text()
    result = bare_cli("profiles", "set", "prod", "region", "XX")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: region: unknown region 'XX'"
    assert (isolated_env / "config.toml").read_text() == before
    added = bare_cli("profiles", "add", "dev", "--no-verify", "--region", "zz", input=LIVE_KEY)
    assert added.exit_code == 2 and "--region: unknown region 'zz'" in added.stderr
    assert "dev" not in tomllib.loads((isolated_env / "config.toml").read_text())["profiles"]
    assert bare_cli("profiles", "set", "prod", "region", " gb ").exit_code == 0
    profile = tomllib.loads((isolated_env / "config.toml").read_text())["profiles"]["prod"]
    assert profile["region"] == "GB"


def test_profiles_test_ok_and_failing(bare_cli: Cli, sandbox: Any) -> None:
    bare_cli("profiles", "add", "local", "--base-url", sandbox.base_url, input=sandbox.api_key)
    ok = bare_cli("profiles", "test", "local")
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout.startswith("OK: local reached " + sandbox.base_url)
    bare_cli(
        "profiles",
        "add",
        "bad",
        "--no-verify",
        "--base-url",
        sandbox.base_url,
        input="zaza_test_wrongkey1",
    )
    bad = bare_cli("profiles", "test", "bad")
    assert bad.exit_code == 4
    assert "zaza profiles show bad" in bad.stderr


def test_resolution_order(bare_cli: Cli, sandbox: Any, fault_server: Any) -> None:
    # Profile points at a dead URL; the environment and the flag win over it.
    fault_server.route("GET", "/api/v1/agents", 200, [])  # `profiles add` checks the key
    bare_cli("profiles", "add", "p", "--base-url", fault_server.url, input=sandbox.api_key)
    shown = json.loads(
        bare_cli("profiles", "show", "--json", ZAZA_BASE_URL=sandbox.base_url).stdout
    )
    assert shown["base_url"] == sandbox.base_url
    assert shown["sources"]["base_url"] == "ZAZA_BASE_URL"
    flagged = json.loads(
        bare_cli(
            "--base-url",
            "http://127.0.0.1:9/api/v1",
            "profiles",
            "show",
            "--json",
            ZAZA_BASE_URL=sandbox.base_url,
        ).stdout
    )
    assert flagged["sources"]["base_url"] == "--base-url"
    env_only = json.loads(
        bare_cli("profiles", "show", "--json", ZAZA_API_KEY="zaza_test_fromenv9999").stdout
    )
    assert env_only["api_key"] == "zaza_test_…9999"
    assert env_only["sources"]["api_key"] == "ZAZA_API_KEY"
    result = bare_cli("agents", "list", "--json", ZAZA_BASE_URL=sandbox.base_url)
    assert result.exit_code == 0


def test_env_only_works_without_config(bare_cli: Cli, sandbox: Any, isolated_env: Path) -> None:
    result = bare_cli(
        "agents", "list", ZAZA_BASE_URL=sandbox.base_url, ZAZA_API_KEY=sandbox.api_key
    )
    assert result.exit_code == 0
    assert not isolated_env.exists()


def test_loose_file_is_tightened_with_warning(bare_cli: Cli, isolated_env: Path) -> None:
    bare_cli("profiles", "add", "prod", "--no-verify", input=LIVE_KEY)
    path = isolated_env / "config.toml"
    os.chmod(path, 0o644)
    result = bare_cli("profiles", "list")
    assert result.exit_code == 0
    assert "tightened to 600" in result.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_wrong_types_and_directory_in_place_of_file(bare_cli: Cli, isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True)
    path = isolated_env / "config.toml"
    path.write_text("[profiles.prod]\napi_key = 42\n")
    result = bare_cli("profiles", "list")
    assert result.exit_code == 2 and "profiles.prod.api_key must be a str" in result.stderr
    path.unlink()
    path.mkdir()
    result = bare_cli("profiles", "list")
    assert result.exit_code == 2 and "is a directory" in result.stderr


@pytest.mark.slow
def test_concurrent_adds_lose_nothing(isolated_env: Path) -> None:
    env = {"ZAZA_CONFIG_DIR": str(isolated_env)}

    def add(i: int) -> int:
        done = run_zaza(
            "profiles", "add", f"p{i}", "--no-verify", env=env, input=f"zaza_test_key_{i:04d}"
        )
        return done.returncode

    count = 8  # all at once: each one's write races the seven others
    with ThreadPoolExecutor(max_workers=count) as pool:
        codes = list(pool.map(add, range(count)))
    assert codes == [0] * count
    data = tomllib.loads((isolated_env / "config.toml").read_text())
    assert sorted(data["profiles"]) == sorted(f"p{i}" for i in range(count))
    assert all(
        data["profiles"][f"p{i}"]["api_key"] == f"zaza_test_key_{i:04d}" for i in range(count)
    )


def test_symlinked_config_is_read_never_chmodded_or_written_through(
    bare_cli: Cli, isolated_env: Path, tmp_path: Path
) -> None:
    """A config.toml that is a link: the target's mode is the user's business (warned about),
    and writes refuse rather than follow the link or silently replace it."""
    target = tmp_path / "dotfiles" / "zaza.toml"
    target.parent.mkdir()
    target.write_text(f'default = "prod"\n[profiles.prod]\napi_key = "{LIVE_KEY}"\n')
    os.chmod(target, 0o644)
    isolated_env.mkdir(parents=True)
    link = isolated_env / "config.toml"
    link.symlink_to(target)
    before = target.read_bytes()

    listed = bare_cli("profiles", "list")
    assert listed.exit_code == 0, listed.stderr
    assert "prod" in listed.stdout
    assert "symbolic link" in listed.stderr and "chmod 600" in listed.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # unchanged

    added = bare_cli("profiles", "add", "staging", "--no-verify", input=LIVE_KEY)
    assert added.exit_code == 2, added.stderr
    assert "symbolic link" in added.stderr
    assert link.is_symlink() and target.read_bytes() == before
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_existing_shared_config_dir_keeps_its_mode(
    bare_cli: Cli, isolated_env: Path, monkeypatch: Any
) -> None:
    """ZAZA_CONFIG_DIR pointing at a directory zaza did not create: warned, never chmodded;
    the key file zaza creates in it is still 0600."""
    isolated_env.mkdir(parents=True)
    os.chmod(isolated_env, 0o755)
    result = bare_cli("profiles", "add", "prod", "--no-verify", input=LIVE_KEY)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(isolated_env.stat().st_mode) == 0o755
    assert "not private (mode 755)" in result.stderr
    assert stat.S_IMODE((isolated_env / "config.toml").stat().st_mode) == 0o600


def test_lock_file_link_is_not_followed(bare_cli: Cli, isolated_env: Path, tmp_path: Path) -> None:
    """In a shared directory a planted `.config.lock` link must not open someone's file."""
    victim = tmp_path / "victim"
    victim.write_text("keep")
    isolated_env.mkdir(parents=True, mode=0o700)
    (isolated_env / ".config.lock").symlink_to(victim)
    result = bare_cli("profiles", "add", "prod", "--no-verify", input=LIVE_KEY)
    assert result.exit_code == 2 and "lock file" in result.stderr
    assert victim.read_text() == "keep"
