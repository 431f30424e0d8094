"""The server behind `zaza webhooks listen`: receive, verify, save, acknowledge; then show, forward.

Every event is appended to the save file as one whole line *before* its 2xx goes out, so
an acknowledged event survives `kill -9`; a write that fails (disk full) is cut back out of
the file, and the sender gets a 5xx and retries. Showing and forwarding happen afterwards on one
worker thread fed by an unbounded queue: a slow or dead app behind `--forward-to` delays
only its own deliveries, never an acknowledgement. No CLI imports: the command passes
callbacks, and tests start a `WebhookListener` on port 0 in-process.

The listener may sit on a public tunnel, so every sender is presumed hostile: a request
must arrive whole within `request_deadline`, at most `max_connections` are served at
once (more are refused at once), and nothing a sender controls is trusted for printing
(the printer makes it terminal-safe).
"""

from __future__ import annotations

import errno
import fcntl
import io
import json
import os
import queue
import socket
import socketserver
import stat
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from zazacli.sanitize import json_safe
from zazacli.webhooks.delivery import DeliveryResult, post_webhook
from zazacli.webhooks.samples import EVENT_TYPES
from zazacli.webhooks.signing import (
    BASE64_KEY,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    signature_form,
)

MAX_BODY = 1024 * 1024
# A body timestamp further than this from our clock is flagged: a replay, or a skewed clock.
STALE_AFTER_SECONDS = 300.0
FSYNC_INTERVAL = 1.0
REQUEST_DEADLINE = 10.0
MAX_CONNECTIONS = 64
# Over-the-cap refusals are reported at most this often (a flood must not flood stderr).
REFUSAL_REPORT_INTERVAL = 5.0

VALID, INVALID, UNCHECKED = "valid", "invalid", "unchecked"
BASE64_FORM_NOTICE = (
    "note: this sender signs with the base64-decoded part after whsec_ as the HMAC key "
    "(the Standard Webhooks form), not the whole secret; both are accepted"
)


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
    # A request (line, headers, body) must arrive whole this long after its first byte
    # (the first one: after the connection opened), so a drip-feeding sender cannot pin a thread.
    request_deadline: float = REQUEST_DEADLINE
    # Connections served at once; more are answered 503 and closed without a thread.
    max_connections: int = MAX_CONNECTIONS
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
    info: bool = False  # news rather than a problem: shown without "warning:"


@dataclass
class ListenerStats:
    received: int = 0
    valid: int = 0
    # Of the valid: signed with the base64-decoded key (Standard Webhooks), not the whole secret.
    base64_key: int = 0
    invalid: int = 0
    unchecked: int = 0
    filtered_out: int = 0
    forwarded_ok: int = 0
    forwarded_failed: int = 0
    rejected: int = 0
    refused: int = 0  # connections closed at once: over max_connections
    timed_out: int = 0  # requests not complete within request_deadline
    save_failures: int = 0  # events answered 5xx because their line could not be written

    def copy(self) -> ListenerStats:
        return ListenerStats(**self.__dict__)


EventCallback = Callable[[ReceivedEvent, DeliveryResult | None], None]
NoticeCallback = Callable[[Notice], None]
BeforeAck = Callable[[str, dict[str, Any]], str | None]


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


