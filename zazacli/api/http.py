"""The HTTP layer: one httpx client, auth, timeouts, bounded retries, and the error map.

Everything that knows about status codes, response bodies and retry policy lives
here; endpoint knowledge (paths, field names) lives in `client.py`.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from zazacli import __version__
from zazacli.errors import (
    ApiError,
    AuthError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    UsageError,
)

if TYPE_CHECKING:
    import httpx

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
MAX_TRIES = 5
MAX_TOTAL_WAIT = 60.0  # seconds spent sleeping between tries, at most
RETRY_STATUSES = frozenset({429, 502, 503, 504})
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

Notice = Callable[[str], None]


def _stderr_notice(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


class BadRequestError(ApiError):
    """400/422: the server refused what we sent; the input needs fixing, not a retry."""

    exit_code = 2


class OutcomeUnknownError(NetworkError):
    """A non-idempotent request was sent but no answer came: it may have taken effect."""


def check_base_url(base_url: str, *, allow_insecure_http: bool) -> None:
    """Refuse to send a Bearer key in clear text to anything but this machine."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"base URL {base_url!r} is not an http(s) URL",
            hint="for example https://api.example.com/api/v1",
        )
    host = parts.hostname
    loopback = host in LOOPBACK_HOSTS or host.startswith("127.")
    if parts.scheme == "http" and not loopback and not allow_insecure_http:
        raise UsageError(
            f"refusing to send the API key over plain HTTP to {host}",
            hint="use https://, or pass --allow-insecure-http if you really mean it",
        )


def server_message(response: httpx.Response) -> str:
    """The most useful one line a failed response carries, whatever its body is."""
    text = response.text.strip() if response.content else ""
    if text:
        try:
            body = json.loads(text)
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


class HttpClient:
    """One keep-alive httpx.Client for the process, with our policy around it."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
        debug: bool = False,
        notice: Notice = _stderr_notice,
        key_hint: str = "check ZAZA_API_KEY, or add a profile: zaza profiles add NAME",
        max_tries: int = MAX_TRIES,
        max_total_wait: float = MAX_TOTAL_WAIT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._debug = debug
        self._notice = notice
        self._key_hint = key_hint
        self._max_tries = max_tries
        self._max_total_wait = max_total_wait
        self._sleep = sleep
        read = READ_TIMEOUT if timeout is None else timeout
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers={"User-Agent": f"zazacli/{__version__}", "Accept": "application/json"},
            timeout=httpx.Timeout(read, connect=min(CONNECT_TIMEOUT, read)),
            transport=transport,
            follow_redirects=False,
            # TLS is verified for https. A plain-http base URL never uses TLS (redirects
            # are not followed), so loading the CA bundle (~30 ms) would be wasted.
            verify=not self.base_url.startswith("http://"),
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
        while True:
            attempt += 1
            started = time.monotonic()
            self._log(f"> {method} {self._url(path)} {clean_params or ''}".rstrip())
            try:
                response = self._http.request(
                    method,
                    path.lstrip("/"),
                    params=clean_params,
                    json=json_body,
                    content=content,
                    headers=all_headers,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing reached the server: safe to retry for every method.
                error: Exception = exc
                delay = _backoff(attempt)
                reason = f"cannot connect to {self._host()}: {_exc_text(exc)}"
            except httpx.TransportError as exc:
                if not retry:
                    raise OutcomeUnknownError(
                        f"{method} {path}: the request was sent but no answer came "
                        f"({_exc_text(exc)})"
                    ) from None
                error = exc
                delay = _backoff(attempt)
                reason = f"{_exc_text(exc)} from {self._host()}"
            else:
                elapsed_ms = (time.monotonic() - started) * 1000
                self._log(f"< {response.status_code} {method} {path} ({elapsed_ms:.0f} ms)")
                status = response.status_code
                if status == 429 and not retry_rate_limited:
                    raise self._rate_limited(response)
                retryable = status == 429 or (retry and status in RETRY_STATUSES)
                if not retryable:
                    self._raise_for_status(response)
                    return response
                error = ApiError(f"HTTP {status}")
                hinted = _retry_after(response)
                delay = hinted if hinted is not None else _backoff(attempt)
                reason = "rate limited (HTTP 429)" if status == 429 else f"HTTP {status}"
                if attempt >= self._max_tries or waited + delay > self._max_total_wait:
                    self._raise_for_status(response)
            if attempt >= self._max_tries or waited + delay > self._max_total_wait:
                raise NetworkError(
                    f"{reason} (gave up after {attempt} tries)",
                    hint="check the base URL and your network: zaza profiles test",
                ) from (error if self._debug else None)
            if delay >= 1.0:
                self._notice(f"{reason}; retrying in {delay:.0f}s (try {attempt + 1})")
            self._sleep(delay)
            waited += delay

    def decode(self, response: httpx.Response) -> Any:
        """The JSON body; anything else is a clear error, not a traceback."""
        if not response.content:
            return None
        try:
            return response.json()
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
        if status < 400:
            return
        text = f"HTTP {status}: {self._message(response)}"
        if status in (401, 403):
            raise AuthError(text, hint=self._key_hint)
        if status == 404:
            raise NotFoundError(text)
        if status == 429:
            raise RateLimitedError(
                text + " (still after retries)", hint="wait a minute, or lower the request rate"
            )
        if status in (400, 409, 422):
            raise BadRequestError(text, status=status)
        raise ApiError(text, status=status)

    def _rate_limited(self, response: httpx.Response) -> RateLimitedError:
        error = RateLimitedError(
            f"HTTP 429: {self._message(response)}", hint="lower the request rate"
        )
        error.retry_after = _retry_after(response)
        return error

    def _message(self, response: httpx.Response) -> str:
        """The server's message, with our key cut out should a hostile server echo it."""
        message = server_message(response)
        if self._api_key and self._api_key in message:
            message = message.replace(self._api_key, "[redacted]")
        return message

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url

    def _log(self, line: str) -> None:
        # Never log headers: the Authorization header carries the key.
        if self._debug:
            sys.stderr.write(f"debug: {line}\n")


def _exc_text(exc: Exception) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
