"""The HTTP/1.1 server that `zaza webhooks listen` and `zaza sandbox` both ride on.

One thread and one selector serve every connection, non-blocking: no thread per
connection, no `http.server`. The head is parsed once (wire.py); what a request means is
the app's business (the `App` protocol), which answers with the whole response as bytes.
Work that may block (a hook writing to a database, a sandbox told to answer slowly) is
handed to a worker thread as `Later`; its connection waits, the others are served.

Every client is presumed hostile:
- a request must arrive whole within `Limits.deadline` of its first byte (the first one:
  of the connection opening), and a connection idle for `Limits.idle` is closed;
- at most `Limits.max_connections` are open at once; more are refused at once;
- the head is capped (wire.MAX_HEAD, wire.MAX_HEADERS), and so is a chunked body;
- the app sees the head before the body is read (`App.body_size`), so a body it refuses
  (too big, no length) is never read, and `Expect: 100-continue` is answered only for a
  body that will be read;
- the requests of one connection are handled one after the other, in order.
"""

from __future__ import annotations

import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import NamedTuple, Protocol

from zazacli.webhooks.wire import (
    CHUNKED,
    CONTINUE,
    DROP,
    MAX_HEAD,
    NO_REQUEST,
    Answer,
    Chunked,
    Later,
    Problem,
    Request,
    head_end,
    parse_head,
)

READ_SIZE = 64 * 1024
# Bytes a connection may send ahead while its request is handled, before reading pauses.
MAX_AHEAD = 2 * 1024 * 1024
_INFINITY = float("inf")


class Limits(NamedTuple):
    idle: float  # seconds without a byte before a connection is closed
    deadline: float | None = None  # seconds for a whole request, from its first byte
    max_connections: int | None = None  # open at once; more are refused
    max_chunked: int = 1024 * 1024  # bytes of a chunked body
    workers: int = 32  # threads for `Later` work


class App(Protocol):
    """What the server asks of what it serves; every answer is whole bytes."""

    def body_size(self, request: Request) -> int | Answer:
        """The body's length, CHUNKED, or the answer to give without reading it."""
        ...

    def handle(self, request: Request) -> Answer | Later: ...

    def failed(self, request: Request, error: Exception) -> Answer:
        """`handle` (or `Later` work) raised: the answer (a 500) after reporting it."""
        ...

    def malformed(self, problem: Problem, request: Request | None) -> Answer:
        """A head (or chunked body) that cannot be parsed; the connection closes after it."""
        ...

    def timed_out(self, request: Request | None, late: bool, client: str) -> Answer | None:
        """A connection cut: `late`, past the deadline, else idle; `request` is set while
        its body is read. The answer is sent only if it leaves at once."""
        ...

    def cut_short(self, request: Request) -> None:
        """The client closed the connection part-way through a body."""
        ...

    def refused(self, client: str) -> bytes:
        """Over the connection cap: what to send (at once or never) before closing."""
        ...


class _Connection:
    __slots__ = (
        "sock",
        "client",
        "buffer",
        "out",
        "request",
        "need",
        "chunked",
        "deadline",
        "touched",
        "busy",
        "closing",
        "eof",
        "events",
        "closed",
    )

    def __init__(self, sock: socket.socket, client: str, now: float) -> None:
        self.sock = sock
        self.client = client
        self.buffer = bytearray()
        self.out = memoryview(b"")  # answer bytes the socket did not take yet
        self.request: Request | None = None  # while its body is read
        self.need = 0  # body bytes to read (CHUNKED: chunked)
        self.chunked: Chunked | None = None  # a chunked body, as far as it came
        self.deadline: float | None = None  # the current request's; None between requests
        self.touched = now  # the last byte in or out
        self.busy = False  # its request is being handled on a worker thread
        self.closing = False  # close once `out` has left
        self.eof = False  # the client will send no more
        self.events = selectors.EVENT_READ  # what the selector watches for (0: nothing)
        self.closed = False


