"""The listener's data: its configuration, what it received, what it reports, its counts.

Kept apart from the server and the listener so that the HTTP plumbing (server.py), the
pure request checks (classify.py) and the printer can all name them without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zazacli.webhooks.delivery import DeliveryResult

MAX_BODY = 1024 * 1024
REQUEST_DEADLINE = 10.0
MAX_CONNECTIONS = 64

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
