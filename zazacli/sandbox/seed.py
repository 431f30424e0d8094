"""The sandbox's seeded, deterministic data: agents, campaigns and the call history.

The same seed always gives the same data. Seeded outbound calls obey the outcome rule of
`data.py`; seeded campaign calls fall within their calling hours, 09:00-20:00 in each
recipient's time zone (the user guide's default), like the real scheduler's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from zazacli.sandbox import ORG_NUMBERS
from zazacli.sandbox.data import (
    END_AFTER,
    CallRecord,
    Outcome,
    iso,
    live_timeline,
    outcome_for_number,
)

FIRST_CALL_ID = 90500
# Calling hours, seconds after local midnight: a seeded campaign call starts at 09:00 or later
# and before 19:00, so that even the longest (about 15 minutes) ends well before 20:00.
CALLING_START, CALLING_LAST_START = 9 * 3600, 19 * 3600
DAY = 86400


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


# The seeded campaigns: id, name, status, agentId, fromNumber (an index in ORG_NUMBERS),
# age in days at start-up, maxConcurrentCalls. Their leads are in _LEAD_STATS.
_CAMPAIGNS: tuple[tuple[int, str, str, int, int, int, int], ...] = (
    (3, "November renewals", "RUNNING", 12, 0, 40, 5),
    (4, "Spring webinar follow-ups", "COMPLETED", 14, 1, 60, 3),
    (7, "Relances clients – Paris", "PAUSED", 15, 2, 35, 2),
    (9, "Tokyo partner check-ins", "RUNNING", 17, 0, 32, 1),
    (12, "Q1 win-back", "DRAFT", 12, 0, 2, 10),
)
_LEAD_STATS: dict[int, dict[str, int]] = {
    3: {"PENDING": 310, "IN_CALL": 2, "REACHED": 120, "NO_ANSWER": 68},
    4: {"REACHED": 171, "NO_ANSWER": 52, "FAILED": 9, "DO_NOT_CALL": 8},
    7: {"PENDING": 95, "REACHED": 60, "NO_ANSWER": 25},
    9: {"PENDING": 21, "IN_CALL": 1, "REACHED": 30, "NO_ANSWER": 8},
    12: {"PENDING": 1200},
}


def make_campaigns(now: float) -> list[dict[str, Any]]:
    # Fresh dicts each time: a sandbox's campaigns are its own.
    return [
        {
            "id": ident,
            "name": name,
            "status": status,
            "agentId": agent_id,
            "fromNumber": ORG_NUMBERS[number],
            "createdAt": iso(now - age_days * DAY),
            "totalLeads": sum(_LEAD_STATS[ident].values()),
            "leadStats": dict(_LEAD_STATS[ident]),
            # [assumed] shape: the guide says calling hours apply in each recipient's own time
            # zone, so there is no campaign-wide zone; "RECIPIENT" says so where one would be.
            "callingHours": {"start": "09:00", "end": "20:00", "timezone": "RECIPIENT"},
            "maxConcurrentCalls": max_calls,
        }
        for ident, name, status, agent_id, number, age_days, max_calls in _CAMPAIGNS
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
    # Every draw from `rng` is in a fixed order: the same seed must give the same calls.
    rng = random.Random(seed)
    agents = make_agents()
    campaigns = make_campaigns(now)
    pool = _variable_pool()
    top_id = max(FIRST_CALL_ID, count + 499)
    n_live = min(3, count)
    offsets = _history_offsets(rng, count - n_live)
    live_now = now if live else now - END_AFTER / speed
    newest_first = [
        _live_seed_call(rng, top_id - i, i, live_now, speed, pool) for i in range(n_live)
    ]
    history = _History(rng, now, campaigns, pool)
    newest_first.extend(history.call(top_id - n_live - j, off) for j, off in enumerate(offsets))
    if history.moved:
        # Calls moved into calling hours: restore creation order, then number them again so
        # that ids still count down from the newest (ties in order of generation).
        newest_first.sort(key=_created_exact, reverse=True)
        for k, record in enumerate(newest_first):
            record.id = top_id - k
    newest_first.reverse()
    return SeedData(agents, campaigns, newest_first, top_id + 1)


def _history_offsets(rng: random.Random, n: int) -> list[int]:
    """When the `n` historic calls were made, in seconds before `now`, smallest first.

    At least 15 minutes, so that every historic call has ended; about one in eight is
    from the last day."""
    return sorted(
        rng.randrange(900, DAY) if rng.random() < 0.12 else rng.randrange(900, 30 * DAY)
        for _ in range(n)
    )


# How a historic call went, who it was between and when it was made (a campaign call may
# move into calling hours): outcome, fromNumber, toNumber, agentId, campaignId, variables,
# created. A plain tuple, as it is made once per seeded call (up to 100,000 at start-up).
_Parties = tuple[Outcome, str, str, int, int | None, dict[str, str], int]


class _History:
    """Makes the historic (ended) seeded calls, one at a time, newest first."""

    def __init__(
        self,
        rng: random.Random,
        now: float,
        campaigns: list[dict[str, Any]],
        pool: list[dict[str, str]],
    ) -> None:
        self._rng = rng
        # Bound methods: 100,000 calls draw about a million times.
        self._random = rng.random
        self._randrange = rng.randrange
        self._start = int(now)
        self._running = [c for c in campaigns if c["status"] != "DRAFT"]
        self._pool = pool
        self._calling_hours = _CallingHours(now)
        # Whether a campaign call was moved into calling hours (creation order may change).
        self.moved = False

    def call(self, cid: int, off: int) -> CallRecord:
        """Call `cid`, made `off` seconds before `now`."""
        created = self._start - off
        outbound = self._random() < 0.72
        parties = self._outbound(created, off) if outbound else self._inbound(created)
        outcome, from_number, to_number, agent_id, campaign_id, variables, created = parties
        ring, answer, end = self._timeline(created, outcome)
        return CallRecord(
            id=cid,
            direction="OUTBOUND" if outbound else "INBOUND",
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

    def _outbound(self, created: int, off: int) -> _Parties:
        randrange = self._randrange
        digit = _OUTBOUND_DIGITS[randrange(100)]
        outcome = outcome_for_number(digit)
        if digit == "0":
            outcome = Outcome("FAILED", failure_reason=_FAILURES[randrange(4)])
        to_number = _us_number(self._rng, digit)
        variables = self._pool[randrange(len(self._pool))]
        campaign_id: int | None = None
        if self._random() < 0.5:
            campaign = self._running[randrange(len(self._running))]
            campaign_id, agent_id = campaign["id"], campaign["agentId"]
            from_number = campaign["fromNumber"]
            placed = self._calling_hours.place(created, to_number)
            self.moved = self.moved or placed != created
            created = placed
        else:
            # The retired IVR bot made some of the oldest calls.
            agent_id = (
                21
                if off > 20 * DAY and self._random() < 0.1
                else _AGENT_WEIGHTS[randrange(len(_AGENT_WEIGHTS))]
            )
            from_number = ORG_NUMBERS[randrange(len(ORG_NUMBERS))]
        return outcome, from_number, to_number, agent_id, campaign_id, variables, created

    def _inbound(self, created: int) -> _Parties:
        randrange = self._randrange
        outcome = _INBOUND_OUTCOMES[randrange(len(_INBOUND_OUTCOMES))]
        from_number = _us_number(self._rng, str(randrange(10)))
        to_number = ORG_NUMBERS[randrange(len(ORG_NUMBERS))]
        agent_id = _INBOUND_AGENTS[randrange(len(_INBOUND_AGENTS))]
        return outcome, from_number, to_number, agent_id, None, _NO_VARIABLES, created

    def _timeline(self, created: int, outcome: Outcome) -> tuple[int, int | None, int]:
        """(ring_at, answer_at, end_at): how long each kind of call rings and lasts."""
        randrange = self._randrange
        ring = created + 1 + randrange(3)
        answer: int | None = None
        status = outcome.status
        if status == "COMPLETED":
            answer = ring + 2 + randrange(10)
            if outcome.disposition == "VOICEMAIL":
                end = answer + 20 + randrange(26)
            else:
                end = answer + min(840, 25 + int(self._rng.expovariate(1 / 120)))
        elif status == "NO_ANSWER":
            end = ring + 25 + randrange(15)
        elif status == "BUSY":
            end = ring + 2 + randrange(4)
        elif status == "FAILED":
            end = ring + 1 + randrange(3)
        else:
            end = ring + 1 + randrange(10)
        return ring, answer, end


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
        direction, outcome = "OUTBOUND", outcome_for_number(digit)
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
