"""`zaza calls stats` against a real sandbox, checked against an independent computation
from raw `GET /calls` pages."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from conftest import (
    ZONE,
    Cli,
    FaultServer,
    loopback_client,
)
from sandbox_fixtures import FAST

from zazacli.calls.stats import CallStats, percentile
from zazacli.sandbox import SandboxConfig, start_sandbox

TERMINAL = {"COMPLETED", "FAILED", "NO_ANSWER", "BUSY", "CANCELED"}
STATS_COLUMNS = [
    "key",
    "name",
    "count",
    "share",
    "median_duration_s",
    "p90_duration_s",
    "answered",
    "ended_outbound",
    "answer_rate",
    "talk_minutes",
    "billed_minutes",
    "estimated_cost_usd",
]
CENTS_PER_MINUTE = {"OUTBOUND": 15, "INBOUND": 10}  # ZazaVoice's list prices


# ---------------------------------------------------------------- helpers


def api(sandbox: Any) -> httpx.Client:
    return loopback_client(
        base_url=sandbox.base_url + "/", headers={"Authorization": f"Bearer {sandbox.api_key}"}
    )


def all_calls(sandbox: Any, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 0
    with api(sandbox) as client:
        while True:
            data = client.get("calls", params={**params, "page": page, "size": 100}).json()
            items += data["content"]
            if data["last"]:
                return items
            page += 1


def expected_group(members: list[dict[str, Any]], total: int) -> dict[str, Any]:
    durations = sorted(
        c["durationSeconds"]
        for c in members
        if isinstance(c.get("durationSeconds"), int) and c["durationSeconds"] > 0
    )
    ended = [c for c in members if c["direction"] == "OUTBOUND" and c["status"] in TERMINAL]
    answered = sum(c["status"] == "COMPLETED" for c in ended)
    if len(durations) > 1:
        p90: float | None = statistics.quantiles(durations, n=10, method="inclusive")[8]
    else:
        p90 = durations[0] if durations else None
    # Each call rounded up to the whole minute, at the list price of its direction.
    minutes = [
        (c["direction"], -(-c["durationSeconds"] // 60))
        for c in members
        if isinstance(c.get("durationSeconds"), int) and c["durationSeconds"] >= 0
    ]
    cents = sum(CENTS_PER_MINUTE[direction] * n for direction, n in minutes)
    return {
        "count": len(members),
        "share": round(len(members) / total, 4) if total else 0.0,
        "median_duration_s": round(statistics.median(durations), 1) if durations else None,
        "p90_duration_s": round(p90, 1) if p90 is not None else None,
        "talk_minutes": round(sum(durations) / 60, 1),
        "answered": answered,
        "ended_outbound": len(ended),
        "answer_rate": round(answered / len(ended), 4) if ended else None,
        "billed_minutes": sum(n for _, n in minutes),
        "estimated_cost_usd": cents / 100,
    }


def expected_by(calls: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]) -> dict:
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for call in calls:
        groups[key(call)].append(call)
    return {k: expected_group(v, len(calls)) for k, v in groups.items()}


def local(call: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(call["createdAt"].replace("Z", "+00:00")).astimezone(
        ZoneInfo(ZONE)
    )


KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "status": lambda c: c["status"],
    "disposition": lambda c: c["disposition"],
    "failure": lambda c: c["failureReason"],
    "agent": lambda c: c["agentId"],
    "campaign": lambda c: c["campaignId"],
    "direction": lambda c: c["direction"],
    "day": lambda c: local(c).date().isoformat(),
    "hour": lambda c: local(c).replace(minute=0, second=0).isoformat(timespec="minutes"),
}


def run_stats(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("calls", "stats", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def big() -> Iterator[Any]:
    """3,000 calls over 30 days, none of them still under way. The stats tests only read
    it, so the module's tests share one."""
    with start_sandbox(SandboxConfig(**{**FAST, "calls": 3000, "live_calls": False})) as sandbox:
        yield sandbox


@pytest.fixture
def big_cli(big: Any) -> Cli:
    return Cli(env={"ZAZA_BASE_URL": big.base_url, "ZAZA_API_KEY": big.api_key})


# ---------------------------------------------------------------- stats


