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

Here: the save file and the listener's life cycle, what it answers (it is the `App` the
server asks), saving and acknowledging. What a request is (signature, flags, answer) is
decided in classify.py, without sockets or locks; the HTTP plumbing (one selector thread,
connection cap, deadlines) is server.py, the bytes on the wire wire.py; the data types are
model.py. Requests are handled on the server's one thread, so saving takes no turns
with other requests; only the `before_ack` hook, which may block, runs on a worker thread.
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
import time
from collections.abc import Callable
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
from zazacli.webhooks.server import Limits, Server
from zazacli.webhooks.signing import BASE64_KEY
from zazacli.webhooks.wire import Answer, Later, Problem, Request, answer, http_date

FSYNC_INTERVAL = 1.0
SHOW_AFTER = 0.005  # seconds the worker lets events gather before showing them
# Over-the-cap refusals are reported at most this often (a flood must not flood stderr).
REFUSAL_REPORT_INTERVAL = 5.0
# Threads for the `before_ack` hook (it may wait on a database); requests need none.
HOOK_WORKERS = 16
SERVER_NAME = "zaza-webhooks-listen"
OVER_CAPACITY = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n"
    b"Content-Length: 0\r\n\r\n"
)
DEADLINE_PASSED = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
BASE64_FORM_NOTICE = (
    "note: this sender signs with the base64-decoded part after whsec_ as the HMAC key "
    "(the Standard Webhooks form), not the whole secret; both are accepted"
)


