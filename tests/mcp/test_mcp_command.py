"""`zaza mcp` before the protocol: the missing extra, option errors, a missing key; and one
tool's answer made in process (results.py), without a server: errors, the key, crashes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli

import zazacli.mcp
from zazacli.calls.stats import pick_rates
from zazacli.context import AppContext
from zazacli.mcp.catalog import TOOLS, ToolSpec
from zazacli.mcp.results import answer
from zazacli.mcp.tools import Backing, Result

SPECS = {spec.name: spec for spec in TOOLS}


def test_without_the_extra_one_error_line(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # `import mcp` fails, as when it is not installed (its loaded modules too).
    for name in [name for name in sys.modules if name.split(".")[0] in ("mcp", "mcp_types")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "mcp", None)
    # And zaza's server module is imported afresh (an earlier test may have loaded it).
    monkeypatch.delitem(sys.modules, "zazacli.mcp.server", raising=False)
    monkeypatch.delattr(zazacli.mcp, "server", raising=False)
    result = cli("mcp")
    assert result.exit_code == 1
    assert result.stderr == "error: zaza mcp needs the mcp extra: pip install 'zazacli[mcp]'\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--local", "--allow-dispatch"], "error: --allow-dispatch dials through the API"),
        (["--max-dispatches", "3"], "error: --max-dispatches caps --allow-dispatch"),
        (["--allow-dispatch", "--max-dispatches", "-1"], "error: invalid value for"),
    ],
)
def test_option_errors(cli: Cli, args: list[str], message: str) -> None:
    result = cli("mcp", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr


def test_no_key_is_exit_4_before_the_protocol(bare_cli: Cli) -> None:
    result = bare_cli("mcp")
    assert result.exit_code == 4
    assert result.stderr.startswith("error: no API key configured\n")
    assert result.stdout == ""


def backing(sandbox: Any, tmp_path: Path) -> Backing:
    app_ctx = AppContext(env={"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key})
    return Backing(
        api=lambda: app_ctx.api,
        archive=lambda: tmp_path / "none.sqlite3",
        verdicts=lambda numbers: {},
        rates=pick_rates(None, None, None),
    )


def test_answers_in_process(sandbox: Any, tmp_path: Path) -> None:
    served = backing(sandbox, tmp_path)
    listed = answer(SPECS["list_calls"], {"status": "failed", "limit": 2}, served, None)
    assert not listed.is_error and listed.log.startswith("list_calls: ok (")
    document = json.loads(listed.text)
    assert list(document) == ["about", "untrusted", "count", "more"]
    assert [call["status"] for call in document["untrusted"]] == ["FAILED", "FAILED"]
    missing = answer(SPECS["search_transcripts"], {"query": "refund"}, served, None)
    assert missing.is_error and missing.text.startswith("error: ")
    assert missing.log == "search_transcripts: error (exit 3)"
    bad = answer(SPECS["list_calls"], ["status"], served, None)  # type: ignore[arg-type]
    assert bad.text == "error: the arguments must be a JSON object"


def test_a_crash_is_an_error_answer_and_the_key_never_leaves(sandbox: Any, tmp_path: Path) -> None:
    key = sandbox.api_key

    def crash(args: Any, backing: Backing) -> Result:
        raise RuntimeError(f"boom with {key}")

    def leak(args: Any, backing: Backing) -> Result:
        return Result("a key", {"said": f"the key is {key}"})

    served = backing(sandbox, tmp_path)
    crashed = answer(ToolSpec("crash", "", {}, crash), {}, served, key)
    assert crashed.is_error
    assert crashed.text == f"error: internal error: RuntimeError: boom with {key[:5]}…"
    leaked = answer(ToolSpec("leak", "", {}, leak), {}, served, key)
    assert key not in leaked.text and f"the key is {key[:5]}…" in leaked.text
