"""The HTTP layer: one httpx client, auth, timeouts, bounded retries, and the error map.

Everything that knows about status codes, response bodies and retry policy lives
here; endpoint knowledge (paths, field names) lives in `client.py`.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from zazacli import __version__
from zazacli.api.values import SANDBOX_HEADER
from zazacli.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    NetworkError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    UsageError,
)

if TYPE_CHECKING:
    import httpx

# httpx's __init__ imports its own command-line client (httpx._main) whenever click and rich
# are installed, and they are: Typer needs them. That loads Rich's console, progress bars,
# tables and pygments, about a third of zaza's start-up, for a program zaza never runs. A
# None entry makes that import fail, and httpx falls back to its stub `main`, as it does
# when those packages are missing. Nothing else of httpx changes.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
MAX_TRIES = 5
MAX_TOTAL_WAIT = 60.0  # seconds spent sleeping between tries, at most
# A read gives up, all its tries together, after this long (or one whole try, if --timeout
# makes that longer): a server that accepts and never answers costs a person a minute, not
# five tries of 35 s.
READ_DEADLINE = 60.0
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Bounds on what a server (a hostile one too) can make us hold or wait for.
MAX_BODY_BYTES = 64 * 1024 * 1024  # one response body, decoded
RETRY_AFTER_CAP = 300.0  # a Retry-After longer than this is not waited out: we give up


def is_loopback_host(host: str) -> bool:
    """`localhost`, or a literal loopback address (127.0.0.0/8, ::1), by address: a name that
    merely starts with `127.` (`127.0.0.1.evil.example`) is someone else's host."""
    import ipaddress

    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


Notice = Callable[[str], None]


def _ignore(message: str) -> None:
    pass