def _stderr_notice(notice: Notice) -> None:
    sys.stderr.write(notice.message + "\n")


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_answer(
    status: int,
    payload: dict[str, Any],
    *,
    close: bool = False,
    headers: dict[str, str] | None = None,
    head: bool = False,
) -> Answer:
    fields = [("Server", SERVER_NAME), ("Date", http_date()), ("Content-Type", "application/json")]
    fields += (headers or {}).items()
    data = json.dumps(payload).encode("utf-8")
    return answer(status, data, fields, close=close, head=head)


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
        self._last_refusal_report = 0.0
        self._acks: dict[int, tuple[str, Answer]] = {}  # status -> (Date, the answer)

    # ------------------------------------------------------------ life cycle

    def start(self) -> WebhookListener:
        """Open the save file and bind; raises OSError (port in use, unwritable file).

        The save file is checked here (see SaveFile), so `--save /dev/full` or a full disk
        stops the command before it answers a single event.
        """
        if self.config.save_path is not None:
            # Append, never truncate: a restarted listener keeps earlier events.
            self._save = SaveFile(self.config.save_path)
        config = self.config
        limits = Limits(
            idle=config.client_timeout,
            deadline=config.request_deadline,
            max_connections=config.max_connections,
            workers=HOOK_WORKERS,
        )
        try:
            self._server = Server(self, (config.host, config.port), limits)
        except OSError:
            if self._save is not None:
                self._save.close()
            raise
        self._spawn(self._server.serve_forever, "webhooks-serve")
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
        # Stops the server's thread and closes every connection: nothing is saved after.
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
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

    # ------------------------------------------------------------ requests (server.App)

    @staticmethod
    def _normalise(path: str) -> str:
        return "/" + path.strip().strip("/")

    def _is_our_path(self, target: str) -> bool:
        return target == self._path or self._normalise(urlsplit(target).path) == self._path

    def reject(
        self,
        request: Request,
        status: int,
        message: str,
        *,
        close: bool = False,
        headers: dict[str, str] | None = None,
        late: bool = False,
    ) -> Answer:
        """Count, report and answer a request that is no event (`late`: past the deadline)."""
        with self._lock:
            self._stats.rejected += 1
            self._stats.timed_out += late
        self.report(Notice(message, status, request.method, request.target, request.client))
        head = request.method == "HEAD"
        return json_answer(status, {"error": message}, close=close, headers=headers, head=head)

    def body_size(self, request: Request) -> int | Answer:
        """A POST to our path with a fitting Content-Length; anything else is answered."""
        if request.method != "POST":
            if not self._is_our_path(request.target):
                return self.reject(request, 404, f"not found: events are received on {self._path}")
            allow = {"Allow": "POST"}
            return self.reject(request, 405, "method not allowed: POST events here", headers=allow)
        if not self._is_our_path(request.target):
            message = f"not found: events are received on {self._path}"
            return self.reject(request, 404, message, close=True)
        headers = request.headers
        length = body_length(
            headers.get_all("Content-Length"),
            headers.get("Transfer-Encoding"),
            self.config.max_body,
        )
        if isinstance(length, Refusal):
            return self.reject(request, length.status, length.message, close=True)
        return length

    def handle(self, request: Request) -> Answer | Later:
        """Classify, save, count and queue the event, then acknowledge it."""
        verdict = classify(request.body, request.headers, self.config.secret)
        if isinstance(verdict, Refusal):
            return self.reject(request, verdict.status, verdict.message)
        refused = self._commit(request, verdict)
        if refused is not None:
            return refused
        if self._before_ack is None:
            return self._ack(verdict.status)
        return Later(lambda: self._run_before_ack(verdict) or self._ack(verdict.status))

    def _ack(self, status: int) -> Answer:
        """200 or 401, built once a second (its Date)."""
        date = http_date()
        cached = self._acks.get(status)
        if cached is None or cached[0] != date:
            payload = {"error": "invalid signature"} if status == 401 else {"received": True}
            cached = (date, json_answer(status, payload))
            self._acks[status] = cached
        return cached[1]

    def _commit(self, request: Request, verdict: Classified) -> Answer | None:
        """Save, count and queue the event under the lock; the answer when that failed."""
        record, line = verdict.saved(utc_now_iso())
        data = (line + "\n").encode("utf-8")  # made ready outside the lock
        with self._lock:
            if self._closed:
                return json_answer(503, {"error": "listener is stopping"}, close=True)
            if self._save is not None:
                failed = self._save_line(self._save, request, data)
                if failed is not None:
                    return failed
            self._count(verdict)
            # Queued under the lock, so the worker sees events in the save file's order.
            event = ReceivedEvent(self._stats.received, record, line, verdict.raw, verdict.status)
            self._queue.put(event)
        return None

    def _save_line(self, save: SaveFile, request: Request, data: bytes) -> Answer | None:
        """Append the event's line before its ack (caller holds the lock); else a 500."""
        try:
            # One os.write of the whole line: in the OS before the ack, survives kill -9.
            save.write_line(data)
        except OSError as exc:
            # Not saved means not acknowledged: the sender will retry. The file holds
            # no trace of it (cut back), so the retry will not follow half a line.
            self._stats.save_failures += 1
            reason = exc.strerror or str(exc)
            notice = Notice(
                f"cannot save the event: {reason}", 500, "POST", request.target, request.client
            )
            self.report(notice)
            return json_answer(500, {"error": "cannot save the event"}, close=True)
        self._dirty = True
        return None

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

    def _run_before_ack(self, verdict: Classified) -> Answer | None:
        """The `before_ack` hook, on a worker thread; a 500 when it failed, else None."""
        assert self._before_ack is not None
        try:
            said = self._before_ack(verdict.signature, verdict.body)
        except Exception as exc:  # not acknowledged: the sender will retry
            reason = getattr(exc, "message", None) or str(exc)
            self.report(Notice(f"cannot act on the event: {reason}", 500, "POST"))
            return json_answer(500, {"error": "cannot act on the event"}, close=True)
        if said:
            self.report(Notice(said, info=True))
        return None

    def failed(self, request: Request, error: Exception) -> Answer:
        # One bad request must never stop the listener.
        self.report(Notice(f"internal error: {type(error).__name__}: {error}", 500))
        return json_answer(500, {"error": "internal error"}, close=True)

    def malformed(self, problem: Problem, request: Request | None) -> Answer:
        return json_answer(problem.status, {"error": problem.message}, close=True)

    def timed_out(self, request: Request | None, late: bool, client: str) -> Answer | None:
        """Cut off: in a body (`request`) a 408 answer; past the deadline elsewhere a 408
        if it leaves at once; idle between requests, closed without a word."""
        seconds = f"{self.config.request_deadline:g}"
        if request is not None:
            message = (
                f"body not complete within {seconds} s" if late else "timed out reading the body"
            )
            return self.reject(request, 408, message, close=True, late=late)
        if not late:
            return None
        with self._lock:
            self._stats.timed_out += 1
        message = f"request not complete within {seconds} s: connection closed"
        self.report(Notice(message, 408, client=client))
        return Answer(DEADLINE_PASSED, True)

    def cut_short(self, request: Request) -> None:
        with self._lock:
            self._stats.rejected += 1
        self.report(Notice("client closed the connection mid-body", None, "POST", request.target))

    def refused(self, client: str) -> bytes:
        """Over the connection cap: 503, reported at most every REFUSAL_REPORT_INTERVAL."""
        with self._lock:
            self._stats.refused += 1
            count = self._stats.refused
        now = time.monotonic()
        if count == 1 or now - self._last_refusal_report >= REFUSAL_REPORT_INTERVAL:
            self._last_refusal_report = now
            cap = self.config.max_connections
            message = f"over {cap} connections at once: refused ({count} so far)"
            self.report(Notice(message, 503, client=client))
        return OVER_CAPACITY

    def report(self, notice: Notice) -> None:
        """Hand a notice to the worker, so it prints in order with the events."""
        self._queue.put(notice)

    # ------------------------------------------------------------ worker threads

    def _shown(self, event: ReceivedEvent) -> bool:
        patterns = self.config.events
        return patterns is None or any(fnmatchcase(event.event, p) for p in patterns)

    def _work(self) -> None:
        while True:
            items = [self._queue.get()]
            # Let a burst gather, then show it in one go: a worker woken for every event
            # would take turns with the server thread for the interpreter at each one.
            time.sleep(SHOW_AFTER)
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for item in items:
                if item is None:
                    return
                self._show(item)

    def _show(self, item: ReceivedEvent | Notice) -> None:
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
