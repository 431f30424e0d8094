"""Phone numbers for dispatching: parse and normalise to E.164, find the callee's time zones,
and check a call against the allowed calling window (US TCPA quiet hours by default).

`phonenumbers` is imported inside the functions: it costs ~100 ms and only the commands
that dial need it. Nothing here prints; problems are raised as UsageError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from zazacli.errors import ConfigError, UsageError

# TCPA: no telemarketing calls before 8 am or after 9 pm, callee's local time.
DEFAULT_QUIET_WINDOW = "08:00-21:00"
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_UNKNOWN_ZONE = "Etc/Unknown"


def region_code(value: str, label: str = "region") -> str:
    """A region phone numbers are read in (`US`, `gb`): upper case, one phonenumbers knows,
    else a UsageError (a profile saved with `XX` would fail at its next dispatch)."""
    import phonenumbers

    code = value.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise UsageError(
            f"{label}: unknown region {value.strip()!r}",
            hint="a two-letter country code (ISO 3166), e.g. US, GB, DE, FR",
        )
    return code


def normalize_number(raw: str, *, region: str | None = None, label: str = "number") -> str:
    """`raw` as E.164 (`+14155550123`), or a UsageError saying what is wrong with it.

    National formats need a region (`--region US`, or the profile's `region`).
    """
    import phonenumbers

    text = (raw or "").strip()
    if not text:
        raise UsageError(f"{label}: no phone number given")
    region_code = region.strip().upper() if region and region.strip() else None
    try:
        parsed = phonenumbers.parse(text, region_code)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            if region_code is None:
                raise UsageError(
                    f"{label}: {text!r} has no country code",
                    hint="write it in E.164 (+14155550123), or pass --region US "
                    "(or set one: zaza profiles set NAME region US)",
                ) from None
            raise UsageError(f"{label}: {text!r}: unknown country code or region") from None
        raise UsageError(f"{label}: {text!r} is not a phone number") from None
    if parsed.extension:
        raise UsageError(f"{label}: {text!r} has an extension; the API dials numbers only")
    where = phonenumbers.region_code_for_number(parsed) or region_code or "its country"
    if not phonenumbers.is_possible_number(parsed):
        raise UsageError(f"{label}: {text!r} is not a possible number (wrong length)")
    if not phonenumbers.is_valid_number(parsed):
        raise UsageError(f"{label}: {text!r} is not a valid number in {where}")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def time_zones(e164: str) -> list[str]:
    """The IANA zones a number may ring in; empty when the number's area has none on record."""
    import phonenumbers
    from phonenumbers import timezone

    zones = timezone.time_zones_for_number(phonenumbers.parse(e164))
    return [zone for zone in zones if zone != _UNKNOWN_ZONE]


# ---------------------------------------------------------------- the calling window


@dataclass(frozen=True)
class CallingWindow:
    """Allowed local calling times, [start, end) in minutes after midnight.

    A window whose end is before its start runs past midnight (22:00-06:00).
    """

    start: int
    end: int
    why: str = ""  # which rule set it, when not the general window (`Florida, Fla. Stat. …`)

    @property
    def text(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"

    @property
    def described(self) -> str:
        return f"{self.text} ({self.why})" if self.why else self.text

    def allows(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        if self.start <= self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end


def parse_window(text: str | None, source: str = "quiet_hours") -> CallingWindow:
    """`HH:MM-HH:MM` (24:00 allowed as an end) as a CallingWindow; None gives the TCPA default."""
    value = DEFAULT_QUIET_WINDOW if text is None else str(text)
    match = _WINDOW.match(value)
    if match:
        sh, sm, eh, em = (int(g) for g in match.groups())
        start, end = sh * 60 + sm, eh * 60 + em
        if sh < 24 and sm < 60 and em < 60 and end <= 24 * 60:
            return CallingWindow(start, end)
    raise ConfigError(
        f"{source}: {value!r} is not a calling window",
        hint="write the allowed local hours as HH:MM-HH:MM, e.g. 08:00-21:00",
    )


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass
class LocalTimes:
    """The callee's local time in each of the number's zones, and which fall outside."""

    number: str
    times: list[tuple[str, datetime]] = field(default_factory=list)
    outside: list[tuple[str, datetime]] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return bool(self.times)

    @property
    def allowed(self) -> bool:
        """Unknown zones are allowed (the caller warns); known ones must all be inside."""
        return not self.outside

    def describe(self, which: list[tuple[str, datetime]] | None = None, limit: int = 3) -> str:
        """`14:03 in America/Los_Angeles`, a few zones at most."""
        pairs = self.times if which is None else which
        if not pairs:
            return "unknown (no time zone on record for this number)"
        shown = [f"{local.strftime('%H:%M')} in {zone}" for zone, local in pairs[:limit]]
        more = len(pairs) - limit
        return ", ".join(shown) + (f" and {more} more zones" if more > 0 else "")

    def as_dict(self) -> dict[str, Any]:
        return {zone: local.isoformat(timespec="minutes") for zone, local in self.times}


def local_times(e164: str, window: CallingWindow, now: datetime | None = None) -> LocalTimes:
    """The callee's local time(s) now, checked against `window`."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    now = now or datetime.now(UTC)
    result = LocalTimes(e164)
    for zone in time_zones(e164):
        try:
            local = now.astimezone(ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError):
            continue  # no tz database entry here: treated like an unknown zone
        result.times.append((zone, local))
        if not window.allows(local):
            result.outside.append((zone, local))
    return result


def quiet_hours_error(times: LocalTimes, window: CallingWindow) -> UsageError:
    """The refusal for a call outside the window, naming the callee's local time."""
    return UsageError(
        f"it is {times.describe(times.outside)} for {times.number}, outside the allowed "
        f"calling window {window.text} ({window.why or 'TCPA quiet hours'})",
        hint="call later, change the window (zaza profiles set NAME quiet_hours HH:MM-HH:MM), "
        "or pass --allow-quiet-hours if this call is not telemarketing",
    )
