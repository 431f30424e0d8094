"""The sandbox's answers: a response as bytes, and Spring Boot's default error body."""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import NamedTuple

from zazacli.sandbox.data import dumps, iso


class Response(NamedTuple):
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    close: bool = False


# Not an answer: the connection is closed without a byte written (lost-answer, lose-dispatch).
DROP = Response(0, b"", (), True)


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_response(
    status: int,
    message: str,
    path: str,
    headers: tuple[tuple[str, str], ...] = (),
    close: bool = False,
    now: float | None = None,
) -> Response:
    """Spring Boot's default error body (`now`: the server's clock, when it is skewed)."""
    body = dumps(
        {
            "timestamp": iso(time.time() if now is None else now),
            "status": status,
            "error": reason_phrase(status),
            "message": message,
            "path": path,
        }
    )
    return Response(status, body, headers, close)


class BadRequest(Exception):
    """A request the API rejects with 400 (or `status`) and a Spring error body."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
