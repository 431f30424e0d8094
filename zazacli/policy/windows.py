"""Calling windows stricter than the general one, by place: data, with the law each comes
from (docs/contact-policy.md lists them). A number in such a place gets the overlap of the
general window (quiet_hours, 08:00-21:00 by default) and the place's own; a profile's
`calling_windows` overrides a place's window (`US-FL=09:00-20:00`) or turns it off
(`US-FL=off`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from zazacli.errors import ConfigError
from zazacli.policy.phones import CallingWindow, parse_window


@dataclass(frozen=True)
class Place:
    code: str  # `US-FL`: ISO 3166-2
    name: str
    window: str  # HH:MM-HH:MM, the callee's local time
    source: str  # the law, as cited in docs/contact-policy.md
    area_codes: frozenset[str]  # NANP area codes of the place (US numbers)


PLACES: dict[str, Place] = {
    "US-FL": Place(
        "US-FL",
        "Florida",
        "08:00-20:00",
        "Fla. Stat. 501.616(6)(a)",
        # Florida's area codes and overlays (NANPA).
        frozenset(
            "239 305 321 324 352 386 407 448 561 645 656 689 727 728 754 772 786 813 850 "
            "863 904 941 954".split()
        ),
    ),
}


def place_of(e164: str) -> Place | None:
    """The place with its own window that a number belongs to, if any. US numbers are
    placed by area code (a ported mobile may live elsewhere: the stricter window holds)."""
    if e164.startswith("+1") and len(e164) == 12:
        area = e164[2:5]
        for place in PLACES.values():
            if area in place.area_codes:
                return place
    return None


def parse_overrides(text: str | None, source: str = "calling_windows") -> dict[str, str]:
    """`US-FL=09:00-20:00, US-XX=off` as {place: window or "off"}; checked against PLACES."""
    overrides: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        code, sep, value = part.partition("=")
        code, value = code.strip().upper(), value.strip().lower()
        if not sep or code not in PLACES:
            known = ", ".join(PLACES)
            raise ConfigError(
                f"{source}: {part.strip()!r} is not PLACE=HH:MM-HH:MM or PLACE=off",
                hint=f"places with their own window: {known}; e.g. US-FL=09:00-20:00",
            )
        if value != "off":
            parse_window(value, f"{source}: {code}")
        overrides[code] = value
    return overrides


def window_text_for(e164: str, overrides: Mapping[str, str]) -> tuple[Place, str] | None:
    """(place, its window text) when a place's own window applies to `e164`."""
    place = place_of(e164)
    if place is None:
        return None
    window = overrides.get(place.code, place.window)
    return None if window == "off" else (place, window)


def window_for(
    e164: str, general: CallingWindow, overrides: Mapping[str, str] | None = None
) -> CallingWindow:
    """The window a call to `e164` must fall in: the general one, narrowed to the overlap
    with its place's own window where the law of that place is stricter (Florida)."""
    found = window_text_for(e164, overrides or {})
    if found is None:
        return general
    place, text = found
    own = parse_window(text, f"calling_windows: {place.code}")
    why = f"{place.name}, {place.source}"
    if general.start <= general.end and own.start <= own.end:
        start, end = max(general.start, own.start), min(general.end, own.end)
        return CallingWindow(start, max(start, end), why)
    return CallingWindow(own.start, own.end, why)  # a window past midnight: the place's own
