"""`--local` on `calls list`, `show`, `transcript` and `stats`, and cost estimates.

Every `--local` answer is checked against the API's answer on the same data: a sandbox
whose calls have all ended (they no longer change) is synced, then each command runs once
against the API and once against the archive, and the two outputs must be the same bytes
(stats: the same JSON, apart from the fields that say where the figures come from). The
offline tests point ZAZA_BASE_URL at a port that refuses connections and drop the key.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, FaultServer
from sandbox_fixtures import FAST
from test_archive import crafted_call, serve

from zazacli.archive.schema import MIGRATIONS
from zazacli.calls.stats import Rates, estimated_cost
from zazacli.sandbox import Sandbox, SandboxConfig, start_sandbox

SOURCE_FIELDS = ("source", "archive", "synced_at")  # where the figures come from
AGE = re.compile(r"\d+[smhd]( ago)?\b")  # `43m`, `2d ago`: the terminal's ages move on


# ---------------------------------------------------------------- fixtures and helpers


class Synced:
    """A sandbox of ended calls and its archive, synced once for the module's tests."""

    def __init__(self, sandbox: Sandbox, archive: Path, config_dir: Path) -> None:
        self.sandbox = sandbox
        self.archive = archive
        env = {"ZAZA_CONFIG_DIR": str(config_dir)}
        self.api = Cli(
            env={**env, "ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key}
        )
        self.local = Cli(env={**env, "ZAZA_ARCHIVE": str(archive)})

    def both(self, *args: str, **env: str) -> tuple[Any, Any]:
        """The command against the API, then with --local against the archive alone."""
        api = self.api(*args, **env)
        local = self.local(*args, "--local", **env)
        assert api.exit_code == 0, api.stderr
        assert local.exit_code == 0, local.stderr
        return api, local


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    work = tmp_path_factory.mktemp("local")
    config = SandboxConfig(**{**FAST, "live_calls": False})
    with start_sandbox(config) as sandbox:
        state = Synced(sandbox, work / "archive.sqlite3", work / "config")
        api_env = {**state.api.env, "ZAZA_ARCHIVE": str(state.archive)}
        result = Cli(env=api_env)("calls", "sync", "--json")
        assert result.exit_code == 0, result.stderr
        yield state


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A loopback port bound but not listening: every connection to it is refused."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def calls_of(result: Any) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def without_source(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in SOURCE_FIELDS}


def stats_json(cli: Cli, *args: str, **env: str) -> dict[str, Any]:
    result = cli("calls", "stats", *args, "--json", **env)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def an_id(synced: Synced, **where: Any) -> int:
    """The newest call whose fields have the values given."""
    for call in calls_of(synced.api("calls", "list", "--json")):
        if all(call.get(k) == v for k, v in where.items()):
            return int(call["id"])
    raise AssertionError(f"no call with {where}")


# ---------------------------------------------------------------- list, show, transcript


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ("--json",),
        ("--jsonl", "--all"),
        ("--csv",),
        ("-o", "plain"),
        ("--status", "completed", "--agent", "12", "--json"),
        ("--direction", "inbound", "--since", "2020-01-01", "--limit", "7", "--jsonl"),
        ("--status", "NO_ANSWER", "--fields", "id,status,toNumber,durationSeconds", "--header"),
        ("--until", "1999-01-01", "--json"),
    ],
)
def test_local_list_is_the_api_list(synced: Synced, args: tuple[str, ...]) -> None:
    api, local = synced.both("calls", "list", *args)
    assert local.stdout == api.stdout
    assert local.stderr == api.stderr


@pytest.mark.slow
def test_local_list_on_a_terminal_is_the_api_table(synced: Synced) -> None:
    terminal = {"ZAZA_FORCE_TTY": "1", "NO_COLOR": "1", "COLUMNS": "160"}
    api, local = synced.both("calls", "list", "--limit", "30", **terminal)
    assert AGE.sub("", local.stdout) == AGE.sub("", api.stdout)
    assert "id" in api.stdout.lower() and len(api.stdout.splitlines()) > 30
    paged = synced.local("calls", "list", "--local", **terminal)  # the newest 20, and a note
    assert "showing the newest 20" in paged.stderr