def check_base_url(base_url: str, *, allow_insecure_http: bool) -> None:
    """Refuse to send a Bearer key in clear text to anything but this machine."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"base URL {base_url!r} is not an http(s) URL",
            hint="for example https://api.example.com/api/v1",
        )
    host = parts.hostname
    if parts.scheme == "http" and not is_loopback_host(host) and not allow_insecure_http:
        raise UsageError(
            f"refusing to send the API key over plain HTTP to {host}",
            hint="use https://, or pass --allow-insecure-http if you really mean it",
        )


class InvalidJsonError(ValueError):
    """A body that parses as JSON but that zaza refuses: NaN/Infinity, or nested too deep."""


def split_path(path: str, base_url: str) -> tuple[str, dict[str, list[str]]]:
    """(path relative to the base URL, query parameters) from what the user typed.

    An absolute URL is accepted only when it points below the base URL itself: the key
    is never sent to another host.
    """
    from urllib.parse import parse_qsl

    text = path.strip()
    if not text:
        raise UsageError("PATH is empty", hint="for example: zaza api GET /agents")
    base = urlsplit(base_url)
    base_path = base.path.rstrip("/")
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text) or text.startswith("//"):
        target = urlsplit(text)
        same_origin = (
            target.scheme.lower() == base.scheme.lower()
            and (target.hostname or "") == (base.hostname or "")
            and target.port == base.port
        )
        if not same_origin or not (
            target.path == base_path or target.path.startswith(base_path + "/")
        ):
            raise UsageError(
                f"refusing to send the API key to {target.netloc or text!r}: "
                f"PATH must be below the base URL {base_url}",
                hint="give a path relative to the base URL, e.g. /agents",
            )
        text = target.path[len(base_path) :] + (f"?{target.query}" if target.query else "")
    relative, _, raw_query = text.partition("?")
    relative = relative.split("#", 1)[0]
    # The public docs write endpoints as /v1/agents; the base URL already ends in /api/v1.
    for prefix in ("/api/v1", "/v1"):
        if base_path.endswith(prefix) and (relative == prefix or relative.startswith(prefix + "/")):
            relative = relative[len(prefix) :]
            break
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    return _below_base(relative, base_url), query


def _below_base(relative: str, base_url: str) -> str:
    """`relative` with its `.` and `..` segments resolved — percent-encoded ones too, which
    a server or proxy may decode — so that it can be checked: a path that climbs above the
    base URL would take the key outside the API (`/../../x` is `/x` on the same host)."""
    from urllib.parse import unquote

    kept: list[str] = []
    for segment in relative.split("/"):
        plain = unquote(segment)
        if plain in ("", "."):
            continue
        if plain == "..":
            if not kept:
                raise UsageError(
                    f"refusing to send the API key to {relative!r}: it climbs above the base "
                    f"URL {base_url}",
                    hint="give a path relative to the base URL, e.g. /agents",
                )
            kept.pop()
            continue
        kept.append(segment)
    return "/".join(kept)


def _no_constant(name: str) -> Any:
    raise InvalidJsonError(name)


def parse_json(data: bytes | str) -> Any:
    """json.loads for bodies from outside: NaN, Infinity and -Infinity (not JSON, but
    Python accepts them) and nesting too deep for the interpreter raise InvalidJsonError;
    anything else unreadable raises ValueError, as json.loads does.

    Depth is bounded by the interpreter's recursion limit (about 1,000 levels), not by a
    walk of every answer: that walk cost a sixth of `calls list --all`. Data that deep
    which still loads, should anything downstream recurse on it, ends as one line too
    (main.py maps a RecursionError)."""
    try:
        return json.loads(data, parse_constant=_no_constant)
    except RecursionError:
        raise InvalidJsonError("nested too deeply") from None


def server_message(response: httpx.Response) -> str:
    """The most useful one line a failed response carries, whatever its body is."""
    text = response.text.strip() if response.content else ""
    if text:
        try:
            body = parse_json(text)
        except ValueError:
            body = None
        if isinstance(body, dict):
            for key in ("message", "error_description", "detail", "error", "title"):
                value = body.get(key)
                if isinstance(value, str) and value.strip():
                    return _one_line(value)
        elif "<" in text[:200] and re.search(r"<(html|!doctype|head|body|title)", text[:500], re.I):
            title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
            h1 = re.search(r"<h1[^>]*>(.*?)</h1>", text, re.I | re.S)
            found = title or h1
            if found and found.group(1).strip():
                return _one_line(re.sub(r"<[^>]+>", "", found.group(1))) + " (HTML page)"
            return "an HTML page"
        elif body is None:
            return _one_line(text)
    return response.reason_phrase or "no details"


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


def _backoff(attempt: int) -> float:
    """Exponential with full jitter: 0.5, 1, 2, 4 … seconds at most, randomised."""
    return random.uniform(0.1, min(8.0, 0.5 * 2 ** (attempt - 1)))


class ServerClock:
    """The server's clock, learned from the `Date` header of every response.

    A Date names a whole second D, stamped somewhere between our sending the request
    (t_sent) and reading its answer (t_received); so the offset (server minus local)
    lies in [D - t_received, D + 1 - t_sent]. The tightest interval over all responses
    is kept; `offset` is its midpoint. A header is parsed only when it changes (once a
    second at most), so a long scan pays two float comparisons per response.
    """

    SLACK = 0.05  # seconds added to the uncertainty for rounding and scheduling

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._low = -math.inf
        self._high = math.inf
        self._header: str | None = None
        self._date: float | None = None

    def observe(self, header: str | None, sent: float, received: float) -> None:
        """One response's Date header, with the local times around its request."""
        if not header:
            return
        if header != self._header:
            from email.utils import mktime_tz, parsedate_tz

            parsed = parsedate_tz(header)
            self._header = header
            self._date = float(mktime_tz(parsed)) if parsed is not None else None
        if self._date is None:
            return
        low, high = self._date - received, self._date + 1.0 - sent
        if low > self._high or high < self._low:
            # Inconsistent with what we knew: a clock was set (ours or theirs). Start over.
            self._low, self._high = low, high
            return
        self._low = max(self._low, low)
        self._high = min(self._high, high)

    @property
    def known(self) -> bool:
        return self._high < math.inf

    @property
    def offset(self) -> float | None:
        """Seconds the server's clock is ahead of ours (negative: behind); None if unknown."""
        return (self._low + self._high) / 2 if self.known else None

    @property
    def uncertainty(self) -> float | None:
        """How far `offset` may be off, in seconds; None if unknown."""
        return (self._high - self._low) / 2 + self.SLACK if self.known else None

    def now(self) -> float:
        """Epoch seconds on the server's clock (ours while it is unknown)."""
        return self._wall() + (self.offset or 0.0)


