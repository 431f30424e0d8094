"""The server behind `zaza webhooks listen`: receive, verify, save, acknowledge; then show, forward.

Every event is appended to the save file and flushed *before* its 2xx goes out, so an
acknowledged event survives `kill -9`. Showing and forwarding happen afterwards on one
worker thread fed by an unbounded queue: a slow or dead app behind `--forward-to` delays
only its own deliveries, never an acknowledgement. No CLI imports: the command passes
callbacks, and tests start a `WebhookListener` on port 0 in-process.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from zazacli.webhooks.delivery import DeliveryResult, post_webhook
from zazacli.webhooks.samples import EVENT_TYPES
from zazacli.webhooks.signing import EVENT_HEADER, SIGNATURE_HEADER, verify_signature

MAX_BODY = 1024 * 1024
# A body timestamp further than this from our clock is flagged: a replay, or a skewed clock.
STALE_AFTER_SECONDS = 300.0
FSYNC_INTERVAL = 1.0

VALID, INVALID, UNCHECKED = "valid", "invalid", "unchecked"


@dataclass(frozen=True)
class ListenerConfig:
    host: str = "127.0.0.1"
    port: int = 4242
    path: str = "/webhooks"
    secret: str | None = None
    # fnmatch patterns (`call.*`); None shows and forwards everything.
    events: tuple[str, ...] | None = None
    forward_to: str | None = None
    forward_timeout: float = 10.0
    save_path: Path | None = None
    # Slow or half-open clients are dropped after this long without a byte.
    client_timeout: float = 10.0
    max_body: int = MAX_BODY

    def __repr__(self) -> str:
        # Keep the secret out of tracebacks and debug prints.
        secret = "***" if self.secret else None
        return f"ListenerConfig(host={self.host!r}, port={self.port}, secret={secret})"


@dataclass
class ReceivedEvent:
    """One accepted POST (valid, invalid or unchecked signature), as saved and shown."""

    index: int
    record: dict[str, Any]  # the saved / `--jsonl` object
    line: str  # `record` serialised once, shared by the save file and stdout
    raw: bytes
    status: int  # what we answered: 200, or 401 for a bad signature

    @property
    def event(self) -> str:
        return str(self.record["event"])

    @property
    def signature(self) -> str:
        return str(self.record["signature"])

    @property
    def headers(self) -> dict[str, str]:
        return dict(self.record["headers"])


@dataclass(frozen=True)
class Notice:
    """A request that was not an event (404, 400, 413 …) or a problem of the listener itself."""

    message: str
    status: int | None = None
    method: str = ""
    path: str = ""
    client: str = ""


@dataclass
class ListenerStats:
    received: int = 0
    valid: int = 0
    invalid: int = 0
    unchecked: int = 0
    filtered_out: int = 0
    forwarded_ok: int = 0
    forwarded_failed: int = 0
    rejected: int = 0

    def copy(self) -> ListenerStats:
        return ListenerStats(**self.__dict__)


EventCallback = Callable[[ReceivedEvent, DeliveryResult | None], None]
NoticeCallback = Callable[[Notice], None]


def _stderr_notice(notice: Notice) -> None:
    sys.stderr.write(notice.message + "\n")


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def timestamp_flags(timestamp: Any, now: datetime | None = None) -> list[str]:
    """`stale-timestamp` (a possible replay), `future-timestamp`, or `no-timestamp`."""
    if not isinstance(timestamp, str):
        return ["no-timestamp"]
    try:
        sent = datetime.fromisoformat(timestamp.strip())
    except ValueError:
        return ["no-timestamp"]
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    age = ((now or datetime.now(UTC)) - sent).total_seconds()
    if age > STALE_AFTER_SECONDS:
        return ["stale-timestamp"]
    if age < -STALE_AFTER_SECONDS:
        return ["future-timestamp"]
    return []


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; accepting them would make the save file invalid JSON.
    raise ValueError(f"{name} is not valid JSON")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # 16+ concurrent senders connecting at once must not see refused connections.
    request_queue_size = 256

    def __init__(self, listener: WebhookListener, address: tuple[str, int]) -> None:
        self.listener = listener
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can stall start-up.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A connection that broke in an unexpected way: one line, never a traceback.
        error = sys.exc_info()[1]
        self.listener.report(Notice(f"connection error: {type(error).__name__}: {error}"))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    # Buffer so status line, headers and body leave in one send; flushed per request.
    wbufsize = 64 * 1024
    server_version = "zaza-webhooks-listen"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.listener.config.client_timeout)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the listener reports what matters through its callbacks

    def handle_expect_100(self) -> bool:
        # curl sends `Expect: 100-continue` for bodies over 1 KiB. The interim answer must
        # leave now (our writes are buffered), unless the body will be refused unread anyway.
        length = self.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.server.listener.config.max_body:
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


class WebhookListener:
    """Start with `start()` (binds, so port 0 picks a free port), stop with `close()`."""

    def __init__(
        self,
        config: ListenerConfig,
        *,
        on_event: EventCallback | None = None,
        on_notice: NoticeCallback | None = None,
    ) -> None:
        self.config = config
        self._on_event = on_event or (lambda event, forward: None)
        self._on_notice = on_notice or _stderr_notice
        self._path = self._normalise(config.path)
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[ReceivedEvent | Notice | None] = queue.SimpleQueue()
        self._stats = ListenerStats()
        self._closed = False
        self._dirty = False
        self._stopping = threading.Event()
        self._save: IO[bytes] | None = None
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------ life cycle

    def start(self) -> WebhookListener:
        """Open the save file and bind; raises OSError (port in use, unwritable file)."""
        if self.config.save_path is not None:
            # Append, never truncate: a restarted listener keeps earlier events. New files are
            # 0600: events carry customers' names and phone numbers.
            fd = os.open(self.config.save_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._save = open(fd, "ab")
        try:
            self._server = _Server(self, (self.config.host, self.config.port))
        except OSError:
            if self._save is not None:
                self._save.close()
            raise
        server = self._server
        # A short poll keeps close() (and Ctrl-C) quick; ten wake-ups a second cost nothing.
        self._spawn(lambda: server.serve_forever(poll_interval=0.1), "webhooks-serve")
        self._spawn(self._work, "webhooks-worker")
        if self._save is not None:
            self._spawn(self._sync_loop, "webhooks-fsync")
        return self

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return int(self._server.server_address[1])

    @property
    def path(self) -> str:
        return self._path

    @property
    def url(self) -> str:
        host = self.config.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}{self._path}"

    def stats(self) -> ListenerStats:
        with self._lock:
            return self._stats.copy()

    def wait(self, poll: float = 0.5) -> None:
        """Block until the server stops (close() from another thread); Ctrl-C interrupts."""
        serve = self._threads[0]
        while serve.is_alive():
            serve.join(poll)

    def close(self, drain_timeout: float = 5.0) -> ListenerStats:
        """Stop accepting, show what is queued (up to `drain_timeout`), fsync and close."""
        if self._server is None or self._closed:
            return self.stats()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            # Kept-alive connections may still post; they now get 503 and nothing is saved.
            self._closed = True
        self._stopping.set()
        self._queue.put(None)
        for thread in self._threads[1:]:
            thread.join(drain_timeout)
        with self._lock:
            if self._save is not None:
                self._save.flush()
                os.fsync(self._save.fileno())
                self._save.close()
        return self.stats()

    def __enter__(self) -> WebhookListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ requests

    @staticmethod
    def _normalise(path: str) -> str:
        return "/" + path.strip().strip("/")

    def _is_our_path(self, handler: BaseHTTPRequestHandler) -> bool:
        return self._normalise(urlsplit(handler.path).path) == self._path

    def _reject(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        message: str,
        *,
        close: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        with self._lock:
            self._stats.rejected += 1
        self.report(
            Notice(message, status, handler.command, handler.path, handler.client_address[0])
        )
        respond(handler, status, {"error": message}, close=close, headers=headers)

    def handle_other(self, handler: BaseHTTPRequestHandler) -> None:
        if not self._is_our_path(handler):
            self._reject(handler, 404, f"not found: events are received on {self._path}")
        else:
            self._reject(
                handler, 405, "method not allowed: POST events here", headers={"Allow": "POST"}
            )

    def handle_post(self, handler: BaseHTTPRequestHandler) -> None:
        if not self._is_our_path(handler):
            # The body is unread, so this connection cannot carry another request.
            self._reject(
                handler, 404, f"not found: events are received on {self._path}", close=True
            )
            return
        length_text = handler.headers.get("Content-Length")
        if length_text is None or handler.headers.get("Transfer-Encoding"):
            self._reject(handler, 411, "Content-Length required", close=True)
            return
        try:
            length = int(length_text)
            if length < 0:
                raise ValueError
        except ValueError:
            self._reject(handler, 400, f"bad Content-Length {length_text!r}", close=True)
            return
        if length > self.config.max_body:
            # Refused from the header alone: the body is never read into memory.
            limit = self.config.max_body
            self._reject(handler, 413, f"body of {length} bytes is over {limit}", close=True)
            return
        try:
            raw = handler.rfile.read(length)
        except TimeoutError:
            self._reject(handler, 408, "timed out reading the body", close=True)
            return
        if len(raw) < length:
            handler.close_connection = True
            with self._lock:
                self._stats.rejected += 1
            self.report(Notice("client closed the connection mid-body", None, "POST", handler.path))
            return
        self._receive(handler, raw)

    def _receive(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        try:
            text = raw.decode("utf-8")
            body = json.loads(text, parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError) as exc:
            self._reject(handler, 400, f"malformed JSON: {exc}")
            return
        if not isinstance(body, dict):
            self._reject(handler, 400, "expected a JSON object {event, data, timestamp}")
            return

        header_event = handler.headers.get(EVENT_HEADER)
        body_event = body.get("event") if isinstance(body.get("event"), str) else None
        event = header_event or body_event or "(none)"
        flags: list[str] = []
        if header_event and body_event and header_event != body_event:
            flags.append("event-mismatch")
        if event not in EVENT_TYPES:
            flags.append("unknown-type")
        flags += timestamp_flags(body.get("timestamp"))

        signature_header = handler.headers.get(SIGNATURE_HEADER)
        if self.config.secret is None:
            signature = UNCHECKED
        elif verify_signature(self.config.secret, raw, signature_header):
            signature = VALID
        else:
            signature = INVALID
            if not signature_header:
                flags.append("no-signature")
        status = 401 if signature == INVALID else 200
        headers = {
            name: value
            for name, value in handler.headers.items()
            if name.lower().startswith("x-zazavoice-") or name.lower() == "content-type"
        }

        with self._lock:
            if self._closed:
                respond(handler, 503, {"error": "listener is stopping"}, close=True)
                return
            record: dict[str, Any] = {
                "received_at": utc_now_iso(),
                "event": event,
                "signature": signature,
            }
            if flags:
                record["flags"] = flags
            record.update(headers=headers, body=body, raw=text)
            line = json.dumps(record, ensure_ascii=False)
            if self._save is not None:
                try:
                    self._save.write(line.encode("utf-8") + b"\n")
                    self._save.flush()  # in the OS before the ack: survives kill -9
                except OSError as exc:
                    # Not saved means not acknowledged: the sender will retry.
                    self.report(Notice(f"cannot save event: {exc}", 500, "POST", handler.path))
                    respond(handler, 500, {"error": "cannot save the event"})
                    return
                self._dirty = True
            self._stats.received += 1
            if signature == VALID:
                self._stats.valid += 1
            elif signature == INVALID:
                self._stats.invalid += 1
            else:
                self._stats.unchecked += 1
            # Queued under the lock, so the worker sees events in the save file's order.
            self._queue.put(ReceivedEvent(self._stats.received, record, line, raw, status))

        if status == 401:
            respond(handler, 401, {"error": "invalid signature"})
        else:
            respond(handler, 200, {"received": True})

    def report(self, notice: Notice) -> None:
        """Hand a notice to the worker, so it prints in order with the events."""
        self._queue.put(notice)

    # ------------------------------------------------------------ worker threads

    def _shown(self, event: ReceivedEvent) -> bool:
        patterns = self.config.events
        return patterns is None or any(fnmatchcase(event.event, p) for p in patterns)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                if isinstance(item, Notice):
                    self._on_notice(item)
                else:
                    self._deliver(item)
            except Exception as exc:  # a printing error must not stop the worker
                try:
                    self._on_notice(Notice(f"cannot show an event: {type(exc).__name__}: {exc}"))
                except Exception:
                    pass

    def _deliver(self, event: ReceivedEvent) -> None:
        if not self._shown(event):
            with self._lock:
                self._stats.filtered_out += 1
            return
        forward = None
        if self.config.forward_to:
            forward = post_webhook(
                self.config.forward_to, event.raw, event.headers, self.config.forward_timeout
            )
            with self._lock:
                if forward.ok:
                    self._stats.forwarded_ok += 1
                else:
                    self._stats.forwarded_failed += 1
        self._on_event(event, forward)

    def _sync_loop(self) -> None:
        while not self._stopping.wait(FSYNC_INTERVAL):
            with self._lock:
                if not self._dirty or self._save is None or self._closed:
                    continue
                self._dirty = False
                fileno = self._save.fileno()
            # Outside the lock: fsync can take milliseconds and must not delay acks.
            try:
                os.fsync(fileno)
            except OSError as exc:
                self.report(Notice(f"cannot fsync the save file: {exc}"))

