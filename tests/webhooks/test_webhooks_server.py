"""The HTTP/1.1 server core under `webhooks listen` and the sandbox (zazacli.webhooks.server,
zazacli.webhooks.wire), driven over loopback with raw sockets: parsing, pipelining, bodies,
deadlines, the connection cap, work on worker threads; and the listener's saved line.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from zazacli.sanitize import json_safe
from zazacli.webhooks.classify import Classified, classify
from zazacli.webhooks.delivery import webhook_headers
from zazacli.webhooks.listener import WebhookListener
from zazacli.webhooks.model import ListenerConfig
from zazacli.webhooks.samples import encode_body, event_body, sample_data
from zazacli.webhooks.server import Limits, Server
from zazacli.webhooks.wire import (
    CHUNKED,
    Answer,
    Headers,
    Later,
    Problem,
    Request,
    answer,
    parse_head,
)

SECRET = "whsec_core_0123456789"


class Echo:
    """An App that answers every request with what it saw, as JSON."""

    def __init__(self, slow_path: str = "/slow", slow: float = 0.0) -> None:
        self.slow_path, self.slow = slow_path, slow
        self.timeouts: list[tuple[str | None, bool]] = []
        self.cut: list[str] = []
        self.refusals = 0

    def body_size(self, request: Request) -> int | Answer:
        if request.path == "/refuse":
            return answer(403, b"no", close=False)
        if "chunked" in (request.headers.get("Transfer-Encoding") or ""):
            return CHUNKED
        return int(request.headers.get("Content-Length") or 0)

    def handle(self, request: Request) -> Answer | Later:
        if request.path == "/boom":
            raise RuntimeError("boom")
        if request.path == self.slow_path:
            return Later(lambda: (time.sleep(self.slow), self._echo(request))[1])
        return self._echo(request)

    def _echo(self, request: Request) -> Answer:
        seen = {"method": request.method, "target": request.target, "body": request.body.decode()}
        seen["headers"] = request.headers.items()
        return answer(200, json.dumps(seen).encode(), head=request.method == "HEAD")

    def failed(self, request: Request, error: Exception) -> Answer:
        return answer(500, str(error).encode(), close=True)

    def malformed(self, problem: Problem, request: Request | None) -> Answer:
        return answer(problem.status, problem.message.encode(), close=True)

    def timed_out(self, request: Request | None, late: bool, client: str) -> Answer | None:
        self.timeouts.append((request.target if request else None, late))
        return answer(408, b"late", close=True) if late else None

    def cut_short(self, request: Request) -> None:
        self.cut.append(request.target)

    def refused(self, client: str) -> bytes:
        self.refusals += 1
        return b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"


@contextmanager
def serving(app: Echo, **limits: Any) -> Iterator[tuple[Server, int]]:
    server = Server(app, ("127.0.0.1", 0), Limits(**{"idle": 5.0, **limits}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def read_answers(sock: socket.socket, count: int) -> list[tuple[int, bytes]]:
    """`count` answers (status, body) from a keep-alive socket."""
    buffer, answers = b"", []
    while len(answers) < count:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                return answers
            buffer += chunk
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status == 100:
            continue
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(buffer) < length:
            buffer += sock.recv(65536)
        answers.append((status, buffer[:length]))
        buffer = buffer[length:]
    return answers


def until_closed(sock: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


# ---------------------------------------------------------------- parsing the head


def test_parse_head_reads_fields_as_email_did() -> None:
    head = b"POST //a/b?x=1 HTTP/1.1\r\nHost: x\r\nX-A:  one \r\nx-a: two\r\nConnection: Close"
    request = parse_head(head, "127.0.0.1")
    assert isinstance(request, Request)
    assert (request.method, request.target, request.path, request.query) == (
        "POST",
        "/a/b?x=1",
        "/a/b",
        "x=1",
    )
    assert request.headers.get("X-A") == "one " and request.headers.get_all("X-a") == [
        "one ",
        "two",
    ]
    assert request.headers.get("missing") is None and "HOST" in request.headers
    assert request.close and not request.expect
    old = parse_head(b"GET / HTTP/1.0\r\nConnection: keep-alive", "x")
    assert isinstance(old, Request) and not old.close
    lf = parse_head(b"GET / HTTP/1.1\nHost: x\nExpect: 100-Continue", "x")
    assert isinstance(lf, Request) and lf.headers.get("host") == "x" and lf.expect


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"GARBAGE", 400),
        (b"GET / HTTP/9.9", 505),
        (b"GET / HTTP/2.0", 505),
        (b"GET / junk", 400),
        (b"GET / HTTP/1.x", 400),
        (b"GET /a b HTTP/1.1", 400),
        (b"GET / HTTP/1.1\r\nNo colon here", 400),
        (b"GET / HTTP/1.1\r\nX-A: 1\r\n folded", 400),
        (b"GET / HTTP/1.1\r\nX-A : 1", 400),
        (b"GET / HTTP/1.1\r\nX A: 1", 400),
        (b"GET / HTTP/1.1\r\n: empty name", 400),
        (b"GET / HTTP/1.1\r\nX-A: a\rX-B: b", 400),
        (b"GET / HTTP/1.1\r\n" + b"X-A: 1\r\n" * 101 + b"X-B: 2", 431),
    ],
)
def test_parse_head_refuses_what_is_not_http_1(head: bytes, status: int) -> None:
    problem = parse_head(head, "x")
    assert isinstance(problem, Problem) and problem.status == status, problem


def test_headers_behave_like_a_message() -> None:
    headers = Headers([("Content-Type", "a"), ("content-type", "b")])
    assert headers.get("CONTENT-TYPE") == "a" and len(headers) == 2
    assert headers.items() == [("Content-Type", "a"), ("content-type", "b")]


# ---------------------------------------------------------------- requests over a socket


def test_pipelined_requests_are_answered_in_order_on_one_connection() -> None:
    with serving(Echo()) as (_, port), connect(port) as sock:
        requests = b"".join(
            f"POST /n{i} HTTP/1.1\r\nContent-Length: {len(str(i))}\r\n\r\n{i}".encode()
            for i in range(20)
        )
        sock.sendall(b"\r\n" + requests)  # a blank line first is skipped
        answers = read_answers(sock, 20)
    assert [json.loads(body)["target"] for _, body in answers] == [f"/n{i}" for i in range(20)]
    assert [json.loads(body)["body"] for _, body in answers] == [str(i) for i in range(20)]


def test_bodies_in_pieces_chunked_and_head_answers() -> None:
    with serving(Echo(), max_chunked=20) as (_, port):
        with connect(port) as sock:
            sock.sendall(b"POST /a HTTP/1.1\r\nContent-Len")
            time.sleep(0.05)
            sock.sendall(b"gth: 10\r\n\r\n01234")
            time.sleep(0.05)
            sock.sendall(b"56789")
            sock.sendall(
                b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"3;ext=1\r\nabc\r\n2\r\n\r\n\r\n0\r\nTrailer: x\r\n\r\n"
            )
            (first, body), (_, chunked) = read_answers(sock, 2)
            assert first == 200 and json.loads(body)["body"] == "0123456789"
            assert json.loads(chunked)["body"] == "abc\r\n"
        with connect(port) as sock:
            sock.sendall(b"HEAD /h HTTP/1.1\r\nConnection: close\r\n\r\n")
            head = until_closed(sock)
            assert head.startswith(b"HTTP/1.1 200 ") and head.endswith(b"\r\n\r\n")
        with connect(port) as sock:
            sock.sendall(b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
            assert until_closed(sock).startswith(b"HTTP/1.1 400 ")
        with connect(port) as sock:
            sock.sendall(b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n15\r\n")
            answer_ = until_closed(sock)
            assert answer_.startswith(b"HTTP/1.1 413 ") and b"over the 20 bytes limit" in answer_


def test_expect_100_continue_only_for_a_body_that_will_be_read() -> None:
    with serving(Echo()) as (_, port):
        with connect(port) as sock:
            sock.sendall(b"POST /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
            assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
            sock.sendall(b"ok")
            assert json.loads(read_answers(sock, 1)[0][1])["body"] == "ok"
        with connect(port) as sock:
            sock.sendall(
                b"POST /refuse HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
            )
            answer_ = until_closed(sock)  # refused unread: no 100, and closed after
            assert answer_.startswith(b"HTTP/1.1 403 ")


def test_a_half_closed_client_still_gets_its_answers() -> None:
    with serving(Echo(slow=0.1)) as (_, port), connect(port) as sock:
        sock.sendall(b"GET /a HTTP/1.1\r\n\r\nGET /slow HTTP/1.1\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        data = until_closed(sock)
    assert data.count(b"HTTP/1.1 200 OK") == 2 and b'"/slow"' in data


def test_errors_and_malformed_heads_close_the_connection_and_serving_goes_on() -> None:
    with serving(Echo()) as (_, port):
        for request, status in [
            (b"GET /boom HTTP/1.1\r\n\r\n", 500),
            (b"GET / HTTP/3.0\r\n\r\n", 505),
            (b"GET /" + b"a" * 70_000, 414),
            (b"GET / HTTP/1.1\r\nX: " + b"a" * 70_000, 431),
        ]:
            with connect(port) as sock:
                sock.sendall(request)
                assert until_closed(sock).startswith(b"HTTP/1.1 %d " % status), status
        with connect(port) as sock:
            sock.sendall(b"GET /fine HTTP/1.1\r\n\r\n")
            assert read_answers(sock, 1)[0][0] == 200


def test_work_on_a_worker_thread_holds_up_no_other_connection() -> None:
    with serving(Echo(slow=0.5)) as (_, port), connect(port) as slow, connect(port) as fast:
        slow.sendall(b"GET /slow HTTP/1.1\r\n\r\n")
        time.sleep(0.05)
        started = time.monotonic()
        fast.sendall(b"GET /fast HTTP/1.1\r\n\r\n")
        assert read_answers(fast, 1)[0][0] == 200
        assert time.monotonic() - started < 0.3
        assert read_answers(slow, 1)[0][0] == 200


def test_many_connections_with_worker_threads_all_get_their_answers() -> None:
    """Every answer made on a worker thread reaches the server's thread (no lost wake-up)."""
    per, senders = 200, 16
    with serving(Echo(slow=0.0)) as (_, port):

        def send(results: list[int]) -> None:
            with connect(port) as sock:
                for number in range(per):
                    sock.sendall(f"GET /slow?{number} HTTP/1.1\r\n\r\n".encode())
                    results.append(read_answers(sock, 1)[0][0])

        results: list[list[int]] = [[] for _ in range(senders)]
        threads = [threading.Thread(target=send, args=(r,)) for r in results]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert [len(r) for r in results] == [per] * senders
    assert {status for r in results for status in r} == {200}


