"""The sandbox's HTTP plumbing: its answers on the server core, and a running Sandbox.

The API itself (routes, auth, quirks) is `SandboxApp` in `app.py`; the HTTP/1.1 server is
the one `zaza webhooks listen` rides on (`zazacli.webhooks.server`: one selector thread,
the head parsed once). This module only turns requests into `SandboxApp.handle` calls and
its `Response`s into bytes. A request that sleeps on purpose (`latency_ms`,
`slow_dispatch`) is answered from a worker thread, so it holds up no other client.
"""

from __future__ import annotations

import threading
import time
from email.message import Message

from zazacli import __version__
from zazacli.api.values import SANDBOX_HEADER
from zazacli.sandbox.app import API_PREFIX, SandboxApp, SandboxConfig
from zazacli.sandbox.responses import DROP, Response, error_response, reason_phrase
from zazacli.webhooks.server import Limits, Server
from zazacli.webhooks.wire import CHUNKED, Answer, Headers, Later, Problem, Request
from zazacli.webhooks.wire import DROP as DROP_CONNECTION

MAX_BODY = 1024 * 1024
IDLE_TIMEOUT = 30.0  # idle or slow clients must not hold a connection forever
WORKERS = 64
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"})
SERVER_VERSION = f"ZazaVoiceSandbox/{__version__}"


def _message(headers: Headers) -> Message:
    """The headers as `SandboxApp.handle` reads them (as `http.server` handed them over)."""
    message = Message()
    for name, value in headers.items():
        message[name] = value
    return message


class _SandboxHTTP:
    """What the server core asks (`zazacli.webhooks.server.App`), answered for a SandboxApp."""

    def __init__(self, app: SandboxApp) -> None:
        self.app = app

    def body_size(self, request: Request) -> int | Answer:
        if request.method not in METHODS:
            return self.malformed(Problem(501, f"Unsupported method ({request.method!r})"), request)
        headers = request.headers
        if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
            return CHUNKED
        raw = headers.get("Content-Length")
        if raw is None:
            return 0
        path = request.path
        try:
            length = int(raw)
            if length < 0:
                raise ValueError
        except ValueError:
            response = error_response(400, f"Invalid Content-Length {raw!r}", path, close=True)
            return self._answer(request, response, time.perf_counter())
        if length > MAX_BODY:
            # Unread bytes would be taken for the next request, so the connection ends here.
            message = f"Request body of {length} bytes is over the 1 MiB limit"
            response = error_response(413, message, path, close=True)
            return self._answer(request, response, time.perf_counter())
        return length

    def handle(self, request: Request) -> Answer | Later:
        config = self.app.config
        if config.latency_ms or (config.slow_dispatch and request.method == "POST"):
            return Later(lambda: self._respond(request))
        return self._respond(request)

    def _respond(self, request: Request) -> Answer:
        app = self.app
        started = time.perf_counter()
        path = request.path
        try:
            headers = _message(request.headers)
            response = app.handle(request.method, path, request.query, headers, request.body)
        except Exception as exc:
            app.log(f"sandbox: internal error on {request.method} {path}: {exc!r}")
            response = error_response(500, "Internal sandbox error", path, close=True)
        if response is DROP:
            # Close without a byte of answer: the client sees the connection drop.
            app.log(f"{request.method} {request.target} dropped without an answer")
            return DROP_CONNECTION
        return self._answer(request, response, started)

    def _answer(self, request: Request, response: Response, started: float) -> Answer:
        answer = self._write(request, response)
        if not self.app.config.quiet:
            elapsed = (time.perf_counter() - started) * 1000
            self.app.log(f"{request.method} {request.target} {response.status} {elapsed:.1f}ms")
        return answer

    def _write(self, request: Request | None, response: Response) -> Answer:
        latency = self.app.config.latency_ms
        if latency:
            time.sleep(latency / 1000)
        lines = [
            f"HTTP/1.1 {response.status} {reason_phrase(response.status)}",
            f"Server: {SERVER_VERSION}",
            f"Date: {self.app.http_date()}",
            "Content-Type: application/json",
            f"Content-Length: {len(response.body)}",
        ]
        if not self.app.quirks.no_sandbox_header:
            lines.append(f"{SANDBOX_HEADER}: zazacli {__version__}")
        lines.extend(f"{name}: {value}" for name, value in response.headers)
        close = response.close or request is None or request.close
        if close:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # One write per response: headers and body leave in the same segment.
        method = request.method if request is not None else ""
        return Answer(head if method == "HEAD" else head + response.body, close)

    def malformed(self, problem: Problem, request: Request | None) -> Answer:
        """Malformed requests get a Spring-style body too, then the connection is closed."""
        path = request.path if request is not None else ""
        response = error_response(problem.status, problem.message, path, close=True)
        method = request.method if request is not None else "-"
        self.app.log(f"{method} {path or '-'} {problem.status} (malformed request)")
        return self._write(None, response)

    def failed(self, request: Request, error: Exception) -> Answer:
        self.app.log(f"sandbox: error serving {request.client}: {error!r}")
        return self._write(None, error_response(500, "Internal sandbox error", request.path))

    def timed_out(self, request: Request | None, late: bool, client: str) -> Answer | None:
        if request is None:  # as http.server said it
            self.app.log("Request timed out: TimeoutError('timed out')")
        return None

    def cut_short(self, request: Request) -> None:
        pass  # clients that hang up are routine

    def refused(self, client: str) -> bytes:
        return b""  # no cap on connections


class Sandbox:
    """A running sandbox; close() (or `with`) stops the server, its connections and timers."""

    def __init__(
        self,
        config: SandboxConfig,
        server: Server,
        app: SandboxApp,
        thread: threading.Thread,
    ) -> None:
        self.config = config
        self.app = app
        self._server = server
        self._thread = thread
        self._closed = threading.Event()
        self._close_lock = threading.Lock()
        self.host = config.host
        self.port = int(server.server_address[1])
        shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(config.host, config.host)
        if ":" in shown:
            shown = f"[{shown}]"
        self.base_url = f"http://{shown}:{self.port}{API_PREFIX}"
        self.api_key = config.api_key

    def close(self) -> None:
        with self._close_lock:
            if self._closed.is_set():
                return
            # Wakes the server's thread at once; every keep-alive connection is closed.
            self._server.shutdown()
            self._server.server_close()
            self.app.close()
            self._thread.join(timeout=2.0)
            self._closed.set()

    def serve_forever(self) -> None:
        """Block until Ctrl-C (or close() from another thread), then stop cleanly."""
        try:
            while not self._closed.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def start_sandbox(config: SandboxConfig | None = None) -> Sandbox:
    """Generate the data, bind the port and serve from a daemon thread; returns at once.

    Raises OSError when the address cannot be bound (errno EADDRINUSE: port in use).
    """
    config = config or SandboxConfig()
    app = SandboxApp(config)
    limits = Limits(idle=IDLE_TIMEOUT, max_chunked=MAX_BODY, workers=WORKERS)
    try:
        server = Server(_SandboxHTTP(app), (config.host, config.port), limits)
    except BaseException:
        app.close()
        raise
    thread = threading.Thread(
        target=server.serve_forever, name=f"sandbox-{server.server_address[1]}", daemon=True
    )
    thread.start()
    return Sandbox(config, server, app, thread)
