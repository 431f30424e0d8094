"""Sending a webhook: the one place that builds a signed request and POSTs it.

`trigger`, `replay` and the listener's `--forward-to` all go through `webhook_headers`
and `post_webhook`. Stdlib `http.client` keeps the listener process free of httpx and
gives one fresh connection per delivery, so a target that closed a kept-alive
connection can never make us send an event twice.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from zazacli.webhooks.signing import EVENT_HEADER, SIGNATURE_HEADER, sign

# Enough of a target's answer to show an error page's first line, never a whole download.
MAX_RESPONSE_BODY = 64 * 1024


@dataclass(frozen=True)
class DeliveryResult:
    """What the target answered (`status`), or why it did not (`error`)."""

    status: int | None
    reason: str
    latency_ms: float
    body: bytes = b""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def first_line(self, limit: int = 160) -> str:
        text = self.body.decode("utf-8", "replace").strip()
        line = text.splitlines()[0] if text else ""
        return line if len(line) <= limit else line[: limit - 1] + "…"

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "latency_ms": round(self.latency_ms, 1),
            "error": self.error,
            "body": self.first_line() if not self.ok else None,
        }


def check_target_url(url: str) -> str:
    """An http(s) URL with a host, else ValueError with a readable reason."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// URL")
    try:
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise ValueError(f"{url!r} has an invalid port") from None
    return url


def webhook_headers(
    raw: bytes,
    event: str | None,
    *,
    secret: str | None = None,
    signature: str | None = None,
) -> dict[str, str]:
    """The headers ZazaVoice sends: signed with `secret` when given, else `signature` as-is."""
    headers = {"Content-Type": "application/json"}
    if event:
        headers[EVENT_HEADER] = event
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, raw)
    elif signature:
        headers[SIGNATURE_HEADER] = signature
    return headers


def post_webhook(
    url: str, raw: bytes, headers: Mapping[str, str], timeout: float = 10.0
) -> DeliveryResult:
    """POST `raw` exactly as given; never raises for network trouble, reports it instead."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    started = time.perf_counter()

    def failed(error: str) -> DeliveryResult:
        return DeliveryResult(None, "", (time.perf_counter() - started) * 1000, error=error)

    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request("POST", target, body=raw, headers={**headers, "Connection": "close"})
        response = connection.getresponse()
        body = response.read(MAX_RESPONSE_BODY)
        elapsed = (time.perf_counter() - started) * 1000
        return DeliveryResult(response.status, response.reason, elapsed, body)
    except TimeoutError:
        return failed(f"timed out after {timeout:g}s")
    except ConnectionRefusedError:
        return failed(f"connection refused by {parts.netloc}")
    except socket.gaierror:
        return failed(f"cannot resolve host {parts.hostname}")
    except (OSError, http.client.HTTPException) as exc:
        return failed(f"{type(exc).__name__}: {exc}".rstrip(": "))
    except ValueError as exc:
        # A header http.client will not send (a newline, a non-Latin-1 character): a
        # hand-edited saved file, never a crash.
        return failed(f"cannot send this request: {exc}")
    finally:
        connection.close()
