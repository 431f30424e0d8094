"""The server's clock, as its answers tell it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


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