@pytest.mark.slow
def test_local_show_and_transcript_are_the_api_ones(synced: Synced) -> None:
    answered = an_id(synced, status="COMPLETED", direction="OUTBOUND")
    unanswered = an_id(synced, status="NO_ANSWER")
    terminal = {"ZAZA_FORCE_TTY": "1", "NO_COLOR": "1", "COLUMNS": "120"}
    for call_id in (str(answered), str(unanswered)):
        for args in (("--json",), ("-o", "plain"), ("--fields", "status,turns", "--json")):
            api, local = synced.both("calls", "show", call_id, *args)
            assert local.stdout == api.stdout, args
        api, local = synced.both("calls", "show", call_id, **terminal)
        assert AGE.sub("", local.stdout) == AGE.sub("", api.stdout)
        for fmt in ("text", "json", "srt"):
            api, local = synced.both("calls", "transcript", call_id, "--format", fmt)
            assert local.stdout == api.stdout, fmt
    turns = json.loads(synced.local("calls", "show", str(answered), "--local", "--json").stdout)
    assert turns["turns"], "an answered call has its transcript"


@pytest.mark.slow
def test_local_answers_need_no_network_and_no_key(synced: Synced, dead_port: int) -> None:
    call_id = str(an_id(synced, status="COMPLETED"))
    offline = Cli(
        env={
            "ZAZA_CONFIG_DIR": synced.local.env["ZAZA_CONFIG_DIR"],
            "ZAZA_BASE_URL": f"http://127.0.0.1:{dead_port}/api/v1",
            "ZAZA_ARCHIVE": str(synced.archive),
        }
    )
    for args in (
        ("calls", "list", "--json"),
        ("calls", "show", call_id, "--json"),
        ("calls", "transcript", call_id),
        ("calls", "stats", "--by", "agent", "--json"),
    ):
        api = synced.api(*args)
        local = offline(*args, "--local")
        assert local.exit_code == 0, (args, local.stderr)
        if args[1] == "stats":
            api_report, local_report = json.loads(api.stdout), json.loads(local.stdout)
            assert without_source(local_report) == without_source(api_report)
        else:
            assert local.stdout == api.stdout, args
    # Without --local the same environment has no API to ask.
    assert offline("calls", "list").exit_code == 4  # no key


def test_a_call_not_in_the_archive_is_exit_3(
    fault_server: FaultServer, tmp_path: Path, bare_cli: Cli
) -> None:
    serve(fault_server, [crafted_call(7, "2026-11-26T10:00:00Z", [("CALLER", "hi")])])
    path = tmp_path / "a.sqlite3"
    env = {"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_crafted"}
    assert Cli(env={**env, "ZAZA_ARCHIVE": str(path)})("calls", "sync").exit_code == 0
    local = Cli(env={"ZAZA_ARCHIVE": str(path)})
    for verb in ("show", "transcript"):
        missing = local("calls", verb, "8", "--local")
        assert missing.exit_code == 3, missing.stderr
        assert f"call 8 is not in the archive {path}" in missing.stderr
        assert "zaza calls sync" in missing.stderr and missing.stdout == ""
    # Past a Java long (the API's ids), no call can have it: a usage error, never a crash.
    huge = local("calls", "show", str(2**63), "--local")
    assert huge.exit_code == 2 and "is not in the range 0<=x<=9223372036854775807" in huge.stderr
    nowhere = bare_cli("calls", "list", "--local", "--archive", str(tmp_path / "none.sqlite3"))
    assert nowhere.exit_code == 3 and "no archive at" in nowhere.stderr
    unchosen = bare_cli("calls", "stats", "--local")
    assert unchosen.exit_code == 2 and "--archive PATH" in unchosen.stderr


