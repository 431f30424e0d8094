"""Every option that takes a time, a duration or a count: whatever is typed, the command
exits 0 or 2 (a usage error, one line), never 1 and never a traceback. Property-based
(hypothesis), with a bounded number of examples so that it stays in the fast loop; the
cases the independent test server found are pinned as explicit examples."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, api_get, no_waiting
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from zazacli.sandbox import SandboxConfig, start_sandbox

UNITS = ["", "s", "m", "min", "h", "d", "w", "sec", "ms", "y"]

TIMES = st.one_of(
    st.builds(lambda n, u: f"{n}{u}", st.integers(0, 10**15), st.sampled_from(UNITS)),
    st.builds(
        lambda y, m, d, off: f"{y:04d}-{m:02d}-{d:02d}{off}",
        st.integers(1, 9999),
        st.integers(1, 12),
        st.integers(1, 28),
        st.sampled_from(["", "T23:59:59-01:00", "T00:00:00+14:00", "T12:00Z", "T25:00"]),
    ),
    st.sampled_from(["now", "today", "yesterday", "", " ", "-1d", "1e9d", "nan", "∞"]),
    st.text(max_size=12),
)
DURATIONS = st.one_of(
    st.builds(
        lambda n, u: f"{n}{u}",
        st.one_of(st.integers(0, 10**20), st.floats(0, 1e20, allow_nan=False)),
        st.sampled_from(UNITS),
    ),
    st.sampled_from(["0", "0s", "-5s", "inf", "1e400", "", "5 m"]),
)
COUNTS = st.one_of(
    st.integers(-(10**25), 10**25).map(str), st.sampled_from(["0", "-1", "1.5", "x", ""])
)

# (command words before the value, the option, after): every option of this kind.
TIME_OPTIONS = [
    (["calls", "list", "--limit", "1"], "--since", []),
    (["calls", "list", "--limit", "1"], "--until", []),
    (["calls", "list", "--local", "--limit", "1"], "--since", []),
    (["calls", "stats"], "--since", []),
    (["calls", "stats", "--local"], "--until", []),
    (["calls", "search", "refund"], "--since", []),
    (["calls", "review", "--rules", "{tmp}/quiet.toml"], "--since", []),
    (["calls", "review", "--rules", "{tmp}/quiet.toml"], "--until", []),
    (["calls", "export-transcripts", "{tmp}/out", "--limit", "1"], "--since", []),
    (["calls", "archive", "--prune"], "--before", []),
    (["webhooks", "replay", "{tmp}/events.jsonl", "--to", "http://127.0.0.1:9/x"], "--since", []),
]
DURATION_OPTIONS = [
    (["calls", "wait", "{call}"], "--timeout", []),
    (
        ["calls", "dispatch", *"--from +14155550100 --to +14155550124 --agent 12".split()],
        "--wait-timeout",
        ["--wait", "--dry-run"],
    ),  # fmt: skip
    (
        ["calls", "batch", "{tmp}/leads.csv", "--from", "+14155550100", "--agent", "12"],
        "--settle",
        ["--dry-run"],
    ),  # fmt: skip
    (
        ["calls", "batch", "{tmp}/leads.csv", "--from", "+14155550100", "--agent", "12"],
        "--repeat-after",
        ["--dry-run"],
    ),  # fmt: skip
]
COUNT_OPTIONS = [
    (["calls", "list"], "--limit", []),
    (["calls", "list", "--local"], "--limit", []),
    (["calls", "search", "refund"], "--limit", []),
    (["calls", "list", "--limit", "1"], "--agent", []),
    (["calls", "show"], "", []),  # the call id
    (["agents", "show"], "", []),
    (["webhooks", "replay", "{tmp}/events.jsonl", "--to", "http://127.0.0.1:9/x"], "--index", []),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One small sandbox, an archive synced from it, and the files the commands read."""
    tmp = tmp_path_factory.mktemp("bad-values")
    running = start_sandbox(SandboxConfig(port=0, quiet=True, calls=40, live_calls=False))
    env = {
        "ZAZA_BASE_URL": running.base_url,
        "ZAZA_API_KEY": running.api_key,
        "ZAZA_ARCHIVE": str(tmp / "archive.sqlite3"),
        "ZAZA_CONFIG_DIR": str(tmp / "config"),
        "XDG_DATA_HOME": str(tmp / "data"),
    }
    cli = Cli(env=env, timing=no_waiting())
    assert cli("calls", "sync").exit_code == 0
    (tmp / "leads.csv").write_text("to\n+14155550124\n")
    (tmp / "events.jsonl").write_text("")
    # A review that finds nothing (exit 0, not 18) whatever the calls.
    (tmp / "quiet.toml").write_text('[[rules]]\nname = "q"\nkind = "forbid"\nphrases = ["qq"]\n')
    call = api_get(running, "calls", size=1)["content"][0]["id"]
    try:
        yield {"cli": cli, "tmp": str(tmp), "call": str(call)}
    finally:
        running.close()


