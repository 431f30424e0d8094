"""The tests' own fault server (conftest.py): declared routes answer as declared, every
request is recorded, and what was not declared, or declared and never used, is caught."""

from __future__ import annotations

import httpx
import pytest
from conftest import DROP, FaultServer, Reply, Request, loopback_client, send


@pytest.fixture
def client() -> httpx.Client:
    return loopback_client(timeout=5)


def test_a_route_answers_its_method_and_path_and_the_request_is_recorded(
    fault_server: FaultServer, client: httpx.Client
) -> None:
    route = fault_server.route("GET", "/api/v1/agents", 201, [{"id": 1}], headers={"X-A": "b"})
    response = client.get(f"{fault_server.url}/agents?page=2", headers={"X-Test": "1"})
    assert (response.status_code, response.json()) == (201, [{"id": 1}])
    assert response.headers["X-A"] == "b" and response.headers["Content-Type"] == "application/json"
    [request] = fault_server.requests
    assert request["method"] == "GET" and request["path"] == "/api/v1/agents?page=2"
    assert request["headers"]["X-Test"] == "1" and request["body"] == b""
    assert request.query == {"page": "2"} and request.route_path == "/api/v1/agents"
    assert route.requests == [request]


def test_responses_come_in_turn_and_the_last_repeats(
    fault_server: FaultServer, client: httpx.Client
) -> None:
    fault_server.route("POST", "/api/v1/calls/*", responses=[Reply(503, ""), Reply(201, {"n": 2})])
    statuses = [client.post(f"{fault_server.url}/calls/{n}", json={"n": n}) for n in range(3)]
    assert [r.status_code for r in statuses] == [503, 201, 201]
    assert [r.json() for r in fault_server.requests] == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_an_answer_is_computed_from_the_request(
    fault_server: FaultServer, client: httpx.Client
) -> None:
    def answer(request: Request) -> Reply:
        return Reply(200, {"page": int(request.query["page"])})

    fault_server.route("GET", "/api/v1/calls", answer=answer)
    assert client.get(f"{fault_server.url}/calls", params={"page": 3}).json() == {"page": 3}


def test_the_newest_route_wins(fault_server: FaultServer, client: httpx.Client) -> None:
    fault_server.route("GET", "/api/v1/agents", 200, "old", content_type="text/plain")
    assert client.get(f"{fault_server.url}/agents").text == "old"
    fault_server.route("GET", "/api/v1/agents", 200, "new", content_type="text/plain")
    assert client.get(f"{fault_server.url}/agents").text == "new"


def test_a_dropped_connection_sends_no_answer(
    fault_server: FaultServer, client: httpx.Client
) -> None:
    fault_server.route("POST", "/api/v1/calls/outbound", responses=[DROP])
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(f"{fault_server.url}/calls/outbound", json={})
    assert len(fault_server.requests) == 1


def test_what_was_not_declared_or_not_used_fails_the_test(
    fault_server: FaultServer, client: httpx.Client
) -> None:
    fault_server.route("GET", "/api/v1/agents", 200, [])
    fault_server.route("GET", "/api/v1/campaigns", 200, [], optional=True)
    response = client.post(f"{fault_server.url}/calls?x=1", json={})
    assert response.status_code == 404
    assert response.json()["message"] == "fault server: no route for POST /api/v1/calls"
    assert fault_server.verify() == [
        "no route for POST /api/v1/calls?x=1",
        "route GET /api/v1/agents was never used",
    ]
    fault_server.routes.clear()  # what the teardown would fail on, now seen here
    fault_server.unmatched.clear()


def test_a_request_with_no_route_at_all_is_caught_too(
    fault_server: FaultServer, client: httpx.Client
) -> None:
    assert client.get(f"{fault_server.url}/agents").status_code == 404
    assert fault_server.verify() == ["no route for GET /api/v1/agents"]
    fault_server.unmatched.clear()


def test_a_hand_written_handler_answers_what_no_route_matched(
    fault_server: FaultServer, client: httpx.Client
) -> None:
    fault_server.route("GET", "/api/v1/agents", 200, [])
    fault_server.set_handler(lambda h: send(h, 418, "teapot", "text/plain"))
    assert client.get(f"{fault_server.url}/agents").status_code == 200
    assert client.get(f"{fault_server.url}/other").status_code == 418
    assert fault_server.verify() == []


def test_an_answer_that_raises_is_a_500_and_fails_the_test(
    fault_server: FaultServer, client: httpx.Client
) -> None:
    fault_server.route("GET", "/api/v1/calls", answer=lambda r: Reply(200, r.query["page"]))
    assert client.get(f"{fault_server.url}/calls").status_code == 500
    assert fault_server.verify() == ["an answer raised on GET /api/v1/calls: KeyError('page')"]
    fault_server.errors.clear()
