"""Reading the JSON-lines files that `zaza webhooks listen --save` writes, for `replay`.

One object a line: `{received_at, event, signature, flags?, headers, body, raw}`. `raw` is
the body exactly as received, so a replay sends the same bytes the signature covered.
`signature` is the listener's verdict when the event arrived: `valid`, `invalid` (bad or
missing signature) or `unchecked` (no secret to check with). A line without one (older or
hand-written files) counts as unverified: only `valid` events may be re-signed, or a forged
event would come out of a replay looking genuine.
A last line cut short by `kill -9` (or any other unreadable line) is skipped and reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from zazacli.webhooks.model import INVALID, UNCHECKED, VALID
from zazacli.webhooks.samples import encode_body
from zazacli.webhooks.signing import SIGNATURE_HEADER

VERDICTS = (VALID, INVALID, UNCHECKED)  # the listener's `signature` values


@dataclass(frozen=True)
class SavedEvent:
    position: int  # 1-based among the readable events of the file
    line_number: int
    received_at: str
    event: str
    raw: bytes
    signature: str | None  # the X-ZazaVoice-Signature it arrived with
    verdict: str | None = None  # valid / invalid / unchecked when received; None: not recorded

    @property
    def verified(self) -> bool:
        """Arrived with a signature the listener checked and found valid."""
        return self.verdict == VALID

    def body(self) -> Any:
        """The body as JSON (None when it is not)."""
        try:
            return json.loads(self.raw)
        except (ValueError, UnicodeDecodeError):
            return None

    def signed_with(self, secret: str) -> bool:
        """Whether its saved signature matches its raw body under `secret` (either key form)."""
        from zazacli.webhooks.signing import verify_signature

        return verify_signature(secret, self.raw, self.signature)

    def received(self) -> datetime | None:
        try:
            moment = datetime.fromisoformat(self.received_at)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _header(headers: Any, name: str) -> str | None:
    if not isinstance(headers, dict):
        return None
    for key, value in headers.items():
        if str(key).lower() == name.lower() and isinstance(value, str):
            return value
    return None


def parse_saved(lines: Iterable[str]) -> tuple[list[SavedEvent], list[str]]:
    """The events of a saved file, and one problem message per line that is not one."""
    events: list[SavedEvent] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            problems.append(f"line {number}: not JSON (cut short?), skipped")
            continue
        if not isinstance(record, dict) or ("raw" not in record and "body" not in record):
            problems.append(f"line {number}: not a saved event, skipped")
            continue
        raw = record.get("raw")
        # Files written by hand may lack `raw`: re-encode the body (the old signature won't fit).
        data = raw.encode("utf-8") if isinstance(raw, str) else encode_body(record.get("body"))
        body = record.get("body")
        body_event = body.get("event") if isinstance(body, dict) else None
        event = record.get("event") or body_event or "(none)"
        events.append(
            SavedEvent(
                position=len(events) + 1,
                line_number=number,
                received_at=str(record.get("received_at") or ""),
                event=str(event),
                raw=data,
                signature=_header(record.get("headers"), SIGNATURE_HEADER),
                verdict=verdict if (verdict := record.get("signature")) in VERDICTS else None,
            )
        )
    return events, problems


def read_saved(path: Path) -> tuple[list[SavedEvent], list[str]]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return parse_saved(handle)


def select(
    events: Sequence[SavedEvent],
    *,
    types: Sequence[str] = (),
    since: datetime | None = None,
    indexes: Sequence[int] = (),
) -> list[SavedEvent]:
    """Filter by type patterns (`call.*`), receive time, and 1-based positions (-1 = last)."""
    chosen = list(events)
    if indexes:
        total = len(events)
        wanted = {i if i > 0 else total + 1 + i for i in indexes}
        chosen = [e for e in chosen if e.position in wanted]
    if types:
        chosen = [e for e in chosen if any(fnmatchcase(e.event, t) for t in types)]
    if since is not None:
        chosen = [e for e in chosen if (moment := e.received()) is not None and moment >= since]
    return chosen