def test_deadlines_idle_timeouts_and_cut_short_bodies_are_told_to_the_app() -> None:
    app = Echo()
    with serving(app, idle=0.3, deadline=0.6) as (_, port):
        with connect(port) as idle:
            assert until_closed(idle) == b""  # idle before its first request: silent
        with connect(port) as drip:
            for byte in b"GET /x HTTP/1.1\r\n" * 2:  # never idle, never done
                try:
                    drip.send(bytes([byte]))
                except OSError:
                    break  # cut off
                time.sleep(0.05)
            assert until_closed(drip).startswith(b"HTTP/1.1 408 ")
        with connect(port) as body:
            body.sendall(b"POST /b HTTP/1.1\r\nContent-Length: 10\r\n\r\n12")
            assert until_closed(body) == b""  # idle mid-body: the app said nothing
        with connect(port) as cut:
            cut.sendall(b"POST /cut HTTP/1.1\r\nContent-Length: 10\r\n\r\n12")
        time.sleep(0.2)
    assert app.timeouts == [(None, False), (None, True), ("/b", False)]
    assert app.cut == ["/cut"]


def test_the_connection_cap_refuses_at_once_and_counts_open_connections() -> None:
    app = Echo()
    with serving(app, max_connections=2) as (server, port):
        kept = [connect(port), connect(port)]
        time.sleep(0.1)
        assert server._active == 2
        with connect(port) as third:
            assert third.recv(100).startswith(b"HTTP/1.1 503 ")
        for sock in kept:
            sock.close()
        time.sleep(0.1)
        assert server._active == 0 and app.refusals == 1


