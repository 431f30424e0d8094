"""What a POST to the listener is, decided from its headers and bytes alone.

No sockets, locks or files: the listener reads the request, asks here, then saves, counts
and answers what it is told. Every sender is presumed hostile, so the verdict records how
far the request proved where it came from (`signature`) and what looked wrong (`flags`);
a forged event is still saved and shown, but answered 401.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring as _string  # json.dumps of a str, non-ASCII kept
from typing import Any, Protocol

from zazacli.sanitize import json_safe
from zazacli.webhooks.model import INVALID, UNCHECKED, VALID
from zazacli.webhooks.samples import EVENT_TYPES
from zazacli.webhooks.signing import EVENT_HEADER, SIGNATURE_HEADER, signature_form

# A body timestamp further than this from our clock is flagged: a replay, or a skewed clock.
STALE_AFTER_SECONDS = 300.0
# Bytes that keep a body from being written into its saved line as it came: line ends,
# and the tab (JSON whitespace, yet a control character on a terminal).
_NOT_ONE_LINE = (b"\n", b"\r", b"\t")


class HeaderFields(Protocol):
    """A request's headers, looked up case-insensitively (wire.Headers, email's Message)."""

    def get(self, name: str, /) -> Any: ...

    def items(self) -> Iterable[tuple[str, Any]]: ...


@dataclass(frozen=True)
class Refusal:
    """A request that is no event: answered `status` with `message`, nothing saved."""

    status: int
    message: str


@dataclass(frozen=True)
class Classified:
    """An event to save and show, whatever its signature: what it is and what to answer."""

    status: int  # 200, or 401 for a bad or missing signature
    event: str  # from X-ZazaVoice-Event, else the body's `event`, else "(none)"
    signature: str  # VALID, INVALID or UNCHECKED (no secret to check with)
    form: str | None  # for VALID: which key form matched (signing.py)
    flags: tuple[str, ...]
    headers: dict[str, str]  # the X-ZazaVoice-* and Content-Type headers, as saved
    body: dict[str, Any]
    text: str  # the body as decoded, saved as `raw`
    raw: bytes

    @property
    def answer(self) -> dict[str, Any]:
        return {"error": "invalid signature"} if self.status == 401 else {"received": True}

    def record(self, received_at: str) -> dict[str, Any]:
        """The saved / `--jsonl` object; its key order is the save file's."""
        record: dict[str, Any] = {
            "received_at": received_at,
            "event": self.event,
            "signature": self.signature,
        }
        if self.flags:
            record["flags"] = list(self.flags)
        record.update(headers=dict(self.headers), body=self.body, raw=self.text)
        return record

    def saved(self, received_at: str) -> tuple[dict[str, Any], str]:
        """The record, and its line: `json.dumps(record)` made terminal-safe (json_safe).

        A body that is one line already goes into the line as it came rather than
        re-encoded: the same data for every reader (they parse the line), for less work.
        The rest is put together as json.dumps would (its separators, non-ASCII kept).
        """
        record = self.record(received_at)
        if any(byte in self.raw for byte in _NOT_ONE_LINE):
            body = json.dumps(self.body, ensure_ascii=False)
        else:
            body = self.text
        headers = ", ".join(f"{_string(k)}: {_string(v)}" for k, v in self.headers.items())
        parts = [
            f'{{"received_at": {_string(received_at)}, "event": {_string(self.event)}, ',
            f'"signature": {_string(self.signature)}, ',
        ]
        if self.flags:
            parts.append(f'"flags": [{", ".join(map(_string, self.flags))}], ')
        parts.append(f'"headers": {{{headers}}}, "body": {body}, "raw": {_string(self.text)}}}')
        # json_safe: a body may hold a lone surrogate escape (`"\ud800"`), valid JSON that
        # no UTF-8 file can hold as a character; it is saved as the escape it came as.
        return record, json_safe("".join(parts))


def body_length(lengths: list[str], transfer_encoding: str | None, max_body: int) -> int | Refusal:
    """The body's length from its Content-Length header(s), or why the body is not read."""
    if not lengths or transfer_encoding:
        return Refusal(411, "Content-Length required")
    length_text = lengths[0].strip()
    # ASCII digits only: int() would also take "+5", "1_0" and "٥", and two differing
    # lengths are how requests get smuggled past a proxy.
    if not (length_text.isascii() and length_text.isdigit()) or len(set(lengths)) > 1:
        shown = ", ".join(repr(v) for v in lengths)
        return Refusal(400, f"bad Content-Length {shown}")
    length = int(length_text)
    if length > max_body:
        # Refused from the header alone: the body is never read into memory.
        return Refusal(413, f"body of {length} bytes is over {max_body}")
    return length


def classify(
    raw: bytes, headers: HeaderFields, secret: str | None, *, now: datetime | None = None
) -> Classified | Refusal:
    """What the POST with body `raw` is; `secret` None leaves signatures unchecked."""
    parsed = _parse(raw)
    if isinstance(parsed, Refusal):
        return parsed
    text, body = parsed
    header_event = headers.get(EVENT_HEADER)
    body_event = body.get("event") if isinstance(body.get("event"), str) else None
    event = header_event or body_event or "(none)"
    flags: list[str] = []
    if header_event and body_event and header_event != body_event:
        flags.append("event-mismatch")
    if event not in EVENT_TYPES:
        flags.append("unknown-type")
    flags += timestamp_flags(body.get("timestamp"), now)

    signature_header = headers.get(SIGNATURE_HEADER)
    form = None
    if secret is None:
        signature = UNCHECKED
    elif form := signature_form(secret, raw, signature_header):
        signature = VALID
    else:
        signature = INVALID
        if not signature_header:
            flags.append("no-signature")
    kept = {
        name: value
        for name, value in headers.items()
        if name.lower().startswith("x-zazavoice-") or name.lower() == "content-type"
    }
    return Classified(
        status=401 if signature == INVALID else 200,
        event=event,
        signature=signature,
        form=form,
        flags=tuple(flags),
        headers=kept,
        body=body,
        text=text,
        raw=raw,
    )


def _parse(raw: bytes) -> tuple[str, dict[str, Any]] | Refusal:
    try:
        text = raw.decode("utf-8")
        if text.startswith("\ufeff"):  # as json.loads says it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        body = _DECODER.decode(text)
    except (UnicodeDecodeError, ValueError) as exc:
        return Refusal(400, f"malformed JSON: {exc}")
    except RecursionError:
        return Refusal(400, "malformed JSON: nested too deeply")
    if not isinstance(body, dict):
        return Refusal(400, "expected a JSON object {event, data, timestamp}")
    return text, body


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; accepting them would make the save file invalid JSON.
    raise ValueError(f"{name} is not valid JSON")


# Made once: json.loads(text, parse_constant=…) would make a decoder for every body.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def timestamp_flags(timestamp: Any, now: datetime | None = None) -> list[str]:
    """`stale-timestamp` (a possible replay), `future-timestamp`, or `no-timestamp`."""
    if not isinstance(timestamp, str):
        return ["no-timestamp"]
    try:
        sent = datetime.fromisoformat(timestamp.strip())
    except ValueError:
        return ["no-timestamp"]
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    age = ((now or datetime.now(UTC)) - sent).total_seconds()
    if age > STALE_AFTER_SECONDS:
        return ["stale-timestamp"]
    if age < -STALE_AFTER_SECONDS:
        return ["future-timestamp"]
    return []
