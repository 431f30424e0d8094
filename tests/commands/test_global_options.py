"""Global options anywhere on the line (`zaza calls list --profile dev`, `zaza agents show 12
--debug`), listed under "Global options" in every command's help; a command's own option of
the same name stays its own; usage errors suggest only options the command takes."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    "words",
    [
        ["--debug", "agents", "show", "12"],
        ["agents", "show", "12", "--debug"],
        ["agents", "--debug", "show", "12"],
        ["agents", "show", "--debug", "12"],
    ],
    ids=["before", "after", "between", "amid"],
)
def test_debug_works_anywhere(cli: Any, words: list[str]) -> None:
    result = cli(*words)
    assert result.exit_code == 0, result.stderr
    assert "> GET " in result.stderr and "/agents/12" in result.stderr


def test_a_global_option_with_a_value_after_the_command(cli: Any, tmp_path: Any) -> None:
    result = cli("calls", "list", "--limit", "1", "--profile", "nope")
    assert result.exit_code == 2
    assert "unknown profile 'nope'" in result.stderr
    attached = cli("calls", "list", "--limit", "1", "-pnope")
    assert attached.stderr == result.stderr
    equals = cli("calls", "list", "--limit", "1", "--profile=nope")
    assert equals.stderr == result.stderr


def test_no_pager_and_no_color_after_the_command(cli: Any) -> None:
    result = cli("calls", "list", "--limit", "2", "--no-pager", "--no-color", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("[")


def test_the_command_keeps_its_own_option_of_a_global_name(cli: Any) -> None:
    """`calls wait --timeout` is how long to wait (a duration), not the read timeout."""
    result = cli("calls", "wait", "1", "--timeout", "1s")
    assert "Read timeout" not in result.stderr
    assert "404" in result.stderr and result.exit_code == 3
    bad = cli("calls", "wait", "1", "--timeout", "soon")
    assert bad.exit_code == 2 and "--timeout" in bad.stderr


def test_nothing_after_a_double_dash_is_moved(cli: Any) -> None:
    result = cli("dnc", "check", "--", "--debug")
    assert "> GET" not in result.stderr
    assert result.exit_code == 2
    assert "--debug" in result.stderr or "number" in result.stderr


def test_help_lists_the_global_options(cli: Any) -> None:
    result = cli("calls", "list", "--help")
    assert result.exit_code == 0
    _, _, globals_ = result.stdout.partition("Global options:")
    for name in ("--profile", "--debug", "--no-pager", "--no-color", "--sandbox", "--timeout"):
        assert name in globals_, name
    assert "--version" not in globals_ and "--install-completion" not in globals_
    wait = cli("calls", "wait", "--help").stdout.partition("Global options:")[2]
    assert "--timeout" not in wait and "--debug" in wait


def test_suggestions_name_only_options_the_command_takes(cli: Any) -> None:
    result = cli("calls", "list", "--debg")
    assert result.exit_code == 2
    assert "did you mean --debug" in result.stderr
    typo = cli("calls", "list", "--sttus", "failed")
    assert "(did you mean --status?)" in typo.stderr
    nothing = cli("calls", "list", "--zzzzzz")
    assert nothing.stderr.splitlines()[0] == "error: no such option: --zzzzzz"


def test_a_number_with_spaces_is_asked_to_be_quoted(cli: Any) -> None:
    result = cli(
        "calls", "dispatch", "--from", "+14155550100", "--agent", "12", "--to", "+1", "415",
        "555", "0123",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "must be quoted" in result.stderr and "'+1 415 555 0123'" in result.stderr


def test_extra_words_that_are_not_a_number_are_never_echoed(cli: Any) -> None:
    secret = "zaza_" + "live_" + "notarealkeyjustwords"
    result = cli("profiles", "add", "prod", secret)
    assert result.exit_code == 2
    assert secret not in result.stderr + result.stdout
    assert "not shown" in result.stderr
