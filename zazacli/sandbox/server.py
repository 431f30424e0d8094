"""The sandbox's HTTP plumbing: the request handler, the threaded server, a running Sandbox.

The API itself (routes, auth, quirks) is `SandboxApp` in `app.py`; this module only moves
bytes between it and the socket.
"""

from __future__ import annotations

import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from zazacli import __version__
from zazacli.api.values import SANDBOX_HEADER
from zazacli.sandbox.app import API_PREFIX, SandboxApp, SandboxConfig
from zazacli.sandbox.responses import DROP, Response, error_response, reason_phrase

MAX_BODY = 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Otherwise a keep-alive response can wait ~40 ms on Nagle + the client's delayed ACK.
    disable_nagle_algorithm = True
    timeout = 30.0  # idle or slow clients must not hold a thread forever
    server_version = f"ZazaVoiceSandbox/{__version__}"
    server: _SandboxHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def _handle(self) -> None:
        app = self.server.app
        started = time.perf_counter()
        path = self.path.partition("?")[0]
        try:
            read = self._read_body(path)
            if isinstance(read, Response):
                response = read
            else:
                response = app.handle(
                    self.command, path, self.path.partition("?")[2], self.headers, read
                )
        except (ConnectionError, TimeoutError):
            raise
        except Exception as exc:
            app.log(f"sandbox: internal error on {self.command} {path}: {exc!r}")
            response = error_response(500, "Internal sandbox error", path, close=True)
        if response is DROP:
            # Close without a byte of answer: the client sees the connection drop.
            self.close_connection = True
            app.log(f"{self.command} {self.path} dropped without an answer")
            return
        self._write(response)
        if not app.config.quiet:
            elapsed = (time.perf_counter() - started) * 1000
            app.log(f"{self.command} {self.path} {response.status} {elapsed:.1f}ms")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

    def _read_body(self, path: str) -> bytes | Response:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked(path)
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw)
            if length < 0:
                raise ValueError
        except ValueError:
            return error_response(400, f"Invalid Content-Length {raw!r}", path, close=True)
        if length > MAX_BODY:
            # Unread bytes would be taken for the next request, so the connection ends here.
            return error_response(
                413, f"Request body of {length} bytes is over the 1 MiB limit", path, close=True
            )
        return self.rfile.read(length) if length else b""

    def _read_chunked(self, path: str) -> bytes | Response:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
                if size < 0:
                    raise ValueError
            except ValueError:
                return error_response(400, "Malformed chunked body", path, close=True)
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                return error_response(413, "Request body is over the 1 MiB limit", path, close=True)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)

    def _write(self, response: Response) -> None:
        latency = self.server.app.config.latency_ms
        if latency:
            time.sleep(latency / 1000)
        lines = [
            f"HTTP/1.1 {response.status} {reason_phrase(response.status)}",
            f"Server: {self.server_version}",
            f"Date: {self.server.app.http_date()}",
            "Content-Type: application/json",
            f"Content-Length: {len(response.body)}",
        ]
        if not self.server.app.quirks.no_sandbox_header:
            lines.append(f"{SANDBOX_HEADER}: zazacli {__version__}")
        lines.extend(f"{name}: {value}" for name, value in response.headers)
        if response.close or self.close_connection:
            lines.append("Connection: close")
            self.close_connection = True
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # One write per response: headers and body leave in the same segment.
        self.wfile.write(head if self.command == "HEAD" else head + response.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests get a Spring-style body too, then the connection is closed."""
        path = (getattr(self, "path", "") or "").partition("?")[0]
        self.close_connection = True
        try:
            self._write(error_response(code, message or reason_phrase(code), path, close=True))
        except OSError:
            pass
        self.server.app.log(f"{self.command or '-'} {path or '-'} {code} (malformed request)")

    def handle_expect_100(self) -> bool:
        raw = self.headers.get("Content-Length") or ""
        if raw.isdigit() and int(raw) > MAX_BODY:
            self.send_error(413, f"Request body of {raw} bytes is over the 1 MiB limit")
            return False
        return super().handle_expect_100()

    def log_message(self, format: str, *args: Any) -> None:
        self.server.app.log(format % args)


class _SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can take seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def drop_connections(self) -> None:
        """End keep-alive connections, so nothing is served after close()."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return  # clients that hang up are routine
        self.app.log(f"sandbox: error serving {client_address}: {error!r}")


class Sandbox:
    """A running sandbox; close() (or `with`) stops the server, its connections and timers."""

    def __init__(
        self,
        config: SandboxConfig,
        server: _SandboxHTTPServer,
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
            self._stop_accept_loop()
            self._server.drop_connections()
            self._server.server_close()
            self.app.close()
            self._thread.join(timeout=2.0)
            self._closed.set()

    def _stop_accept_loop(self) -> None:
        stopper = threading.Thread(target=self._server.shutdown, daemon=True)
        stopper.start()
        # The accept loop only notices shutdown between polls; a connection wakes it at once,
        # which keeps close() (and so every test using a sandbox) fast.
        host = self.base_url.split("//", 1)[1].rsplit(":", 1)[0].strip("[]")
        while stopper.is_alive():
            try:
                socket.create_connection((host, self.port), timeout=0.2).close()
            except OSError:
                pass
            stopper.join(0.02)

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
    try:
        server = _SandboxHTTPServer((config.host, config.port), app)
    except BaseException:
        app.close()
        raise
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name=f"sandbox-{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    return Sandbox(config, server, app, thread)
