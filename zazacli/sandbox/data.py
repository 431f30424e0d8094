"""The call rules and records: outcomes, the live timeline, the Call as the API shows it.

Outcome rule: a dispatched call ends by the last digit of its `toNumber`
(:func:`outcome_for_number`); seeded outbound calls obey it too:

    0 FAILED (failureReason CARRIER_ERROR)   1 NO_ANSWER   2 BUSY   3 CANCELED
    4 COMPLETED, INTERESTED      5 COMPLETED, NOT_INTERESTED   6 COMPLETED, CALLBACK_REQUESTED
    7 COMPLETED, VOICEMAIL       8 COMPLETED, APPOINTMENT_BOOKED   9 COMPLETED, DO_NOT_CALL

Timeline of a live call at speed 1 (every time is divided by `speed`): QUEUED at 0 s,
RINGING at 1 s, IN_PROGRESS at 3 s (answered calls only, that is those that end COMPLETED),
terminal at 8 s. FAILED, NO_ANSWER, BUSY and CANCELED go straight from RINGING to the end.
A call's status is computed from the clock when it is read, so no thread runs per call.
All times here are on the sandbox's own clock (the machine's, unless the clock-skew quirk
shifts it). The seeded agents, campaigns and calls are made in `seed.py`, the transcripts
in `transcripts.py`.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, NamedTuple

RING_AFTER = 1.0
ANSWER_AFTER = 3.0
END_AFTER = 8.0
TERMINAL_STATUSES = ("COMPLETED", "FAILED", "NO_ANSWER", "BUSY", "CANCELED")
STATUSES = ("QUEUED", "RINGING", "IN_PROGRESS", *TERMINAL_STATUSES)
RECORDING_URL = "https://recordings.sandbox.zazavoice.invalid/calls/{id}.mp3"
# A status outside the documented list, for the unknown-status quirk.
UNKNOWN_STATUS = "VOICEMAIL"


class Outcome(NamedTuple):
    status: str
    disposition: str | None = None
    failure_reason: str | None = None


_OUTCOMES: dict[str, Outcome] = {
    "0": Outcome("FAILED", failure_reason="CARRIER_ERROR"),
    "1": Outcome("NO_ANSWER"),
    "2": Outcome("BUSY"),
    "3": Outcome("CANCELED"),
    "4": Outcome("COMPLETED", "INTERESTED"),
    "5": Outcome("COMPLETED", "NOT_INTERESTED"),
    "6": Outcome("COMPLETED", "CALLBACK_REQUESTED"),
    "7": Outcome("COMPLETED", "VOICEMAIL"),
    "8": Outcome("COMPLETED", "APPOINTMENT_BOOKED"),
    "9": Outcome("COMPLETED", "DO_NOT_CALL"),
}


def outcome_for_number(to_number: str) -> Outcome:
    """How a call to `to_number` ends: chosen by its last digit (see the module docstring)."""
    return _OUTCOMES.get(to_number[-1:], _OUTCOMES["4"])


_SENTIMENT = {
    "INTERESTED": "POSITIVE",
    "APPOINTMENT_BOOKED": "POSITIVE",
    "RESOLVED": "POSITIVE",
    "NOT_INTERESTED": "NEGATIVE",
    "DO_NOT_CALL": "NEGATIVE",
}


def iso(t: float) -> str:
    """An epoch time as ISO-8601 UTC with whole seconds, as the API writes instants."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def shown_second(created: float, lag: float = 0.0) -> int:
    """The whole second a call's `createdAt` shows (`lag`: the created-lag quirk's seconds).

    Filters on startDate/endDate compare against it, so they agree with what is rendered.
    """
    return math.floor(created - lag)