class SaveFile:
    """The `--save` file: whole JSON lines appended, or nothing.

    Written with `os.write` (no userspace buffer that could keep half a line for later).
    A write that fails part-way (disk full, EFBIG, EIO) is cut back out of a regular file
    at once, or before the next line if that fails too; a pipe or device cannot be cut,
    so the next line starts on a fresh line instead. Checked when opened: a device or
    pipe that refuses a byte (`/dev/full`), or a full disk, raises OSError then, so the
    command can stop with one line rather than answer 500 to every event.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        # O_NONBLOCK only for the open: a FIFO nobody reads fails (ENXIO) instead of hanging.
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK
        # New files are 0600: events carry customers' names and phone numbers.
        self.fd = os.open(path, flags, 0o600)
        try:
            fcntl.fcntl(
                self.fd, fcntl.F_SETFL, fcntl.fcntl(self.fd, fcntl.F_GETFL) & ~os.O_NONBLOCK
            )
            info = os.fstat(self.fd)
            self.regular = stat.S_ISREG(info.st_mode)
            self._cut_to: int | None = None  # a regular file to truncate before the next line
            self._fresh_line = False  # a pipe/device: start the next line with a newline
            self._probe(info.st_size)
        except OSError as exc:
            os.close(self.fd)
            raise OSError(exc.errno, exc.strerror, str(path)) from exc

    def _probe(self, size: int) -> None:
        if not self.regular:
            self._write_all(b"\n")  # a blank line: readers skip it; /dev/full refuses it
            return
        disk = os.fstatvfs(self.fd)
        if disk.f_blocks and not disk.f_bavail:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))
        if size and _last_byte(self.path, size) != b"\n":
            # Cut short by an earlier crash: keep that line (replay reports it), start afresh.
            self._write_all(b"\n")

    def _write_all(self, data: bytes) -> int:
        """Write all of `data`; on OSError, `exc.written` says how much got out."""
        view = memoryview(data)
        written = 0
        try:
            while written < len(data):
                count = os.write(self.fd, view[written:])
                if count <= 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                written += count
        except OSError as exc:
            exc.written = written  # type: ignore[attr-defined]
            raise
        return written

    def repair(self) -> None:
        """Cut a half-written line back out; raises OSError while that is impossible."""
        if self._cut_to is not None:
            os.ftruncate(self.fd, self._cut_to)
            self._cut_to = None

    def write_line(self, line: bytes) -> None:
        """Append `line` (ending in a newline) whole, or raise OSError with the file as before."""
        self.repair()
        data = b"\n" + line if self._fresh_line else line
        start = os.lseek(self.fd, 0, os.SEEK_END) if self.regular else 0
        try:
            self._write_all(data)
        except OSError as exc:
            if getattr(exc, "written", 0):
                if self.regular:
                    self._cut_to = start
                    try:
                        self.repair()
                    except OSError:
                        pass  # tried again before the next line
                else:
                    self._fresh_line = True
            raise
        self._fresh_line = False

    def sync(self) -> None:
        if self.regular:
            os.fsync(self.fd)

    def close(self) -> None:
        try:
            self.repair()
            self.sync()
        finally:
            os.close(self.fd)


def _last_byte(path: Path, size: int) -> bytes:
    # Read through a second descriptor: the save one is write-only.
    with open(path, "rb") as handle:
        handle.seek(size - 1)
        return handle.read(1)


class _DeadlineReader(io.RawIOBase):
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


_OVER_CAPACITY = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n"
    b"Content-Length: 0\r\n\r\n"
)
_DEADLINE_PASSED = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # close() must not wait for a stalled sender's deadline; a late request finds the
    # listener closed (503), and nothing is written after the save file is closed.
    block_on_close = False
    # 16+ concurrent senders connecting at once must not see refused connections.
    request_queue_size = 256

    def __init__(self, listener: WebhookListener, address: tuple[str, int]) -> None:
        self.listener = listener
        self._active = 0
        self._active_lock = threading.Lock()
        self._last_refusal_report = 0.0
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

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
            request.send(_OVER_CAPACITY)
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
        config = self.server.listener.config
        self.connection.settimeout(config.client_timeout)
        self.reader = _DeadlineReader(
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


class WebhookListener:
    """Start with `start()` (binds, so port 0 picks a free port), stop with `close()`."""

    def __init__(
        self,
        config: ListenerConfig,
        *,
        on_event: EventCallback | None = None,
        on_notice: NoticeCallback | None = None,
        before_ack: BeforeAck | None = None,
    ) -> None:
        self.config = config
        self._on_event = on_event or (lambda event, forward: None)
        # Called with (signature verdict, body) once an event is saved and before its 2xx:
        # what must hold when the sender is told "received" (an opt-out on the list). Its
        # text is reported after the event; an exception answers 500, so the sender retries.
        self._before_ack = before_ack
        self._on_notice = on_notice or _stderr_notice
        self._path = self._normalise(config.path)
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[ReceivedEvent | Notice | None] = queue.SimpleQueue()
        self._stats = ListenerStats()
        self._closed = False
        self._dirty = False
        self._stopping = threading.Event()
        self._save: SaveFile | None = None
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------ life cycle

    def start(self) -> WebhookListener:
        """Open the save file and bind; raises OSError (port in use, unwritable file).

        The save file is checked here (see SaveFile), so `--save /dev/full` or a full disk
        stops the command before it answers a single event.
        """
        if self.config.save_path is not None:
            # Append, never truncate: a restarted listener keeps earlier events.
            self._save = SaveFile(self.config.save_path)
        try:
            self._server = _Server(self, (self.config.host, self.config.port))
        except OSError:
            if self._save is not None:
                self._save.close()
            raise
        server = self._server
        # A short poll keeps close() (and Ctrl-C) quick: shutdown() waits up to one interval,
        # at the end of every test too; fifty wake-ups a second cost nothing.
        self._spawn(lambda: server.serve_forever(poll_interval=0.02), "webhooks-serve")
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
                try:
                    self._save.close()
                except OSError as exc:
                    self._on_notice(Notice(f"cannot sync the save file: {exc.strerror or exc}"))
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
        lengths = handler.headers.get_all("Content-Length") or []
        if not lengths or handler.headers.get("Transfer-Encoding"):
            self._reject(handler, 411, "Content-Length required", close=True)
            return
        length_text = lengths[0].strip()
        # ASCII digits only: int() would also take "+5", "1_0" and "٥", and two differing
        # lengths are how requests get smuggled past a proxy.
        if not (length_text.isascii() and length_text.isdigit()) or len(set(lengths)) > 1:
            shown = ", ".join(repr(v) for v in lengths)
            self._reject(handler, 400, f"bad Content-Length {shown}", close=True)
            return
        length = int(length_text)
        if length > self.config.max_body:
            # Refused from the header alone: the body is never read into memory.
            limit = self.config.max_body
            self._reject(handler, 413, f"body of {length} bytes is over {limit}", close=True)
            return
        try:
            raw = handler.rfile.read(length)
        except TimeoutError:
            reader: _DeadlineReader | None = getattr(handler, "reader", None)
            late = reader is not None and reader.expired
            if reader is not None:
                reader.expired = False  # answered here, not again by handle_one_request
            if late:
                with self._lock:
                    self._stats.timed_out += 1
            seconds = f"{self.config.request_deadline:g}"
            message = (
                f"body not complete within {seconds} s" if late else "timed out reading the body"
            )
            self._reject(handler, 408, message, close=True)
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
        except RecursionError:
            self._reject(handler, 400, "malformed JSON: nested too deeply")
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
        form = None
        if self.config.secret is None:
            signature = UNCHECKED
        elif form := signature_form(self.config.secret, raw, signature_header):
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
            # json_safe: a body may hold a lone surrogate escape (`"\ud800"`), valid JSON that
            # no UTF-8 file can hold as a character; it is saved as the escape it came as.
            line = json_safe(json.dumps(record, ensure_ascii=False))
            if self._save is not None:
                try:
                    # One os.write of the whole line: in the OS before the ack, survives kill -9.
                    self._save.write_line(line.encode("utf-8") + b"\n")
                except OSError as exc:
                    # Not saved means not acknowledged: the sender will retry. The file holds
                    # no trace of it (cut back), so the retry will not follow half a line.
                    self._stats.save_failures += 1
                    reason = exc.strerror or str(exc)
                    self.report(
                        Notice(
                            f"cannot save the event: {reason}",
                            500,
                            "POST",
                            handler.path,
                            handler.client_address[0],
                        )
                    )
                    respond(handler, 500, {"error": "cannot save the event"}, close=True)
                    return
                self._dirty = True
            self._stats.received += 1
            if signature == VALID:
                self._stats.valid += 1
                if form == BASE64_KEY:
                    self._stats.base64_key += 1
                    if self._stats.base64_key == 1:
                        # Once: which key form the sender uses settles the [assumed] reading.
                        self._queue.put(Notice(BASE64_FORM_NOTICE, info=True))
            elif signature == INVALID:
                self._stats.invalid += 1
            else:
                self._stats.unchecked += 1
            # Queued under the lock, so the worker sees events in the save file's order.
            self._queue.put(ReceivedEvent(self._stats.received, record, line, raw, status))

        if self._before_ack is not None:
            try:
                said = self._before_ack(signature, body)
            except Exception as exc:  # not acknowledged: the sender will retry
                reason = getattr(exc, "message", None) or str(exc)
                self.report(Notice(f"cannot act on the event: {reason}", 500, "POST"))
                respond(handler, 500, {"error": "cannot act on the event"}, close=True)
                return
            if said:
                self.report(Notice(said, info=True))
        if status == 401:
            respond(handler, 401, {"error": "invalid signature"})
        else:
            respond(handler, 200, {"received": True})

    def count_refusal(self) -> int:
        with self._lock:
            self._stats.refused += 1
            return self._stats.refused

    def deadline_passed(self, handler: BaseHTTPRequestHandler) -> None:
        """A request not complete within `request_deadline`: a 408 if it goes out at once."""
        with self._lock:
            self._stats.timed_out += 1
        seconds = f"{self.config.request_deadline:g}"
        self.report(
            Notice(
                f"request not complete within {seconds} s: connection closed",
                408,
                getattr(handler, "command", "") or "",
                getattr(handler, "path", "") or "",
                handler.client_address[0],
            )
        )
        try:
            handler.connection.setblocking(False)
            handler.connection.send(_DEADLINE_PASSED)
        except OSError:
            pass

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
                save = self._save
            # Outside the lock: fsync can take milliseconds and must not delay acks.
            try:
                save.sync()
            except OSError as exc:
                self.report(Notice(f"cannot fsync the save file: {exc}"))
