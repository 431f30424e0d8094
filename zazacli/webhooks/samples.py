"""Realistic sample bodies for the six ZazaVoice event types, and `--set path=value` overrides.

The shapes follow the API contract (/work/shared/zazavoice-api.md, section Webhooks):
`campaign.lead.updated` is documented; the others are [assumed] and kept here only.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

# type -> one line for `zaza webhooks events`, in the order a call's life shows them.
EVENT_TYPES: dict[str, str] = {
    "call.started": "an outbound call was queued at the carrier, or an inbound call "
    "connected (data: the Call)",
    "call.completed": "a call ended normally; includes duration and disposition (data: the Call)",
    "call.failed": "a call could not be completed; includes the failure reason (data: the Call)",
    "campaign.lead.updated": "a campaign lead changed status, e.g. PENDING -> REACHED",
    "sms.received": "an SMS arrived on one of your numbers (data: from, to, body)",
    "appointment.created": "an agent booked an appointment during a call",
}

ORG_NUMBER = "+14155550100"
CUSTOMER_NUMBER = "+14155550123"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _call(now: datetime, status: str) -> dict[str, Any]:
    """A Call as ZazaVoice sends it in `call.*` events (no `turns`).

    QUEUED is `call.started` for an outbound call: queued at the carrier, so it has not
    started ringing and has no startedAt, endedAt or duration yet.
    """
    completed, failed, queued = status == "COMPLETED", status == "FAILED", status == "QUEUED"
    started = now - timedelta(seconds=107) if completed else now
    return {
        "id": 90211,
        "direction": "OUTBOUND",
        "status": status,
        "fromNumber": ORG_NUMBER,
        "toNumber": CUSTOMER_NUMBER,
        "agentId": 12,
        "campaignId": None,
        "createdAt": _iso(now if queued else started - timedelta(seconds=8)),
        "startedAt": None if failed or queued else _iso(started),
        "endedAt": _iso(now) if completed or failed else None,
        "durationSeconds": 107 if completed else None,
        "disposition": "INTERESTED" if completed else None,
        "failureReason": "CARRIER_REJECTED: number not in service" if failed else None,
        "variables": {"NAME": "Alex", "CASE_NUMBER": "CASE-7741"},
        "recordingUrl": None,
    }


def sample_data(event: str, now: datetime | None = None) -> dict[str, Any]:
    """The `data` object of a realistic `event`; KeyError for an unknown type."""
    now = now or datetime.now(UTC)
    if event == "call.started":
        # Documented: fires when an outbound call is queued at the carrier (inbound: connected).
        return _call(now, "QUEUED")
    if event == "call.completed":
        return _call(now, "COMPLETED")
    if event == "call.failed":
        return _call(now, "FAILED")
    if event == "campaign.lead.updated":
        return {
            "leadId": 4421,
            "campaignId": 12,
            "targetName": "Alex Chen",
            "email": "alex@acme.io",
            "variables": {"AMOUNT": "5000"},
            "status": "REACHED",
            "lastDisposition": "INTERESTED",
        }
    if event == "sms.received":
        return {
            "id": 501,
            "fromNumber": CUSTOMER_NUMBER,
            "toNumber": ORG_NUMBER,
            "body": "Yes, tomorrow at 10 works for me",
            "receivedAt": _iso(now),
        }
    if event == "appointment.created":
        starts = (now + timedelta(days=1)).replace(hour=17, minute=0, second=0, microsecond=0)
        return {
            "id": 77,
            "callId": 90211,
            "agentId": 12,
            "startsAt": _iso(starts),
            "durationMinutes": 30,
            "attendeeName": "Alex Chen",
            "attendeePhone": CUSTOMER_NUMBER,
            "notes": "Wants a renewal quote for 5,000 seats",
        }
    raise KeyError(event)


def event_body(event: str, data: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The documented envelope: `{event, data, timestamp}`."""
    return {"event": event, "data": data, "timestamp": _iso(now or datetime.now(UTC))}


def encode_body(body: Any) -> bytes:
    """Compact UTF-8 JSON, as a server would send it; the signature covers these bytes."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def parse_override(text: str) -> tuple[list[str], Any]:
    """`data.status=FAILED` -> (["data", "status"], "FAILED").

    The value is read as JSON when it is JSON (`42`, `true`, `null`, `{"a":1}`, `"007"`),
    else taken as text, so phone numbers and enum names need no quoting.
    """
    path, sep, raw = text.partition("=")
    parts = path.strip().split(".")
    if not sep or not all(parts):
        raise ValueError(f"expected path=value (like data.status=FAILED), got {text!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return parts, value


def apply_overrides(body: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """A copy of `body` with each `path=value` set; missing objects on the path are created."""
    result = copy.deepcopy(body)
    for text in overrides:
        parts, value = parse_override(text)
        target: Any = result
        for depth, key in enumerate(parts[:-1]):
            child = target.get(key)
            if child is None:
                child = target[key] = {}
            if not isinstance(child, dict):
                where = ".".join(parts[: depth + 1])
                raise ValueError(f"{text!r}: {where} is not an object")
            target = child
        target[parts[-1]] = value
    return result
