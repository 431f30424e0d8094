"""Enumerated wire values of the API (no imports: the CLI's help text uses them)."""

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
# Any status not listed here is treated as still in progress and shown as it comes.
TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "NO_ANSWER", "BUSY", "CANCELED"})
DIRECTIONS = ("INBOUND", "OUTBOUND")
