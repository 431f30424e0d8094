"""The sandbox's quirks (servers that read the contract differently) and the baseline they
bend (sort, the Date header, the request counter), over raw HTTP on loopback."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from conftest import Zaza, loopback_client, wait_for

from zazacli.sandbox import ORG_NUMBERS, Sandbox, SandboxConfig
from zazacli.sandbox.quirks import QUIRKS, parse_quirks

MakeSandbox = Callable[..., Sandbox]
SEEDED = 300  # sandbox_fixtures.FAST


def client(sb: Sandbox) -> httpx.Client:
    return loopback_client(
        base_url=sb.base_url, headers={"Authorization": f"Bearer {sb.api_key}"}, timeout=10
    )


@pytest.fixture
def quirky(make_sandbox: MakeSandbox) -> Iterator[Callable[..., httpx.Client]]:
    """quirky("name", …) -> a client of a fresh sandbox with those quirks."""
    clients: list[httpx.Client] = []

    def factory(*quirks: str) -> httpx.Client:
        c = client(make_sandbox(quirks=quirks))
        clients.append(c)
        return c

    yield factory
    for c in clients:
        c.close()


def ids(c: httpx.Client, **params: Any) -> list[int]:
    return [call["id"] for call in c.get("/calls", params=params).json()["content"]]


def all_ids(c: httpx.Client, **params: Any) -> list[int]:
    found: list[int] = []
    for page in range(50):
        body = c.get("/calls", params={**params, "size": 100, "page": page}).json()
        found.extend(call["id"] for call in body["content"])
        if body["last"]:
            return found
    raise AssertionError("more than 50 pages")


def post(c: httpx.Client, to: str) -> httpx.Response:
    body = {"fromNumber": ORG_NUMBERS[0], "toNumber": to, "agentId": 12}
    return c.post("/calls/outbound", json=body)


def epoch(instant: str) -> float:
    return datetime.fromisoformat(instant.replace("Z", "+00:00")).timestamp()


def server_date(response: httpx.Response) -> float:
    return parsedate_to_datetime(response.headers["Date"]).timestamp()


# ------------------------------------------------------------------ configuration


@pytest.mark.parametrize(
    "spec",
    ["bogus", "page-cap", "page-cap=0", "page-cap=x", "clock-skew", "clock-skew=soon",
     "list-lag=-1", "no-id=1", "list-lag=nan", "created-lag=-1", "created-lag",
     "created-lag=soon", "created-epoch-ms=1", "created-local", "created-local=Not/AZone"],
)  # fmt: skip
def test_bad_quirks_are_refused_naming_the_valid_ones(spec: str) -> None:
    with pytest.raises(ValueError, match="valid quirks: ignore-dates, ") as caught:
        SandboxConfig(quirks=(spec,))
    assert "list-lag[=S]" in str(caught.value) and "\n" not in str(caught.value)


def test_quirk_values_and_defaults() -> None:
    parsed = parse_quirks(["list-lag", "clock-skew=-300", "page-cap=7", "no-id"])
    assert (parsed.list_lag, parsed.clock_skew, parsed.page_cap) == (30.0, -300.0, 7)
    assert parsed.no_id and not parsed.lost_answer
    assert parse_quirks(["list-lag=0.3"]).list_lag == 0.3
    assert parse_quirks([]) == parse_quirks(())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("created-lag=-1", "quirk created-lag needs seconds >= 0, got 'created-lag=-1'"),
        ("created-lag", "quirk created-lag needs seconds (created-lag=90), got 'created-lag'"),
        (
            "created-local=Not/AZone",
            "needs an IANA zone like Europe/Paris, got 'created-local=Not/AZone'",
        ),
        ("created-local=../etc/passwd", "needs an IANA zone like Europe/Paris"),
        ("created-local", "quirk created-local needs an IANA zone"),
    ],
)
def test_bad_created_quirks_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match="valid quirks: ") as caught:
        SandboxConfig(quirks=(spec,))
    assert message in str(caught.value)


def test_created_quirk_values() -> None:
    parsed = parse_quirks(["created-lag=90.5", "created-local=Asia/Kolkata"])
    assert (parsed.created_lag, parsed.created_local, parsed.created_epoch_ms) == (
        90.5,
        "Asia/Kolkata",
        False,
    )
    assert parse_quirks(["created-epoch-ms", "created-lag=0"]).created_epoch_ms
    assert parse_quirks([]).created_lag == 0 and parse_quirks([]).created_local is None
    with pytest.raises(ValueError, match="pick one"):
        parse_quirks(["created-epoch-ms", "created-local=UTC"])


def test_cli_bad_created_local_is_a_usage_error(bare_cli: Any) -> None:
    result = bare_cli("sandbox", "--port", "0", "--quirk", "created-local=Not/AZone")
    assert result.exit_code == 2
    assert "created-local=Not/AZone" in result.output and "IANA zone" in result.output
    assert "Traceback" not in result.output


def test_cli_bogus_quirk_is_a_usage_error(bare_cli: Any) -> None:
    result = bare_cli("sandbox", "--port", "0", "--quirk", "bogus")
    assert result.exit_code == 2
    assert "unknown quirk 'bogus'" in result.output and "ignore-dates" in result.output
    assert "Traceback" not in result.output


def test_cli_help_lists_every_quirk(bare_cli: Any) -> None:
    result = bare_cli("sandbox", "--help")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    for name in QUIRKS:
        assert any(line.strip().startswith(name) and len(line.split()) > 2 for line in lines), name


def test_cli_banner_names_the_quirks() -> None:
    args = ("sandbox", "--port", "0", "--quiet", "--calls", "5",
            "--quirk", "no-id", "--quirk", "list-lag=2")  # fmt: skip
    with Zaza(*args) as sandbox:
        assert sandbox.stdout is not None
        line = sandbox.stdout.until(lambda line: line.startswith("Quirks:"), 20)
    assert "no-id, list-lag=2" in line


# ------------------------------------------------------------------ the baseline


def test_sort_newest_first_by_default_and_oldest_first_when_asked(
    quirky: Callable[..., httpx.Client],
) -> None:
    c = quirky()
    newest = all_ids(c)
    assert len(newest) == SEEDED and newest == sorted(newest, reverse=True)
    assert all_ids(c, sort="createdAt,desc") == newest
    assert all_ids(c, sort="id,desc") == newest
    assert all_ids(c, sort="createdAt,asc") == newest[::-1]
    assert all_ids(c, sort="createdAt") == newest[::-1]  # Spring's default direction
    assert all_ids(c, sort="createdAt,ASC") == newest[::-1]
    assert ids(c, sort="id,asc", size=5, page=1) == newest[::-1][5:10]
    inbound = all_ids(c, direction="INBOUND")
    assert all_ids(c, direction="INBOUND", sort="createdAt,asc") == inbound[::-1]
    bad = c.get("/calls", params={"sort": "toNumber,desc"})
    assert bad.status_code == 400 and "No property 'toNumber'" in bad.json()["message"]


def test_date_header_and_request_counter(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox()
    c = client(sb)
    response = c.get("/calls", params={"size": 1})
    assert abs(server_date(response) - time.time()) < 2
    c.get("/calls/90500")
    c.get("/calls/1")
    c.get("/agents")
    c.get("/agents/12")
    post(c, "+14155550124")
    c.get("/nowhere")
    app = sb.app
    c.close()
    assert app.requests["GET /calls"] == 1
    assert app.requests["GET /calls/{id}"] == 2
    assert app.requests["GET /agents"] == app.requests["GET /agents/{id}"] == 1
    assert app.requests["POST /calls/outbound"] == 1
    assert app.requests["GET /nowhere"] == 1


# ------------------------------------------------------------------ one test per quirk


def test_ignore_dates(quirky: Callable[..., httpx.Client]) -> None:
    c = quirky("ignore-dates")
    future = {"startDate": "2999-01-01T00:00:00Z"}
    assert c.get("/calls", params=future).json()["totalElements"] == SEEDED
    past = {"endDate": "2000-01-01T00:00:00Z", "startDate": "not a date"}
    assert c.get("/calls", params=past).json()["totalElements"] == SEEDED


def test_ignore_filters(quirky: Callable[..., httpx.Client]) -> None:
    c = quirky("ignore-filters")
    everything = all_ids(c)
    params = {"direction": "INBOUND", "status": "NONSENSE", "agentId": "999"}
    assert all_ids(c, **params) == everything
    directions = {
        x["direction"] for x in c.get("/calls", params={**params, "size": 100}).json()["content"]
    }
    assert directions == {"INBOUND", "OUTBOUND"}


def test_oldest_first(quirky: Callable[..., httpx.Client]) -> None:
    c = quirky("oldest-first")
    for sort in (None, "createdAt,desc"):
        got = all_ids(c, **({"sort": sort} if sort else {}))
        assert got == sorted(got) and len(got) == SEEDED
    page = c.get("/calls", params={"size": 50, "page": 1}).json()
    assert (page["totalElements"], page["totalPages"], page["number"]) == (SEEDED, 6, 1)
    assert [x["id"] for x in page["content"]] == sorted(all_ids(c))[50:100]


def test_bare_array(quirky: Callable[..., httpx.Client]) -> None:
    c = quirky("bare-array")
    first = c.get("/calls", params={"size": 7}).json()
    second = c.get("/calls", params={"size": 7, "page": 1}).json()
    assert isinstance(first, list) and len(first) == len(second) == 7
    got = [x["id"] for x in first + second]
    assert got == sorted(got, reverse=True) and len(set(got)) == 14
    assert len(c.get("/calls", params={"size": 500}).json()) == 100
    assert len(c.get("/calls", params={"size": 100, "page": 2}).json()) == 100
    assert c.get("/calls", params={"size": 100, "page": 3}).json() == []
    campaigns = c.get("/campaigns", params={"size": 2, "page": 2}).json()
    assert isinstance(campaigns, list) and [x["id"] for x in campaigns] == [12]


def test_stuck_page(quirky: Callable[..., httpx.Client]) -> None:
    c = quirky("stuck-page")
    page0 = c.get("/calls", params={"size": 10, "page": 0}).json()
    page1 = c.get("/calls", params={"size": 10, "page": 1}).json()
    assert [x["id"] for x in page0["content"]] == [x["id"] for x in page1["content"]]
    assert (page1["number"], page1["last"], page1["totalElements"]) == (0, False, SEEDED)


def test_page_cap(quirky: Callable[..., httpx.Client]) -> None:
    c = quirky("page-cap=7")
    body = c.get("/calls", params={"size": 100}).json()
    assert body["size"] == 7 and len(body["content"]) == 7
    assert body["totalPages"] == math.ceil(SEEDED / 7)
    assert len(c.get("/calls", params={"size": 3}).json()["content"]) == 3


def test_unknown_status(quirky: Callable[..., httpx.Client]) -> None:
    normal = quirky()
    assert normal.get("/calls", params={"status": "VOICEMAIL"}).status_code == 400
    c = quirky("unknown-status")
    statuses = {x["status"] for x in c.get("/calls", params={"size": 100}).json()["content"]}
    assert "VOICEMAIL" in statuses and "NO_ANSWER" not in statuses
    voicemail = c.get("/calls", params={"status": "VOICEMAIL", "size": 100}).json()
    assert voicemail["totalElements"] > 0
    assert all(x["endedAt"] and x["durationSeconds"] is not None for x in voicemail["content"])
    assert all(x["toNumber"].endswith("1") for x in voicemail["content"])
    assert c.get("/calls", params={"status": "NO_ANSWER"}).json()["totalElements"] == 0
    call_id = post(c, "+14155550121").json()["id"]

    def ended() -> dict[str, Any] | None:
        call = c.get(f"/calls/{call_id}").json()
        return call if call["endedAt"] is not None else None

    call = wait_for(ended, 5, "the call to end")
    assert call["status"] == "VOICEMAIL" and call["durationSeconds"] is not None


def test_no_id(quirky: Callable[..., httpx.Client]) -> None:
    c = quirky("no-id")
    response = post(c, "+14155550124")
    assert response.status_code == 201 and "Location" not in response.headers
    body = response.json()
    assert "id" not in body and body["status"] == "QUEUED" and body["toNumber"] == "+14155550124"
    newest = c.get("/calls", params={"size": 1}).json()["content"][0]
    assert newest["toNumber"] == "+14155550124" and newest["createdAt"] == body["createdAt"]


def test_lost_answer_queues_the_call(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(quirks=("lost-answer",))
    c = client(sb)
    before = c.get("/calls", params={"size": 1}).json()["content"][0]["id"]
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        post(c, "+14155550124")
    newest = c.get("/calls", params={"size": 1}).json()
    assert newest["totalElements"] == SEEDED + 1
    assert newest["content"][0]["id"] == before + 1
    assert newest["content"][0]["toNumber"] == "+14155550124"
    assert sb.app.requests["POST /calls/outbound"] == 1
    bad = c.post("/calls/outbound", json={"fromNumber": ORG_NUMBERS[0]})
    assert bad.status_code == 400  # a refused request is still answered
    c.close()


def test_lose_dispatch_queues_nothing(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(quirks=("lose-dispatch",))
    c = client(sb)
    before = c.get("/calls", params={"size": 1}).json()["content"][0]["id"]
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        post(c, "+14155550124")
    newest = c.get("/calls", params={"size": 1}).json()
    assert newest["totalElements"] == SEEDED and newest["content"][0]["id"] == before
    assert c.get(f"/calls/{before + 1}").status_code == 404
    assert sb.app.requests["POST /calls/outbound"] == 1
    c.close()


def test_clock_skew(quirky: Callable[..., httpx.Client]) -> None:
    c = quirky("clock-skew=-300")
    response = c.get("/calls", params={"size": 1})
    assert abs(server_date(response) - (time.time() - 300)) < 3
    newest_seeded = epoch(response.json()["content"][0]["createdAt"])
    assert newest_seeded < time.time() - 290  # seeded history is on the server's clock too
    dispatched = post(c, "+14155550124")
    assert abs(server_date(dispatched) - (time.time() - 300)) < 3
    created = epoch(dispatched.json()["createdAt"])
    assert abs(created - (time.time() - 300)) < 3
    # startDate/endDate are read against the server's clock.
    machine_minute_ago = datetime.fromtimestamp(time.time() - 60, UTC).isoformat()
    server_minute_ago = datetime.fromtimestamp(time.time() - 360, UTC).isoformat()
    # Nothing was created after "a minute ago" on the machine's clock: that is the server's future.
    assert c.get("/calls", params={"startDate": machine_minute_ago}).json()["totalElements"] == 0
    found = c.get("/calls", params={"startDate": server_minute_ago}).json()["content"]
    assert [x["toNumber"] for x in found][:1] == ["+14155550124"]
    error = c.get("/calls/1").json()
    assert abs(epoch(error["timestamp"]) - (time.time() - 300)) < 3


def test_clock_skew_ahead_moves_the_call_along(quirky: Callable[..., httpx.Client]) -> None:
    c = quirky("clock-skew=3600")
    call = post(c, "+14155550124").json()
    assert abs(epoch(call["createdAt"]) - (time.time() + 3600)) < 3
    # The timeline runs on the server's clock: it still ends.
    wait_for(lambda: c.get(f"/calls/{call['id']}").json()["status"] == "COMPLETED", 5)


def test_list_lag_hides_new_calls_from_the_list_only(quirky: Callable[..., httpx.Client]) -> None:
    lag = 0.2
    c = quirky(f"list-lag={lag}")
    assert c.get("/calls").json()["totalElements"] == SEEDED  # seeded calls are not delayed
    dispatched = time.monotonic()
    call_id = post(c, "+14155550124").json()["id"]
    assert c.get(f"/calls/{call_id}").status_code == 200
    listed = c.get("/calls", params={"size": 100})
    hidden_for = time.monotonic() - dispatched
    if hidden_for < lag:  # on a very slow machine the lag may already be over
        body = listed.json()
        assert body["totalElements"] == SEEDED and call_id not in [x["id"] for x in body["content"]]
        assert (
            c.get("/calls", params={"direction": "OUTBOUND", "size": 1}).json()["content"][0]["id"]
            != call_id
        )
    wait_for(lambda: call_id in ids(c, size=1), 5, "the call to appear")
    assert time.monotonic() - dispatched >= lag - 0.05
    assert c.get("/calls").json()["totalElements"] == SEEDED + 1


# ------------------------------------------------------------------ createdAt off the Date clock


def utc_second(t: float) -> str:
    """What the API writes for an instant: ISO-8601 UTC, whole seconds, `Z`."""
    return datetime.fromtimestamp(math.floor(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wire_created(sb: Sandbox, c: httpx.Client) -> tuple[Any, Any, Any, int, httpx.Response]:
    """createdAt of the newest listed call, of that call by id, of a fresh dispatch (its id
    and its whole response)."""
    listed = c.get("/calls", params={"size": 1}).json()["content"][0]
    detail = c.get(f"/calls/{listed['id']}").json()
    assert detail["id"] == listed["id"]
    answer = c.post(
        "/calls/outbound",
        json={"fromNumber": "+14155550100", "toNumber": "+14155550124", "agentId": 12},
    )
    assert answer.status_code == 201, answer.text
    return listed, detail, answer.json(), answer.json()["id"], answer


def total(c: httpx.Client, **params: Any) -> int:
    return int(c.get("/calls", params=params).json()["totalElements"])


def test_created_lag_shows_and_filters_the_lagged_stamp(make_sandbox: MakeSandbox) -> None:
    lag = 90
    sb = make_sandbox(quirks=(f"created-lag={lag}",), live_calls=False)
    c = client(sb)
    listed, detail, dispatched, call_id, answer = wire_created(sb, c)
    seeded = sb.app.by_id[listed["id"]]
    assert listed["createdAt"] == detail["createdAt"] == utc_second(seeded.created - lag)
    # Only createdAt moves: the seeded call ended and says so on the real clock.
    assert detail["endedAt"] == listed["endedAt"] == utc_second(seeded.end_at)
    real = sb.app.by_id[call_id].created
    assert dispatched["createdAt"] == utc_second(real - lag)
    # Against the answer's own Date header the new call looks 90 s old.
    assert abs(epoch(dispatched["createdAt"]) - (server_date(answer) - lag)) <= 2
    assert c.get(f"/calls/{call_id}").json()["createdAt"] == dispatched["createdAt"]
    newest = c.get("/calls", params={"size": 1}).json()["content"][0]
    assert (newest["id"], newest["createdAt"]) == (call_id, dispatched["createdAt"])

    # The date filter reads the stamp it shows, not the real creation time.
    shown = epoch(dispatched["createdAt"])
    after = utc_second(shown + 1)  # still well before the real creation
    assert total(c, startDate=after) == 0
    assert call_id not in ids(c, startDate=after)
    assert ids(c, startDate=dispatched["createdAt"])[:1] == [call_id]
    assert ids(c, startDate=utc_second(shown - 1))[:1] == [call_id]
    assert call_id not in ids(c, endDate=dispatched["createdAt"])
    assert ids(c, endDate=after)[:1] == [call_id]
    same_second = c.get("/calls", params={"startDate": dispatched["createdAt"], "endDate": after})
    assert same_second.json()["content"][0]["id"] == call_id
    assert {x["createdAt"] for x in same_second.json()["content"]} == {dispatched["createdAt"]}
    # Ordering is unchanged: still newest first by creation.
    listed_ids = all_ids(c)
    assert listed_ids == sorted(listed_ids, reverse=True) and listed_ids[0] == call_id
    c.close()


def test_created_epoch_ms(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(quirks=("created-epoch-ms",), live_calls=False)
    c = client(sb)
    raw = c.get("/calls", params={"size": 1}).text
    assert re.search(r'"createdAt":\d{13},', raw), raw[:300]
    listed, detail, dispatched, call_id, answer = wire_created(sb, c)
    seeded = sb.app.by_id[listed["id"]]
    ms = math.floor(seeded.created) * 1000
    assert type(listed["createdAt"]) is int and listed["createdAt"] == detail["createdAt"] == ms
    assert listed["endedAt"] == utc_second(seeded.end_at)  # still ISO
    created = dispatched["createdAt"]
    assert type(created) is int and created == math.floor(sb.app.by_id[call_id].created) * 1000
    assert abs(created / 1000 - server_date(answer)) <= 2
    assert c.get(f"/calls/{call_id}").json()["createdAt"] == created
    # Filtering is unchanged: the server knows the instant.
    second = utc_second(created / 1000)
    assert ids(c, startDate=second)[:1] == [call_id]
    assert total(c, startDate=utc_second(created / 1000 + 1)) == 0
    c.close()


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/Los_Angeles"])
def test_created_local(make_sandbox: MakeSandbox, zone: str) -> None:
    sb = make_sandbox(quirks=(f"created-local={zone}",), live_calls=False)
    c = client(sb)
    listed, detail, dispatched, call_id, answer = wire_created(sb, c)
    local = ZoneInfo(zone)

    def wall(t: float) -> str:
        return datetime.fromtimestamp(math.floor(t), local).strftime("%Y-%m-%dT%H:%M:%S")

    seeded = sb.app.by_id[listed["id"]]
    assert listed["createdAt"] == detail["createdAt"] == wall(seeded.created)
    assert listed["endedAt"] == utc_second(seeded.end_at)  # still UTC with Z
    created = dispatched["createdAt"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", created), created
    assert created == wall(sb.app.by_id[call_id].created)
    # Read in the zone it is the Date clock's instant; read as UTC (what a naive client
    # assumes) it is hours off.
    instant = datetime.fromisoformat(created).replace(tzinfo=local).timestamp()
    assert abs(instant - server_date(answer)) <= 2
    assert abs(epoch(created + "Z") - server_date(answer)) > 3600
    assert c.get(f"/calls/{call_id}").json()["createdAt"] == created
    # Filtering is unchanged: on the instant, whatever the rendering.
    assert ids(c, startDate=utc_second(instant))[:1] == [call_id]
    assert total(c, startDate=utc_second(instant + 1)) == 0
    c.close()


def test_created_quirks_swapped_on_a_running_server_are_not_served_from_cache(
    make_sandbox: MakeSandbox,
) -> None:
    sb = make_sandbox(live_calls=False)
    c = client(sb)
    page = {"size": 100}
    plain = c.get("/calls", params=page).json()["content"]
    assert plain == c.get("/calls", params=page).json()["content"]  # the cached copies
    truth = {call["id"]: sb.app.by_id[call["id"]].created for call in plain}
    assert all(call["createdAt"] == utc_second(truth[call["id"]]) for call in plain)

    sb.app.quirks = dataclasses.replace(sb.app.quirks, created_lag=3600.0)
    lagged = c.get("/calls", params=page).json()["content"]
    assert [x["id"] for x in lagged] == list(truth)
    assert all(x["createdAt"] == utc_second(truth[x["id"]] - 3600) for x in lagged)

    sb.app.quirks = dataclasses.replace(sb.app.quirks, created_lag=0.0, created_epoch_ms=True)
    as_ms = c.get("/calls", params=page).json()["content"]
    assert all(x["createdAt"] == math.floor(truth[x["id"]]) * 1000 for x in as_ms)

    sb.app.quirks = dataclasses.replace(sb.app.quirks, created_epoch_ms=False)
    assert c.get("/calls", params=page).json()["content"] == plain
    c.close()


# ---------------------------------------------------------------- the history and its pages
# What zaza does against each: the CLI against a sandbox with the quirk, over loopback.


def quirk_cli(running: Sandbox, tmp_path: Any) -> Any:
    from conftest import Cli

    env = {"ZAZA_BASE_URL": running.base_url, "ZAZA_API_KEY": running.api_key}
    return Cli(env={**env, "ZAZA_ARCHIVE": str(tmp_path / "a.sqlite3")})


def test_redirect_is_not_followed(make_sandbox: MakeSandbox, tmp_path: Any) -> None:
    running = make_sandbox(quirks=("redirect",))
    result = quirk_cli(running, tmp_path)("calls", "list")
    assert result.exit_code == 1 and result.stdout == ""
    assert "the API answered 307 → https://elsewhere.invalid/api/v1/calls" in result.stderr
    assert "zaza does not follow redirects" in result.stderr
    assert running.api_key not in result.stderr


def test_dup_ids_are_shown_once_and_the_unseen_said(
    make_sandbox: MakeSandbox, tmp_path: Any
) -> None:
    """Pages overlapping by one: every call once, and the two never listed are said."""
    running = make_sandbox(quirks=("dup-ids",), live_calls=False)
    cli = quirk_cli(running, tmp_path)
    result = cli("calls", "list", "--all", "-o", "jsonl")
    assert result.exit_code == 0, result.stderr
    shown = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert len(shown) == len(set(shown)) == SEEDED - 2
    assert f"announced {SEEDED} calls but listed {SEEDED - 2} different ones" in result.stderr
    synced = cli("calls", "sync")
    assert synced.exit_code == 1  # the archive does not take the range as held
    assert "2 never came" in synced.stderr


@pytest.mark.parametrize("limit", [["--limit", "8"], ["--all"]])
def test_an_oldest_first_list_that_shifts_still_gives_the_newest(
    make_sandbox: MakeSandbox, tmp_path: Any, limit: list[str]
) -> None:
    """Oldest first, and its pages shifted by a call listed late: read from the last page
    it announced, the newest calls sat past it and were left out, exit 0 and nothing said.
    The pages past the announced end are read first, until an empty one."""
    running = make_sandbox(quirks=("oldest-first", "dup-ids"), live_calls=False)
    result = quirk_cli(running, tmp_path)("calls", "list", "-o", "jsonl", *limit)
    assert result.exit_code == 0, result.stderr
    shown = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    newest = sorted((call.id for call in running.app.calls), reverse=True)
    assert shown == newest[: len(shown)] and len(shown) == (8 if "--limit" in limit else SEEDED)


def test_endless_pages_without_totals_end_with_an_error(
    make_sandbox: MakeSandbox, tmp_path: Any
) -> None:
    running = make_sandbox(quirks=("endless-no-total",), live_calls=False)
    result = quirk_cli(running, tmp_path)("calls", "list", "--all", "-o", "jsonl")
    assert result.exit_code == 1
    assert "answered page 2 again when asked for page 3" in result.stderr
    assert "repeats its last page past the end" in result.stderr
    shown = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert len(shown) == len(set(shown)) == SEEDED  # nothing printed twice
    assert running.app.requests["GET /calls"] == 4


def test_changed_after_sync_and_deleted_are_found_by_a_refresh(
    make_sandbox: MakeSandbox, tmp_path: Any
) -> None:
    running = make_sandbox(quirks=("changed-after-sync", "deleted"), calls=40, live_calls=False)
    cli = quirk_cli(running, tmp_path)
    first = json.loads(cli("calls", "sync", "--json").stdout)
    assert (first["new"], first["updated"]) == (40, 0)
    refreshed = cli("calls", "sync", "--refresh", "--json")
    report = json.loads(refreshed.stdout)
    assert (report["new"], report["updated"], report["deleted"]) == (0, 36, 4), report
    local = cli("calls", "list", "--local", "--all", "-o", "jsonl")
    calls = [json.loads(line) for line in local.stdout.splitlines()]
    assert len(calls) == 36 and not any(call["id"] % 10 == 0 for call in calls)
    assert {call["disposition"] for call in calls} == {"AMENDED"}
    hits = cli("calls", "search", "re-run", "--json")
    assert len(json.loads(hits.stdout)) == 36
