"""HTTP/1.1 on the wire, without sockets: requests parsed, answers built.

What the server core (server.py) reads a request with, and what the listener and the
sandbox build their answers with. The head is parsed once, here, in a few string
operations: not through `http.server` and the email package. Anything a client sends may be
hostile: the head is refused (a `Problem`) rather than guessed at when it is not HTTP/1.x,
has a bare CR, a header line without a name (or with blanks in it), or folded (obs-fold)
lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import NamedTuple

CHUNKED = -1  # a body length: the body is chunked (Transfer-Encoding: chunked)
MAX_HEAD = 64 * 1024  # request line and header fields together
MAX_HEADERS = 100
MAX_CHUNK_LINE = 1024
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class Answer(NamedTuple):
    """A whole response (status line, headers, body) and whether to close after it."""

    data: bytes
    close: bool = False


# Close without a byte of answer: the client sees the connection drop.
DROP = Answer(b"", True)


class Later:
    """Work to run on a worker thread (it may block); what it returns is the answer."""

    __slots__ = ("work",)

    def __init__(self, work: Callable[[], Answer]) -> None:
        self.work = work


class Headers:
    """A request's fields in arrival order; looked up case-insensitively, the first of a
    name winning, as `email.message.Message` (which `http.server` hands over) does."""

    __slots__ = ("_fields", "_first")

    def __init__(self, fields: list[tuple[str, str]], first: dict[str, str] | None = None):
        self._fields = fields
        if first is None:
            first = {}
            for name, value in fields:
                first.setdefault(name.lower(), value)
        self._first = first

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._first.get(name.lower(), default)

    def get_all(self, name: str) -> list[str]:
        lower = name.lower()
        return [value for key, value in self._fields if key.lower() == lower]

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first

    def __len__(self) -> int:
        return len(self._fields)


class Request:
    __slots__ = ("method", "target", "version", "headers", "client", "body", "close", "expect")

    def __init__(
        self, method: str, target: str, version: str, headers: Headers, client: str
    ) -> None:
        self.method = method
        self.target = target  # as sent: path and query
        self.version = version
        self.headers = headers
        self.client = client
        self.body = b""
        self.close = False  # the client asked to close (or speaks HTTP/1.0)
        self.expect = False  # Expect: 100-continue

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    @property
    def has_body(self) -> bool:
        length = self.headers.get("Content-Length")
        return bool(self.headers.get("Transfer-Encoding")) or (
            length is not None and length.strip() != "0"
        )


class Problem(NamedTuple):
    """A request that cannot be parsed: its status and what was wrong."""

    status: int
    message: str


def parse_head(head: bytes, client: str) -> Request | Problem:
    """The request line and header fields (`head` without its blank line)."""
    text = head.decode("latin-1")
    lines = text.split("\r\n")
    if text.count("\n") != len(lines) - 1 or text.count("\r") != len(lines) - 1:
        # Bare LF line ends (http.server takes them too); a bare CR is refused below.
        lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    words = lines[0].split()
    if len(words) != 3:
        return Problem(400, f"Bad request syntax ({lines[0]!r})")
    method, target, version = words
    if version != "HTTP/1.1":
        problem = _check_version(version)
        if problem is not None:
            return problem
    if len(lines) > MAX_HEADERS + 1:
        return Problem(431, "Too many headers")
    fields: list[tuple[str, str]] = []
    first: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or " " in name or "\t" in name or "\r" in line:
            return Problem(400, f"Bad header line ({line[:80]!r})")
        value = value.lstrip(" \t")
        fields.append((name, value))
        first.setdefault(name.lower(), value)
    if target.startswith("//"):
        target = "/" + target.lstrip("/")  # as http.server: not a scheme-relative URL
    request = Request(method, target, version, Headers(fields, first), client)
    connection = first.get("connection", "").lower()
    if version == "HTTP/1.1":
        request.close = connection == "close"
        request.expect = first.get("expect", "").lower() == "100-continue"
    else:  # HTTP/1.0: one request, unless it asks to keep the connection
        request.close = connection != "keep-alive"
    return request


def _check_version(version: str) -> Problem | None:
    number = version[5:] if version.startswith("HTTP/") else ""
    major, dot, minor = number.partition(".")
    if not (dot and major.isdigit() and minor.isdigit() and major.isascii() and minor.isascii()):
        return Problem(400, f"Bad request version ({version!r})")
    if len(major) > 10 or len(minor) > 10:
        return Problem(400, f"Bad request version ({version!r})")
    if (int(major), int(minor)) >= (2, 0):
        return Problem(505, f"Invalid HTTP version ({number})")
    return None


def head_end(buffer: bytearray) -> tuple[int, int]:
    """Where the head ends (-1: not yet) and where the body starts."""
    crlf = buffer.find(b"\r\n\r\n")
    lf = buffer.find(b"\n\n", 0, crlf if crlf >= 0 else len(buffer))
    if lf >= 0:
        return lf, lf + 2
    return crlf, crlf + 4


def size_text(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit % (1 << 20) == 0 else f"{limit} bytes"


def chunk_size(line: bytes) -> int | None:
    digits = line.split(b";", 1)[0].strip()
    if not digits or len(digits) > 16 or digits.strip(b"0123456789abcdefABCDEF"):
        return None
    return int(digits, 16)


class Chunked:
    """A chunked body (Transfer-Encoding: chunked) read as it arrives, up to `limit` bytes."""

    __slots__ = ("limit", "chunks", "size", "state")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.size = 0
        self.state = -1  # -1: a size line next; -2: trailers; n >= 0: n bytes of data

    def take(self, buffer: bytearray) -> bytes | Problem | None:
        """Consume what `buffer` holds of the body: the body once whole, else None."""
        while True:
            start = max(self.state, 0)  # a chunk's data is followed by its line end
            end = buffer.find(b"\n", start)
            if end < 0 and len(buffer) <= start + MAX_CHUNK_LINE:
                return None
            if end < 0 or (self.state >= 0 and buffer[start:end] not in (b"", b"\r")):
                return Problem(400, "Malformed chunked body")
            line = bytes(buffer[:end])
            del buffer[: end + 1]
            if self.state >= 0:
                self.chunks.append(line[: self.state])
                self.state = -1
            elif self.state == -2:  # trailers, up to a blank line
                if not line.strip():
                    return b"".join(self.chunks)
            elif (size := chunk_size(line)) is None:
                return Problem(400, "Malformed chunked body")
            elif self.size + size > self.limit:
                return Problem(413, f"Request body is over the {size_text(self.limit)} limit")
            else:
                self.size += size
                self.state = size or -2


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


_date_cache: tuple[int, str] = (0, "")


def http_date() -> str:
    """Now, as the Date header says it (formatted once a second)."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now)))
    return _date_cache[1]


def answer(
    status: int,
    body: bytes,
    headers: Iterable[tuple[str, str]] = (),
    *,
    close: bool = False,
    head: bool = False,
) -> Answer:
    """A whole response: status line, the `headers` given, Content-Length, `Connection:
    close` when closing; the body unless answering HEAD."""
    lines = [f"HTTP/1.1 {status} {reason(status)}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return Answer(data if head else data + body, close)


NO_REQUEST = Request("", "", "", Headers([]), "")