def test_stats_json_matches_an_independent_computation(big: Any, big_cli: Cli) -> None:
    calls = all_calls(big)
    report = run_stats(big_cli)
    assert report["total"] == len(calls) == 3000
    assert report["by"] == "status" and report["since"] is None and report["until"] is None
    overall = expected_group(calls, len(calls))
    for name in ("answer_rate", "answered", "ended_outbound", "talk_minutes", "billed_minutes"):
        assert report[name] == overall[name], name
    assert report["estimated_cost_usd"] == overall["estimated_cost_usd"] > 0
    assert report["unpriced_calls"] == 0 and report["source"] == "api"
    assert report["median_duration_s"] == overall["median_duration_s"]
    assert report["p90_duration_s"] == overall["p90_duration_s"]
    expected = expected_by(calls, KEYS["status"])
    assert {g["key"]: {k: v for k, v in g.items() if k != "key"} for g in report["groups"]} == (
        expected
    )
    counts = [g["count"] for g in report["groups"]]
    assert counts == sorted(counts, reverse=True)  # biggest group first
    assert 0.5 < report["answer_rate"] < 0.8  # the sandbox's mix


@pytest.mark.parametrize(
    "by", ["disposition", "failure", "agent", "campaign", "direction", "day", "hour"]
)
def test_stats_by_each_grouping(big: Any, big_cli: Cli, zone: str, by: str) -> None:
    calls = all_calls(big)
    report = run_stats(big_cli, "--by", by)
    expected = expected_by(calls, KEYS[by])
    groups = {g["key"]: g for g in report["groups"]}
    seen = {k: {n: v for n, v in g.items() if n not in ("key", "name")} for k, g in groups.items()}
    assert {k: v for k, v in seen.items() if v["count"]} == expected
    assert sum(g["count"] for g in report["groups"]) == 3000
    if by == "agent":
        with api(big) as client:
            names = {a["id"]: a["name"] for a in client.get("agents").json()}
        assert all(groups[k]["name"] == names[k] for k in expected)
    if by in ("day", "hour"):
        # Every bucket from the first call to now, in order, empty ones included.
        keys = [g["key"] for g in report["groups"]]
        step = timedelta(days=1) if by == "day" else timedelta(hours=1)
        parse = date.fromisoformat if by == "day" else datetime.fromisoformat
        stamps = [parse(k) for k in keys]
        assert all(b - a == step for a, b in zip(stamps, stamps[1:], strict=False))
        assert keys[0] == min(expected)
        now = datetime.now(ZoneInfo(ZONE))
        assert keys[-1] == KEYS[by]({"createdAt": now.isoformat()})
        if by == "hour":
            assert all(k.endswith("+05:30") for k in keys)
            assert any(g["count"] == 0 for g in report["groups"])


def test_stats_by_day_lists_empty_days_of_the_range(big: Any, big_cli: Cli, zone: str) -> None:
    today = datetime.now(ZoneInfo(ZONE)).date()
    since, until = today - timedelta(days=40), today + timedelta(days=1)
    report = run_stats(big_cli, "--by", "day", "--since", str(since), "--until", str(until))
    keys = [g["key"] for g in report["groups"]]
    assert keys == [str(since + timedelta(days=i)) for i in range(41)]
    counts = [g["count"] for g in report["groups"]]
    assert counts[:9] == [0] * 9  # the sandbox's history is 30 days long: a visible gap
    assert all(g["share"] == 0 and g["median_duration_s"] is None for g in report["groups"][:9])
    assert sum(counts) == report["total"] == 3000
    assert report["since"] == datetime(
        since.year, since.month, since.day, tzinfo=ZoneInfo(ZONE)
    ).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_stats_filters_reach_the_api(big: Any, big_cli: Cli) -> None:
    calls = all_calls(big, agentId=12, direction="OUTBOUND")
    report = run_stats(big_cli, "--agent", "12", "--direction", "outbound", "--since", "40d")
    assert report["total"] == len(calls) > 0
    assert report["filters"] == {"direction": "OUTBOUND", "status": None, "agent_id": 12}
    assert {g["key"]: g["count"] for g in report["groups"]} == {
        k: v["count"] for k, v in expected_by(calls, KEYS["status"]).items()
    }


