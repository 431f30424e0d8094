"""`zaza calls check`, the monitoring plugin: the condition parser on its own, then the
command run through the CLI against a real sandbox, judged by what a monitoring system and
the person reading its logs see (stdout, stderr, exit code 0-3)."""

from __future__ import annotations

import json
import re
import socket
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, FaultServer, no_waiting

from zazacli.calls.check import (
    COMPARISONS,
    CRITICAL,
    METRICS,
    STATUS_GROUP,
    WARNING,
    Condition,
    parse_condition,
    parse_conditions,
)
from zazacli.context import Timing
from zazacli.errors import PLUGIN_EXIT_CODES, PLUGIN_STATES, UsageError
from zazacli.output.check import threshold_range

OK, WARN, CRIT, UNKNOWN = 0, 1, 2, 3
# A status line: `CALLS STATE - text | perfdata`.
STATUS_LINE = re.compile(r"^CALLS (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]*?)(?: \| (.*))?$")
# One item of the perfdata: label=value[UOM];warn;crit;min;max (trailing fields optional).
PERF_ITEM = re.compile(
    r"^(?P<label>[a-z_0-9]+)=(?P<value>U|-?[0-9]+(?:\.[0-9]+)?)(?P<uom>s|%|B|c)?"
    r"(?:;(?P<warn>[^;]*)(?:;(?P<crit>[^;]*)(?:;(?P<min>[^;]*)(?:;(?P<max>[^;]*))?)?)?)?$"
)


# ---------------------------------------------------------------- helpers


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_line(result: Any) -> tuple[str, str, dict[str, dict[str, str]]]:
    """(state, text, {label: fields}) of the first stdout line; it must be well formed."""
    first = result.stdout.splitlines()[0]
    match = STATUS_LINE.match(first)
    assert match, first
    perf: dict[str, dict[str, str]] = {}
    for item in (match.group(3) or "").split():
        fields = PERF_ITEM.match(item)
        assert fields, f"not perfdata in the plugin format: {item!r}"
        perf[fields.group("label")] = {k: v or "" for k, v in fields.groupdict().items()}
    return match.group(1), match.group(2), perf


def num(value: float) -> str:
    """A figure as the plugin writes it: 0.7143, 117, 1 (no exponent, no trailing .0)."""
    return format(Decimal(str(value)).normalize(), "f")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nagios_alerts(spec: str, value: float) -> bool:
    """Whether a threshold range of the Monitoring Plugins guidelines alerts for `value`:
    `[@]start:end`, start `~` for minus infinity, `N` for `0:N`, `N:` for `N:infinity`."""
    inside = spec.startswith("@")
    body = spec.removeprefix("@")
    start_text, _, end_text = body.rpartition(":") if ":" in body else ("0", "", body)
    start = float("-inf") if start_text == "~" else float(start_text or 0)
    end = float("inf") if end_text == "" else float(end_text)
    within = start <= value <= end
    return within if inside else not within


# ---------------------------------------------------------------- the condition parser


@pytest.mark.parametrize("op", list(COMPARISONS))
def test_every_operator_is_read_and_compares_as_written(op: str) -> None:
    condition = parse_condition(f"failed {op} 5", CRITICAL)
    assert condition == Condition(CRITICAL, "failed", op, 5.0)
    expected = {
        "<": (True, False, False),
        "<=": (True, True, False),
        ">": (False, False, True),
        ">=": (False, True, True),
        "==": (False, True, False),
        "!=": (True, False, True),
    }[op]
    assert (condition.holds(4), condition.holds(5), condition.holds(6)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("answer_rate<0.4", ("answer_rate", "<", 0.4)),
        ("  answer_rate   <=   .4  ", ("answer_rate", "<=", 0.4)),
        ("Answer_Rate >= 0.", ("answer_rate", ">=", 0.0)),
        ("calls<1", ("calls", "<", 1.0)),
        ("stuck!=0", ("stuck", "!=", 0.0)),
        ("estimated_cost_usd > +12.50", ("estimated_cost_usd", ">", 12.5)),
        ("p90_duration_s == 300", ("p90_duration_s", "==", 300.0)),
        ("median_duration_s>-1", ("median_duration_s", ">", -1.0)),
    ],
)
def test_whitespace_is_optional_and_names_read_in_any_case(
    text: str, expected: tuple[str, str, float]
) -> None:
    condition = parse_condition(text, WARNING)
    assert (condition.metric, condition.op, condition.threshold) == expected
    assert condition.level == WARNING


