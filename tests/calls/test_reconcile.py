"""Reconciliation that cannot be fooled: a dispatch whose answer is lost is found in the call
list, never mistaken for an older call, and a batch row of unknown outcome is never dialled
twice. Over real sandboxes that play servers the docs allow: answers without an id, lost
answers, lost dispatches, a skewed clock, a list that shows new calls late. Asserted: the
exit code, the id printed, the number of POSTs that went over the wire and the calls the API
really queued."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, api_get, posts, queued_to, set_quirks, start, wait_for

FROM = "+14155550100"
ALLOW = "--allow-quiet-hours"
# How long a dispatch whose answer was lost looks for its call: it scans twice, a second
# apart, on a clock that skips the wait (see start).
LOOK = "1"


def dispatch(cli: Cli, to: str, **env: str) -> Any:
    return cli("calls", "dispatch", "--from", FROM, "--to", to, "--agent", "12", ALLOW, **env)


def wait_listed(running: Any, numbers: list[str], timeout: float = 15.0) -> None:
    """Poll GET /calls until every number has a call listed (a list-lag quirk has passed)."""

    def listed() -> bool:
        page = api_get(running, "calls", direction="OUTBOUND", size=100)
        return set(numbers) <= {call["toNumber"] for call in page["content"]}

    wait_for(listed, timeout, f"{numbers} listed")


# ---------------------------------------------------------------- single dispatch


def test_an_answer_without_an_id_is_looked_up_and_its_id_printed(make_sandbox: Any) -> None:
    running, cli = start(make_sandbox, "no-id")
    result = dispatch(cli, "+12125550601")
    assert result.exit_code == 0, result.stderr
    [queued] = queued_to(running, "+12125550601")
    assert result.stdout == f"{queued}\n"
    assert "without a call id" in result.stderr
    assert posts(running) == 1


def test_a_lost_dispatch_never_takes_an_older_call_to_the_same_number(make_sandbox: Any) -> None:
    running, cli = start(make_sandbox, "ignore-dates")
    older = dispatch(cli, "+12125550602")
    assert older.exit_code == 0, older.stderr
    older_id = int(older.stdout)
    set_quirks(running, lose_dispatch=True)
    result = dispatch(cli, "+12125550602", ZAZA_RECONCILE_WAIT=LOOK)
    assert result.exit_code == 6, result.stderr
    assert "outcome of the call to +12125550602 is unknown" in result.stderr
    assert result.stdout == "" and str(older_id) not in result.stderr
    assert posts(running) == 2  # one each; the lost one was never resent
    assert queued_to(running, "+12125550602") == [older_id]


def test_a_lost_answer_finds_the_new_call_not_the_older_one(make_sandbox: Any) -> None:
    running, cli = start(make_sandbox)
    older = dispatch(cli, "+12125550603")
    assert older.exit_code == 0, older.stderr
    set_quirks(running, lost_answer=True)
    result = dispatch(cli, "+12125550603")
    assert result.exit_code == 0, result.stderr
    [old_id, new_id] = queued_to(running, "+12125550603")
    assert int(older.stdout) == old_id
    assert result.stdout == f"{new_id}\n"
    assert f"the call was queued as {new_id}" in result.stderr
    assert posts(running) == 2


@pytest.mark.parametrize("skew", ["-300", "300"])
@pytest.mark.parametrize("loss", ["lost-answer", "lose-dispatch"])
def test_a_skewed_server_clock_still_finds_the_right_call(
    make_sandbox: Any, skew: str, loss: str
) -> None:
    running, cli = start(make_sandbox, f"clock-skew={skew}")
    older = dispatch(cli, "+12125550604")
    assert older.exit_code == 0, older.stderr
    set_quirks(running, **{loss.replace("-", "_"): True})
    result = dispatch(cli, "+12125550604", ZAZA_RECONCILE_WAIT=LOOK)
    queued = queued_to(running, "+12125550604")
    if loss == "lost-answer":
        assert result.exit_code == 0, result.stderr
        assert result.stdout == f"{queued[-1]}\n" and len(queued) == 2
    else:
        assert result.exit_code == 6, result.stderr
        assert result.stdout == "" and queued == [int(older.stdout)]
    assert posts(running) == 2


def test_a_list_that_lags_gives_outcome_unknown_within_the_wait(make_sandbox: Any) -> None:
    running, cli = start(make_sandbox, "lost-answer", "list-lag=30")
    started = time.monotonic()
    result = dispatch(cli, "+12125550605", ZAZA_RECONCILE_WAIT=LOOK)
    assert result.exit_code == 6, result.stderr
    assert time.monotonic() - started < 8  # the wait (skipped) and one bounded scan, not 30 s
    assert "do not simply retry" in result.stderr
    assert posts(running) == 1 and len(queued_to(running, "+12125550605")) == 1


def test_a_server_that_pages_forever_does_not_hold_a_reconciliation(make_sandbox: Any) -> None:
    """stuck-page + ignore-dates: the scan never ends by itself; the time budget ends it.
    With the frequency cap on (the real API: no-sandbox-header), the calls to the number
    cannot be counted: nothing is sent."""
    quirks = ("stuck-page", "ignore-dates", "lose-dispatch", "page-cap=2", "no-sandbox-header")
    running, cli = start(make_sandbox, *quirks)
    capped = dispatch(cli, "+12125550606", ZAZA_RECONCILE_WAIT=LOOK)
    assert capped.exit_code == 17, capped.stderr
    assert "frequency cap: cannot count the calls to +12125550606" in capped.stderr
    assert posts(running) == 0
    started = time.monotonic()
    result = dispatch(
        cli, "+12125550606", ZAZA_RECONCILE_WAIT=LOOK, ZAZA_MAX_CALLS_PER_NUMBER="off"
    )
    assert result.exit_code == 6, result.stderr
    assert time.monotonic() - started < 15
    assert posts(running) == 1


# ---------------------------------------------------------------- batch


def batch_args(csv_path: Path, *extra: str) -> list[str]:
    return [
        "calls",
        "batch",
        str(csv_path),
        "--from",
        FROM,
        "--agent",
        "12",
        "--rate",
        "50",
        ALLOW,
        *extra,
    ]


def statuses(stdout: str) -> dict[int, str]:
    return {row["line"]: row["status"] for row in map(json.loads, stdout.splitlines())}


@pytest.mark.slow
@pytest.mark.parametrize("skew", ["0", "-300", "300"])
def test_batch_rows_of_unknown_outcome_are_never_dialled_twice(
    make_sandbox: Any, tmp_path: Path, skew: str
) -> None:
    running, cli = start(make_sandbox, "lost-answer", "list-lag=2", f"clock-skew={skew}")
    numbers = ["+12125550611", "+12125550612"]
    csv_path = tmp_path / "u.csv"
    csv_path.write_text("to\n" + "\n".join(numbers) + "\n")
    env = {"ZAZA_RECONCILE_WAIT": "0"}

    first = cli(*batch_args(csv_path), **env)
    assert first.exit_code == 1, first.stderr
    assert set(statuses(first.stdout).values()) == {"unknown"}
    assert re.search(r"a re-run from \S+ \S+ UTC \(in [45]m(\d+s)?\) decides them", first.stderr)
    assert "--redial-unknown" in first.stderr
    assert posts(running) == 2

    again = cli(*batch_args(csv_path), **env)  # the list still lags: nothing is decided
    assert again.exit_code == 1, again.stderr
    assert set(statuses(again.stdout).values()) == {"unknown"}
    assert posts(running) == 2

    wait_listed(running, numbers)
    settled = cli(*batch_args(csv_path, "--settle", "0s"), **env)
    assert settled.exit_code == 0, settled.stderr
    assert set(statuses(settled.stdout).values()) == {"reconciled"}
    assert posts(running) == 2  # 0 second dials
    assert all(len(queued_to(running, n)) == 1 for n in numbers)


def test_batch_resends_a_lost_dispatch_once_settled_only_past_the_repeat_window(
    make_sandbox: Any, tmp_path: Path
) -> None:
    """Not listed after --settle is no proof (a server can misreport its clock or list):
    the repeat window holds the row; --allow-repeat lifts it (the cap still counts it)."""
    running, cli = start(make_sandbox, "lose-dispatch", "no-sandbox-header")
    csv_path = tmp_path / "l.csv"
    csv_path.write_text("to\n+12125550621\n")
    env = {"ZAZA_RECONCILE_WAIT": "0"}
    first = cli(*batch_args(csv_path), **env)
    assert first.exit_code == 1 and statuses(first.stdout) == {2: "unknown"}
    set_quirks(running, lose_dispatch=False)

    early = cli(*batch_args(csv_path, "--settle", "1h"), **env)
    assert early.exit_code == 1 and statuses(early.stdout) == {2: "unknown"}
    assert posts(running) == 1  # not settled: never re-sent on a guess
    journal = (tmp_path / "l.csv.journal.jsonl").read_text()
    # The resume command keeps the --settle it was given.
    assert "--settle 1h" in early.stderr
    assert '"serverTs"' in journal and '"clockUncertainty"' in journal

    held = cli(*batch_args(csv_path, "--settle", "0s"), **env)
    assert held.exit_code == 1 and statuses(held.stdout) == {2: "unknown"}
    assert "held by the repeat window (24h)" in held.stderr
    assert posts(running) == 1

    settled = cli(*batch_args(csv_path, "--settle", "0s", "--allow-repeat"), **env)
    assert settled.exit_code == 0, settled.stderr
    assert statuses(settled.stdout) == {2: "queued"}
    assert posts(running) == 2 and len(queued_to(running, "+12125550621")) == 1
    assert "never queued, sent again" in settled.stderr


def test_against_the_sandbox_a_settled_lost_dispatch_is_not_held(
    make_sandbox: Any, tmp_path: Path
) -> None:
    """The sandbox rings no one: the repeat window, like the cap, does not hold its rows."""
    running, cli = start(make_sandbox, "lose-dispatch")
    csv_path = tmp_path / "s.csv"
    csv_path.write_text("to\n+12125550625\n")
    env = {"ZAZA_RECONCILE_WAIT": "0"}
    assert cli(*batch_args(csv_path), **env).exit_code == 1
    set_quirks(running, lose_dispatch=False)
    settled = cli(*batch_args(csv_path, "--settle", "0s"), **env)
    assert settled.exit_code == 0, settled.stderr
    assert statuses(settled.stdout) == {2: "queued"}
    assert "held by the repeat window" not in settled.stderr
    assert posts(running) == 2 and len(queued_to(running, "+12125550625")) == 1


def test_redial_unknown_sends_again_at_once(make_sandbox: Any, tmp_path: Path) -> None:
    running, cli = start(make_sandbox, "lose-dispatch")
    csv_path = tmp_path / "r.csv"
    csv_path.write_text("to\n+12125550631\n")
    env = {"ZAZA_RECONCILE_WAIT": "0"}
    assert cli(*batch_args(csv_path), **env).exit_code == 1
    set_quirks(running, lose_dispatch=False)
    redial = cli(*batch_args(csv_path, "--redial-unknown"), **env)
    assert redial.exit_code == 0, redial.stderr
    assert statuses(redial.stdout) == {2: "queued"}
    assert posts(running) == 2 and len(queued_to(running, "+12125550631")) == 1