class _Deadline(threading.local):
    """The wall-clock deadline (time.monotonic) of the request this thread is making."""

    at: float | None = None

    def bound(self, timeout: float | None, late: type[Exception]) -> float | None:
        """`timeout` for one socket operation, cut to what is left of the deadline."""
        if self.at is None:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise late("the request's total deadline passed")
        return left if timeout is None else min(timeout, left)


def _proxy_in_env() -> bool:
    names = ("http_proxy", "https_proxy", "all_proxy")
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in names)


def _deadline_backend(inner: Any, deadline: _Deadline) -> Any:
    """An httpcore network backend whose every connect, read and write waits at most what is
    left of the request's deadline. httpx's own timeouts are per socket operation, so a
    server sending one byte a second (headers or body) would otherwise never time out."""
    import httpcore

    class Stream(httpcore.NetworkStream):
        def __init__(self, stream: Any) -> None:
            self._stream = stream

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            data: bytes = self._stream.read(
                max_bytes, deadline.bound(timeout, httpcore.ReadTimeout)
            )
            return data

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self._stream.write(buffer, deadline.bound(timeout, httpcore.WriteTimeout))

        def close(self) -> None:
            self._stream.close()

        def start_tls(
            self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
        ) -> Stream:
            bounded = deadline.bound(timeout, httpcore.ConnectTimeout)
            return Stream(self._stream.start_tls(ssl_context, server_hostname, bounded))

        def get_extra_info(self, info: str) -> Any:
            return self._stream.get_extra_info(info)

    class Backend(httpcore.NetworkBackend):
        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Any = None,
        ) -> Stream:
            bounded = deadline.bound(timeout, httpcore.ConnectTimeout)
            return Stream(inner.connect_tcp(host, port, bounded, local_address, socket_options))

        def connect_unix_socket(
            self, path: str, timeout: float | None = None, socket_options: Any = None
        ) -> Stream:
            bounded = deadline.bound(timeout, httpcore.ConnectTimeout)
            return Stream(inner.connect_unix_socket(path, bounded, socket_options))

        def sleep(self, seconds: float) -> None:
            inner.sleep(seconds)

    return Backend()


class _BodyTooLarge(Exception):
    pass


class _DeadlinePassed(Exception):
    pass