class _Pool:
    """Daemon threads for `Later` work, started as needed, at most `limit`."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._tasks: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._threads = 0

    def submit(self, task: Callable[[], None]) -> None:
        self._tasks.put(task)
        if self._idle.acquire(blocking=False):
            return
        if self._threads < self._limit:
            self._threads += 1
            threading.Thread(target=self._work, name="httpd-worker", daemon=True).start()

    def _work(self) -> None:
        while (task := self._tasks.get()) is not None:
            task()
            self._idle.release()

    def stop(self) -> None:
        for _ in range(self._threads):
            self._tasks.put(None)


_ACCEPT, _WAKE = "accept", "wake"


class Server:
    """Bound when made (port 0 picks a free one); `serve_forever()` on one thread until
    `shutdown()` from another, which closes every connection; then `server_close()`."""

    def __init__(self, app: App, address: tuple[str, int], limits: Limits) -> None:
        self.app = app
        self.limits = limits
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind(address)
            # Many senders connecting at once must not see refused connections.
            self.socket.listen(256)
            self.socket.setblocking(False)
        except BaseException:
            self.socket.close()
            raise
        self.server_address: tuple[str, int] = self.socket.getsockname()[:2]
        self._connections: set[_Connection] = set()
        self._selector = selectors.DefaultSelector()
        self._wake_in, self._wake_out = socket.socketpair()
        for end in (self._wake_in, self._wake_out):
            end.setblocking(False)
        self._selector.register(self.socket, selectors.EVENT_READ, _ACCEPT)
        self._selector.register(self._wake_in, selectors.EVENT_READ, _WAKE)
        self._done: queue.SimpleQueue[tuple[_Connection, Request, Answer]] = queue.SimpleQueue()
        self._pool = _Pool(limits.workers)
        self._next_check = _INFINITY
        self._poked = False
        self._stop = False
        self._running = False
        self._stopped = threading.Event()

    @property
    def _active(self) -> int:
        """Connections open now."""
        return len(self._connections)

    # ------------------------------------------------------------ life cycle

    def serve_forever(self) -> None:
        self._running = True
        try:
            while not self._stop:
                self._poll()
        finally:
            for conn in list(self._connections):
                self._close(conn)
            self._pool.stop()
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop serving and close every connection; returns once the loop has stopped."""
        self._stop = True
        self._poke()
        if self._running:
            self._stopped.wait()

    def server_close(self) -> None:
        self.socket.close()
        if not self._running or self._stopped.is_set():
            self._selector.close()
            self._wake_in.close()
            self._wake_out.close()

    def _poke(self) -> None:
        try:
            self._wake_out.send(b"\0")
        except OSError:
            pass  # full: a wake-up is pending anyway; closed: nothing to wake

    def _poll(self) -> None:
        timeout = None
        if self._next_check != _INFINITY:
            timeout = max(0.0, self._next_check - time.monotonic())
        for key, mask in self._selector.select(timeout):
            conn = key.data
            if type(conn) is _Connection:
                try:
                    if mask & selectors.EVENT_WRITE:
                        self._flush(conn)
                    if mask & selectors.EVENT_READ and not conn.closed:
                        self._read(conn)
                except Exception as exc:  # a bug must cost one connection, not the server
                    self._broken(conn, exc)
            elif conn is _ACCEPT:
                self._accept()
            else:
                self._wake()
        if self._next_check != _INFINITY:
            now = time.monotonic()
            if now >= self._next_check:
                self._check_timers(now)

    # ------------------------------------------------------------ connections

    def _accept(self) -> None:
        cap = self.limits.max_connections
        for _ in range(64):
            try:
                sock, address = self.socket.accept()
            except OSError:  # none left (BlockingIOError), or out of descriptors
                return
            client = str(address[0])
            if cap is not None and len(self._connections) >= cap:
                self._refuse(sock, client)
                continue
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # gone already
                _shut(sock)
                continue
            now = time.monotonic()
            conn = _Connection(sock, client, now)
            if self.limits.deadline is not None:
                conn.deadline = now + self.limits.deadline  # for its first request
            self._connections.add(conn)
            self._selector.register(sock, selectors.EVENT_READ, conn)
            self._schedule(min(conn.deadline or _INFINITY, now + self.limits.idle))

    def _refuse(self, sock: socket.socket, client: str) -> None:
        """Over the cap: the app's refusal if the socket takes it at once, then close."""
        try:
            sock.setblocking(False)
            sock.send(self.app.refused(client))
        except Exception:  # OSError: it did not take it; anything else: the app's
            pass
        _shut(sock)

    def _broken(self, conn: _Connection, error: Exception) -> None:
        try:
            self.app.failed(conn.request or NO_REQUEST, error)
        except Exception:
            pass
        self._close(conn)

    def _close(self, conn: _Connection) -> None:
        if conn.closed:
            return
        conn.closed = conn.closing = True
        self._connections.discard(conn)
        if conn.events:
            self._selector.unregister(conn.sock)
            conn.events = 0
        _shut(conn.sock)

    def _update(self, conn: _Connection) -> None:
        """Watch the socket for what the connection waits on now."""
        if conn.closed:
            return
        events = selectors.EVENT_WRITE if conn.out else 0
        waiting = conn.busy or conn.out
        if not conn.eof and not (waiting and len(conn.buffer) > MAX_AHEAD):
            events |= selectors.EVENT_READ
        if events == conn.events:
            return
        if not conn.events:
            self._selector.register(conn.sock, events, conn)
        elif not events:
            self._selector.unregister(conn.sock)
        else:
            self._selector.modify(conn.sock, events, conn)
        conn.events = events

    def _schedule(self, when: float) -> None:
        if when < self._next_check:
            self._next_check = when

    def _check_timers(self, now: float) -> None:
        idle = self.limits.idle
        next_check = _INFINITY
        for conn in list(self._connections):
            if conn.busy:
                continue  # its handler runs; the clock starts again once it answers
            deadline = _INFINITY if conn.deadline is None else conn.deadline
            due = min(conn.touched + idle, deadline)
            if due <= now:
                self._expire(conn, late=deadline <= now)
            elif due < next_check:
                next_check = due
        self._next_check = next_check

    def _expire(self, conn: _Connection, late: bool) -> None:
        if not conn.out and not conn.closing:
            try:
                answer = self.app.timed_out(conn.request, late, conn.client)
            except Exception:
                answer = None
            if answer is not None and answer.data:
                try:
                    conn.sock.send(answer.data)
                except OSError:
                    pass
        self._close(conn)

    # ------------------------------------------------------------ bytes in and out

    def _read(self, conn: _Connection) -> None:
        try:
            data = conn.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # reset by the peer
            self._close(conn)
            return
        now = time.monotonic()
        conn.touched = now
        if not data:
            self._eof(conn)
            return
        buffer = conn.buffer
        if conn.deadline is None and not buffer and conn.request is None:
            limit = self.limits.deadline
            if limit is not None and not conn.busy and not conn.out:
                conn.deadline = now + limit  # a new request has begun
                self._schedule(conn.deadline)
        buffer += data
        if conn.busy or conn.out:
            if len(buffer) > MAX_AHEAD:
                self._update(conn)  # far ahead of its answers: stop reading for now
            return
        self._process(conn)

    def _eof(self, conn: _Connection) -> None:
        conn.eof = True
        if conn.request is not None:
            request, conn.request = conn.request, None
            self._close(conn)
            self.app.cut_short(request)
        elif conn.busy or conn.out:
            self._update(conn)  # answer first, then close
        else:
            self._close(conn)

    def _send(self, conn: _Connection, data: bytes) -> None:
        if conn.out:
            conn.out = memoryview(bytes(conn.out) + data)
            return
        try:
            sent = conn.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close(conn)
            return
        if sent < len(data):
            conn.out = memoryview(data)[sent:]  # sliced as it leaves, never copied
            self._update(conn)

    def _flush(self, conn: _Connection) -> None:
        try:
            sent = conn.sock.send(conn.out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        conn.touched = time.monotonic()
        conn.out = conn.out[sent:]
        if conn.out:
            return
        if conn.closing:
            self._close(conn)
            return
        self._continue(conn)

    def _continue(self, conn: _Connection) -> None:
        """After an answer has left: the next request, if it has begun."""
        if conn.buffer and not conn.busy:
            if self.limits.deadline is not None:
                conn.deadline = time.monotonic() + self.limits.deadline
                self._schedule(conn.deadline)
            self._process(conn)
        self._update(conn)
        if conn.eof and not conn.busy and not conn.out:
            self._close(conn)

    # ------------------------------------------------------------ requests

    def _process(self, conn: _Connection) -> None:
        """Handle every request complete in the buffer, in order, until one must wait."""
        while not (conn.closing or conn.busy or conn.out):
            if conn.request is None:
                request = self._take_head(conn)
                if request is None or not self._start_body(conn, request):
                    if request is None:
                        return
                    continue
            body = self._take_body(conn)
            if body is None:
                return
            request = conn.request
            assert request is not None
            request.body = body
            conn.request = None
            conn.deadline = None
            self._dispatch(conn, request)
            if conn.buffer and self.limits.deadline is not None:
                conn.deadline = time.monotonic() + self.limits.deadline
                self._schedule(conn.deadline)

    def _take_head(self, conn: _Connection) -> Request | None:
        buffer = conn.buffer
        if buffer[:1] in (b"\r", b"\n"):
            del buffer[: len(buffer) - len(buffer.lstrip(b"\r\n"))]  # blank lines: skipped
            if not buffer:
                conn.deadline = None  # no request has begun after all
                return None
        end, start = head_end(buffer)
        if end < 0 and len(buffer) <= MAX_HEAD:
            return None
        if end < 0 or end > MAX_HEAD:
            line_end = buffer.find(b"\n", 0, MAX_HEAD)
            too_long = (414, "Request line too long"), (431, "Request header fields too large")
            status, message = too_long[line_end >= 0]
            self._fail(conn, Problem(status, message), None)
            return None
        head = bytes(buffer[:end])
        del buffer[:start]
        parsed = parse_head(head, conn.client)
        if isinstance(parsed, Problem):
            self._fail(conn, parsed, None)
            return None
        return parsed

    def _start_body(self, conn: _Connection, request: Request) -> bool:
        """Ask the app about the body: True to read it; False once answered without it."""
        try:
            plan = self.app.body_size(request)
        except Exception as exc:
            plan = self.app.failed(request, exc)
        if isinstance(plan, Answer):
            if request.has_body:
                plan = Answer(plan.data, True)  # its unread body would be taken for a request
            conn.deadline = None
            self._answer(conn, plan, request)
            return False
        conn.request = request
        conn.need = plan
        conn.chunked = Chunked(self.limits.max_chunked) if plan == CHUNKED else None
        if request.expect and plan and len(conn.buffer) == 0:
            self._send(conn, CONTINUE)
        return True

    def _take_body(self, conn: _Connection) -> bytes | None:
        need, buffer = conn.need, conn.buffer
        if need == CHUNKED:
            assert conn.chunked is not None
            body = conn.chunked.take(buffer)
            if isinstance(body, Problem):
                self._fail(conn, body, conn.request)
                return None
            return body
        if len(buffer) < need:
            return None
        body = bytes(buffer[:need])
        del buffer[:need]
        return body

    def _dispatch(self, conn: _Connection, request: Request) -> None:
        try:
            result = self.app.handle(request)
        except Exception as exc:
            result = self.app.failed(request, exc)
        if isinstance(result, Later):
            conn.busy = True
            work = result.work
            self._pool.submit(lambda: self._run(conn, request, work))
            return
        self._answer(conn, result, request)

    def _run(self, conn: _Connection, request: Request, work: Callable[[], Answer]) -> None:
        """On a worker thread: the work, then its answer handed back to the loop."""
        try:
            answer = work()
        except Exception as exc:
            try:
                answer = self.app.failed(request, exc)
            except Exception:
                answer = DROP
        self._done.put((conn, request, answer))
        if not self._poked:  # one wake-up for all that finished meanwhile
            self._poked = True
            self._poke()

    def _wake(self) -> None:
        try:
            while self._wake_in.recv(4096):
                pass
        except OSError:
            pass
        # Cleared after the wake-ups are read, before the results are: work that finishes
        # from now on pokes again, and a poke is never read without its result.
        self._poked = False
        while True:
            try:
                conn, request, answer = self._done.get_nowait()
            except queue.Empty:
                return
            if conn.closed:
                continue
            conn.busy = False
            conn.touched = time.monotonic()
            self._schedule(conn.touched + self.limits.idle)
            try:
                self._answer(conn, answer, request)
                if not conn.closing:
                    self._continue(conn)
            except Exception as exc:
                self._broken(conn, exc)

    def _answer(self, conn: _Connection, answer: Answer, request: Request) -> None:
        if answer.data:
            self._send(conn, answer.data)
        if answer.close or request.close or conn.eof:
            conn.closing = True
            if not conn.out:
                self._close(conn)

    def _fail(self, conn: _Connection, problem: Problem, request: Request | None) -> None:
        """A request that cannot be parsed: answered, then the connection closes."""
        try:
            answer = self.app.malformed(problem, request)
        except Exception:
            answer = DROP
        conn.request = None
        self._answer(conn, Answer(answer.data, True), request or NO_REQUEST)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    sock.close()