def test_a_big_answer_reaches_a_slow_reader_whole() -> None:
    big = b"x" * (16 * 1024 * 1024)  # more than the socket buffers hold: sent in parts

    class Big(Echo):
        def handle(self, request: Request) -> Answer | Later:
            return answer(200, big)

    with serving(Big()) as (_, port), connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n")
        time.sleep(0.3)  # not read meanwhile: the server's socket fills
        answers = read_answers(sock, 2)
    assert [(status, len(body)) for status, body in answers] == [(200, len(big))] * 2


# ---------------------------------------------------------------- the listener on the core


def _signed(number: int) -> bytes:
    raw = encode_body(event_body("call.completed", {**sample_data("call.completed"), "id": number}))
    headers = webhook_headers(raw, "call.completed", secret=SECRET)
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"POST /webhooks HTTP/1.1\r\nContent-Length: {len(raw)}\r\n{lines}\r\n".encode() + raw


@pytest.mark.parametrize("hook", [False, True])
def test_sixteen_senders_every_event_saved_and_acknowledged_exactly_once(
    tmp_path: Path, hook: bool
) -> None:
    save = tmp_path / "events.jsonl"
    seen: list[int] = []
    before_ack: Callable[[str, dict[str, Any]], str | None] | None = None
    if hook:

        def before_ack(signature: str, body: dict[str, Any]) -> str | None:
            seen.append(body["data"]["id"])
            return None

    listener = WebhookListener(
        ListenerConfig(port=0, secret=SECRET, save_path=save),
        on_notice=lambda notice: None,
        before_ack=before_ack,
    ).start()
    per, senders = 100, 16
    acked: list[int] = []
    try:

        def send(first: int) -> None:
            with connect(listener.port) as sock:
                for number in range(first, first + per):
                    sock.sendall(_signed(number))
                    if read_answers(sock, 1)[0][0] == 200:
                        acked.append(number)

        threads = [threading.Thread(target=send, args=(i * per,)) for i in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        stats = listener.close()
    ids = [json.loads(line)["body"]["data"]["id"] for line in save.read_text().splitlines()]
    assert sorted(ids) == sorted(acked) == list(range(per * senders))
    assert stats.received == stats.valid == per * senders
    assert sorted(seen) == (list(range(per * senders)) if hook else [])


@pytest.mark.parametrize(
    "raw",
    [
        encode_body(event_body("call.completed", sample_data("call.completed"))),
        json.dumps(
            {"event": "sms.received", "data": {"body": "à 10h 👋\u202e\x85"}}, indent=2
        ).encode(),
        b'{"a":"\\ud800","b":"\\n\\t","c":[1,2.5,-0,true,null],"a":2}',
        '{"x": "\u2028 \u061c", "y": {"z": []}}\t'.encode(),
    ],
    # Named, not shown: the first body holds the time it was made, and pytest-xdist's
    # workers must collect the same test ids.
    ids=["call-completed", "pretty-printed", "lone-surrogate-duplicate-key", "separators-tab"],
)
def test_the_saved_line_is_the_record_as_json_dumps_writes_it(raw: bytes) -> None:
    headers = Headers([("Content-Type", "application/json"), ("X-ZazaVoice-Event", "call.\xe9")])
    verdict = classify(raw, headers, SECRET)
    assert isinstance(verdict, Classified)
    record, line = verdict.saved("2026-12-03T10:00:00.000Z")
    before = json_safe(json.dumps(record, ensure_ascii=False))
    assert json.loads(line) == json.loads(before) and line == json_safe(line)
    if b"\n" in raw or b"\t" in raw:
        assert line == before  # a body of several lines is re-encoded, byte for byte as before
    assert "\n" not in line and json.loads(line)["raw"].encode() == raw