@dataclass(frozen=True)
class CreatedForm:
    """How `createdAt` is rendered when a created-* quirk is on (None everywhere: ISO UTC).

    lag: seconds shown early; epoch_ms: an integer of epoch milliseconds (Jackson's default
    for java.util.Date); zone: local wall-clock time there, with no offset (LocalDateTime).
    Hashable and compared by value: it is part of the list items' cache key.
    """

    lag: float = 0.0
    epoch_ms: bool = False
    zone: tzinfo | None = None

    def render(self, created: float) -> str | int:
        second = shown_second(created, self.lag)
        if self.epoch_ms:
            return second * 1000
        if self.zone is not None:
            return datetime.fromtimestamp(second, self.zone).strftime("%Y-%m-%dT%H:%M:%S")
        return iso(second)


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class CallRecord:
    """One call; its status at any instant follows from its fixed timeline."""

    __slots__ = (
        "id",
        "direction",
        "from_number",
        "to_number",
        "agent_id",
        "campaign_id",
        "created",
        "created_s",
        "ring_at",
        "answer_at",
        "end_at",
        "outcome",
        "variables",
        "_json",
    )

    def __init__(
        self,
        *,
        id: int,
        direction: str,
        from_number: str,
        to_number: str,
        agent_id: int,
        campaign_id: int | None,
        created: float,
        ring_at: float,
        answer_at: float | None,
        end_at: float,
        outcome: Outcome,
        variables: dict[str, str],
    ) -> None:
        self.id = id
        self.direction = direction
        self.from_number = from_number
        self.to_number = to_number
        self.agent_id = agent_id
        self.campaign_id = campaign_id
        self.created = created
        # Whole seconds, as rendered: filters and ordering use what the client sees.
        self.created_s = int(created)
        self.ring_at = ring_at
        self.answer_at = answer_at
        self.end_at = end_at
        self.outcome = outcome
        self.variables = variables
        # The list item's JSON once the call has ended, with the createdAt form it was made in.
        self._json: tuple[CreatedForm | None, bytes] | None = None

    def status_at(self, t: float) -> str:
        if t >= self.end_at:
            return self.outcome.status
        if self.answer_at is not None and t >= self.answer_at:
            return "IN_PROGRESS"
        return "RINGING" if t >= self.ring_at else "QUEUED"

    def to_dict(self, t: float, form: CreatedForm | None = None) -> dict[str, Any]:
        """The Call as the API shows it at time `t` (without `turns`); `form`: how createdAt
        is rendered (None: ISO-8601 UTC)."""
        ended = t >= self.end_at
        answered = self.answer_at is not None and t >= self.answer_at
        outcome = self.outcome
        completed = ended and outcome.status == "COMPLETED"
        duration: int | None = None
        if ended:
            duration = int(self.end_at) - int(self.answer_at) if self.answer_at is not None else 0
        call: dict[str, Any] = {
            "id": self.id,
            "direction": self.direction,
            "status": self.status_at(t),
            "fromNumber": self.from_number,
            "toNumber": self.to_number,
            "agentId": self.agent_id,
            "campaignId": self.campaign_id,
            "createdAt": iso(self.created) if form is None else form.render(self.created),
            "startedAt": iso(self.answer_at) if answered and self.answer_at is not None else None,
            "endedAt": iso(self.end_at) if ended else None,
            "durationSeconds": duration,
            "disposition": outcome.disposition if ended else None,
            "failureReason": outcome.failure_reason if ended else None,
            "variables": self.variables,
            "recordingUrl": RECORDING_URL.format(id=self.id) if completed else None,
        }
        if completed and outcome.disposition:
            # Not in the contract: lets clients prove they keep unknown fields.
            call["sentiment"] = _SENTIMENT.get(outcome.disposition, "NEUTRAL")
        return call

    def summary_json(self, t: float, form: CreatedForm | None = None) -> bytes:
        """The list item as JSON bytes, cached once the call can no longer change (per
        createdAt form: quirks may be swapped on a running server)."""
        cached = self._json
        if cached is not None and (cached[0] is form or cached[0] == form):
            return cached[1]
        data = dumps(self.to_dict(t, form))
        if t >= self.end_at:
            self._json = (form, data)  # one assignment: form and bytes never disagree
        return data


def live_timeline(
    created: float, outcome: Outcome, speed: float
) -> tuple[float, float | None, float]:
    """(ring_at, answer_at, end_at) of a live call created at `created`."""
    answer = created + ANSWER_AFTER / speed if outcome.status == "COMPLETED" else None
    return created + RING_AFTER / speed, answer, created + END_AFTER / speed


_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def fill(template: str, variables: dict[str, str], default_name: str) -> str:
    """`{{NAME}}`-style placeholders filled from the call's variables.

    As the user guide says of the real API: unknown tokens become empty strings. `NAME` is
    always available there (from the lead), so a call without one gets `default_name`.
    """

    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in variables:
            return variables[key]
        return default_name if key == "NAME" else ""

    return _PLACEHOLDER.sub(one, template)
