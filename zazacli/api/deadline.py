"""One deadline for the whole of a request: httpx bounds each socket operation, so a server
that sends a byte a second would otherwise never time out."""

from __future__ import annotations

import os
import threading
import time
from typing import Any


class Deadline(threading.local):
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


def proxy_in_env() -> bool:
    names = ("http_proxy", "https_proxy", "all_proxy")
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in names)


def deadline_backend(inner: Any, deadline: Deadline) -> Any:
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
