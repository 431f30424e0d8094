"""Every failure zazacli reports, with its exit code and a one-line hint.

This module is the single map from "what went wrong" to "what the shell sees";
`zaza --help` is written from EXIT_CODES, and a test checks docs/scripting.md against it.
"""

from __future__ import annotations

from collections.abc import Mapping

# code -> meaning; documented in docs/scripting.md and in `zaza --help`.
EXIT_CODES: dict[int, str] = {
    0: "success (also: a list with no results)",
    1: "API or runtime error",
    2: "usage error or bad input (nothing was sent)",
    3: "not found",
    4: "authentication failed (401/403) or no API key",
    5: "rate limited, still after retries",
    6: "network error or timeout (for a dispatch: it was sent, outcome unknown)",
    10: "--wait: the call FAILED",
    11: "--wait: the call was not answered (NO_ANSWER)",
    12: "--wait: the line was BUSY",
    13: "--wait: the call was CANCELED",
    14: "--wait: timed out before the call ended",
    15: "--wait: the call ended in a status zaza does not know",
    16: "calls batch, dnc import: rows were invalid and skipped (every valid one was done)",
    17: "blocked by the contact policy (do-not-call list, frequency cap, repeat window, or "
    "a guard that cannot be read): nothing was dialled to that number",
    18: "calls review: at least one finding (a call broke a rule)",
    130: "interrupted (Ctrl-C)",
}

# `zaza calls check` alone exits with these instead: it is a monitoring plugin, and
# Nagios, Icinga, Checkmk (and cron wrappers written for them) read only 0 to 3, taking any
# other code as UNKNOWN or worse. So every failure of that command, zaza's errors and
# usage errors included, is UNKNOWN; every other command keeps EXIT_CODES. Documented in
# docs/monitoring.md and in `zaza calls check --help`.
PLUGIN_STATES: dict[str, int] = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
PLUGIN_EXIT_CODES: dict[int, str] = {
    0: "OK: no condition held",
    1: "WARNING: a --warn-if condition held, and no --crit-if one",
    2: "CRITICAL: a --crit-if condition held",
    3: "UNKNOWN: no verdict (bad condition or option, API unreachable, bad key, any zaza error)",
}


class ZazaError(Exception):
    """Base of every error the CLI reports as one line plus an optional hint."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(ZazaError):
    exit_code = 2


class ConfigError(ZazaError):
    exit_code = 2


class NotFoundError(ZazaError):
    exit_code = 3


class AuthError(ZazaError):
    exit_code = 4


class RateLimitedError(ZazaError):
    exit_code = 5
    # Seconds the server asked us to wait (Retry-After), when it said; read by batch pacing.
    retry_after: float | None = None


class NetworkError(ZazaError):
    exit_code = 6


class OutcomeUnknownError(NetworkError):
    """A non-idempotent request was sent but no answer came: it may have taken effect."""


class NothingSentError(ZazaError):
    """A dispatch stopped before its POST, on a read it needed (a network error, a timeout):
    no call was made, so running it again is safe. Exit 1, where a network error after
    the POST is exit 6 (outcome unknown)."""


class ScanDeadlineError(NetworkError):
    """A scan of a list ran past its time budget (a server that pages on and on)."""


class QueryError(ZazaError):
    """A `--jq` program or a `--template` failed on the data (`.foo` of a number, a
    template reaching for Python's internals). One that does not compile is a UsageError."""

    exit_code = 1


class ScanError(ZazaError):
    """A list the server answered in a way zaza cannot read correctly: pages that loop or
    do not advance, or an order zaza cannot correct. Raised rather than print wrong rows."""

    exit_code = 1


class ApiError(ZazaError):
    """Any other HTTP error status from the API (5xx after retries, 400, 422 …)."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, hint)
        self.status = status

    @property
    def maybe_applied(self) -> bool:
        """Whether a write answered this way may have taken effect anyway: a 5xx (a proxy
        after the API acted) or a redirect (303 See Other to what it created)."""
        status = self.status or 0
        return status >= 500 or 300 <= status < 400


class BadRequestError(ApiError):
    """400/422: the server refused what we sent; the input needs fixing, not a retry."""

    exit_code = 2


class MissingExtraError(ZazaError):
    """A command needs an optional extra that is not installed (`zaza mcp` without
    `zazacli[mcp]`): one line with the install command, exit 1."""

    exit_code = 1


class InvalidRowsError(ZazaError):
    """A batch queued every valid row, but some rows were not numbers it could call: cron
    must be able to tell "all called" from "some never will be"."""

    exit_code = 16


class BlockedError(ZazaError):
    """The contact policy refused a dial: a listed number, the frequency cap, or a guard
    that cannot be read (fail closed). Nothing was sent to that number."""

    exit_code = 17


class CallOutcomeError(ZazaError):
    """A followed call ended in a state other than COMPLETED, or the wait ran out."""

    def __init__(self, message: str, exit_code: int, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.exit_code = exit_code


# Terminal call statuses other than COMPLETED, and the exit code each maps to.
CALL_OUTCOME_EXIT: dict[str, int] = {"FAILED": 10, "NO_ANSWER": 11, "BUSY": 12, "CANCELED": 13}
WAIT_TIMEOUT_EXIT = 14
# `zaza calls review` found something: not an error, but a result cron must be able to tell
# from "all clear" (`zaza calls review --sync --since 1d || notify`).
FINDINGS_EXIT = 18
UNKNOWN_STATUS_EXIT = 15
INTERRUPTED_EXIT = 130


def exit_codes_help(codes: Mapping[int, str] | None = None) -> str:
    """An exit-code table for `--help` epilogs (`\b` keeps Click from rewrapping it): every
    code, or a command's own reading of the codes it uses (keyed by the constants here)."""
    rows = "\n".join(f"  {code:<4} {text}" for code, text in sorted((codes or EXIT_CODES).items()))
    return f"\b\nExit codes:\n{rows}"
