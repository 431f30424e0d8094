"""Enumerated wire values of the API (no imports beyond `re`: the CLI's help text uses them)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

CALL_STATUSES = (
    "QUEUED",
    "RINGING",
    "IN_PROGRESS",
    "COMPLETED",
    "FAILED",
    "NO_ANSWER",
    "BUSY",
    "CANCELED",
)
# A status this CLI does not know is shown as it comes; `call_is_over` decides whether it ended.
TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "NO_ANSWER", "BUSY", "CANCELED"})
LIVE_STATUSES = frozenset({"QUEUED", "RINGING", "IN_PROGRESS"})
DIRECTIONS = ("INBOUND", "OUTBOUND")
# The largest id zaza takes for a call, agent or campaign (the API's ids are 64-bit).
ID_MAX = 2**63 - 1
# How the API writes statuses (UPPER_SNAKE_CASE): an unknown value of this shape may be a
# status the docs do not list (e.g. VOICEMAIL), so `--status` passes it through.
_STATUS_SHAPE = r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*"


def looks_like_status(text: str) -> bool:
    """Written as the API writes statuses (UPPER_SNAKE_CASE)."""
    return re.fullmatch(_STATUS_SHAPE, text) is not None


# Our own header, not the API's: the bundled sandbox (`zaza sandbox`, `--sandbox`) sends it
# on every answer, so zaza knows that no phone will ring (quiet hours need not apply).
SANDBOX_HEADER = "X-Zaza-Sandbox"


def is_known_status(status: object) -> bool:
    return isinstance(status, str) and status.upper() in CALL_STATUSES


def call_is_over(call: Mapping[str, Any]) -> bool:
    """A known final status, or an `endedAt` time, or (for a status zaza does not know) a
    duration: whatever its status says, a call with an end is over."""
    status = call.get("status")
    upper = status.upper() if isinstance(status, str) else None
    if upper in TERMINAL_STATUSES or call.get("endedAt"):
        return True
    return upper not in LIVE_STATUSES and call.get("durationSeconds") is not None
