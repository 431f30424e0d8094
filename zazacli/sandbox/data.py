"""Seeded, deterministic sandbox data (agents, campaigns, calls, transcripts) and the call rules.

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
shifts it). Seeded campaign calls fall within their calling hours, 09:00-20:00 in each
recipient's time zone (the user guide's default), like the real scheduler's.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, NamedTuple

from zazacli.sandbox import ORG_NUMBERS

FIRST_CALL_ID = 90500
RING_AFTER = 1.0
ANSWER_AFTER = 3.0
END_AFTER = 8.0
TERMINAL_STATUSES = ("COMPLETED", "FAILED", "NO_ANSWER", "BUSY", "CANCELED")
STATUSES = ("QUEUED", "RINGING", "IN_PROGRESS", *TERMINAL_STATUSES)
RECORDING_URL = "https://recordings.sandbox.zazavoice.invalid/calls/{id}.mp3"
# A status outside the documented list, for the unknown-status quirk.
UNKNOWN_STATUS = "VOICEMAIL"
# Calling hours, seconds after local midnight: a seeded campaign call starts at 09:00 or later
# and before 19:00, so that even the longest (about 15 minutes) ends well before 20:00.
CALLING_START, CALLING_LAST_START, CALLING_END = 9 * 3600, 19 * 3600, 20 * 3600


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


# --- agents and campaigns ---------------------------------------------------------------


def make_agents() -> list[dict[str, Any]]:
    return [
        {
            "id": 12,
            "name": "Zara from Acme",
            "personality": "FRIENDLY",
            "voiceType": "FEMALE_1",
            "isActive": True,
            "language": "en-US",
            "greetingMessage": "Hi {{NAME}}, this is Zara from Acme. Do you have a minute?",
        },
        {
            "id": 14,
            "name": "Marco (support line)",
            "personality": "PROFESSIONAL",
            "voiceType": "MALE_1",
            "isActive": True,
            "language": "en-US",
            "greetingMessage": "Hi {{NAME}}, this is Marco from Acme support. How can I help?",
        },
        {
            "id": 15,
            "name": "Amélie – Paris",
            "personality": "EMPATHETIC",
            "voiceType": "FEMALE_2",
            "isActive": True,
            "language": "fr-FR",
            "greetingMessage": "Bonjour {{NAME}}, ici Amélie de chez Acme. Ça va ?",
        },
        {
            "id": 17,
            "name": "Kenji 東京",
            "personality": "CALM",
            "voiceType": "MALE_2",
            "isActive": True,
            "language": "ja-JP",
            "greetingMessage": "もしもし、{{NAME}}様。Acmeのケンジです。",
        },
        {
            "id": 21,
            "name": "Legacy IVR bot",
            "personality": "PROFESSIONAL",
            "voiceType": "MALE_3",
            "isActive": False,
            "language": "en-US",
            "greetingMessage": "Hello {{NAME}}. Press 1 to talk to an agent.",
        },
    ]


def make_campaigns(now: float) -> list[dict[str, Any]]:
    day = 86400

    def hours() -> dict[str, str]:
        # [assumed] shape: the guide says calling hours apply in each recipient's own time
        # zone, so there is no campaign-wide zone; "RECIPIENT" says so where one would be.
        return {"start": "09:00", "end": "20:00", "timezone": "RECIPIENT"}

    return [
        {
            "id": 3,
            "name": "November renewals",
            "status": "RUNNING",
            "agentId": 12,
            "fromNumber": ORG_NUMBERS[0],
            "createdAt": iso(now - 40 * day),
            "totalLeads": 500,
            "leadStats": {"PENDING": 310, "IN_CALL": 2, "REACHED": 120, "NO_ANSWER": 68},
            "callingHours": hours(),
            "maxConcurrentCalls": 5,
        },
        {
            "id": 4,
            "name": "Spring webinar follow-ups",
            "status": "COMPLETED",
            "agentId": 14,
            "fromNumber": ORG_NUMBERS[1],
            "createdAt": iso(now - 60 * day),
            "totalLeads": 240,
            "leadStats": {"REACHED": 171, "NO_ANSWER": 52, "FAILED": 9, "DO_NOT_CALL": 8},
            "callingHours": hours(),
            "maxConcurrentCalls": 3,
        },
        {
            "id": 7,
            "name": "Relances clients – Paris",
            "status": "PAUSED",
            "agentId": 15,
            "fromNumber": ORG_NUMBERS[2],
            "createdAt": iso(now - 35 * day),
            "totalLeads": 180,
            "leadStats": {"PENDING": 95, "REACHED": 60, "NO_ANSWER": 25},
            "callingHours": hours(),
            "maxConcurrentCalls": 2,
        },
        {
            "id": 9,
            "name": "Tokyo partner check-ins",
            "status": "RUNNING",
            "agentId": 17,
            "fromNumber": ORG_NUMBERS[0],
            "createdAt": iso(now - 32 * day),
            "totalLeads": 60,
            "leadStats": {"PENDING": 21, "IN_CALL": 1, "REACHED": 30, "NO_ANSWER": 8},
            "callingHours": hours(),
            "maxConcurrentCalls": 1,
        },
        {
            "id": 12,
            "name": "Q1 win-back",
            "status": "DRAFT",
            "agentId": 12,
            "fromNumber": ORG_NUMBERS[0],
            "createdAt": iso(now - 2 * day),
            "totalLeads": 1200,
            "leadStats": {"PENDING": 1200},
            "callingHours": hours(),
            "maxConcurrentCalls": 10,
        },
    ]


# --- calls ------------------------------------------------------------------------------

_NAMES = (
    "Alex",
    "José",
    "Zoë",
    "François",
    "Siobhán",
    "Priya",
    "Mohammed",
    "Chloé",
    "Björn",
    "Łukasz",
    "Ana María",
    "Nguyễn Văn An",
    "Yuki",
    "Søren",
    "Grace",
    "Dmitri",
    "Aoife",
    "Tomás",
    "Mei",
    "Oluwaseun",
)
_AREAS = ("415", "212", "646", "312", "617", "503", "737")
_AGENT_WEIGHTS = (12, 12, 12, 14, 15, 17)
_INBOUND_AGENTS = (14, 14, 14, 14, 12, 12, 15, 17)  # mostly the support line
_FAILURES = ("CARRIER_ERROR", "CARRIER_ERROR", "NUMBER_DISCONNECTED", "NETWORK_ERROR")
_INBOUND_OUTCOMES = (
    *(Outcome("COMPLETED", "RESOLVED"),) * 9,
    *(Outcome("COMPLETED", "CALLBACK_REQUESTED"),) * 3,
    *(Outcome("COMPLETED", "APPOINTMENT_BOOKED"),) * 2,
    Outcome("COMPLETED", "INTERESTED"),
    Outcome("CANCELED"),
    Outcome("CANCELED"),
    Outcome("FAILED", failure_reason="AGENT_UNAVAILABLE"),
)
# Last digit of an outbound toNumber, weighted so most calls complete.
_OUTBOUND_DIGITS = (
    "0" * 8
    + "1" * 17
    + "2" * 6
    + "3" * 4
    + "4" * 20
    + "5" * 12
    + "6" * 10
    + "7" * 10
    + "8" * 8
    + "9" * 5
)
_NO_VARIABLES: dict[str, str] = {}


def _variable_pool() -> list[dict[str, str]]:
    """Shared, read-only variable dicts: 100,000 calls need not hold 100,000 dicts."""
    pool: list[dict[str, str]] = []
    for i, name in enumerate(_NAMES):
        pool.append({"NAME": name})
        pool.append({"NAME": name, "CASE_NUMBER": f"CASE-{7700 + i * 13}"})
        pool.append({"NAME": name, "AMOUNT": str(500 * (i % 7 + 1)), "PLAN": "Pro"})
    return pool


def _us_number(rng: random.Random, last: str) -> str:
    # 555-01xx numbers are reserved for fiction; the UK's 07700 900xxx likewise.
    if rng.random() < 0.1:
        return f"+447700900{rng.randrange(100):02d}{last}"
    return f"+1{_AREAS[rng.randrange(len(_AREAS))]}55501{rng.randrange(10)}{last}"


class _CallingHours:
    """Moves a campaign call's start into 09:00-19:00 in the recipient's time zone."""

    def __init__(self, now: float) -> None:
        self._latest = int(now) - 900  # every historic call must have ended by `now`
        self._earliest = int(now) - 30 * 86400
        self._zones: dict[str, Any] = {}
        self._offsets: dict[tuple[str, int], int] = {}

    def _zone(self, number: str) -> Any:
        # Seeded numbers share a handful of prefixes (+1 and an area code, or +44 77).
        prefix = number[:5]
        zone = self._zones.get(prefix)
        if zone is None:
            from zoneinfo import ZoneInfo

            import phonenumbers
            from phonenumbers import timezone

            parsed = phonenumbers.parse(number)
            names = [z for z in timezone.time_zones_for_number(parsed) if z != "Etc/Unknown"]
            if not names:  # e.g. the fictional UK range: use the country's own zone
                region = phonenumbers.region_code_for_country_code(parsed.country_code or 0)
                example = phonenumbers.example_number(region)
                if example is not None:
                    zones = timezone.time_zones_for_number(example)
                    names = [z for z in zones if z != "Etc/Unknown"]
            zone = self._zones[prefix] = ZoneInfo(names[0] if names else "UTC")
        return zone

    def _offset(self, zone: Any, t: int) -> int:
        # Zone offsets change on the hour, so one lookup per zone and hour is enough.
        key = (zone.key, t // 3600)
        offset = self._offsets.get(key)
        if offset is None:
            delta = datetime.fromtimestamp(t, zone).utcoffset()
            offset = self._offsets[key] = int(delta.total_seconds()) if delta else 0
        return offset

    def place(self, created: int, number: str) -> int:
        """`created`, or a time on the same local day within calling hours (a day earlier or
        later when that would leave the 30 days or not yet have ended)."""
        zone = self._zone(number)
        local = (created + self._offset(zone, created)) % 86400
        if CALLING_START <= local < CALLING_LAST_START:
            return created
        span = CALLING_LAST_START - CALLING_START
        moved = created - local + CALLING_START + local % span
        moved += self._offset(zone, created) - self._offset(zone, moved)  # across a DST change
        if moved > self._latest:
            moved -= 86400
        elif moved < self._earliest:
            moved += 86400
        return moved


@dataclass
class SeedData:
    agents: list[dict[str, Any]]
    campaigns: list[dict[str, Any]]
    calls: list[CallRecord]  # oldest first
    next_call_id: int


def generate(seed: int, count: int, now: float, speed: float, *, live: bool = True) -> SeedData:
    """Agents, campaigns and `count` calls over the 30 days before `now`, fixed by `seed`.

    The newest three are under way at `now`; with `live=False` they were made one call's
    length earlier, so they have just ended (the same calls, none left moving)."""
    rng = random.Random(seed)
    agents = make_agents()
    campaigns = make_campaigns(now)
    running = [c for c in campaigns if c["status"] != "DRAFT"]
    pool = _variable_pool()
    top_id = max(FIRST_CALL_ID, count + 499)
    n_live = min(3, count)
    start = int(now)
    day = 86400
    # Seconds before `now`; at least 15 minutes so every historic call has ended.
    offsets = sorted(
        rng.randrange(900, day) if rng.random() < 0.12 else rng.randrange(900, 30 * day)
        for _ in range(count - n_live)
    )
    newest_first: list[CallRecord] = []
    live_now = now if live else now - END_AFTER / speed
    for i in range(n_live):
        newest_first.append(_live_seed_call(rng, top_id - i, i, live_now, speed, pool))
    calling_hours = _CallingHours(now)
    moved = False
    rand = rng.random
    randrange = rng.randrange
    for j, off in enumerate(offsets):
        cid = top_id - n_live - j
        created = start - off
        campaign_id: int | None = None
        if rand() < 0.72:
            direction = "OUTBOUND"
            digit = _OUTBOUND_DIGITS[randrange(100)]
            outcome = _OUTCOMES[digit]
            if digit == "0":
                outcome = Outcome("FAILED", failure_reason=_FAILURES[randrange(4)])
            to_number = _us_number(rng, digit)
            variables = pool[randrange(len(pool))]
            if rand() < 0.5:
                campaign = running[randrange(len(running))]
                campaign_id, agent_id = campaign["id"], campaign["agentId"]
                from_number = campaign["fromNumber"]
                placed = calling_hours.place(created, to_number)
                moved = moved or placed != created
                created = placed
            else:
                agent_id = (
                    21
                    if off > 20 * day and rand() < 0.1
                    else _AGENT_WEIGHTS[randrange(len(_AGENT_WEIGHTS))]
                )
                from_number = ORG_NUMBERS[randrange(len(ORG_NUMBERS))]
        else:
            direction = "INBOUND"
            outcome = _INBOUND_OUTCOMES[randrange(len(_INBOUND_OUTCOMES))]
            from_number = _us_number(rng, str(randrange(10)))
            to_number = ORG_NUMBERS[randrange(len(ORG_NUMBERS))]
            agent_id = _INBOUND_AGENTS[randrange(len(_INBOUND_AGENTS))]
            variables = _NO_VARIABLES
        ring = created + 1 + randrange(3)
        answer: int | None = None
        status = outcome.status
        if status == "COMPLETED":
            answer = ring + 2 + randrange(10)
            if outcome.disposition == "VOICEMAIL":
                end = answer + 20 + randrange(26)
            else:
                end = answer + min(840, 25 + int(rng.expovariate(1 / 120)))
        elif status == "NO_ANSWER":
            end = ring + 25 + randrange(15)
        elif status == "BUSY":
            end = ring + 2 + randrange(4)
        elif status == "FAILED":
            end = ring + 1 + randrange(3)
        else:
            end = ring + 1 + randrange(10)
        newest_first.append(
            CallRecord(
                id=cid,
                direction=direction,
                from_number=from_number,
                to_number=to_number,
                agent_id=agent_id,
                campaign_id=campaign_id,
                created=created,
                ring_at=ring,
                answer_at=answer,
                end_at=end,
                outcome=outcome,
                variables=variables,
            )
        )
    if moved:
        # Calls moved into calling hours: restore creation order, then number them again so
        # that ids still count down from the newest (ties in order of generation).
        newest_first.sort(key=_created_exact, reverse=True)
        for k, record in enumerate(newest_first):
            record.id = top_id - k
    newest_first.reverse()
    return SeedData(agents, campaigns, newest_first, top_id + 1)


def _created_exact(call: CallRecord) -> float:
    return call.created


def _live_seed_call(
    rng: random.Random, cid: int, i: int, now: float, speed: float, pool: list[dict[str, str]]
) -> CallRecord:
    """One of the newest seeded calls, still moving when the sandbox starts."""
    # i = 0, 1, 2 start out QUEUED, RINGING and IN_PROGRESS.
    created = now - (0.5, 2.0, 5.0)[i] / speed
    if i == 2:
        direction, outcome = "INBOUND", Outcome("COMPLETED", "RESOLVED")
        from_number, to_number = _us_number(rng, "7"), ORG_NUMBERS[0]
        agent_id, variables = 14, _NO_VARIABLES
    else:
        digit = "46"[i]
        direction, outcome = "OUTBOUND", _OUTCOMES[digit]
        from_number, to_number = ORG_NUMBERS[0], _us_number(rng, digit)
        agent_id, variables = 12, pool[rng.randrange(len(pool))]
    ring, answer, end = live_timeline(created, outcome, speed)
    return CallRecord(
        id=cid,
        direction=direction,
        from_number=from_number,
        to_number=to_number,
        agent_id=agent_id,
        campaign_id=None,
        created=created,
        ring_at=ring,
        answer_at=answer,
        end_at=end,
        outcome=outcome,
        variables=variables,
    )


# --- transcripts ------------------------------------------------------------------------
# Each answered call has a topic (a refund, moving an appointment to Thursday, prices, …) in
# its agent's language, so that searching the transcripts finds something to read: callers
# of the support line sometimes switch to Spanish, Amélie speaks French, Kenji Japanese.

_DEFAULT_NAME = {"en": "there", "es": "there", "fr": "madame, monsieur", "ja": "お客"}
_CALLER_LINES = {
    "en": (
        "Oh hi, yes.",
        "Who is this?",
        "Sure, go ahead.",
        "Sorry, can you repeat that?",
        "Hmm, okay.",
        "That sounds good 👍",
        "I'm driving, so please keep it short.",
        "Yes, that's me.",
        "Right, I remember getting an email about that.",
        "Perfect, merci!",
    ),
    "es": (
        "Sí, dígame.",
        "Perdón, ¿puede repetirlo?",
        "Vale, entendido.",
        "Muy bien 👍",
    ),
    "fr": (
        "Ça va bien, merci.",
        "Oui, je vous écoute.",
        "Pardon, vous pouvez répéter ?",
        "D'accord.",
        "C'est à quel sujet ?",
        "Très bien 🙂",
    ),
    "ja": (
        "はい、そうです。",
        "日本語で大丈夫です。",
        "少々お待ちください。",
        "なるほど。",
        "ええ、分かりました。",
    ),
}
_AGENT_LINES = {
    "en": (
        "I'm calling about your account with Acme.",
        "Is now a good time for a quick chat?",
        "Great. It will only take a minute.",
        "I understand completely.",
        "Let me check that for you.",
        "Thanks for your patience.",
    ),
    "es": (
        "Un momento, lo compruebo.",
        "Gracias por su paciencia.",
        "Entiendo perfectamente.",
    ),
    "fr": (
        "Je vous appelle au sujet de votre contrat.",
        "Très bien, merci beaucoup.",
        "Je comprends tout à fait.",
        "Je vérifie cela pour vous.",
    ),
    "ja": (
        "ご契約の件でお電話しました。",
        "ありがとうございます。",
        "確認いたします。",
        "お時間は取らせません。",
    ),
}
_CONFIRM = {
    "en": "Just to confirm, your {label} is {value}.",
    "es": "Para confirmar: su {label} es {value}.",
    "fr": "Pour confirmer : {label}, {value}.",
    "ja": "確認ですが、{label}は{value}ですね。",
}
_SPANISH_SWITCH = (
    ("CALLER", "Hola, perdone, ¿habla usted español?"),
    ("AGENT", "¡Claro que sí! Seguimos en español. ¿En qué puedo ayudarle?"),
)

Exchange = tuple[tuple[str, str], ...]

# What a call is about, by language and direction (inbound: the support line; outbound:
# sales and renewals). Each topic has a few ways it goes; the first two turns stand alone.
_TOPICS: dict[tuple[str, str], dict[str, tuple[Exchange, ...]]] = {
    ("en", "INBOUND"): {
        "refund": (
            (
                ("CALLER", "I was charged twice last month and I'd like a refund."),
                (
                    "AGENT",
                    "I'm sorry about that. I've issued a refund for the duplicate charge; "
                    "it takes five to seven business days.",
                ),
                ("CALLER", "Will the refund go back to my card?"),
                ("AGENT", "Yes, to the same card you paid with."),
            ),
            (
                ("CALLER", "Can I get a refund for the months I didn't use?"),
                ("AGENT", "Unused months are refunded to your card within a week."),
            ),
        ),
        "reschedule": (
            (
                ("CALLER", "I need to reschedule my appointment. Is Thursday possible?"),
                ("AGENT", "Thursday works. I've moved you to Thursday at 3 pm."),
            ),
            (
                ("CALLER", "Could we move the installation to Thursday morning instead?"),
                ("AGENT", "Done: Thursday morning, between 9 and 11."),
                ("CALLER", "Great, Thursday morning is much better for me."),
                ("AGENT", "You'll get a text the day before."),
            ),
        ),
        "pricing": (
            (
                ("CALLER", "How much is the Pro plan per month?"),
                ("AGENT", "The Pro plan is $49 a month, or $490 if you pay yearly."),
            ),
            (
                ("CALLER", "Is there a discount if I pay for the whole year?"),
                ("AGENT", "Yes: paying yearly saves you two months, so the price is $490."),
            ),
        ),
        "cancel": (
            (
                ("CALLER", "I'd like to cancel my subscription."),
                ("AGENT", "I can help with that. May I ask why you're cancelling?"),
                ("CALLER", "It's too expensive for what I use."),
                ("AGENT", "I understand. Your plan stays active until the end of the month."),
            ),
        ),
        "delivery": (
            (
                ("CALLER", "My order still hasn't arrived."),
                ("AGENT", "I see it's out for delivery and should arrive tomorrow."),
            ),
        ),
    },
    ("en", "OUTBOUND"): {
        "renewal": (
            (
                ("AGENT", "Your contract renews at the end of the month."),
                ("CALLER", "Will the price go up?"),
                ("AGENT", "No, the price stays the same if you renew before Friday."),
            ),
        ),
        "upgrade": (
            (
                ("AGENT", "Our Pro plan now includes unlimited minutes."),
                ("CALLER", "Can you tell me how much it costs?"),
                ("AGENT", "It's $49 a month, and the first month is free."),
            ),
        ),
        "appointment": (
            (
                ("AGENT", "We'd like to book your annual review. Would Thursday work?"),
                ("CALLER", "Thursday is difficult. Could we do Friday instead?"),
            ),
            (
                ("AGENT", "Can I offer you a slot on Thursday afternoon?"),
                ("CALLER", "Thursday afternoon could work, let me check my calendar."),
            ),
        ),
        "webinar": (
            (
                ("AGENT", "You joined our webinar last week. Did you have any questions?"),
                ("CALLER", "Yes: does it integrate with Salesforce?"),
                ("AGENT", "It does, and the setup takes about ten minutes."),
            ),
        ),
    },
    ("es", "INBOUND"): {
        "refund": (
            (
                ("CALLER", "Me cobraron dos veces y quisiera un reembolso."),
                (
                    "AGENT",
                    "Lo siento mucho. El reembolso del cargo duplicado tardará de cinco "
                    "a siete días.",
                ),
            ),
        ),
        "reschedule": (
            (
                ("CALLER", "¿Podemos cambiar la cita al jueves?"),
                ("AGENT", "Sí, la cita queda para el jueves a las tres de la tarde."),
            ),
        ),
        "pricing": (
            (
                ("CALLER", "¿Cuánto cuesta el plan Pro?"),
                (
                    "AGENT",
                    "El plan Pro cuesta 49 dólares al mes; el pago anual sale más económico.",
                ),
            ),
        ),
    },
    ("fr", "*"): {
        "refund": (
            (
                ("CALLER", "J'ai été débité deux fois, je voudrais être remboursé."),
                ("AGENT", "Je suis désolée. Le remboursement sera effectué sous cinq jours."),
            ),
        ),
        "reschedule": (
            (
                ("CALLER", "Est-ce qu'on peut déplacer le rendez-vous à jeudi ?"),
                ("AGENT", "C'est noté : jeudi à quinze heures."),
            ),
        ),
        "pricing": (
            (
                ("CALLER", "Quel est le prix de l'offre Pro ?"),
                ("AGENT", "L'offre Pro coûte 49 € par mois, ou 490 € par an."),
            ),
        ),
    },
    ("ja", "*"): {
        "refund": (
            (
                ("CALLER", "先月の請求が二重になっているので、返金をお願いします。"),
                ("AGENT", "申し訳ございません。返金の手続きをいたしました。"),
            ),
        ),
        "reschedule": (
            (
                ("CALLER", "予約を木曜日に変更したいです。"),
                ("AGENT", "かしこまりました。木曜日の午後三時に変更しました。"),
            ),
        ),
        "pricing": (
            (
                ("CALLER", "プロプランの料金はいくらですか？"),
                ("AGENT", "プロプランは月額4,900円です。"),
            ),
        ),
    },
}
_CLOSINGS_EN = {
    "INTERESTED": (
        "Yes, that sounds interesting. Tell me more.",
        "Wonderful! I'll email you the details. Have a great day, {NAME}.",
    ),
    "NOT_INTERESTED": (
        "No thanks, I'm not interested.",
        "No problem at all. Thanks for your time, {NAME}.",
    ),
    "CALLBACK_REQUESTED": (
        "Can you call me back tomorrow afternoon?",
        "Of course, I'll call you back tomorrow afternoon.",
    ),
    "APPOINTMENT_BOOKED": (
        "Thursday at 10 works for me.",
        "You're booked for Thursday at 10:00. See you then!",
    ),
    "DO_NOT_CALL": (
        "Please take me off your list.",
        "Understood. I've removed your number; you won't be called again.",
    ),
    "RESOLVED": ("Great, that fixed it. Thanks!", "Glad I could help. Goodbye, {NAME}!"),
}
_CLOSINGS = {
    "es": ("Gracias, adiós.", "Gracias a usted, {NAME}. ¡Que tenga un buen día!"),
    "fr": ("Merci, au revoir.", "Merci à vous, {NAME}. Bonne journée !"),
    "ja": ("ありがとうございました。", "失礼いたします。"),
}
_BOOKED = {
    "es": ("El jueves a las diez me va bien.", "Queda reservado: jueves a las 10:00."),
    "fr": ("Jeudi à 10 heures, c'est parfait.", "C'est réservé : jeudi à 10 h. À bientôt !"),
    "ja": ("木曜日の10時でお願いします。", "木曜日の10時でご予約を承りました。"),
}
_VOICEMAIL_GREETING = {
    "en": "Hi, you've reached {NAME}. Leave a message after the tone.",
    "es": "Hola, ha llamado a {NAME}. Deje su mensaje después de la señal.",
    "fr": "Bonjour, vous êtes bien chez {NAME}. Laissez un message après le bip.",
    "ja": "ただいま電話に出ることができません。発信音の後にメッセージをどうぞ。",
}
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
MAX_TURNS = 12
SPANISH_SHARE = 0.25  # of the support line's (agent 14) inbound calls


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


def _topic(rng: random.Random, lang: str, direction: str) -> list[tuple[str, str]]:
    topics = (
        _TOPICS.get((lang, direction)) or _TOPICS.get((lang, "*")) or _TOPICS[("en", "OUTBOUND")]
    )
    ways = topics[sorted(topics)[rng.randrange(len(topics))]]
    return list(ways[rng.randrange(len(ways))])


def _closing(lang: str, disposition: str, named: bool) -> list[tuple[str, str]]:
    if lang == "en":
        caller, agent = _CLOSINGS_EN.get(disposition, _CLOSINGS_EN["INTERESTED"])
    elif disposition == "APPOINTMENT_BOOKED":
        caller, agent = _BOOKED[lang]
    else:
        caller, agent = _CLOSINGS[lang]
    if not named:  # "Have a great day." rather than "…, there."
        agent = agent.replace(", {NAME}", "")
    turns = [("CALLER", caller), ("AGENT", agent)]
    if disposition == "APPOINTMENT_BOOKED":
        turns.insert(1, ("TOOL", "calendar.book(slot=Thursday 10:00) -> confirmed"))
    return turns


def _script(
    rng: random.Random, lang: str, call: CallRecord, agent: dict[str, Any]
) -> list[tuple[str, str]]:
    variables = call.variables
    name = variables.get("NAME") or _DEFAULT_NAME[lang]
    disposition = call.outcome.disposition or "INTERESTED"
    greeting = fill(str(agent.get("greetingMessage") or "Hello {{NAME}}."), variables, name)
    if disposition == "VOICEMAIL":
        return [
            ("CALLER", _VOICEMAIL_GREETING[lang].format(NAME=name)),
            ("SYSTEM", "Voicemail detected; leaving a message."),
            (
                "AGENT",
                f"{greeting} Sorry we missed you; please call us back at {call.from_number}.",
            ),
            ("SYSTEM", "Message left (voicemail)."),
        ]
    opening: list[tuple[str, str]] = []
    if rng.random() < 0.15:
        opening.append(("SYSTEM", "Recording disclosure played: this call may be recorded."))
    opening.append(("AGENT", greeting))
    if lang == "es":
        opening.extend(_SPANISH_SWITCH)
    topic = _topic(rng, lang, call.direction)
    callers, agents_lines = _CALLER_LINES[lang], _AGENT_LINES[lang]
    confirms: list[tuple[str, str]] = []
    for key, value in variables.items():
        if key != "NAME":
            label = key.lower().replace("_", " ")
            confirms.append(("CALLER", callers[rng.randrange(len(callers))]))
            confirms.append(("AGENT", _CONFIRM[lang].format(label=label, value=value)))
    if not confirms and rng.random() < 0.5:
        confirms.append(("CALLER", callers[rng.randrange(len(callers))]))
        confirms.append(("AGENT", agents_lines[rng.randrange(len(agents_lines))]))
    closing = _closing(lang, disposition, bool(variables.get("NAME")))
    closing = [(role, text.format(NAME=name)) for role, text in closing]
    if len(opening) + len(topic) + len(confirms) + len(closing) > MAX_TURNS:
        topic = topic[:2]  # the question and its answer
    return opening + topic + confirms + closing


def transcript(
    call: CallRecord, agent: dict[str, Any] | None, seed: int, t: float
) -> list[dict[str, str]]:
    """The turns spoken by time `t`: rebuilt from (seed, id), so nothing is stored per call."""
    if call.answer_at is None or t < call.answer_at:
        return []
    rng = random.Random(f"{seed}:{call.id}")
    agent = agent or {}
    lang = str(agent.get("language") or "en")[:2]
    lang = lang if lang in _DEFAULT_NAME else "en"
    if lang == "en" and call.direction == "INBOUND" and call.agent_id == 14:
        lang = "es" if rng.random() < SPANISH_SHARE else lang
    lines = _script(rng, lang, call, agent)
    span = call.end_at - call.answer_at
    step = span / len(lines)
    turns = []
    for i, (role, text) in enumerate(lines):
        at = call.answer_at + step * i
        if at > t:
            break
        turns.append({"role": role, "text": text, "timestamp": iso(at)})
    return turns
