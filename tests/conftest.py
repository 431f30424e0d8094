"""Shared fixtures: an isolated config dir for every test, the CLI runner, fault servers,
and the ways a test waits: for a condition, for a child's line, never for a fixed time."""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sandbox_fixtures import make_sandbox, real_api, sandbox  # noqa: F401  (fixtures)
from typer.testing import CliRunner

from zazacli.context import AppContext, Timing
from zazacli.main import app

REPO = Path(__file__).resolve().parent.parent

# Bytecode is cached even where PYTHONDONTWRITEBYTECODE is set (this machine sets it):
# without it each xdist worker rewrites the asserts of every test module again (about 5 s
# of a worker's start), and every `zaza` a test starts compiles zazacli from source.
sys.dont_write_bytecode = False


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two workers a core. The tests wait on `zaza` subprocesses, sockets and
    pseudo-terminals much of the time; on 2 cores 4 workers run the whole suite in about
    75 s where 2 take 105 (and the fast loop in 27 s, not 29)."""
    return min(2 * (os.cpu_count() or 1), 32)  # a big machine: not hundreds of processes


def pytest_sessionstart(session: pytest.Session) -> None:
    """zazacli compiled once, by the run (or xdist's controller), for the `zaza`
    subprocesses of the tests, which inherit PYTHONDONTWRITEBYTECODE and read it."""
    if not hasattr(session.config, "workerinput"):
        import compileall

        compileall.compile_dir(REPO / "zazacli", quiet=1)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test sees the developer's profiles, keys, colour settings or terminal size."""
    for name in list(os.environ):
        # COLUMNS and LINES: pytest-xdist's workers set 80x24; a test sizes its terminal.
        if name.startswith("ZAZA_") or name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES"):
            monkeypatch.delenv(name)
    config_dir = tmp_path / "config"
    monkeypatch.setenv("ZAZA_CONFIG_DIR", str(config_dir))
    # Default archives (platformdirs' data directory) go to the test's directory too.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return config_dir


class Sleeps(list[float]):
    """A fake `sleep` that records what it was asked to wait and returns at once: retries,
    back-off and polls are seen (and counted) without being waited out. Its `clock` is
    time.monotonic() moved on by every wait skipped, so deadlines pass as they would."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    def clock(self) -> float:
        return time.monotonic() + sum(self)


def no_waiting(sleeps: Sleeps | None = None) -> Timing:
    """Timing whose sleeps (recorded in `sleeps`) return at once; back-off as in production."""
    sleeps = Sleeps() if sleeps is None else sleeps
    return Timing(sleep=sleeps, clock=sleeps.clock)


def faster(factor: float, sleeps: Sleeps | None = None) -> Timing:
    """Timing for a command against a server that really moves on (a sandbox at some speed):
    its time runs `factor` times faster, a sleep of s seconds takes s / factor, and its clock
    counts accordingly. Each sleep asked for is recorded in `sleeps`."""
    origin = time.monotonic()

    def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)
        time.sleep(seconds / factor)

    return Timing(sleep=sleep, clock=lambda: origin + (time.monotonic() - origin) * factor)


@dataclass
class Cli:
    """Runs `zaza` in-process with CliRunner; env adds to the isolated environment. With
    `timing`, the command waits (retries, back-off) through it instead of the real clock."""

    env: dict[str, str] = field(default_factory=dict)
    timing: Timing | None = None

    def __call__(self, *args: str, input: str | None = None, **env: str) -> Any:
        runner = CliRunner()
        obj = AppContext(timing=self.timing) if self.timing is not None else None
        return runner.invoke(app, list(args), input=input, env={**self.env, **env}, obj=obj)


@pytest.fixture
def cli(sandbox: Any) -> Cli:  # noqa: F811
    """The CLI pointed at a fresh sandbox through the environment (as cron would)."""
    return Cli(env={"ZAZA_BASE_URL": sandbox.base_url, "ZAZA_API_KEY": sandbox.api_key})


@pytest.fixture
def bare_cli() -> Cli:
    """The CLI with no key and no base URL."""
    return Cli()


def run_zaza(
    *args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m zazacli …` as a real subprocess (for TTY-less, kill and start-up tests)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "zazacli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=input,
        timeout=timeout,
        cwd=REPO,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def popen_zaza(*args: str, env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen:
    """`python -m zazacli …` started in the background (pipes by default, text mode).

    The child gets the default SIGINT handler back: under nohup or `cmd &`, SIGINT is ignored
    and that is inherited, so a test's Ctrl-C would otherwise never reach the command.
    """
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    return subprocess.Popen(
        [sys.executable, "-m", "zazacli", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        preexec_fn=_default_sigint,
        **{**options, **popen},
    )


def wait_for(
    predicate: Callable[[], Any], timeout: float = 10.0, what: str = "", every: float = 0.01
) -> Any:
    """The first truthy value of `predicate()`, checked every `every` s until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(every)


class Lines:
    """A child's stream, read line by line in a thread: a test waits for a line with a
    deadline, and the pipe never fills while it does not read."""

    def __init__(self, stream: Any) -> None:
        self._empty = b"" if "b" in getattr(stream, "mode", "") else ""
        self._queue: queue.Queue[Any] = queue.Queue()
        self.seen: list[Any] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def until(self, done: Callable[[Any], Any], timeout: float = 10.0) -> Any:
        """The next line for which `done(line)` is true; fails at the deadline or the end."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"timed out; lines so far: {self.seen}") from None
            if line is None:
                self._queue.put(None)  # the end stays the end for a later call
                raise AssertionError(f"stream ended; lines so far: {self.seen}")
            self.seen.append(line)
            if done(line):
                return line

    def rest(self, timeout: float = 10.0) -> Any:
        """Everything the stream carried, once it has ended (the child has exited)."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"the stream did not end within {timeout} s"
        while (line := self._queue.get_nowait()) is not None:
            self.seen.append(line)
        self._queue.put(None)
        return self._empty.join(self.seen)


class Zaza:
    """`python -m zazacli …` running in the background (see popen_zaza), its piped streams
    read by threads; `with` kills it at the end should the test fail before it exits."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, **popen: Any) -> None:
        self.proc = popen_zaza(*args, env=env, **popen)
        self.stdout = Lines(self.proc.stdout) if self.proc.stdout else None
        self.stderr = Lines(self.proc.stderr) if self.proc.stderr else None

    def interrupt(self) -> None:
        """Ctrl-C."""
        self.proc.send_signal(signal.SIGINT)

    def finish(self, timeout: float = 15.0) -> tuple[int, Any, Any]:
        """(exit code, all of stdout, all of stderr) once it has exited."""
        code = self.proc.wait(timeout)
        out = self.stdout.rest() if self.stdout else None
        err = self.stderr.rest() if self.stderr else None
        return code, out, err

    def __enter__(self) -> Zaza:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def loopback_client(**options: Any) -> httpx.Client:
    """An httpx client for the tests' own servers on this machine: plain HTTP, so no CA
    bundle is loaded (about 20 ms a client), and no proxy from the environment."""
    return httpx.Client(verify=False, trust_env=False, **options)


# For one-off requests from helpers and tests (it keeps a connection pool per server).
LOOPBACK = loopback_client(timeout=10)


def api_get(running: Any, path: str, **params: Any) -> Any:
    """The sandbox's own answer to a GET, read directly (what the CLI should agree with)."""
    response = LOOPBACK.get(
        f"{running.base_url}/{path}",
        params=params,
        headers={"Authorization": f"Bearer {running.api_key}"},
    )
    response.raise_for_status()
    return response.json()


def tsv(stdout: str) -> list[list[str]]:
    """A command's piped output as rows of tab-separated fields (blank lines dropped)."""
    return [line.split("\t") for line in stdout.splitlines() if line]


def completed_call(running: Any) -> dict[str, Any]:
    """One completed call of the sandbox, in full (with its turns), as `GET /calls/{id}`."""
    listed = api_get(running, "calls", status="COMPLETED", size=20)["content"]
    return api_get(running, f"calls/{listed[0]['id']}")


Handler = Callable[[BaseHTTPRequestHandler], None]


class Request(dict[str, Any]):
    """One request as the fault server received it: a dict (method, path with its query,
    headers, body), as tests have always read it, with the parsed pieces as attributes."""

    @property
    def method(self) -> str:
        return self["method"]

    @property
    def route_path(self) -> str:
        """The path alone, without the query (what a route matches)."""
        return urlsplit(self["path"]).path

    @property
    def query(self) -> dict[str, str]:
        """The query parameters, each its last value (parse_qs(...) for repeated ones)."""
        return {k: v[-1] for k, v in parse_qs(urlsplit(self["path"]).query).items()}

    def json(self) -> Any:
        return json.loads(self["body"])


@dataclass(frozen=True)
class Reply:
    """One scripted answer. `drop`: the request is read, then the connection is closed with
    no answer at all (what a dispatch whose answer is lost looks like)."""

    status: int = 200
    body: bytes | str | Any = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False

    def write(self, handler: BaseHTTPRequestHandler) -> None:
        if self.drop:
            handler.close_connection = True
            return
        send(handler, self.status, self.body, self.content_type, self.headers)


DROP = Reply(drop=True)


@dataclass
class Route:
    """Method + path (a glob: `/api/v1/calls/*`) → its answers: a sequence whose last one
    repeats, or `answer(request)`. `requests` are those it answered."""

    method: str
    path: str
    replies: list[Reply]
    answer: Callable[[Request], Reply] | None = None
    optional: bool = False
    requests: list[Request] = field(default_factory=list)

    def matches(self, request: Request) -> bool:
        return request.method == self.method and fnmatchcase(request.route_path, self.path)

    def take(self, request: Request) -> Reply | None:
        """Records `request`; its reply in the sequence (None: `answer` computes it)."""
        self.requests.append(request)
        if self.answer is not None:
            return None
        return self.replies[min(len(self.requests), len(self.replies)) - 1]


@dataclass
class FaultServer:
    """A real HTTP server whose answers a test scripts, recording every request.

    Declared answers (like gh's httpmock.Registry): `route(method, path, ...)`; the newest
    route that matches answers. A request no route matches gets a 404 saying so, and fails
    the test at teardown, as does a route never used (unless `optional=True`). `set_handler`
    takes what routes cannot say (drip-fed bodies, raw bytes on the socket): it answers
    whatever no route matched.
    """

    url: str
    requests: list[Request] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    unmatched: list[Request] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    handler: Handler | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set_handler(self, handler: Handler) -> None:
        self.handler = handler

    def route(
        self,
        method: str,
        path: str,
        status: int = 200,
        body: bytes | str | Any = b"",
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        responses: list[Reply] | None = None,
        answer: Callable[[Request], Reply] | None = None,
        optional: bool = False,
    ) -> Route:
        """Answer METHOD PATH with one reply (status, body, headers), `responses` in turn
        (the last one repeats), or `answer(request)`; the route is checked as used."""
        assert responses is None or answer is None, "responses or answer, not both"
        assert responses is None or responses, "responses: at least one"
        replies = responses or [Reply(status, body, content_type, headers or {})]
        route = Route(method.upper(), path, list(replies), answer, optional)
        with self.lock:
            self.routes.append(route)
        return route

    def dispatch(self, handler: BaseHTTPRequestHandler, request: Request) -> None:
        with self.lock:
            self.requests.append(request)
            route = next((r for r in reversed(self.routes) if r.matches(request)), None)
            reply = route.take(request) if route else None
            if route is None and self.handler is None:
                self.unmatched.append(request)
        if route is not None and route.answer is not None:
            try:  # outside the lock: an answer may wait (for the test, for a deadline)
                reply = route.answer(request)
            except Exception as error:  # a broken answer is said at teardown, not swallowed
                self.errors.append(f"{request.method} {request['path']}: {error!r}")
                reply = Reply(500, {"status": 500, "message": f"fault server: {error!r}"})
        if reply is not None:
            reply.write(handler)
        elif self.handler is not None:
            self.handler(handler)
        else:
            message = f"fault server: no route for {request.method} {request.route_path}"
            send(handler, 404, {"status": 404, "error": "Not Found", "message": message})

    def verify(self) -> list[str]:
        """What went wrong with the declared routes: requests none matched, routes unused."""
        problems = [f"no route for {r.method} {r['path']}" for r in self.unmatched]
        problems += [f"an answer raised on {error}" for error in self.errors]
        problems += [
            f"route {r.method} {r.path} was never used"
            for r in self.routes
            if not r.requests and not r.optional
        ]
        return problems


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes | str | Any,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> None:
    if not isinstance(body, bytes | str):
        body = json.dumps(body)
    data = body.encode() if isinstance(body, str) else body
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(data)


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A FaultServer on a free port; at teardown, its declared routes are verified."""

    class RecordingHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without this, each keep-alive answer can
        # wait ~40 ms for Nagle and the client's delayed ACK.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(
                method=self.command, path=self.path, headers=dict(self.headers), body=body
            )
            fault.dispatch(self, request)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    class QuietServer(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # clients that hang up mid-answer are part of the faults under test

    server = QuietServer(("127.0.0.1", 0), RecordingHandler)
    server.daemon_threads = True
    fault = FaultServer(url=f"http://127.0.0.1:{server.server_address[1]}/api/v1")
    # A short poll interval: shutdown() waits up to one interval, at every test's teardown.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True
    )
    thread.start()
    yield fault
    server.shutdown()
    server.server_close()
    if problems := fault.verify():
        pytest.fail("fault server:\n  " + "\n  ".join(problems), pytrace=False)


def sized_pty(rows: int = 50, columns: int = 120) -> tuple[int, int]:
    """A pseudo-terminal (leader, follower) of a known size: a new one is 0x0, which each
    program (and each test runner) reads its own way."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    return leader, follower


class Terminal:
    """`python -m zazacli ARGS` with stdout and stderr on one pseudo-terminal `columns`
    wide, as a person sees it (no COLUMNS: zaza asks the terminal its size)."""

    def __init__(self, *args: str, columns: int, env: dict[str, str]) -> None:
        full_env = {**os.environ, "NO_COLOR": "1", "ZAZA_PAGER": "cat", **env}
        for name in ("COLUMNS", "LINES", "ZAZA_FORCE_TTY"):
            full_env.pop(name, None)
        self._leader, follower = sized_pty(rows=200, columns=columns)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "zazacli", *args],
            stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=full_env, cwd=REPO,
        )  # fmt: skip
        os.close(follower)
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._leader, 65536)
            except OSError:  # EIO: the child has closed the terminal
                return
            if not chunk:
                return
            self._chunks.append(chunk)

    def text(self) -> str:
        shown = b"".join(self._chunks).decode("utf-8", "replace").replace("\r\n", "\n")
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)

    def finish(self, stop: bool = False, timeout: float = 60) -> tuple[int, str]:
        """(exit code, everything shown); `stop` sends SIGTERM first (a follower)."""
        try:
            if stop:
                self.proc.send_signal(signal.SIGTERM)
            code = self.proc.wait(timeout)
            self._reader.join(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)
            os.close(self._leader)
        return code, self.text()