def test_stats_empty_result_is_exit_0_without_division(big_cli: Cli) -> None:
    report = run_stats(big_cli, "--until", "1999-01-01")
    assert report["total"] == 0 and report["groups"] == []
    assert report["answer_rate"] is None and report["median_duration_s"] is None
    assert report["talk_minutes"] == 0
    days = run_stats(big_cli, "--by", "day", "--since", "1999-01-01", "--until", "1999-01-04")
    assert [(g["key"], g["count"], g["share"]) for g in days["groups"]] == [
        ("1999-01-01", 0, 0.0),
        ("1999-01-02", 0, 0.0),
        ("1999-01-03", 0, 0.0),
    ]
    piped = big_cli("calls", "stats", "--until", "1999-01-01")
    assert piped.exit_code == 0 and piped.stdout == ""
    tty = big_cli("calls", "stats", "--until", "1999-01-01", ZAZA_FORCE_TTY="1")
    assert tty.exit_code == 0 and "no calls match" in tty.stderr


def test_stats_piped_is_tsv_with_a_summary_on_stderr(big_cli: Cli) -> None:
    report = run_stats(big_cli, "--by", "agent")
    result = big_cli("calls", "stats", "--by", "agent")
    assert result.exit_code == 0
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert all(len(row) == len(STATS_COLUMNS) for row in rows)
    assert [(int(r[0]), r[1], int(r[2])) for r in rows] == [
        (g["key"], g["name"], g["count"]) for g in report["groups"]
    ]
    assert "\x1b[" not in result.stdout
    assert "3,000 calls" in result.stderr and "answer rate" in result.stderr


def test_stats_csv_has_a_header_and_the_json_figures(big_cli: Cli) -> None:
    report = run_stats(big_cli, "--by", "disposition")
    result = big_cli("calls", "stats", "--by", "disposition", "--csv")
    assert result.exit_code == 0
    assert result.stdout_bytes.count(b"\r\n") == len(report["groups"]) + 1
    rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode(), newline="")))
    assert rows[0] == STATS_COLUMNS
    for row, group in zip(rows[1:], report["groups"], strict=True):
        assert row[0] == ("" if group["key"] is None else group["key"])
        assert int(row[2]) == group["count"]
        assert row[4] == (
            "" if group["median_duration_s"] is None else str(group["median_duration_s"])
        )


def test_stats_terminal_table_with_bars_and_names(big_cli: Cli) -> None:
    result = big_cli(
        "calls", "stats", "--by", "agent", ZAZA_FORCE_TTY="1", NO_COLOR="1", COLUMNS="120"
    )
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Calls by agent" in out and "answer rate" in out
    for header in ("AGENT", "NAME", "CALLS", "SHARE", "ANSWERED", "MEDIAN", "P90", "TALK MIN"):
        assert header in out
    assert "Zara from Acme" in out and "█" in out
    status = big_cli("calls", "stats", ZAZA_FORCE_TTY="1", NO_COLOR="1", COLUMNS="120")
    assert "COMPLETED" in status.stdout and "ANSWERED" not in status.stdout


def test_stats_by_failure_names_each_reason_and_groups_calls_without_one_as_none(
    big: Any, big_cli: Cli
) -> None:
    reasons = {c["failureReason"] for c in all_calls(big)} - {None}
    assert len(reasons) > 1  # the sandbox's mix: CARRIER_ERROR, NETWORK_ERROR, …
    table = big_cli(
        "calls", "stats", "--by", "failure", ZAZA_FORCE_TTY="1", NO_COLOR="1", COLUMNS="120"
    )
    assert table.exit_code == 0, table.stderr
    lines = re.sub(r"\x1b\[[0-9;]*m", "", table.stdout).splitlines()
    header = next(line for line in lines if line.startswith("FAILURE "))
    assert "ANSWERED" not in header  # every failed call is unanswered: no rate to show
    labels = [line.split()[0] for line in lines[lines.index(header) + 1 :] if line.strip()]
    assert labels[0] == "(none)"  # most calls did not fail: the biggest group, first
    assert reasons <= set(labels)
    piped = big_cli("calls", "stats", "--by", "failure")
    keys = [line.split("\t")[0] for line in piped.stdout.splitlines()]
    assert keys[0] == "" and set(keys[1:]) == reasons  # (none) is an empty cell for scripts