def run(world: dict[str, Any], before: list[str], option: str, value: str, after: list[str]) -> Any:
    words = [w.format(tmp=world["tmp"], call=world["call"]) for w in before]
    given = [option, value] if option else ["--", value]
    return world["cli"](*words, *after, *given)


def assert_usage_or_ok(result: Any, case: str) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, (case, output)
    assert result.exit_code in (0, 2), (case, result.exit_code, result.stderr[-600:])
    if result.exit_code == 2:
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, (case, result.stderr)


PROPERTY = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize(("before", "option", "after"), TIME_OPTIONS)
@PROPERTY
@given(value=TIMES)
@example(value="0001-01-01")
@example(value="1000000000d")
@example(value="9999-12-31T23:59:59-01:00")
def test_any_time_is_ok_or_a_usage_error(
    world: dict[str, Any], before: list[str], option: str, after: list[str], value: str
) -> None:
    assert_usage_or_ok(run(world, before, option, value, after), f"{before} {option} {value!r}")


@pytest.mark.parametrize(("before", "option", "after"), DURATION_OPTIONS)
@PROPERTY
@given(value=DURATIONS)
@example(value="1000000000h")
def test_any_duration_is_ok_or_a_usage_error(
    world: dict[str, Any], before: list[str], option: str, after: list[str], value: str
) -> None:
    assert_usage_or_ok(run(world, before, option, value, after), f"{before} {option} {value!r}")


@pytest.mark.parametrize(("before", "option", "after"), COUNT_OPTIONS)
@PROPERTY
@given(value=COUNTS)
@example(value="99999999999999999999999")
@example(value=str(2**63))
def test_any_count_is_ok_or_a_usage_error(
    world: dict[str, Any], before: list[str], option: str, after: list[str], value: str
) -> None:
    result = run(world, before, option, value, after)
    if result.exit_code == 3 and not option:
        return  # an id in range that the API does not have: not found, as documented
    assert_usage_or_ok(result, f"{before} {option} {value!r}")


def test_the_cases_found_are_one_line_usage_errors(world: dict[str, Any]) -> None:
    cli = world["cli"]
    cases = [
        (["calls", "list", "--since", "0001-01-01"], "--since: '0001-01-01' is out of range"),
        (["calls", "list", "--since", "1000000000d"], "--since: '1000000000d' is out of range"),
        (["calls", "list", "--until", "9999-12-31T23:59:59-01:00"], "is out of range"),
        (["calls", "search", "x", "--since", "0001-01-01"], "is out of range"),
        (["calls", "archive", "--prune", "--before", "0001-01-01"], "--before: '0001-01-01'"),
        (["calls", "sync", "--since", "0001-01-01"], "is out of range"),
        (["calls", "list", "--local", "--limit", "99999999999999999999999"], "not in the range"),
    ]
    for args, needle in cases:
        result = cli(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert needle in result.stderr, (args, result.stderr)
        assert result.stdout == ""
    assert Path(world["tmp"], "archive.sqlite3").exists()