@pytest.mark.parametrize(
    ("text", "threshold"),
    [
        ("answer_rate < 40%", 0.4),
        ("answer_rate<40 %", 0.4),
        ("answer_rate < 7.5%", 0.075),
        ("answer_rate < 33.3%", 0.333),  # the decimal divided, not the float: exact
        ("answer_rate >= 100%", 1.0),
        ("answer_rate > 0%", 0.0),
    ],
)
def test_percent_is_the_number_divided_by_100(text: str, threshold: float) -> None:
    assert parse_condition(text, CRITICAL).threshold == threshold


@pytest.mark.parametrize(
    ("text", "problem", "hint"),
    [
        ("answer_rat < 0.4", "unknown metric 'answer_rat'", "did you mean answer_rate?"),
        ("latency > 5", "unknown metric 'latency'", "metrics: calls, answered, answer_rate"),
        ("< 0.4", "no metric name at its start", "METRIC OP NUMBER"),
        ("", "no metric name at its start", "METRIC OP NUMBER"),
        ("answer_rate = 0.4", "bad operator ('=')", "< <= > >= == !="),
        ("answer_rate => 0.4", "bad operator ('=>')", "< <= > >= == !="),
        ("answer_rate <> 0.4", "bad operator ('<>')", "< <= > >= == !="),
        ("answer_rate 0.4", "bad operator (none)", "< <= > >= == !="),
        ("answer_rate lt 0.4", "bad operator (none)", "< <= > >= == !="),
        ("answer_rate <", "bad number", "METRIC OP NUMBER"),
        ("answer_rate < abc", "bad number", "METRIC OP NUMBER"),
        ("answer_rate < 1e3", "bad number", "METRIC OP NUMBER"),
        ("answer_rate < nan", "bad number", "METRIC OP NUMBER"),
        ("answer_rate < inf", "bad number", "METRIC OP NUMBER"),
        ("answer_rate < 0x10", "bad number", "METRIC OP NUMBER"),
        ("answer_rate < 1_000", "bad number", "METRIC OP NUMBER"),
        ("answer_rate < 40%%", "bad number", "METRIC OP NUMBER"),
        ("answer_rate < 0.4 or calls < 1", "bad number", "METRIC OP NUMBER"),
        ("answer_rate < ٤", "bad number", "METRIC OP NUMBER"),  # an Arabic-Indic digit
        ("calls > 1" + "0" * 16, "out of range", "at most"),
        ("__import__('os') < 1", "unknown metric", "metrics:"),
    ],
)
def test_bad_conditions_say_what_is_wrong(text: str, problem: str, hint: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_condition(text, WARNING)
    assert raised.value.message.startswith("--warn-if ")
    assert problem in raised.value.message
    assert hint in (raised.value.hint or "")


def test_conditions_keep_their_level_warnings_first() -> None:
    parsed = parse_conditions(["failed > 5"], ["answer_rate < 0.4", "calls < 1"])
    assert [(c.level, c.metric) for c in parsed] == [
        (WARNING, "failed"),
        (CRITICAL, "answer_rate"),
        (CRITICAL, "calls"),
    ]


def test_a_metric_that_is_not_available_never_holds() -> None:
    for op in COMPARISONS:
        assert not Condition(CRITICAL, "answer_rate", op, 0.4).holds(None)


@pytest.mark.parametrize("op", list(COMPARISONS))
@pytest.mark.parametrize("threshold", [0.0, 0.4, 5.0, -2.0])
def test_perfdata_thresholds_alert_exactly_when_the_condition_holds(
    op: str, threshold: float
) -> None:
    condition = Condition(CRITICAL, "answer_rate", op, threshold)
    spec = threshold_range(condition)
    for value in (0.0, 0.2, 0.4, 0.5, 5.0, 7.0):  # no metric is ever below zero
        assert nagios_alerts(spec, value) == condition.holds(value), (spec, value)


def test_plugin_exit_codes_are_their_own_small_map() -> None:
    assert PLUGIN_STATES == {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
    assert sorted(PLUGIN_EXIT_CODES) == [0, 1, 2, 3]


# ---------------------------------------------------------------- end to end


@pytest.fixture
def window(sandbox: Any) -> tuple[str, str]:
    """The last two days, as fixed instants: `calls stats` and `calls check` count the
    same calls however long apart they run."""
    now = datetime.now(UTC)
    return stamp(now - timedelta(days=2)), stamp(now + timedelta(minutes=1))


def stats_json(cli: Cli, since: str, until: str) -> dict[str, Any]:
    result = cli("calls", "stats", "--since", since, "--until", until, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_every_metric_is_read_from_what_calls_stats_json_prints(
    cli: Cli, window: tuple[str, str]
) -> None:
    since, until = window
    report = stats_json(cli, since, until)
    result = cli("calls", "check", "--since", since, "--until", until)
    assert result.exit_code == OK, result.stdout + result.stderr
    state, text, perf = status_line(result)
    assert list(perf) == list(METRICS)  # every metric, in order
    counts = {group["key"]: group["count"] for group in report["groups"]}
    for metric, place in METRICS.items():
        if metric == "stuck":
            continue  # counted only by calls check
        if place.startswith(STATUS_GROUP):
            expected = counts.get(place.removeprefix(STATUS_GROUP), 0)
        else:
            assert place in report, place
            expected = report[place]
        assert Decimal(perf[metric]["value"]) == Decimal(str(expected)), metric
    assert report["total"] > 20
    assert state == "OK"
    assert text == f"{report['total']} calls, answer rate {num(report['answer_rate'])}"
    assert perf["median_duration_s"]["uom"] == "s"
    assert perf["answer_rate"]["min"] == "0" and perf["answer_rate"]["max"] == "1"
    assert perf["stuck"]["value"] == "0"  # a history that has ended
    assert result.stderr == ""


def test_ok_warning_and_critical(cli: Cli, window: tuple[str, str]) -> None:
    since, until = window
    report = stats_json(cli, since, until)
    total = report["total"]
    failed = next((g["count"] for g in report["groups"] if g["key"] == "FAILED"), 0)
    span = ["--since", since, "--until", until]

    ok = cli("calls", "check", *span, "--warn-if", f"failed > {failed}", "--crit-if", "calls<1")
    assert ok.exit_code == OK, ok.stdout
    assert ok.stdout.startswith(f"CALLS OK - {total} calls, answer rate ")

    warning = cli("calls", "check", *span, "--warn-if", f"failed >= {failed}")
    assert warning.exit_code == WARN, warning.stdout
    state, text, perf = status_line(warning)
    assert (state, text) == ("WARNING", f"failed {failed} >= {failed}")
    assert perf["failed"]["warn"] == f"@{failed}:" and perf["failed"]["crit"] == ""

    both = cli(
        "calls", "check", *span,
        "--warn-if", f"failed >= {failed}",
        "--crit-if", "answer_rate < 101%",
        "--crit-if", "calls < 1",
    )  # fmt: skip
    assert both.exit_code == CRIT, both.stdout
    state, text, perf = status_line(both)
    # CRITICAL wins, and its line names what made it so.
    rate = num(report["answer_rate"])
    assert (state, text) == ("CRITICAL", f"answer_rate {rate} < 1.01")
    assert perf["answer_rate"]["crit"] == "1.01:" and perf["calls"]["crit"] == "1:"
    assert perf["failed"]["warn"] == f"@{failed}:"
    assert both.stdout.splitlines()[1:] == [
        f"[WARNING] failed >= {failed}: held (failed {failed})",
        f"[CRITICAL] answer_rate < 1.01: held (answer_rate {rate})",
        f"[CRITICAL] calls < 1: not held (calls {total})",
        f"{total} calls created since {since} until {until}, from the API; "
        "stuck: not over 30m after creation",
    ]
    assert both.stderr == ""


def test_a_metric_that_cannot_be_computed_is_na_and_its_condition_does_not_hold(
    cli: Cli,
) -> None:
    empty = ["--since", "2001-01-01T00:00:00Z", "--until", "2001-01-02T00:00:00Z"]
    result = cli(
        "calls", "check", *empty,
        "--crit-if", "answer_rate < 0.4", "--warn-if", "median_duration_s > 60",
    )  # fmt: skip
    assert result.exit_code == OK, result.stdout
    state, text, perf = status_line(result)
    assert text == "0 calls, answer rate n/a"
    assert perf["answer_rate"] == {**perf["answer_rate"], "value": "U", "crit": "0.4:"}
    assert perf["median_duration_s"]["value"] == "U" and perf["calls"]["value"] == "0"
    lines = result.stdout.splitlines()
    assert "[CRITICAL] answer_rate < 0.4: not held (answer_rate n/a: " in lines[2]
    assert "[WARNING] median_duration_s > 60: not held (median_duration_s n/a: " in lines[1]
    # The way to fail on no traffic at all:
    quiet = cli("calls", "check", *empty, "--crit-if", "answer_rate < 0.4", "--crit-if", "calls<1")
    assert quiet.exit_code == CRIT
    assert quiet.stdout.startswith("CALLS CRITICAL - calls 0 < 1 | ")


def test_stuck_counts_calls_not_over_long_after_creation(make_sandbox: Any) -> None:
    """At speed 0.001 the sandbox's three newest calls were created 500 s, 2,000 s and
    5,000 s before it started, and stay under way for 8,000 s; so does a call dispatched
    now. The check's clock is moved on instead of waiting."""
    slow = make_sandbox(speed=0.001)
    env = {"ZAZA_BASE_URL": slow.base_url, "ZAZA_API_KEY": slow.api_key}
    cli = Cli(env=env)
    dispatched = cli(
        "calls", "dispatch", "--from", "+14155550100", "--to", "+14155550124", "--agent", "12"
    )
    assert dispatched.exit_code == 0, dispatched.stderr
    args = ["calls", "check", "--since", "2h", "--crit-if", "stuck > 0"]

    now = cli(*args)
    assert now.exit_code == CRIT, now.stdout
    assert status_line(now)[:2] == ("CRITICAL", "stuck 2 > 0")
    assert "stuck: not over 30m after creation" in now.stdout

    assert cli(*args, "--stuck-after", "2h").exit_code == OK
    later = Cli(env=env, timing=Timing(wall=lambda: time.time() + 3600))(*args)
    assert later.exit_code == CRIT, later.stdout
    assert status_line(later)[2]["stuck"]["value"] == "4"  # all three, and the dispatched one


def test_local_checks_the_archive_as_of_its_last_sync(make_sandbox: Any, tmp_path: Path) -> None:
    slow = make_sandbox(speed=0.001)  # as in the test above: two calls stuck, and they stay
    archive = str(tmp_path / "calls.sqlite3")
    api = Cli(env={"ZAZA_BASE_URL": slow.base_url, "ZAZA_API_KEY": slow.api_key})
    synced = api("calls", "sync", "--archive", archive)
    assert synced.exit_code == 0, synced.stderr
    since = stamp(datetime.now(UTC) - timedelta(hours=2))
    args = ["calls", "check", "--since", since, "--warn-if", "stuck > 0", "--crit-if", "calls<1"]
    from_api = api(*args)
    # Offline: no key, and an API that refuses connections.
    offline = {"ZAZA_BASE_URL": f"http://127.0.0.1:{closed_port()}/api/v1"}
    local = Cli(env=offline)(*args, "--local", "--archive", archive)
    assert local.exit_code == from_api.exit_code == WARN, local.stdout + local.stderr
    assert status_line(local)[:2] == status_line(from_api)[:2] == ("WARNING", "stuck 2 > 0")
    assert status_line(local)[2] == status_line(from_api)[2]
    assert f"from the archive {archive} (synced 20" in local.stdout
    # The archive knows the calls as its sync saw them: an hour later is still that sync.
    later = Cli(env=offline, timing=Timing(wall=lambda: time.time() + 3600))
    assert status_line(later(*args, "--local", "--archive", archive))[2]["stuck"]["value"] == "2"


# ---------------------------------------------------------------- UNKNOWN


def assert_unknown(result: Any, *needles: str) -> str:
    """Exit 3, one line on stdout, `CALLS UNKNOWN - …`; the error (and hint) on stderr."""
    assert result.exit_code == UNKNOWN, (result.exit_code, result.stdout, result.stderr)
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("CALLS UNKNOWN - "), result.stdout
    assert "|" not in lines[0]
    # The same message (where stdout has `/` for a `|`, which would start perfdata).
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert errors[0].replace("|", "/") == f"error: {lines[0].removeprefix('CALLS UNKNOWN - ')}"
    for needle in needles:
        assert needle in result.stdout + result.stderr, (needle, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


def test_an_unreachable_api_is_unknown() -> None:
    cli = Cli(
        env={"ZAZA_BASE_URL": f"http://127.0.0.1:{closed_port()}/api/v1", "ZAZA_API_KEY": "k"},
        timing=no_waiting(),
    )
    result = cli("calls", "check", "--crit-if", "calls < 1")
    line = assert_unknown(result, "hint: check the base URL")
    assert line.startswith("CALLS UNKNOWN - cannot connect to 127.0.0.1:")


def test_a_refused_key_is_unknown(sandbox: Any) -> None:
    cli = Cli(env={"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": "zaza_test_wrong_key_1"})
    line = assert_unknown(cli("calls", "check", "--crit-if", "calls < 1"), "hint: ")
    assert "401" in line
    assert "zaza_test_wrong_key_1" not in cli("calls", "check").stdout


def test_no_key_is_unknown(bare_cli: Cli) -> None:
    assert_unknown(bare_cli("calls", "check"), "API key")


def test_a_bad_condition_is_unknown_before_any_request(bare_cli: Cli) -> None:
    # No key is configured: the condition is read before anything else is needed.
    line = assert_unknown(
        bare_cli("calls", "check", "--warn-if", "failed > 5", "--crit-if", "answer_rat < 0.4"),
        "hint: did you mean answer_rate? metrics: calls, answered, answer_rate, failed,",
    )
    assert line == "CALLS UNKNOWN - --crit-if 'answer_rat < 0.4': unknown metric 'answer_rat'"
    assert_unknown(bare_cli("calls", "check", "--crit-if", "calls = 1"), "bad operator ('=')")
    assert_unknown(bare_cli("calls", "check", "--warn-if", "calls > many"), "bad number")


def test_usage_errors_of_this_command_are_unknown_too(bare_cli: Cli) -> None:
    assert_unknown(bare_cli("calls", "check", "--bogus"), "no such option: --bogus")
    assert_unknown(bare_cli("calls", "check", "--since", "soon"), "--since: cannot read")
    assert_unknown(bare_cli("calls", "check", "--stuck-after", "ages"), "--stuck-after")
    assert_unknown(bare_cli("calls", "check", "--agent", "x"), "--agent")
    assert_unknown(bare_cli("calls", "check", "--local"), "which archive?")
    pasted = bare_cli("calls", "check", "zaza_live_pasted_key_123")
    assert_unknown(pasted, "unexpected extra argument")
    assert "zaza_live_pasted_key_123" not in pasted.stdout + pasted.stderr


def test_other_commands_keep_zazas_exit_codes(bare_cli: Cli) -> None:
    stats = bare_cli("calls", "stats", "--bogus")
    assert stats.exit_code == 2 and stats.stdout == ""
    assert bare_cli("calls", "stats").exit_code == 4  # no key
    unreachable = Cli(
        env={"ZAZA_BASE_URL": f"http://127.0.0.1:{closed_port()}/api/v1", "ZAZA_API_KEY": "k"},
        timing=no_waiting(),
    )
    assert unreachable("calls", "stats").exit_code == 6


def test_an_error_quoting_a_hostile_server_stays_one_inert_line(
    fault_server: FaultServer,
) -> None:
    message = "boom \x1b]0;pwned\x07 | calls=0;;;0\nCALLS OK - all fine"
    fault_server.route("GET", "/api/v1/calls", 500, {"status": 500, "message": message})
    cli = Cli(
        env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_k"},
        timing=no_waiting(),
    )
    line = assert_unknown(cli("calls", "check"), "boom")
    assert "\x1b" not in line and "\x07" not in line
    assert line.endswith("boom \\x1b]0;pwned\\x07 / calls=0;;;0 CALLS OK - all fine"), line


# ---------------------------------------------------------------- help


def test_help_says_its_exit_codes_differ_and_names_every_metric(bare_cli: Cli) -> None:
    result = bare_cli("calls", "check", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "These exit codes are not zaza's usual ones: monitoring systems read only 0 to 3" in (
        text
    )
    for code, meaning in PLUGIN_EXIT_CODES.items():
        assert f"{code} {meaning}" in text
    listed = text.split("Metrics, as calls stats --json names them: ", 1)[1]
    named, _, rest = listed.partition("; and ")
    assert [*named.split(", "), rest.split(",", 1)[0]] == list(METRICS)
    assert "and stuck, the calls not over --stuck-after" in text
    assert "[default: 1h]" in text and "[default: 30m]" in text
    assert "is n/a: a condition on it does not hold" in text