class HttpClient:
    """One keep-alive httpx.Client for the process, with our policy around it."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
        notice: Notice = _ignore,
        log: Notice | None = None,
        key_hint: str = "check ZAZA_API_KEY, or add a profile: zaza profiles add NAME",
        max_tries: int = MAX_TRIES,
        max_total_wait: float = MAX_TOTAL_WAIT,
        sleep: Callable[[float], None] = time.sleep,
        backoff: Callable[[int], float] | None = None,
        max_body: int = MAX_BODY_BYTES,
        read_deadline: float = READ_DEADLINE,
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._debug = log is not None
        self._log_line = log or _ignore
        self._notice = notice
        self._key_hint = key_hint
        self._max_tries = max_tries
        self._max_total_wait = max_total_wait
        self._sleep = sleep
        # Seconds before retry `attempt + 1`; tests pass their own to see retries at once.
        self._backoff = backoff or _backoff
        self._max_body = max_body
        self.server_clock = ServerClock()
        # Set by the first answer: True when the API is zaza's own sandbox on this machine.
        self.is_sandbox: bool | None = None
        read = READ_TIMEOUT if timeout is None else timeout
        connect = min(CONNECT_TIMEOUT, read)
        # The whole of one request (connect, send, headers, body) ends within this.
        self.total_timeout = connect + read
        self.read_budget = max(read_deadline, self.total_timeout)
        self._deadline = _Deadline()
        # TLS is verified for https. A plain-http base URL never uses TLS (redirects
        # are not followed), so loading the CA bundle (~30 ms) would be wasted.
        verify = not self.base_url.startswith("http://")
        # A transport of our own makes httpx ignore HTTP(S)_PROXY, so behind a proxy httpx
        # builds its own and only the checks between body chunks bound a request.
        if transport is None and not _proxy_in_env():
            transport = httpx.HTTPTransport(verify=verify)
            pool = getattr(transport, "_pool", None)
            inner = getattr(pool, "_network_backend", None)
            if inner is not None:
                # No public hook exists for this; without it, the checks between body
                # chunks in `_read_body` still bound a drip-fed body (not its headers).
                pool._network_backend = _deadline_backend(inner, self._deadline)  # type: ignore[union-attr]
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers={"User-Agent": f"zazacli/{__version__}", "Accept": "application/json"},
            timeout=httpx.Timeout(read, connect=connect),
            transport=transport,
            follow_redirects=False,
            verify=verify,
        )

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------ requests

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        response = self.request("GET", path, params=params, retry=True)
        return self.decode(response)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool,
        retry_rate_limited: bool = True,
    ) -> httpx.Response:
        """Send with our retry policy and raise the mapped error for a failed status.

        `retry=True` (safe, idempotent requests) retries on 429, 502/503/504 and any
        transport error. `retry=False` (POST) retries only what provably was not
        sent: connection failures and 429; a timeout after sending raises
        OutcomeUnknownError so the caller can reconcile instead of resending.
        `retry_rate_limited=False` raises a 429 at once as RateLimitedError (with its
        `retry_after`), for callers that pace themselves (batch dispatch).
        """
        import httpx

        if not self._api_key:
            raise AuthError("no API key configured", hint=self._key_hint)
        all_headers = {"Authorization": f"Bearer {self._api_key}", **(headers or {})}
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        waited = 0.0
        attempt = 0
        # Seconds a read has waited on the server, all its tries together (the back-off and a
        # Retry-After it chose to sleep are not counted): at most read_budget.
        on_server = 0.0
        while True:
            attempt += 1
            started = time.monotonic()
            sent_at = time.time()
            self._log(f"> {method} {self._url(path)} {clean_params or ''}".rstrip())
            budget = self._max_total_wait
            deadline = started + self.total_timeout
            if retry:
                deadline = min(deadline, started + self.read_budget - on_server)
            self._deadline.at = deadline
            try:
                response = self._http.send(
                    self._http.build_request(
                        method,
                        path.lstrip("/"),
                        params=clean_params,
                        json=json_body,
                        content=content,
                        headers=all_headers,
                    ),
                    stream=True,
                )
                try:
                    self._read_body(response, deadline)
                finally:
                    response.close()
            except _BodyTooLarge:
                limit = _size(self._max_body)
                if not retry:
                    raise OutcomeUnknownError(
                        f"{method} {path}: the API sent more than {limit} in answer; stopped "
                        "reading, so whether it took effect is unknown"
                    ) from None
                raise ApiError(
                    f"the API sent more than {limit} for {method} {self._display(path)}; stopped",
                    hint="a list? narrow it (--since/--until, filters), or check the base URL",
                ) from None
            except (_DeadlinePassed, httpx.TimeoutException) as exc:
                connecting = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
                if isinstance(exc, httpx.TimeoutException) and (
                    connecting or time.monotonic() < deadline
                ):
                    error, delay, reason = self._transport_failed(exc, method, path, retry, attempt)
                else:
                    # A server this slow to answer (or drip-feeding it) will be no faster
                    # on a second try: stop at the deadline.
                    within = f"within {self.total_timeout:g} s"
                    if retry and attempt > 1:
                        within = f"within {self.read_budget:g} s ({attempt} tries)"
                    if not retry:
                        raise OutcomeUnknownError(
                            f"{method} {path}: the request was sent but no complete answer "
                            f"came {within}"
                        ) from None
                    raise NetworkError(
                        f"no complete answer from {self._host()} for {method} "
                        f"{self._display(path)} {within}; stopped",
                        hint="the server is answering very slowly; --timeout SECONDS gives "
                        "it longer",
                    ) from None
            except httpx.TransportError as exc:
                error, delay, reason = self._transport_failed(exc, method, path, retry, attempt)
            else:
                # Every answer, errors too, tells the server's time (and who it is).
                self.server_clock.observe(response.headers.get("Date"), sent_at, time.time())
                self._note_sandbox(response)
                elapsed_ms = (time.monotonic() - started) * 1000
                self._log(f"< {response.status_code} {method} {path} ({elapsed_ms:.0f} ms)")
                status = response.status_code
                hinted = _retry_after(response) if status in RETRY_STATUSES else None
                if status == 429 and (
                    not retry_rate_limited or (hinted is not None and hinted > RETRY_AFTER_CAP)
                ):
                    # Paced by the caller, or a wait of hours or days: not slept through.
                    raise self._rate_limited(response)
                retryable = status == 429 or (retry and status in RETRY_STATUSES)
                if not retryable:
                    self._raise_for_status(response)
                    return response
                error = ApiError(f"HTTP {status}")
                delay = hinted if hinted is not None else self._backoff(attempt)
                if hinted is not None:
                    budget = RETRY_AFTER_CAP  # the server said how long: honoured, to a cap
                reason = "rate limited (HTTP 429)" if status == 429 else f"HTTP {status}"
                if attempt >= self._max_tries or waited + delay > budget:
                    self._raise_for_status(response)
            if attempt >= self._max_tries or waited + delay > budget:
                raise NetworkError(
                    f"{reason} (gave up after {attempt} tries)",
                    hint="check the base URL (zaza profiles show) and your network",
                ) from (error if self._debug else None)
            on_server += time.monotonic() - started
            if retry and on_server >= self.read_budget - 0.05:
                raise NetworkError(
                    f"{reason}: no answer within {self.read_budget:g} s ({attempt} tries); stopped",
                    hint="the server is not answering; --timeout SECONDS gives each try, and "
                    "the whole, longer",
                ) from (error if self._debug else None)
            self._log(f"try {attempt} of {self._max_tries}: {reason}; next in {delay:.1f} s")
            if delay >= 1.0:
                self._notice(f"{reason}; retrying in {delay:.0f}s (try {attempt + 1})")
            self._sleep(delay)
            waited += delay

    def _transport_failed(
        self, exc: Exception, method: str, path: str, retry: bool, attempt: int
    ) -> tuple[Exception, float, str]:
        """(error, delay, reason) for a retry after a transport error; raises
        OutcomeUnknownError when a request that must not be resent may have been sent."""
        import httpx

        if _no_such_host(exc):
            # A name that does not resolve will not resolve on the next try either.
            raise NetworkError(
                f"cannot connect to {self._host()}: no such host",
                hint="check the base URL (zaza profiles show, --base-url or ZAZA_BASE_URL)",
            ) from None
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
            # Nothing reached the server: safe to retry for every method.
            reason = f"cannot connect to {self._host()}: {_exc_text(exc)}"
            return exc, self._backoff(attempt), reason
        if not retry:
            raise OutcomeUnknownError(
                f"{method} {path}: the request was sent but no answer came ({_exc_text(exc)})"
            ) from None
        return exc, self._backoff(attempt), f"{_exc_text(exc)} from {self._host()}"

    def _read_body(self, response: httpx.Response, deadline: float) -> None:
        """Read the body into `response.content`, stopping past the size cap or the deadline
        (checked between chunks too, should the socket-level bound be unavailable)."""
        chunks: list[bytes] = []
        size = 0
        limit = self._max_body
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise _BodyTooLarge
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise _DeadlinePassed
        # What Response.read() itself does; the body is then read like any other.
        response._content = b"".join(chunks)

    def decode(self, response: httpx.Response) -> Any:
        """The JSON body; anything else is a clear error, not a traceback."""
        if not response.content:
            return None
        try:
            return parse_json(response.content)
        except InvalidJsonError as exc:
            raise ApiError(
                f"the API sent invalid JSON: {exc} (HTTP {response.status_code} for "
                f"{response.request.method} {self._display(response.request.url.path)})",
                hint="zaza reads only standard JSON; check the base URL, or tell the API's "
                "operators",
            ) from None
        except ValueError:
            kind = response.headers.get("Content-Type", "unknown type").split(";")[0]
            raise ApiError(
                f"HTTP {response.status_code} from {self._host()} was not JSON ({kind}): "
                f"{self._message(response)}",
                hint=f"is {self.base_url} the ZazaVoice API base URL (ending in /api/v1)?",
            ) from None

    # ------------------------------------------------------------ helpers

    def _raise_for_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if 300 <= status < 400:
            # Never followed: the key would go wherever the Location says.
            where = response.headers.get("Location")
            target = f" → {where}" if where else " (no Location)"
            raise ApiError(
                f"the API answered {status}{target}; zaza does not follow redirects with your key",
                hint="check the base URL (zaza profiles show, --base-url or ZAZA_BASE_URL)",
                status=status,
            )
        if status < 400:
            return
        text = f"HTTP {status}: {self._message(response)}"
        if status in (401, 403):
            raise self._auth_error(text)
        if status == 404:
            raise NotFoundError(text)
        if status == 429:
            raise RateLimitedError(
                text + " (still after retries)", hint="wait a minute, or lower the request rate"
            )
        if status in (400, 409, 422):
            raise BadRequestError(text, status=status)
        raise ApiError(text, status=status)

    def _auth_error(self, text: str) -> AuthError:
        """401/403: a wrong base URL when it lacks /v1; else where the key is, and keys are made.

        The dashboard's own routes (`/api/agents`, no `/v1`) use another (JWT) login, so a
        key refused there says nothing about the key.
        """
        path = urlsplit(self.base_url).path.rstrip("/")
        if not re.search(r"/v\d+$", path):
            example = f"{self.base_url}/v1" if path.endswith("/api") else "https://HOST/api/v1"
            return AuthError(
                f"{text}: wrong base URL? {self.base_url} does not end in /v1",
                hint="the dashboard's own routes use a different login; the API base URL ends "
                f"in /api/v1, e.g. {example}",
            )
        return AuthError(
            text,
            hint=f"{self._key_hint}; keys are made in Dashboard → Settings → API Keys "
            "(a revoked key stops working at once)",
        )

    def _rate_limited(self, response: httpx.Response) -> RateLimitedError:
        """A 429 as an error; one whose Retry-After is past the cap says when to come back."""
        retry_after = _retry_after(response)
        text = f"HTTP 429: {self._message(response)}"
        if retry_after is None or retry_after <= RETRY_AFTER_CAP:
            error = RateLimitedError(text, hint="lower the request rate")
        else:
            when = retry_time(retry_after)
            error = RateLimitedError(
                f"{text}: the API asks to wait until {when}; zaza waits at most "
                f"{RETRY_AFTER_CAP / 60:g} minutes, so it stopped",
                hint=f"try again after {when}",
            )
        error.retry_after = retry_after
        return error

    def _message(self, response: httpx.Response) -> str:
        """The server's message, with our key cut out should a hostile server echo it."""
        message = server_message(response)
        if self._api_key and self._api_key in message:
            message = message.replace(self._api_key, "[redacted]")
        return message

    def _display(self, path: str) -> str:
        """A request path as the user knows it: relative to the base URL, with a slash."""
        base = urlsplit(self.base_url).path.rstrip("/")
        path = path.removeprefix(base) if base and path.startswith(base + "/") else path
        return "/" + path.lstrip("/")

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url

    def _note_sandbox(self, response: httpx.Response) -> None:
        """The bundled sandbox says so in a header. Believed only from this machine: a header
        from another host must never turn off quiet hours, which protect real people."""
        if self.is_sandbox is None:
            host = urlsplit(self.base_url).hostname or ""
            self.is_sandbox = is_loopback_host(host) and SANDBOX_HEADER in response.headers

    def _log(self, line: str) -> None:
        # Never log headers: the Authorization header carries the key.
        self._log_line(line)


def _no_such_host(exc: BaseException) -> bool:
    """Whether a connection failed because the host name does not exist (not a transient
    DNS failure, which is worth another try)."""
    seen: BaseException | None = exc
    for _ in range(10):  # the chain httpx -> httpcore -> socket is short
        if seen is None:
            return False
        if isinstance(seen, socket.gaierror):
            return seen.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None))
        seen = seen.__cause__ or seen.__context__
    return False


def retry_time(seconds: float, now: Callable[[], float] = time.time) -> str:
    """`2026-05-09 14:00 UTC (in 3 hours)`: when a wait of `seconds` ends."""
    from datetime import UTC, datetime

    try:
        stamp = datetime.fromtimestamp(now() + seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, ValueError, OSError):
        return "a time past the year 9999"
    hours = seconds / 3600
    if hours >= 2:
        left = f"{hours:,.0f} hours"
    elif seconds >= 120:
        left = f"{seconds / 60:.0f} minutes"
    else:
        left = f"{seconds:.0f} seconds"
    return f"{stamp} (in {left})"


def _size(limit: int) -> str:
    mib = limit / (1024 * 1024)
    return f"{mib:g} MiB" if mib >= 1 else f"{limit:,} bytes"


def _exc_text(exc: Exception) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
