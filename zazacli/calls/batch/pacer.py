"""Pacing a batch under the API's rate limit: one start every 1/rate seconds across
threads, halved on a 429 and climbing back on success."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

from zazacli.api.http import (
    RETRY_AFTER_CAP,
)
from zazacli.errors import UsageError

DEFAULT_RATE = 2.0  # calls per second: well under any per-key limit we know of


# ---------------------------------------------------------------- pacing


class Pacer:
    """Spaces request starts 1/rate apart across threads. On a 429 it halves the rate and
    pauses everyone for the Retry-After; each success then climbs back toward the target."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.target = rate
        self.rate = rate
        self.min_rate = min(rate, 0.1)
        self.rate_limited_count = 0
        self.slowdowns = 0
        self._clock = clock
        self._next = 0.0
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """The next free start time (monotonic clock), taken by this caller."""
        with self._lock:
            slot = max(self._clock(), self._next, self._paused_until)
            self._next = slot + 1.0 / self.rate
            return slot

    def wait(self, slot: float, stop: threading.Event) -> bool:
        """Block until `slot` (or later, after a 429); False when `stop` was set meanwhile."""
        while True:
            with self._lock:
                due = max(slot, self._paused_until)  # a 429 after our turn was given
            delay = due - self._clock()
            if delay <= 0:
                return not stop.is_set()
            if stop.wait(min(delay, 0.2)):
                return False

    def rate_limited(self, retry_after: float | None) -> None:
        with self._lock:
            now = self._clock()
            self.rate_limited_count += 1
            if now >= self._paused_until:  # requests in flight share one slowdown
                self.rate = max(self.min_rate, self.rate / 2)
                self.slowdowns += 1
            pause = min(RETRY_AFTER_CAP, retry_after if retry_after is not None else 1.0)
            self._paused_until = max(self._paused_until, now + pause)
            self._next = max(self._next, self._paused_until)

    def succeeded(self) -> None:
        with self._lock:
            if self.rate < self.target:
                self.rate = min(self.target, self.rate + self.target / 10)


_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|sec|second|m|min|minute|h|hour))?\s*$", re.I)
_RATE_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
}


def parse_rate(value: str) -> float:
    """`10`, `10/s`, `600/min` as calls per second."""
    match = _RATE.match(value)
    rate = 0.0
    if match:
        rate = float(match.group(1)) / _RATE_UNITS[(match.group(2) or "s").lower()]
    if not 0 < rate <= 1000:
        raise UsageError(f"--rate: cannot read {value!r} as a rate", hint="e.g. 2, 5/s, 120/min")
    return rate