def test_a_call_synced_while_live_shows_without_a_transcript(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    ringing = crafted_call(3, "2026-11-26T14:00:00Z", [], status="IN_PROGRESS", endedAt=None)
    del ringing["durationSeconds"]
    serve(fault_server, [ringing], details_optional=True)  # a live call has no transcript yet
    path = tmp_path / "a.sqlite3"
    env = {"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_crafted"}
    assert Cli(env={**env, "ZAZA_ARCHIVE": str(path)})("calls", "sync").exit_code == 0
    local = Cli(env={"ZAZA_ARCHIVE": str(path)})
    shown = local("calls", "show", "3", "--local", "--json")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "IN_PROGRESS"
    assert "turns" not in json.loads(shown.stdout)
    assert "no transcript of call 3 yet" in shown.stderr and "zaza calls sync" in shown.stderr
    text = local("calls", "transcript", "3", "--local")
    assert text.exit_code == 0 and text.stdout == ""
    assert "no transcript of call 3 yet" in text.stderr


def test_an_archive_of_the_first_schema_is_migrated(tmp_path: Path) -> None:
    """An archive made by part 1 (schema 1) gets the campaigns table and the stats index
    when --local opens it, and its calls are listed and counted."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path, isolation_level=None) as db:
        for statement in MIGRATIONS[0]:
            db.execute(statement)
        db.execute("PRAGMA user_version = 1")
        call = {"id": 5, "direction": "OUTBOUND", "status": "COMPLETED", "durationSeconds": 61,
                "createdAt": "2026-11-26T10:00:00Z", "endedAt": "2026-11-26T10:01:01Z"}  # fmt: skip
        db.execute(
            "INSERT INTO calls (id, created_at, status, direction, duration_seconds, ended, "
            "raw, synced_at) VALUES (5, '2026-11-26T10:00:00', 'COMPLETED', 'OUTBOUND', 61, "
            "1, ?, '2026-11-26T10:05:00Z')",
            (json.dumps(call),),
        )
    db.close()
    local = Cli(env={"ZAZA_ARCHIVE": str(path)})
    assert calls_of(local("calls", "list", "--local", "--json")) == [call]
    report = stats_json(local, "--local")
    assert (report["total"], report["billed_minutes"], report["estimated_cost_usd"]) == (1, 2, 0.3)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    db.close()
    assert {"campaigns", "calls_stats"} <= names


def test_an_archive_of_schema_3_gets_turn_ids_in_time_order(tmp_path: Path) -> None:
    """Before schema 4 a turn's id was its place in the order of storing; the migration
    renumbers them newest first and rebuilds the index, so that ties go newest first."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path, isolation_level=None) as db:
        for step in MIGRATIONS[:3]:
            for statement in step:
                db.execute(statement)
        db.execute("PRAGMA user_version = 3")
        for call_id, created, turn_id in (
            (7, "2026-11-01T09:00:00", 1),
            (8, "2026-11-02T09:00:00", 2),
        ):
            call = {"id": call_id, "direction": "INBOUND", "status": "COMPLETED",
                    "createdAt": f"{created}Z", "endedAt": f"{created}Z"}  # fmt: skip
            db.execute(
                "INSERT INTO calls (id, created_at, status, direction, ended, raw, synced_at, "
                "turns, n_turns) VALUES (?, ?, 'COMPLETED', 'INBOUND', 1, ?, ?, ?, 1)",
                (call_id, created, json.dumps(call), f"{created}Z",
                 json.dumps([{"role": "CALLER", "text": "same refund"}])),
            )  # fmt: skip
            db.execute(
                "INSERT INTO turns (id, call_id, seq, role, text) "
                "VALUES (?, ?, 0, 'CALLER', 'same refund')",
                (turn_id, call_id),
            )
    db.close()
    local = Cli(env={"ZAZA_ARCHIVE": str(path)})
    found = local("calls", "search", "refund", "--json")
    assert found.exit_code == 0, found.stderr
    assert [hit["call_id"] for hit in json.loads(found.stdout)] == [8, 7]  # newest first
    assert "updating the archive" in found.stderr and "from schema 3 to" in found.stderr
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        db.execute("INSERT INTO turns_fts (turns_fts) VALUES ('integrity-check')")
        ids = dict(db.execute("SELECT call_id, id FROM turns"))
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert ids[8] < ids[7]
    assert {"turns_call", "turns_added", "turns_removed", "calls_deleted"} <= names


def test_an_archive_of_schema_4_gets_its_failure_reasons_counted(tmp_path: Path) -> None:
    """Before schema 5 the failure reason was only in each call's record: the migration
    copies it into its own column, so `--by failure --local` counts the calls held."""
    path = tmp_path / "old.sqlite3"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        for step in MIGRATIONS[:4]:
            for statement in step:
                statement(db) if callable(statement) else db.execute(statement)
        db.execute("PRAGMA user_version = 4")
        for call_id, status, reason in (
            (1, "FAILED", "CARRIER_ERROR"), (2, "FAILED", "CARRIER_ERROR"),
            (3, "FAILED", 7), (4, "COMPLETED", None),
        ):  # fmt: skip
            call = {"id": call_id, "direction": "OUTBOUND", "status": status,
                    "createdAt": "2026-11-26T10:00:00Z", "failureReason": reason,
                    "variables": {"failureReason": "not this one"}}  # fmt: skip
            db.execute(
                "INSERT INTO calls (id, created_at, status, direction, ended, raw, synced_at) "
                "VALUES (?, '2026-11-26T10:00:00', ?, 'OUTBOUND', 1, ?, '2026-11-26T10:05:00Z')",
                (call_id, status, json.dumps(call)),
            )
    local = Cli(env={"ZAZA_ARCHIVE": str(path)})
    result = local("calls", "stats", "--local", "--by", "failure", "--json")
    assert result.exit_code == 0, result.stderr
    assert "from schema 4 to" in result.stderr
    groups = json.loads(result.stdout)["groups"]
    counted = [(g["key"], g["count"]) for g in groups]
    assert counted == [("CARRIER_ERROR", 2), ("7", 1), (None, 1)]
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        index = db.execute("SELECT sql FROM sqlite_master WHERE name = 'calls_stats'").fetchone()
    assert "failure_reason" in index[0]


# ---------------------------------------------------------------- stats parity


@pytest.mark.slow
@pytest.mark.parametrize(
    ("by", "filters"),
    [
        ("status", ()),
        ("disposition", ("--direction", "outbound")),
        ("failure", ()),
        ("failure", ("--direction", "outbound", "--since", "12d")),
        ("agent", ()),
        ("campaign", ("--status", "completed")),
        ("direction", ("--agent", "14")),
        ("day", ()),
        ("hour", ("--since", "7d")),
        ("day", ("--since", "12d", "--until", "5d", "--agent", "12")),
        ("status", ("--until", "1999-01-01")),
    ],
)
def test_local_stats_are_the_api_stats(
    synced: Synced, zone: str, by: str, filters: tuple[str, ...]
) -> None:
    # Relative times are read once, so that both commands get the same instants.
    now = datetime.now(UTC)
    fixed = [
        (now - timedelta(days=int(value[:-1]))).strftime("%Y-%m-%dT%H:%M:%SZ")
        if re.fullmatch(r"\d+d", value)
        else value
        for value in filters
    ]
    args = ("--by", by, *fixed)
    if "--until" not in fixed:  # the buckets run up to now: the same hour for both
        args += ("--until", (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:00:00Z"))
    api = stats_json(synced.api, *args)
    local = stats_json(synced.local, *args, "--local")
    assert without_source(local) == without_source(api)
    assert api["source"] == "api"
    assert local["source"] == "archive" and local["archive"] == str(synced.archive)
    assert local["synced_at"] and local["timezone"] == api["timezone"]
    if by in ("agent", "campaign"):
        assert any(group["name"] for group in local["groups"])  # names from the archive


@pytest.mark.slow
def test_local_stats_in_every_format(synced: Synced) -> None:
    until = ("--until", (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d"))
    for args in (("--by", "agent", "--csv"), ("--by", "day", "-o", "plain", *until)):
        api, local = synced.both("calls", "stats", *args)
        assert local.stdout == api.stdout, args
    terminal = {"ZAZA_FORCE_TTY": "1", "NO_COLOR": "1", "COLUMNS": "200"}
    table = synced.local("calls", "stats", "--local", "--by", "agent", **terminal)
    assert table.exit_code == 0, table.stderr
    assert "from the archive (synced " in table.stdout
    assert "EST. COST" in table.stdout and "est. cost $" in table.stdout
    assert "Estimated at $0.15/min outbound, $0.10/min inbound (list prices)" in table.stdout
    assert "rounded up to the minute; not an invoice." in table.stdout


def test_odd_fields_are_counted_alike_by_both_paths(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    """The archive's columns read each field as the API path does: any case of status and
    direction, durations as strings or floats, ids as strings, no time at all."""
    said = [("CALLER", "hello")]
    odd = [
        crafted_call(1, "2026-11-20T10:00:00Z", said, status="completed", direction="outbound",
                     durationSeconds="75"),
        crafted_call(2, "2026-11-20T10:20:00Z", said, direction="Outbound", durationSeconds=90.5,
                     agentId="14"),
        crafted_call(3, "2026-11-21T23:50:00Z", said, durationSeconds=True, disposition=3,
                     failureReason=3),
        crafted_call(4, "2026-11-22T08:00:00+02:00", said, durationSeconds=-5, direction=None),
        crafted_call(5, "2026-11-22T09:00:00.250Z", said, durationSeconds=1e300),
        crafted_call(6, "not a time", said, durationSeconds=59, status="NO_ANSWER",
                     failureReason="ring-out \ud800"),
        crafted_call(8, "2026-11-23T13:00:00Z", said, status="FAILED", failureReason=True),
        crafted_call(9, "2026-11-23T14:00:00Z", said, status="FAILED", failureReason="Ring-out"),
        crafted_call(7, "2026-11-23T12:00:00Z", said, durationSeconds=0, status="VOICEMAIL",
                     endedAt=None),
    ]  # fmt: skip
    serve(fault_server, odd)
    path = tmp_path / "a.sqlite3"
    env = {"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_crafted"}
    api = Cli(env=env)
    assert Cli(env={**env, "ZAZA_ARCHIVE": str(path)})("calls", "sync").exit_code == 0
    local = Cli(env={"ZAZA_ARCHIVE": str(path)})
    for by in ("status", "disposition", "failure", "agent", "direction", "day", "hour"):
        # Days and hours end at --until, not now; other groups count the call with no time.
        args = ("--by", by, "--until", "2026-11-30") if by in ("day", "hour") else ("--by", by)
        assert without_source(stats_json(local, *args, "--local")) == without_source(
            stats_json(api, *args)
        ), by
    failures = stats_json(local, "--by", "failure", "--local")["groups"]
    assert {g["key"]: g["count"] for g in failures} == {
        None: 5, "3": 1, "True": 1, "ring-out \ud800": 1, "Ring-out": 1,  # as the server wrote
    }  # fmt: skip
    report = stats_json(api, "--by", "direction")
    outbound = next(g for g in report["groups"] if g["key"] == "OUTBOUND")
    assert (outbound["count"], outbound["answered"], outbound["median_duration_s"]) == (
        2, 2, 82.8,  # 75 s and 90.5 s
    )  # fmt: skip


# ---------------------------------------------------------------- cost estimates

PRICED = [
    ("OUTBOUND", 0),  # costs nothing
    ("OUTBOUND", 1),  # one minute
    ("OUTBOUND", 60),  # one minute
    ("OUTBOUND", 61),  # two
    ("OUTBOUND", 3600),  # sixty
    ("INBOUND", 59),  # one
    ("INBOUND", 120.5),  # three
    ("INBOUND", None),  # no duration: not priced
    (None, 30),  # no direction: not priced
]


@pytest.fixture
def priced(fault_server: FaultServer, tmp_path: Path) -> tuple[Cli, Cli]:
    """Calls of known durations, synced: (the CLI on the API, the CLI on the archive)."""
    calls = []
    for i, (direction, seconds) in enumerate(PRICED, start=1):
        call = crafted_call(i, f"2026-11-20T10:{i:02d}:00Z", [], direction=direction)
        call["durationSeconds"] = seconds
        calls.append(call)
    serve(fault_server, calls)
    path = tmp_path / "a.sqlite3"
    env = {"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": "zaza_test_crafted"}
    assert Cli(env={**env, "ZAZA_ARCHIVE": str(path)})("calls", "sync").exit_code == 0
    return Cli(env=env), Cli(env={**env, "ZAZA_ARCHIVE": str(path)})


def test_cost_is_each_call_rounded_up_to_the_minute(priced: tuple[Cli, Cli]) -> None:
    api, local = priced
    for report in (stats_json(api, "--by", "direction"),
                   stats_json(local, "--by", "direction", "--local")):  # fmt: skip
        # Outbound: 0 + 1 + 1 + 2 + 60 minutes at $0.15; inbound: 1 + 3 at $0.10.
        assert (report["billed_minutes"], report["estimated_cost_usd"]) == (68, 10.0)
        assert report["unpriced_calls"] == 2
        assert report["rates"] == {
            "outbound_usd_per_minute": 0.15,
            "inbound_usd_per_minute": 0.1,
            "source": "list prices",
        }
        groups = {
            g["key"]: (g["billed_minutes"], g["estimated_cost_usd"]) for g in report["groups"]
        }
        assert groups == {"OUTBOUND": (64, 9.6), "INBOUND": (4, 0.4), None: (0, 0.0)}
    csv = local("calls", "stats", "--by", "direction", "--local", "--csv").stdout.splitlines()
    assert csv[0].endswith(",talk_minutes,billed_minutes,estimated_cost_usd")
    assert csv[1].startswith("OUTBOUND,") and csv[1].endswith(",64,9.6")
    plain = api("calls", "stats", "--by", "direction")
    assert "est. cost $10.00" in plain.stderr


def test_profile_rates_replace_the_list_prices(priced: tuple[Cli, Cli]) -> None:
    api, local = priced  # one config directory: the test's
    added = api("profiles", "add", "acme", "--no-verify", input="zaza_test_crafted\n")
    assert added.exit_code == 0, added.stderr
    assert api("profiles", "set", "acme", "rate_outbound", "0.12").exit_code == 0
    assert api("profiles", "set", "acme", "rate_inbound", "0.08").exit_code == 0
    shown = json.loads(api("profiles", "show", "acme", "--json").stdout)
    assert (shown["rate_outbound"], shown["rate_inbound"]) == (0.12, 0.08)
    acme = {"ZAZA_PROFILE": "acme"}
    for report in (stats_json(api, "--by", "direction", **acme),
                   stats_json(local, "--by", "direction", "--local", **acme)):  # fmt: skip
        assert report["estimated_cost_usd"] == 8.0  # 64 x 0.12 + 4 x 0.08
        assert report["rates"] == {
            "outbound_usd_per_minute": 0.12,
            "inbound_usd_per_minute": 0.08,
            "source": "profile acme",
        }
    table = api("calls", "stats", ZAZA_PROFILE="acme", ZAZA_FORCE_TTY="1", NO_COLOR="1",
                COLUMNS="200").stdout  # fmt: skip
    assert "Estimated at $0.12/min outbound, $0.08/min inbound (profile acme)" in table
    assert "2 calls without a duration or direction count $0." in table


@pytest.mark.parametrize("value", ["0", "-0.1", "abc", "$0.12", "nan", "inf", "1_0", ""])
def test_a_rate_must_be_a_positive_number(bare_cli: Cli, value: str) -> None:
    bare_cli("profiles", "add", "acme", "--no-verify", input="zaza_test_crafted\n")
    refused = bare_cli("profiles", "set", "acme", "rate_outbound", "--", value)
    assert refused.exit_code == 2, refused.stderr
    assert "positive number" in refused.stderr
    assert "rate_outbound" not in bare_cli("profiles", "show", "acme", "--json").stdout


def test_a_rate_in_the_profiles_file_is_checked(bare_cli: Cli, isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True)
    config = isolated_env / "config.toml"
    config.write_text('[profiles.acme]\napi_key = "zaza_test_x"\nrate_inbound = 1\n')
    config.chmod(0o600)
    whole = json.loads(bare_cli("profiles", "show", "acme", "--json").stdout)
    assert whole["rate_inbound"] == 1  # an integer is a number too
    config.write_text('[profiles.acme]\napi_key = "zaza_test_x"\nrate_inbound = "0.08"\n')
    broken = bare_cli("profiles", "show", "acme")
    assert broken.exit_code != 0
    assert "rate_inbound must be a positive number" in broken.stderr


def test_half_cents_round_up() -> None:
    rates = Rates(Decimal("0.125"), Decimal("0.105"), "profile")
    assert estimated_cost(1, 0, rates) == 0.13
    assert estimated_cost(0, 1, rates) == 0.11
    assert estimated_cost(3, 2, rates) == 0.59  # 0.375 + 0.21 = 0.585
    assert estimated_cost(0, 0, rates) == 0.0
