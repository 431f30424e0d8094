"""The listener's HTTP plumbing: connection limits, request deadlines, the handler.

Every sender is presumed hostile: a request must arrive whole within `request_deadline`,
and at most `max_connections` are served at once (more are refused without a thread).
What a request means is the listener's business; this module only hands it over.
"""

from __future__ import annotations

import io
import json
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from zazacli.webhooks.model import ListenerConfig, Notice

# Over-the-cap refusals are reported at most this often (a flood must not flood stderr).
REFUSAL_REPORT_INTERVAL = 5.0


class Host(Protocol):
    """What the server needs of the listener behind it (listener.py's WebhookListener)."""

    config: ListenerConfig

    def count_refusal(self) -> int: ...

    def report(self, notice: Notice) -> None: ...

    def handle_post(self, handler: BaseHTTPRequestHandler) -> None: ...

    def handle_other(self, handler: BaseHTTPRequestHandler) -> None: ...

    def deadline_passed(self, handler: BaseHTTPRequestHandler) -> None: ...


class DeadlineReader(io.RawIOBase):
    """A connection's bytes, with two limits: `idle` seconds without a byte, and a deadline
    `limit` seconds after a request's first byte by which it must be complete (`expired`
    says that one struck). The handler resets `deadline` to None between requests."""

    def __init__(self, sock: socket.socket, idle: float, limit: float) -> None:
        self._sock = sock
        self._idle = idle
        self._limit = limit
        self.deadline: float | None = None  # None: between requests, only `idle` applies
        self.expired = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        timeout = self._idle
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self.expired = True
                raise TimeoutError("request deadline passed")
            timeout = min(timeout, remaining)
        self._sock.settimeout(timeout)
        try:
            count = self._sock.recv_into(buffer)
        except TimeoutError:
            self.expired = self.deadline is not None and time.monotonic() >= self.deadline
            raise
        if self.deadline is None and count:
            self.deadline = time.monotonic() + self._limit  # a new request has begun
        return count


OVER_CAPACITY = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n"
    b"Content-Length: 0\r\n\r\n"
)
DEADLINE_PASSED = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # close() must not wait for a stalled sender's deadline; a late request finds the
    # listener closed (503), and nothing is written after the save file is closed.
    block_on_close = False
    # 16+ concurrent senders connecting at once must not see refused connections.
    request_queue_size = 256

    def __init__(self, listener: Host, address: tuple[str, int]) -> None:
        self.listener = listener
        self._active = 0
        self._active_lock = threading.Lock()
        self._last_refusal_report = 0.0
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._active_lock:
            full = self._active >= self.listener.config.max_connections
            if not full:
                self._active += 1
        if full:
            self._refuse(request, client_address)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            with self._active_lock:
                self._active -= 1
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._active_lock:
                self._active -= 1

    def _refuse(self, request: Any, client_address: Any) -> None:
        """Over the cap: a 503 if the socket takes it at once, then close; no thread, no wait."""
        try:
            request.setblocking(False)
            request.send(OVER_CAPACITY)
        except OSError:
            pass
        self.shutdown_request(request)
        count = self.listener.count_refusal()
        now = time.monotonic()
        if count == 1 or now - self._last_refusal_report >= REFUSAL_REPORT_INTERVAL:
            self._last_refusal_report = now
            cap = self.listener.config.max_connections
            self.listener.report(
                Notice(
                    f"over {cap} connections at once: refused ({count} so far)",
                    503,
                    client=str(client_address[0]),
                )
            )

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can stall start-up.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A connection that broke in an unexpected way: one line, never a traceback.
        error = sys.exc_info()[1]
        self.listener.report(Notice(f"connection error: {type(error).__name__}: {error}"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    # Buffer so status line, headers and body leave in one send; flushed per request.
    wbufsize = 64 * 1024
    server_version = "zaza-webhooks-listen"
    sys_version = ""
    server: Server

    def setup(self) -> None:
        super().setup()
        config = self.server.listener.config
        self.connection.settimeout(config.client_timeout)
        self.reader = DeadlineReader(
            self.connection, config.client_timeout, config.request_deadline
        )
        # The first request is due `request_deadline` after the connection opened.
        self.reader.deadline = time.monotonic() + config.request_deadline
        self.rfile = io.BufferedReader(self.reader, 64 * 1024)

    def handle_one_request(self) -> None:
        super().handle_one_request()  # a TimeoutError there closes the connection
        reader = self.reader
        if reader.expired:
            reader.expired = False
            self.close_connection = True
            self.server.listener.deadline_passed(self)
        # Between requests only the idle timeout runs; the next one's first byte starts its clock.
        reader.deadline = None

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the listener reports what matters through its callbacks

    def handle_expect_100(self) -> bool:
        # curl sends `Expect: 100-continue` for bodies over 1 KiB. The interim answer must
        # leave now (our writes are buffered), unless the body will be refused unread anyway.
        length = self.headers.get("Content-Length", "").strip()
        too_big = (
            length.isascii()
            and length.isdigit()
            and int(length) > self.server.listener.config.max_body
        )
        if too_big:
            return True
        self.send_response_only(100)
        self.end_headers()
        self.wfile.flush()
        return True

    def do_POST(self) -> None:
        listener = self.server.listener
        try:
            listener.handle_post(self)
        except (TimeoutError, ConnectionError):
            self.close_connection = True  # the client went away; nothing to answer
        except Exception as exc:  # one bad request must never stop the listener
            self.close_connection = True
            listener.report(Notice(f"internal error: {type(exc).__name__}: {exc}", 500))
            try:
                respond(self, 500, {"error": "internal error"}, close=True)
            except OSError:
                pass

    def do_other(self) -> None:
        self.server.listener.handle_other(self)

    do_GET = do_HEAD = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_other


def respond(
    handler: BaseHTTPRequestHandler,
    status: int,
    payload: dict[str, Any],
    *,
    close: bool = False,
    headers: dict[str, str] | None = None,
) -> None:
    data = json.dumps(payload).encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    if close:
        handler.send_header("Connection", "close")  # also sets close_connection
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(data)
