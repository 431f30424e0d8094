"""The HTTP layer: one httpx client, auth, timeouts, bounded retries, and the error map.

Everything that knows about status codes, response bodies and retry policy lives
here; endpoint knowledge (paths, field names) lives in `client.py`.
"""

from __future__ import annotations

import random
import re
import socket
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from zazacli import __version__
from zazacli.api.clock import ServerClock
from zazacli.api.deadline import Deadline, deadline_backend, proxy_in_env
from zazacli.api.jsonbody import InvalidJsonError, parse_json
from zazacli.api.urls import is_loopback_host
from zazacli.api.values import SANDBOX_HEADER
from zazacli.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    NetworkError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ZazaError,
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


Notice = Callable[[str], None]


def _ignore(message: str) -> None:
    pass


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


class _BodyTooLarge(Exception):
    pass


class _DeadlinePassed(Exception):
    pass


class _Send(NamedTuple):
    """One request as the caller asked for it, sent again as it is on each try."""

    method: str
    path: str
    params: dict[str, Any]
    json_body: Any
    content: bytes | None
    headers: dict[str, str]


class _Retry(NamedTuple):
    """A try that may be made again: why, after how long, and the most the request may
    wait in all (a server's Retry-After is honoured to a cap of its own)."""

    error: Exception
    delay: float
    reason: str
    budget: float
    response: httpx.Response | None = None  # a retryable answer, raised as is at the end


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
        # Answers received, errors included: whether a connection (over https, a verified
        # TLS handshake) was ever made, for `zaza doctor`.
        self.answers = 0
        # Set by the first answer: True when the API is zaza's own sandbox on this machine.
        self.is_sandbox: bool | None = None
        read = READ_TIMEOUT if timeout is None else timeout
        connect = min(CONNECT_TIMEOUT, read)
        # The whole of one request (connect, send, headers, body) ends within this.
        self.total_timeout = connect + read
        self.read_budget = max(read_deadline, self.total_timeout)
        self._deadline = Deadline()
        self._http = self._client(transport, read, connect)

    def _client(
        self, transport: httpx.BaseTransport | None, read: float, connect: float
    ) -> httpx.Client:
        import httpx

        # TLS is verified for https. A plain-http base URL never uses TLS (redirects
        # are not followed), so loading the CA bundle (~30 ms) would be wasted.
        verify = not self.base_url.startswith("http://")
        # A transport of our own makes httpx ignore HTTP(S)_PROXY, so behind a proxy httpx
        # builds its own and only the checks between body chunks bound a request.
        if transport is None and not proxy_in_env():
            transport = httpx.HTTPTransport(verify=verify)
            pool = getattr(transport, "_pool", None)
            inner = getattr(pool, "_network_backend", None)
            if inner is not None:
                # No public hook exists for this; without it, the checks between body
                # chunks in `_read_body` still bound a drip-fed body (not its headers).
                pool._network_backend = deadline_backend(inner, self._deadline)  # type: ignore[union-attr]
        return httpx.Client(
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
        if not self._api_key:
            raise AuthError("no API key configured", hint=self._key_hint)
        all_headers = {"Authorization": f"Bearer {self._api_key}", **(headers or {})}
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        send = _Send(method, path, clean_params, json_body, content, all_headers)
        waited = 0.0
        attempt = 0
        # Seconds a read has waited on the server, all its tries together (the back-off and a
        # Retry-After it chose to sleep are not counted): at most read_budget.
        on_server = 0.0
        while True:
            attempt += 1
            started = time.monotonic()
            deadline = started + self.total_timeout
            if retry:
                deadline = min(deadline, started + self.read_budget - on_server)
            outcome = self._attempt(send, deadline, attempt, retry, retry_rate_limited)
            if not isinstance(outcome, _Retry):
                return outcome
            on_server += time.monotonic() - started
            self._next_try(outcome, attempt, waited, on_server, retry)
            self._sleep(outcome.delay)
            waited += outcome.delay

    def _attempt(
        self, send: _Send, deadline: float, attempt: int, retry: bool, retry_rate_limited: bool
    ) -> httpx.Response | _Retry:
        """One try: the answer, a retry to make, or the error that ends the request."""
        import httpx

        method, path = send.method, send.path
        started, sent_at = time.monotonic(), time.time()
        self._log(f"> {method} {self._url(path)} {send.params or ''}".rstrip())
        self._deadline.at = deadline
        try:
            response = self._http.send(
                self._http.build_request(
                    method,
                    path.lstrip("/"),
                    params=send.params,
                    json=send.json_body,
                    content=send.content,
                    headers=send.headers,
                ),
                stream=True,
            )
            try:
                self._read_body(response, deadline)
            finally:
                response.close()
        except _BodyTooLarge:
            raise self._too_large(method, path, retry) from None
        except (_DeadlinePassed, httpx.TimeoutException) as exc:
            connecting = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            if isinstance(exc, httpx.TimeoutException) and (
                connecting or time.monotonic() < deadline
            ):
                return self._transport_failed(exc, method, path, retry, attempt)
            # A server this slow to answer (or drip-feeding it) will be no faster on a
            # second try: stop at the deadline.
            raise self._too_slow(method, path, retry, attempt) from None
        except httpx.TransportError as exc:
            return self._transport_failed(exc, method, path, retry, attempt)
        # Every answer, errors too, tells the server's time (and who it is).
        self.answers += 1
        self.server_clock.observe(response.headers.get("Date"), sent_at, time.time())
        self._note_sandbox(response)
        elapsed_ms = (time.monotonic() - started) * 1000
        self._log(f"< {response.status_code} {method} {path} ({elapsed_ms:.0f} ms)")
        return self._answered(response, attempt, retry, retry_rate_limited)

    def _answered(
        self, response: httpx.Response, attempt: int, retry: bool, retry_rate_limited: bool
    ) -> httpx.Response | _Retry:
        """A success, a status to retry, or the mapped error of a failed status."""
        status = response.status_code
        hinted = _retry_after(response) if status in RETRY_STATUSES else None
        if status == 429 and (
            not retry_rate_limited or (hinted is not None and hinted > RETRY_AFTER_CAP)
        ):
            # Paced by the caller, or a wait of hours or days: not slept through.
            raise self._rate_limited(response)
        if not (status == 429 or (retry and status in RETRY_STATUSES)):
            self._raise_for_status(response)
            return response
        reason = "rate limited (HTTP 429)" if status == 429 else f"HTTP {status}"
        if hinted is not None:  # the server said how long: honoured, to a cap
            return _Retry(ApiError(f"HTTP {status}"), hinted, reason, RETRY_AFTER_CAP, response)
        delay = self._backoff(attempt)
        return _Retry(ApiError(f"HTTP {status}"), delay, reason, self._max_total_wait, response)

    def _next_try(
        self, outcome: _Retry, attempt: int, waited: float, on_server: float, retry: bool
    ) -> None:
        """Raise when no try is left (the answer's own error first); else say what comes."""
        reason, delay = outcome.reason, outcome.delay
        if attempt >= self._max_tries or waited + delay > outcome.budget:
            if outcome.response is not None:
                self._raise_for_status(outcome.response)
            raise NetworkError(
                f"{reason} (gave up after {attempt} tries)",
                hint="check the base URL (zaza profiles show) and your network",
            ) from (outcome.error if self._debug else None)
        if retry and on_server >= self.read_budget - 0.05:
            raise NetworkError(
                f"{reason}: no answer within {self.read_budget:g} s ({attempt} tries); stopped",
                hint="the server is not answering; --timeout SECONDS gives each try, and "
                "the whole, longer",
            ) from (outcome.error if self._debug else None)
        self._log(f"try {attempt} of {self._max_tries}: {reason}; next in {delay:.1f} s")
        if delay >= 1.0:
            self._notice(f"{reason}; retrying in {delay:.0f}s (try {attempt + 1})")

    def _too_large(self, method: str, path: str, retry: bool) -> ZazaError:
        limit = _size(self._max_body)
        if not retry:
            return OutcomeUnknownError(
                f"{method} {path}: the API sent more than {limit} in answer; stopped "
                "reading, so whether it took effect is unknown"
            )
        return ApiError(
            f"the API sent more than {limit} for {method} {self._display(path)}; stopped",
            hint="a list? narrow it (--since/--until, filters), or check the base URL",
        )

    def _too_slow(self, method: str, path: str, retry: bool, attempt: int) -> ZazaError:
        within = f"within {self.total_timeout:g} s"
        if retry and attempt > 1:
            within = f"within {self.read_budget:g} s ({attempt} tries)"
        if not retry:
            return OutcomeUnknownError(
                f"{method} {path}: the request was sent but no complete answer came {within}"
            )
        return NetworkError(
            f"no complete answer from {self._host()} for {method} {self._display(path)} "
            f"{within}; stopped",
            hint="the server is answering very slowly; --timeout SECONDS gives it longer",
        )

    def _transport_failed(
        self, exc: Exception, method: str, path: str, retry: bool, attempt: int
    ) -> _Retry:
        """The retry after a transport error; raises OutcomeUnknownError when a request
        that must not be resent may have been sent."""
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
            return _Retry(exc, self._backoff(attempt), reason, self._max_total_wait)
        if not retry:
            raise OutcomeUnknownError(
                f"{method} {path}: the request was sent but no answer came ({_exc_text(exc)})"
            ) from None
        reason = f"{_exc_text(exc)} from {self._host()}"
        return _Retry(exc, self._backoff(attempt), reason, self._max_total_wait)

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