# ---------------------------------------------------------------- a sandbox's dispatches
# Shared by the reconciliation and contact-policy tests: what the sandbox really queued.
POST = "POST /calls/outbound"


def start(make: Any, *quirks: str) -> tuple[Any, Cli]:
    """A sandbox with these quirks (from the make_sandbox fixture), and a CLI against it
    whose clock skips every wait."""
    running = make(quirks=quirks)
    env = {"ZAZA_BASE_URL": running.base_url, "ZAZA_API_KEY": running.api_key}
    return running, Cli(env=env, timing=no_waiting())


def set_quirks(running: Any, **changes: Any) -> None:
    """Turn quirks on or off between two commands (e.g. a normal dispatch, then lost ones)."""
    running.app.quirks = dataclasses.replace(running.app.quirks, **changes)


def posts(running: Any) -> int:
    return int(running.app.requests[POST])


def queued_to(running: Any, number: str) -> list[int]:
    """Ids of the calls the sandbox really queued to `number` (listed or not yet)."""
    return [call.id for call in running.app.calls if call.to_number == number]


# ---------------------------------------------------------------- a listener process
# Shared by the webhook and contact-policy tests.


@dataclass
class ListenProcess:
    zaza: Zaza
    url: str

    @property
    def proc(self) -> subprocess.Popen[str]:
        return self.zaza.proc

    def stop(self, sig: int = signal.SIGINT) -> tuple[str, str]:
        """Signal it; return its whole stdout and stderr once it has exited."""
        self.proc.send_signal(sig)
        _, out, err = self.zaza.finish(10)
        return out or "", err


@contextmanager
def listen_process(
    *args: str, env: dict[str, str] | None = None, stdout: Any = subprocess.PIPE
) -> Iterator[ListenProcess]:
    """`python -m zazacli webhooks listen --port 0 …`, its URL read from the startup line."""
    with Zaza("webhooks", "listen", "--port", "0", *args, env=env, stdout=stdout) as zaza:
        assert zaza.stderr is not None
        line = zaza.stderr.until(lambda line: "listening on http://" in line, 20)
        url = re.search(r"listening on (http://\S+)$", line.strip())
        assert url, line
        yield ListenProcess(zaza, url.group(1))


# ---------------------------------------------------------------- a local time zone
ZONE = "Asia/Kolkata"  # UTC+05:30: local days and hours are not UTC ones


@pytest.fixture
def zone() -> Iterator[str]:
    """The process's local time zone set to UTC+05:30 for the test (SQLite and Python
    read the same TZ)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = ZONE
    time.tzset()
    yield ZONE
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()
