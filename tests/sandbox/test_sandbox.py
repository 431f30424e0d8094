"""The sandbox server, driven over real loopback HTTP: endpoints, rules, webhooks and faults."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from conftest import LOOPBACK, Zaza, loopback_client, wait_for

from zazacli.sandbox import DEFAULT_API_KEY, ORG_NUMBERS, Sandbox, SandboxConfig, start_sandbox
from zazacli.sandbox.data import TERMINAL_STATUSES, fill, outcome_for_number
from zazacli.webhooks.signing import EVENT_HEADER, SIGNATURE_HEADER, verify_signature

REPO = Path(__file__).resolve().parents[2]
MakeSandbox = Callable[..., Sandbox]
SECRET = "whsec_test_0123456789abcdef"


def client(sb: Sandbox, key: str | None = None) -> httpx.Client:
    return loopback_client(
        base_url=sb.base_url,
        headers={"Authorization": f"Bearer {key or sb.api_key}"},
        timeout=10,
    )


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with client(sandbox) as c:
        yield c


def all_calls(c: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 0
    while True:
        body = c.get("/calls", params={**params, "size": 100, "page": page}).json()
        items.extend(body["content"])
        if body["last"]:
            return items
        page += 1


def settle(c: httpx.Client) -> None:
    """Wait until the seeded live calls have ended, so filtered pages stop shifting."""

    def none_live() -> bool:
        live = c.get("/calls", params={"status": "QUEUED,RINGING,IN_PROGRESS"}).json()
        return live["totalElements"] == 0

    wait_for(none_live, 5, "the seeded live calls to end")


def dispatch(c: httpx.Client, to: str, agent: int = 12, **variables: str) -> dict[str, Any]:
    body = {"fromNumber": ORG_NUMBERS[0], "toNumber": to, "agentId": agent, "variables": variables}
    response = c.post("/calls/outbound", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def wait_terminal(c: httpx.Client, call_id: int, timeout: float = 5) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        call = c.get(f"/calls/{call_id}").json()
        return dict(call) if call["status"] in TERMINAL_STATUSES else None

    ended_call: dict[str, Any] = wait_for(ended, timeout, f"call {call_id} to end")
    return ended_call


def assert_spring_error(response: httpx.Response, status: int, *needles: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"timestamp", "status", "error", "message", "path"}
    assert body["status"] == status and body["timestamp"].endswith("Z")
    for needle in needles:
        assert needle in body["message"], body["message"]
    return dict(body)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------- reads


def test_agents_list_and_one(api: httpx.Client) -> None:
    agents = api.get("/agents").json()
    assert isinstance(agents, list) and len(agents) >= 4
    assert [a for a in agents if not a["isActive"]], "one agent is inactive"
    assert all("{{NAME}}" in a["greetingMessage"] for a in agents)
    assert all(a.get("language") for a in agents)  # a forward-compat field
    one = api.get(f"/agents/{agents[0]['id']}")
    assert one.status_code == 200 and one.json() == agents[0]
    assert_spring_error(api.get("/agents/999"), 404, "Agent 999 not found")
    assert_spring_error(api.get("/agents/abc"), 400, "integer")


def test_campaigns_list_and_one(api: httpx.Client) -> None:
    campaigns = api.get("/campaigns").json()
    assert {"RUNNING", "PAUSED", "COMPLETED", "DRAFT"} <= {c["status"] for c in campaigns}
    for campaign in campaigns:
        assert sum(campaign["leadStats"].values()) == campaign["totalLeads"]
        # The guide: calling hours are in each recipient's own time zone.
        hours = {"start": "09:00", "end": "20:00", "timezone": "RECIPIENT"}
        assert campaign["callingHours"] == hours
        assert campaign["fromNumber"] in ORG_NUMBERS
    assert api.get(f"/campaigns/{campaigns[1]['id']}").json() == campaigns[1]
    assert_spring_error(api.get("/campaigns/4040"), 404, "Campaign 4040 not found")


def test_seeded_campaign_calls_keep_the_recipients_calling_hours(api: httpx.Client) -> None:
    import phonenumbers
    from phonenumbers import timezone

    def local(instant: str, zone: ZoneInfo) -> datetime:
        return datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(zone)

    checked = 0
    for call in all_calls(api):
        if call["campaignId"] is None:
            continue
        number = phonenumbers.parse(call["toNumber"])
        names = [z for z in timezone.time_zones_for_number(number) if z != "Etc/Unknown"]
        zone = ZoneInfo(names[0] if names else "Europe/London")  # the fictional UK range
        started, ended = local(call["createdAt"], zone), local(call["endedAt"], zone)
        assert 9 <= started.hour and ended.date() == started.date(), call
        assert (ended.hour, ended.minute) < (20, 0), call
        checked += 1
    assert checked > 50


def test_unknown_placeholders_become_empty_strings() -> None:
    assert fill("Hi {{NAME}}, ref {{ CASE }}.", {}, "there") == "Hi there, ref ."
    assert fill("{{NAME}}/{{EMAIL}}", {"NAME": "Zoë", "EMAIL": "z@x.io"}, "-") == "Zoë/z@x.io"


def test_calls_first_page_shape(api: httpx.Client) -> None:
    response = api.get("/calls")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    page = response.json()
    assert set(page) == {
        "content",
        "totalElements",
        "totalPages",
        "number",
        "size",
        "first",
        "last",
    }
    assert (page["totalElements"], page["size"], page["number"]) == (300, 20, 0)
    assert page["totalPages"] == 15 and page["first"] and not page["last"]
    assert len(page["content"]) == 20
    assert all("turns" not in call for call in page["content"])


def test_call_detail_has_turns(api: httpx.Client) -> None:
    completed = api.get("/calls", params={"status": "COMPLETED", "size": 1}).json()
    call = api.get(f"/calls/{completed['content'][0]['id']}").json()
    assert 4 <= len(call["turns"]) <= 12
    assert {"role", "text", "timestamp"} <= set(call["turns"][0])
    assert call["startedAt"] <= call["turns"][0]["timestamp"] <= call["endedAt"]
    assert_spring_error(api.get("/calls/123"), 404, "Call 123 not found")


def test_seeded_data_is_varied_and_obeys_the_outcome_rule(api: httpx.Client) -> None:
    calls = all_calls(api)
    assert {c["direction"] for c in calls} == {"INBOUND", "OUTBOUND"}
    assert set(TERMINAL_STATUSES) <= {c["status"] for c in calls}
    assert any(c.get("campaignId") for c in calls)
    assert any("sentiment" in c for c in calls)  # unknown field for tolerant readers
    for call in calls:
        if call["direction"] == "OUTBOUND" and call["status"] in TERMINAL_STATUSES:
            expected = outcome_for_number(call["toNumber"])
            assert (call["status"], call["disposition"]) == (
                expected.status,
                expected.disposition,
            ), call
    texts, roles = [], set()
    for call in [c for c in calls if c["status"] == "COMPLETED"][:80]:
        turns = api.get(f"/calls/{call['id']}").json()["turns"]
        roles |= {t["role"] for t in turns}
        texts.extend(t["text"] for t in turns)
    assert {"AGENT", "CALLER"} < roles, "some rarer role (SYSTEM/TOOL) appears"
    assert any(not text.isascii() for text in texts)


def test_response_is_utf8_json(api: httpx.Client) -> None:
    raw = api.get("/agents").content
    assert "Amélie".encode() in raw  # not \\u-escaped


# ---------------------------------------------------------------- pagination


def test_size_is_capped_and_pages_cover_everything_once(api: httpx.Client) -> None:
    first = api.get("/calls", params={"size": 500}).json()
    assert first["size"] == 100 and len(first["content"]) == 100
    assert first["totalPages"] == 3
    seen: list[dict[str, Any]] = []
    for page in range(first["totalPages"]):
        body = api.get("/calls", params={"size": 500, "page": page}).json()
        assert body["number"] == page and body["first"] == (page == 0)
        assert body["last"] == (page == first["totalPages"] - 1)
        seen.extend(body["content"])
    assert len(seen) == first["totalElements"] == 300
    assert len({c["id"] for c in seen}) == 300
    keys = [(c["createdAt"], c["id"]) for c in seen]
    assert keys == sorted(keys, reverse=True), "newest first, ties by id"
    beyond = api.get("/calls", params={"size": 100, "page": 3}).json()
    assert beyond["content"] == [] and beyond["last"] and not beyond["first"]


# ------------------------------------------------------------------- filters


def test_filters_each_and_combined(api: httpx.Client) -> None:
    settle(api)
    everything = all_calls(api)

    def expect(params: dict[str, Any], keep: Callable[[dict[str, Any]], bool]) -> None:
        got = all_calls(api, **params)
        wanted = [c for c in everything if keep(c)]
        assert [c["id"] for c in got] == [c["id"] for c in wanted], params
        assert api.get("/calls", params={**params, "size": 1}).json()["totalElements"] == len(
            wanted
        )

    expect({"direction": "INBOUND"}, lambda c: c["direction"] == "INBOUND")
    expect({"status": "COMPLETED"}, lambda c: c["status"] == "COMPLETED")
    expect({"status": "NO_ANSWER,BUSY"}, lambda c: c["status"] in ("NO_ANSWER", "BUSY"))
    expect({"agentId": 14}, lambda c: c["agentId"] == 14)
    pivot = everything[120]["createdAt"]
    expect({"startDate": pivot}, lambda c: c["createdAt"] >= pivot)
    expect({"endDate": pivot}, lambda c: c["createdAt"] < pivot)
    expect(
        {"direction": "OUTBOUND", "status": "COMPLETED", "agentId": 12, "endDate": pivot},
        lambda c: (
            (c["direction"], c["status"], c["agentId"]) == ("OUTBOUND", "COMPLETED", 12)
            and c["createdAt"] < pivot
        ),
    )
    today = datetime.now(UTC).date().isoformat()
    expect({"startDate": today}, lambda c: c["createdAt"] >= f"{today}T00:00:00Z")
    assert api.get("/calls", params={"startDate": today}).json()["totalElements"] > 0
    # A filtered page is a window of the filtered list.
    inbound = [c for c in everything if c["direction"] == "INBOUND"]
    page = api.get("/calls", params={"direction": "INBOUND", "size": 5, "page": 2}).json()
    assert [c["id"] for c in page["content"]] == [c["id"] for c in inbound[10:15]]


def test_date_filters_accept_offsets(api: httpx.Client) -> None:
    calls = all_calls(api)
    pivot_text = calls[50]["createdAt"]
    expected = sum(c["createdAt"] >= pivot_text for c in calls)
    # The same instant written in UTC+02:00, without a zone (UTC), and as a Z instant.
    local = (datetime.fromisoformat(pivot_text) + timedelta(hours=2)).replace(tzinfo=None)
    for value in (pivot_text, local.isoformat() + "+02:00", pivot_text.removesuffix("Z")):
        found = api.get("/calls", params={"startDate": value}).json()["totalElements"]
        assert found == expected, value
    # An unescaped '+' arrives as a space; the sandbox reads it back as an offset.
    raw = api.get(f"/calls?startDate={local.isoformat()}+02:00").json()["totalElements"]
    assert raw == expected


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("size=abc", "size"),
        ("size=0", "size"),
        ("page=-1", "page"),
        ("page=x", "page"),
        ("status=WHATEVER", "status"),
        ("status=completed", "status"),
        ("direction=SIDEWAYS", "direction"),
        ("agentId=twelve", "agentId"),
        ("startDate=garbage", "startDate"),
        ("endDate=2026-13-45", "endDate"),
    ],
)
def test_bad_query_values_are_400(api: httpx.Client, query: str, needle: str) -> None:
    assert_spring_error(api.get(f"/calls?{query}"), 400, needle)


# ------------------------------------------------------- auth, routes, methods


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer zaza_test_wrong"},
        {"Authorization": DEFAULT_API_KEY},
        {"Authorization": f"Basic {DEFAULT_API_KEY}"},
    ],
)
def test_bad_or_missing_key_is_401(sandbox: Sandbox, headers: dict[str, str]) -> None:
    response = LOOPBACK.get(f"{sandbox.base_url}/agents", headers=headers)
    body = assert_spring_error(response, 401, "Invalid or missing API key")
    assert DEFAULT_API_KEY not in response.text and body["path"] == "/api/v1/agents"


def test_bearer_scheme_is_case_insensitive(sandbox: Sandbox) -> None:
    response = LOOPBACK.get(
        f"{sandbox.base_url}/agents", headers={"Authorization": f"bearer {sandbox.api_key}"}
    )
    assert response.status_code == 200


def test_unknown_routes_are_404(api: httpx.Client, sandbox: Sandbox) -> None:
    body = assert_spring_error(api.get("/phone-numbers"), 404)
    assert body["path"] == "/api/v1/phone-numbers"
    assert_spring_error(api.get("/calls/1/recording"), 404)
    outside = LOOPBACK.get(sandbox.base_url.replace("/api/v1", "/v2/calls"))
    assert_spring_error(outside, 404, "/api/v1")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/calls", "GET"),
        ("GET", "/calls/outbound", "POST"),
        ("DELETE", "/agents/12", "GET"),
        ("PUT", "/campaigns", "GET"),
    ],
)
def test_wrong_method_is_405_with_allow(
    api: httpx.Client, method: str, path: str, allow: str
) -> None:
    response = api.request(method, path)
    assert_spring_error(response, 405, method)
    assert response.headers["allow"] == allow


def test_huge_body_is_413_and_server_survives(sandbox: Sandbox, api: httpx.Client) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    conn.putrequest("POST", "/api/v1/calls/outbound")
    conn.putheader("Authorization", f"Bearer {sandbox.api_key}")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(2 * 1024 * 1024))
    conn.endheaders()
    conn.send(b"{" + b" " * 4096)
    response = conn.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["status"] == 413
    assert response.getheader("Connection") == "close"
    conn.close()
    assert api.get("/agents").status_code == 200


def test_malformed_requests_get_json_errors_and_server_survives(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    for raw in (
        b"GARBAGE\r\n\r\n",
        b"GET /api/v1/agents HTTP/9.9\r\n\r\n",
        b"GET /api/v1/agents HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"\x00\xff\xfe binary junk\r\n\r\n",
    ):
        with socket.create_connection(("127.0.0.1", sandbox.port), timeout=5) as s:
            s.sendall(raw)
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 4") or answer.startswith(b"HTTP/1.1 5"), answer
        head, _, body = answer.partition(b"\r\n\r\n")
        assert json.loads(body)["status"] >= 400
    # a client that connects and leaves without a word
    socket.create_connection(("127.0.0.1", sandbox.port), timeout=5).close()
    assert api.get("/agents").status_code == 200


# ------------------------------------------------------------------ dispatch


def test_dispatch_returns_queued_call_listed_first(api: httpx.Client) -> None:
    response = api.post(
        "/calls/outbound",
        json={
            "fromNumber": ORG_NUMBERS[1],
            "toNumber": "+14155550124",
            "agentId": 12,
            "variables": {"NAME": "Alex"},
        },
        headers={"Idempotency-Key": "4b1f0c0e-1b5e-4d7c-9d0f-3b1f6a1b2c3d"},
    )
    assert response.status_code == 201
    call = response.json()
    assert (call["status"], call["direction"], call["toNumber"], call["agentId"]) == (
        "QUEUED",
        "OUTBOUND",
        "+14155550124",
        12,
    )
    assert call["variables"] == {"NAME": "Alex"} and call["createdAt"].endswith("Z")
    assert call["startedAt"] is None and call["endedAt"] is None
    assert response.headers["location"] == f"/api/v1/calls/{call['id']}"
    top = api.get("/calls", params={"size": 1}).json()
    assert top["content"][0]["id"] == call["id"] and top["totalElements"] == 301
    assert call["id"] > max(c["id"] for c in all_calls(api) if c["id"] != call["id"])


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 400, "Malformed JSON"),
        (b"", 400, "body is missing"),
        (b"[1, 2]", 400, "JSON object"),
        (b"{}", 400, "fromNumber, toNumber, agentId"),
        ({"fromNumber": ORG_NUMBERS[0], "toNumber": "4155550123", "agentId": 12}, 400, "E.164"),
        (
            {"fromNumber": ORG_NUMBERS[0], "toNumber": "+1 415 555 0123", "agentId": 12},
            400,
            "toNumber",
        ),
        (
            {"fromNumber": "+0123456789", "toNumber": "+14155550123", "agentId": 12},
            400,
            "fromNumber",
        ),
        (
            {"fromNumber": ORG_NUMBERS[0], "toNumber": "+14155550124", "agentId": "abc"},
            400,
            "agentId",
        ),
        (
            {
                "fromNumber": ORG_NUMBERS[0],
                "toNumber": "+14155550124",
                "agentId": 12,
                "variables": {"AMOUNT": 5000},
            },
            400,
            "variables",
        ),
        (
            {
                "fromNumber": ORG_NUMBERS[0],
                "toNumber": "+14155550124",
                "agentId": 12,
                "variables": ["NAME"],
            },
            400,
            "variables",
        ),
        (
            {"fromNumber": ORG_NUMBERS[0], "toNumber": "+14155550124", "agentId": 999},
            422,
            "Agent 999 not found",
        ),
        (
            {"fromNumber": ORG_NUMBERS[0], "toNumber": "+14155550124", "agentId": 21},
            422,
            "not active",
        ),
        (
            {"fromNumber": "+12025550199", "toNumber": "+14155550124", "agentId": 12},
            422,
            "+12025550199",
        ),
    ],
)
def test_dispatch_validation(api: httpx.Client, body: Any, status: int, needle: str) -> None:
    if isinstance(body, bytes):
        response = api.post(
            "/calls/outbound", content=body, headers={"Content-Type": "application/json"}
        )
    else:
        response = api.post("/calls/outbound", json=body)
    assert_spring_error(response, status, needle)
    assert api.get("/calls", params={"size": 1}).json()["totalElements"] == 300


def test_chunked_dispatch_body_is_read(api: httpx.Client) -> None:
    payload = json.dumps(
        {"fromNumber": ORG_NUMBERS[0], "toNumber": "+14155550124", "agentId": 14}
    ).encode()
    response = api.post(
        "/calls/outbound",
        content=iter([payload[:10], payload[10:]]),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201 and response.json()["agentId"] == 14


# ----------------------------------------------------------------- lifecycle


@pytest.mark.parametrize(
    ("last_digit", "status", "disposition", "failure"),
    [
        ("0", "FAILED", None, "CARRIER_ERROR"),
        ("1", "NO_ANSWER", None, None),
        ("2", "BUSY", None, None),
        ("3", "CANCELED", None, None),
        ("4", "COMPLETED", "INTERESTED", None),
        ("8", "COMPLETED", "APPOINTMENT_BOOKED", None),
    ],
)
def test_outcome_follows_last_digit(
    api: httpx.Client, last_digit: str, status: str, disposition: str | None, failure: str | None
) -> None:
    call = wait_terminal(api, dispatch(api, "+1415555012" + last_digit, NAME="Ana")["id"])
    assert (call["status"], call["disposition"], call["failureReason"]) == (
        status,
        disposition,
        failure,
    )
    assert call["endedAt"] >= call["createdAt"]
    if status == "COMPLETED":
        assert call["startedAt"] and call["turns"] and call["recordingUrl"]
        started = datetime.fromisoformat(call["startedAt"])
        ended = datetime.fromisoformat(call["endedAt"])
        assert call["durationSeconds"] == int((ended - started).total_seconds())
    else:
        assert call["startedAt"] is None and call["turns"] == []
        assert call["durationSeconds"] == 0


@pytest.mark.slow  # watches a call's states go by in real time (0.8 s)
def test_lifecycle_passes_through_each_state_in_order(make_sandbox: MakeSandbox) -> None:
    # At speed 10: ringing at 0.1 s, answered at 0.3 s, ended at 0.8 s (each state lasts
    # 0.2 s at least: polls every 20 ms see them all).
    sb = make_sandbox(speed=10.0, calls=10)
    with client(sb) as c:
        answered = dispatch(c, "+14155550124")
        unanswered = dispatch(c, "+14155550121")
        seen: dict[int, list[str]] = {answered["id"]: ["QUEUED"], unanswered["id"]: ["QUEUED"]}
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(
            s[-1] not in TERMINAL_STATUSES for s in seen.values()
        ):
            for call_id, states in seen.items():
                status = c.get(f"/calls/{call_id}").json()["status"]
                if status != states[-1]:
                    states.append(status)
            time.sleep(0.02)
    assert seen[answered["id"]] == ["QUEUED", "RINGING", "IN_PROGRESS", "COMPLETED"]
    assert seen[unanswered["id"]] == ["QUEUED", "RINGING", "NO_ANSWER"]


def test_transcript_uses_the_calls_variables(api: httpx.Client) -> None:
    call = dispatch(api, "+14155550126", NAME="Zoë", CASE_NUMBER="CASE-7741")
    done = wait_terminal(api, call["id"])
    texts = [t["text"] for t in done["turns"]]
    assert any("Hi Zoë" in text for text in texts)
    assert any("CASE-7741" in text for text in texts)
    assert done["disposition"] == "CALLBACK_REQUESTED"


def test_seeded_live_calls_move_too(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(speed=1000.0)  # 8 s of call time in 8 ms
    with client(sb) as c:

        def newest_ended() -> bool:
            newest = c.get("/calls", params={"size": 3}).json()["content"]
            return all(call["status"] in TERMINAL_STATUSES for call in newest)

        wait_for(newest_ended, 5, "the seeded live calls to end")


# ------------------------------------------------------------------ webhooks


class Receiver:
    """A small webhook endpoint that records every delivery."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.cond = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.cond:
                    outer.deliveries.append((dict(self.headers), body))
                    outer.cond.notify_all()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/zaza"
        # Polled often: shutdown() at the end of the test waits up to one interval.
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()

    def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 5
    ) -> list[tuple[dict[str, str], bytes]]:
        with self.cond:
            self.cond.wait_for(
                lambda: predicate([json.loads(b) for _, b in self.deliveries]), timeout
            )
            return list(self.deliveries)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_webhooks_are_signed_and_follow_the_call(
    make_sandbox: MakeSandbox, receiver: Receiver
) -> None:
    sb = make_sandbox(webhook_url=receiver.url, webhook_secret=SECRET, speed=50.0)
    with client(sb) as c:
        ok = dispatch(c, "+14155550124", NAME="Alex")["id"]
        failed = dispatch(c, "+14155550120")["id"]

    def mine(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
        return [(e["event"], e["data"]["id"]) for e in events if e["data"]["id"] in (ok, failed)]

    deliveries = receiver.wait_for(lambda events: len(mine(events)) >= 4)
    events = [json.loads(body) for _, body in deliveries]
    got = mine(events)
    # call.started fires when an outbound call is queued, so a call that fails has one too.
    assert sorted(got) == sorted(
        [
            ("call.started", ok),
            ("call.completed", ok),
            ("call.started", failed),
            ("call.failed", failed),
        ]
    )
    assert got.index(("call.started", ok)) < got.index(("call.completed", ok))
    assert got.index(("call.started", failed)) < got.index(("call.failed", failed))
    for headers, body in deliveries:
        event = json.loads(body)
        assert verify_signature(SECRET, body, headers[SIGNATURE_HEADER])
        assert headers[EVENT_HEADER] == event["event"]
        assert headers["Content-Type"] == "application/json"
        assert set(event) == {"event", "data", "timestamp"} and event["timestamp"].endswith("Z")
        assert "turns" not in event["data"]
        expected = {
            "call.started": "QUEUED",
            "call.completed": "COMPLETED",
            "call.failed": "FAILED",
        }[event["event"]]
        if event["data"]["id"] in (ok, failed):
            assert event["data"]["status"] == expected
    completed = next(e for e in events if e["event"] == "call.completed" and e["data"]["id"] == ok)
    assert completed["data"]["disposition"] == "INTERESTED"
    assert completed["data"]["durationSeconds"] is not None
    assert not verify_signature("whsec_other", deliveries[0][1], deliveries[0][0][SIGNATURE_HEADER])


def test_unreachable_webhook_receiver_does_not_hurt(
    make_sandbox: MakeSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sb = make_sandbox(
        webhook_url=f"http://127.0.0.1:{free_port()}/gone",
        webhook_secret=SECRET,
        speed=200.0,
        quiet=False,  # each delivery is logged, failed ones too
    )
    log: list[str] = []

    def failed_deliveries(call_id: int) -> int:
        log.append(capsys.readouterr().err)
        lines = "".join(log).splitlines()
        return sum(f"for call {call_id} -> " in line and " failed: " in line for line in lines)

    with client(sb) as c:
        first = dispatch(c, "+14155550124")
        assert wait_terminal(c, first["id"])["status"] == "COMPLETED"
        # call.started and call.completed were both tried, and failed.
        wait_for(lambda: failed_deliveries(first["id"]) == 2, 10, "two failed deliveries")
        second = dispatch(c, "+14155550120")
        assert wait_terminal(c, second["id"])["status"] == "FAILED"
        assert c.get("/agents").status_code == 200


def test_webhook_config_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="webhook_secret"):
        SandboxConfig(webhook_url="http://127.0.0.1:9/hook")
    with pytest.raises(ValueError, match="speed"):
        SandboxConfig(speed=0)
    with pytest.raises(ValueError, match="error_rate"):
        SandboxConfig(error_rate=1.5)


# -------------------------------------------------------------- fault knobs


def test_rate_limit_answers_429_with_retry_after(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(rate_limit=3)
    with client(sb) as c:
        assert [c.get("/agents").status_code for _ in range(3)] == [200, 200, 200]
        limited = c.get("/calls")
        assert_spring_error(limited, 429, "3 requests per minute")
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert c.post("/calls/outbound", json={}).status_code == 429


@pytest.mark.slow
def test_latency_delays_every_response(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(latency_ms=150)
    with client(sb) as c:
        started = time.monotonic()
        assert c.get("/agents").status_code == 200
        assert c.get("/nope").status_code == 404
        assert time.monotonic() - started >= 0.3


def test_error_rate_one_fails_every_get_but_not_dispatch(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(error_rate=1.0)
    with client(sb) as c:
        statuses = set()
        for path in ["/agents", "/calls", "/campaigns", "/agents/12"] * 5:
            response = c.get(path)
            assert_spring_error(response, response.status_code, "--error-rate")
            statuses.add(response.status_code)
            if response.status_code == 503:
                assert response.headers["retry-after"] == "1"
        assert statuses == {500, 503}
        assert dispatch(c, "+14155550124")["status"] == "QUEUED"


def test_error_rate_half_fails_some(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(error_rate=0.5)
    with client(sb) as c:
        failures = sum(c.get("/agents").status_code >= 500 for _ in range(200))
    assert 60 <= failures <= 140


@pytest.mark.slow
def test_slow_dispatch_commits_before_answering(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(slow_dispatch=0.3, speed=1.0)
    answer: dict[str, Any] = {}

    def post() -> None:
        with client(sb) as c:
            started = time.monotonic()
            answer["call"] = dispatch(c, "+14155550125")
            answer["took"] = time.monotonic() - started

    thread = threading.Thread(target=post)
    with client(sb) as c:
        newest_before = c.get("/calls", params={"size": 1}).json()["content"][0]["id"]
        thread.start()
        seen = None
        deadline = time.monotonic() + 3
        while seen is None and time.monotonic() < deadline:
            top = c.get("/calls", params={"size": 1}).json()["content"][0]
            if top["id"] != newest_before:
                seen = top
            time.sleep(0.02)
        answered_yet = "call" in answer
    thread.join(5)
    assert seen is not None and not answered_yet, "the call was listed before the answer"
    assert seen["toNumber"] == "+14155550125"
    assert answer["call"]["id"] == seen["id"] and answer["took"] >= 0.3


# ------------------------------------------------- concurrency, determinism


@pytest.mark.slow
def test_concurrent_clients_all_succeed(sandbox: Sandbox) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        statuses = []
        with client(sandbox) as c:
            for i in range(50):
                if i % 10 == 0:
                    statuses.append(
                        c.post(
                            "/calls/outbound",
                            json={
                                "fromNumber": ORG_NUMBERS[0],
                                "toNumber": "+14155550124",
                                "agentId": 12,
                            },
                        ).status_code
                    )
                elif i % 3 == 0:
                    statuses.append(
                        c.get(
                            "/calls", params={"page": i % 5, "size": 100, "status": "COMPLETED"}
                        ).status_code
                    )
                else:
                    statuses.append(c.get(f"/calls/{90500 - i}").status_code)
        with lock:
            results.extend(statuses)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 400 and set(results) <= {200, 201}
    with client(sandbox) as c:
        calls = all_calls(c)
    assert len(calls) == 340 and len({call["id"] for call in calls}) == 340


def test_same_seed_same_data(make_sandbox: MakeSandbox) -> None:
    volatile = ("createdAt", "startedAt", "endedAt")

    def snapshot(sb: Sandbox) -> tuple[Any, ...]:
        with client(sb) as c:
            page = c.get("/calls", params={"page": 1, "size": 100}).json()["content"]
            detail = c.get(f"/calls/{page[0]['id']}").json()
        calls = [{k: v for k, v in call.items() if k not in volatile} for call in page]
        return calls, [(t["role"], t["text"]) for t in detail["turns"]]

    a, b = make_sandbox(seed=7), make_sandbox(seed=7)
    assert snapshot(a) == snapshot(b)
    assert snapshot(make_sandbox(seed=8)) != snapshot(a)


def test_close_stops_serving_keep_alive_clients(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox()
    with client(sb) as c:
        assert c.get("/agents").status_code == 200
        sb.close()
        with pytest.raises(httpx.TransportError):
            c.get("/agents")
    sb.close()  # idempotent
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", sb.port), timeout=1):
        pass


def test_context_manager_and_busy_port() -> None:
    with start_sandbox(SandboxConfig(port=0, calls=5)) as sb:
        with pytest.raises(OSError):
            start_sandbox(SandboxConfig(port=sb.port, calls=5))
        assert (
            LOOPBACK.get(
                f"{sb.base_url}/agents", headers={"Authorization": f"Bearer {sb.api_key}"}
            ).status_code
            == 200
        )


def test_request_log_is_one_line_without_the_key(
    make_sandbox: MakeSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sb = make_sandbox(quiet=False)
    with client(sb) as c:
        c.get("/agents")
        c.get("/calls/1")
    logged: list[str] = []

    def log() -> str:  # a request is logged once answered: the last line may come later
        logged.append(capsys.readouterr().err)
        return "".join(logged)

    wait_for(lambda: "GET /api/v1/calls/1 404" in log(), 5, "the second request's line")
    err = log()
    assert "GET /api/v1/agents 200" in err and len(err.splitlines()) == 2
    assert sb.api_key not in err


# ------------------------------------------------------------------- the CLI


def _env_lines(sandbox: Zaza) -> dict[str, str]:
    """The `export ZAZA_…=…` lines `zaza sandbox` prints at start, up to the key."""
    assert sandbox.stdout is not None
    printed: dict[str, str] = {}

    def env_line(line: str) -> bool:
        name, sep, value = line.strip().removeprefix("export ").partition("=")
        if sep and name.startswith("ZAZA_"):
            printed[name] = value
        return "ZAZA_API_KEY" in printed

    sandbox.stdout.until(env_line, 20)
    assert sandbox.stdout.seen[0].startswith("ZazaVoice sandbox listening on http://127.0.0.1:")
    return printed


def test_cli_prints_env_lines_serves_and_stops_on_ctrl_c() -> None:
    args = ("sandbox", "--port", "0", "--speed", "50", "--quiet", "--calls", "20")
    with Zaza(*args) as sandbox:
        printed = _env_lines(sandbox)
        assert printed["ZAZA_API_KEY"] == DEFAULT_API_KEY
        assert printed["ZAZA_BASE_URL"].startswith("http://127.0.0.1:")
        assert printed["ZAZA_BASE_URL"].endswith("/api/v1")
        response = LOOPBACK.get(
            printed["ZAZA_BASE_URL"] + "/calls",
            headers={"Authorization": f"Bearer {printed['ZAZA_API_KEY']}"},
        )
        assert response.json()["totalElements"] == 20
        sandbox.interrupt()
        code, _, err = sandbox.finish(10)
    assert code == 0, err
    assert "sandbox stopped" in err and "Traceback" not in err


def test_cli_port_in_use_is_a_usage_error(sandbox: Sandbox) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAZA_")}
    done = subprocess.run(
        [sys.executable, "-m", "zazacli", "sandbox", "--port", str(sandbox.port)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        env=env,
    )
    assert done.returncode == 2
    assert f"port {sandbox.port} is in use" in done.stderr and "--port 0" in done.stderr
