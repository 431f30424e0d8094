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

Here: the save file and the listener's life cycle, saving and acknowledging. What a request
is (signature, flags, answer) is decided in classify.py, without sockets or locks; the
HTTP plumbing (connection cap, deadlines) is server.py; the data types are model.py.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import queue
import stat
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

from zazacli.sanitize import json_safe
from zazacli.webhooks.classify import (
    Classified,
    Refusal,
    body_length,
    classify,
)
from zazacli.webhooks.delivery import post_webhook
from zazacli.webhooks.model import (
    INVALID,
    VALID,
    BeforeAck,
    EventCallback,
    ListenerConfig,
    ListenerStats,
    Notice,
    NoticeCallback,
    ReceivedEvent,
)
from zazacli.webhooks.server import (
    DEADLINE_PASSED,
    DeadlineReader,
    Server,
    respond,
)
from zazacli.webhooks.signing import BASE64_KEY

FSYNC_INTERVAL = 1.0
BASE64_FORM_NOTICE = (
    "note: this sender signs with the base64-decoded part after whsec_ as the HMAC key "
    "(the Standard Webhooks form), not the whole secret; both are accepted"
)


def _stderr_notice(notice: Notice) -> None:
    sys.stderr.write(notice.message + "\n")


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
        self._server: Server | None = None
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
            self._server = Server(self, (self.config.host, self.config.port))
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
        length = body_length(
            handler.headers.get_all("Content-Length") or [],
            handler.headers.get("Transfer-Encoding"),
            self.config.max_body,
        )
        if isinstance(length, Refusal):
            self._reject(handler, length.status, length.message, close=True)
            return
        raw = self._read_body(handler, length)
        if raw is not None:
            self._receive(handler, raw)

    def _read_body(self, handler: BaseHTTPRequestHandler, length: int) -> bytes | None:
        """The whole body, or None once the request has been dealt with (late, cut short)."""
        try:
            raw = handler.rfile.read(length)
        except TimeoutError:
            reader: DeadlineReader | None = getattr(handler, "reader", None)
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
            return None
        if len(raw) < length:
            handler.close_connection = True
            with self._lock:
                self._stats.rejected += 1
            self.report(Notice("client closed the connection mid-body", None, "POST", handler.path))
            return None
        return raw

    def _receive(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        verdict = classify(raw, handler.headers, self.config.secret)
        if isinstance(verdict, Refusal):
            self._reject(handler, verdict.status, verdict.message)
            return
        if self._commit(handler, verdict) and self._run_before_ack(handler, verdict):
            respond(handler, verdict.status, verdict.answer)

    def _commit(self, handler: BaseHTTPRequestHandler, verdict: Classified) -> bool:
        """Save, count and queue the event, all under the lock; False if answered instead."""
        with self._lock:
            if self._closed:
                respond(handler, 503, {"error": "listener is stopping"}, close=True)
                return False
            record = verdict.record(utc_now_iso())
            # json_safe: a body may hold a lone surrogate escape (`"\ud800"`), valid JSON that
            # no UTF-8 file can hold as a character; it is saved as the escape it came as.
            line = json_safe(json.dumps(record, ensure_ascii=False))
            if self._save is not None and not self._save_line(self._save, handler, line):
                return False
            self._count(verdict)
            # Queued under the lock, so the worker sees events in the save file's order.
            event = ReceivedEvent(self._stats.received, record, line, verdict.raw, verdict.status)
            self._queue.put(event)
        return True

    def _save_line(self, save: SaveFile, handler: BaseHTTPRequestHandler, line: str) -> bool:
        """Append the event's line before its ack (caller holds the lock); False: answered 500."""
        try:
            # One os.write of the whole line: in the OS before the ack, survives kill -9.
            save.write_line(line.encode("utf-8") + b"\n")
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
            return False
        self._dirty = True
        return True

    def _count(self, verdict: Classified) -> None:
        """Count an event saved (caller holds the lock)."""
        self._stats.received += 1
        if verdict.signature == VALID:
            self._stats.valid += 1
            if verdict.form == BASE64_KEY:
                self._stats.base64_key += 1
                if self._stats.base64_key == 1:
                    # Once: which key form the sender uses settles the [assumed] reading.
                    self._queue.put(Notice(BASE64_FORM_NOTICE, info=True))
        elif verdict.signature == INVALID:
            self._stats.invalid += 1
        else:
            self._stats.unchecked += 1

    def _run_before_ack(self, handler: BaseHTTPRequestHandler, verdict: Classified) -> bool:
        """The `before_ack` hook, outside the lock; False once a failure has been answered 500."""
        if self._before_ack is None:
            return True
        try:
            said = self._before_ack(verdict.signature, verdict.body)
        except Exception as exc:  # not acknowledged: the sender will retry
            reason = getattr(exc, "message", None) or str(exc)
            self.report(Notice(f"cannot act on the event: {reason}", 500, "POST"))
            respond(handler, 500, {"error": "cannot act on the event"}, close=True)
            return False
        if said:
            self.report(Notice(said, info=True))
        return True

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
            handler.connection.send(DEADLINE_PASSED)
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