def test_stats_by_failure_shows_a_hostile_reason_inert(fault_server: FaultServer) -> None:
    hostile = "\x1b]0;owned\x07rejected\u202e"
    calls = [
        {"id": 2, "direction": "OUTBOUND", "status": "FAILED", "failureReason": hostile,
         "createdAt": "2026-11-26T14:03:11Z", "durationSeconds": 0},
        {"id": 1, "direction": "OUTBOUND", "status": "COMPLETED", "failureReason": None,
         "createdAt": "2026-11-26T14:02:11Z", "durationSeconds": 61},
    ]  # fmt: skip
    page = {"content": calls, "number": 0, "size": 100, "last": True}
    fault_server.route("GET", "/api/v1/calls", 200, page)
    cli = Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_hostile"})
    for env in ({"ZAZA_FORCE_TTY": "1", "NO_COLOR": "1", "COLUMNS": "120"}, {}):
        result = cli("calls", "stats", "--by", "failure", **env)
        assert result.exit_code == 0, result.stderr
        assert "\x1b]" not in result.stdout and "\u202e" not in result.stdout
        assert "\\x1b]0;owned\\x07rejected\\u202e" in result.stdout
    report = json.loads(cli("calls", "stats", "--by", "failure", "--json").stdout)
    assert {g["key"]: g["count"] for g in report["groups"]} == {None: 1, hostile: 1}


def test_stats_terminal_by_day_draws_a_chart_over_time(big_cli: Cli, zone: str) -> None:
    today = datetime.now(ZoneInfo(ZONE)).date()
    since = today - timedelta(days=35)
    result = big_cli(
        "calls", "stats", "--by", "day", "--since", str(since),
        ZAZA_FORCE_TTY="1", NO_COLOR="1", COLUMNS="120",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout).splitlines()
    chart = [line for line in lines if "┤" in line or "│" in line]
    assert len(chart) == 8  # eight rows of columns, peak on the top row
    axis = next(line for line in lines if "└" in line)
    assert axis.count("─") == 36 * 2  # one column (and a gap) per day, empty days included
    assert str(since) in result.stdout and str(today) in result.stdout
    # The first days have no calls: their columns are blank on every chart row.
    start = chart[0].index("┤") + 1
    assert all(line[start : start + 8].strip() == "" for line in chart)
    assert f"{since:%a} {since}" in result.stdout  # the table lists the empty days too


def test_stats_unknown_grouping_is_exit_2(big_cli: Cli) -> None:
    result = big_cli("calls", "stats", "--by", "week")
    assert result.exit_code == 2
    assert "week" in result.stderr and "day" in result.stderr and "hour" in result.stderr
    assert result.stdout == ""


def test_aggregator_tolerates_odd_calls_and_dst(monkeypatch: pytest.MonkeyPatch) -> None:
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Berlin"
    time.tzset()
    try:
        start = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # local midnight, 25 Oct (CEST)
        stats = CallStats("hour", since="2026-10-24T22:00:00Z", until="2026-10-25T23:00:00Z")
        for hour in range(25):  # the clocks go back at 03:00: this local day has 25 hours
            at = start + timedelta(hours=hour)
            stats.add({"createdAt": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "durationSeconds": 60})
        stats.add({"status": None, "durationSeconds": "abc", "createdAt": "yesterday-ish"})
        report = stats.report()
        keys = [g["key"] for g in report["groups"]]
        assert keys[-1] is None and report["groups"][-1]["count"] == 1
        assert len(keys) == 26 and keys[:5] == [
            "2026-10-25T00:00+02:00",
            "2026-10-25T01:00+02:00",
            "2026-10-25T02:00+02:00",
            "2026-10-25T02:00+01:00",
            "2026-10-25T03:00+01:00",
        ]
        assert all(g["count"] == 1 for g in report["groups"])
        days = CallStats("day").feed(
            {"createdAt": (start + timedelta(hours=h)).isoformat()} for h in range(25)
        )
        assert [(g["key"], g["count"]) for g in days.report()["groups"]][0] == ("2026-10-25", 25)
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([float(i) for i in range(1, 11)], 0.9) == pytest.approx(9.1)
