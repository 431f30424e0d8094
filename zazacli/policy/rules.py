"""The contact policy's rules, read against the do-not-call list, the ledger and what the API
lists: who may be dialled now, and why not.

- **do-not-call**: a listed number is never dialled; no flag lifts it.
- **cap**: at most N dials to one number in any rolling window (3 in 24 h by default, Fla.
  Stat. 501.616(6)(b)), counted from the calls the API lists to that number in the window
  *and* every dial in the ledger (a call listed late, or one whose outcome is unknown,
  still counts).
- **repeat** (batches): a number zaza dialled within `--repeat-after` (any journal, any run)
  is not dialled again by another row or journal.

`Guard.begin_dial` reads the list and the ledger again inside the transaction that writes
the dial, so a number listed (or capped) a moment before, by another process, is still
refused. Nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from zazacli.errors import BlockedError, ConfigError
from zazacli.policy.store import FAILED, Dial, Entry, PolicyStore

DEFAULT_CAP = "3/24h"
DEFAULT_REPEAT_AFTER = 24 * 3600.0
_CAP = r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*$"
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
DNC, CAP, REPEAT, WINDOW = "dnc", "cap", "repeat", "window"


class Cap:
    __slots__ = ("count", "text", "window")

    def __init__(self, count: int, window: float, text: str) -> None:
        self.count = count
        self.window = window  # seconds
        self.text = text  # as written: `3/24h`


def parse_cap(value: str | None, source: str = "max_calls_per_number") -> Cap | None:
    """`3/24h`, `2/1d`, `5/12h` as a Cap; `off` as None; None (not set) as the default."""
    text = DEFAULT_CAP if value is None else str(value).strip()
    if text.lower() == "off":
        return None
    if text == DEFAULT_CAP:
        return Cap(3, 24 * 3600.0, text)  # no regex on `zaza dnc check`'s quick path
    import re

    match = re.match(_CAP, text, re.I)
    if match:
        count = int(match.group(1))
        seconds = float(match.group(2)) * _UNITS[(match.group(3) or "h").lower()]
        if count >= 1 and seconds > 0:
            return Cap(count, seconds, text)
    raise ConfigError(
        f"{source}: {text!r} is not a cap",
        hint="write N/WINDOW, e.g. 3/24h or 2/12h, or off",
    )


class Verdict:
    """One rule's answer for one number."""

    __slots__ = ("allowed", "detail", "rule")

    def __init__(self, rule: str, allowed: bool, detail: str) -> None:
        self.rule = rule  # dnc | cap | repeat
        self.allowed = allowed
        self.detail = detail

    def as_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "allowed": self.allowed, "detail": self.detail}


class Listed:
    """What the API listed of recent outbound calls, for the cap: ids per callee. When the
    listing could not be read whole, `problem` says why (the cap then blocks: fail closed).
    Empty (`Listed()`): the ledger alone counts (`zaza dnc check`, offline)."""

    __slots__ = ("by_number", "problem")

    def __init__(
        self, by_number: dict[str, set[int]] | None = None, problem: str | None = None
    ) -> None:
        self.by_number = by_number or {}
        self.problem = problem


def clock_text(epoch: float, now: float | None = None) -> str:
    """`09:14` today, `Dec 02 09:14` another day (local time, as an operator reads it)."""
    moment = time.localtime(epoch)
    today = time.localtime(time.time() if now is None else now)
    same_day = moment[:3] == today[:3]
    return time.strftime("%H:%M" if same_day else "%b %d %H:%M", moment)


class Guard:
    """The policy for one command: the list and ledger (`store`), the cap and repeat window,
    and what the API listed. Thread-safe (the store's lock)."""

    def __init__(
        self,
        store: PolicyStore,
        *,
        cap: Cap | None,
        repeat_after: float | None = None,
        listed: Listed | None = None,
    ) -> None:
        self.store = store
        self.cap = cap
        self.repeat_after = repeat_after
        self.listed = listed
        # Against zaza's own sandbox no one is rung: the cap and the repeat window (rules
        # about people's phones ringing) are not applied; the do-not-call list still is.
        self.rings_no_one = False

    @property
    def repeat_window(self) -> float | None:
        """The repeat window applied: None when repeats are allowed or no one is rung."""
        return None if self.rings_no_one else self.repeat_after

    @property
    def history(self) -> float:
        """How far back the ledger is read: the longer of the cap and repeat windows."""
        return max(self.cap.window if self.cap else 0.0, self.repeat_after or 0.0)

    # ------------------------------------------------------------ the rules

    def dnc_verdict(self, number: str, entry: Entry | None) -> Verdict:
        if entry is None:
            return Verdict(DNC, True, "not on the do-not-call list")
        return Verdict(DNC, False, f"on the do-not-call list, {entry.describe()}")

    def cap_verdict(self, number: str, dials: list[Dial], now: float) -> Verdict:
        cap = self.cap
        if cap is None:
            return Verdict(CAP, True, "no frequency cap (max_calls_per_number off)")
        if self.rings_no_one:
            return Verdict(CAP, True, f"{cap.text}, not applied: the API is zaza's sandbox")
        listed = self.listed
        if listed is None or listed.problem is not None:
            why = listed.problem if listed is not None else "the API was not asked"
            return Verdict(CAP, False, f"cannot count the calls to {number} in the window ({why})")
        since = now - cap.window
        placed = [d for d in dials if d.outcome != FAILED and d.at >= since]
        ids = set(listed.by_number.get(number, ())) | {
            d.call_id for d in placed if d.call_id is not None
        }
        count = len(ids) + sum(1 for d in placed if d.call_id is None)
        if count >= cap.count:
            return Verdict(
                CAP, False, f"{count} calls to {number} in the window; cap {cap.text} reached"
            )
        return Verdict(CAP, True, f"{count} of {cap.count} calls in the window ({cap.text})")

    def repeat_verdict(
        self, number: str, dials: list[Dial], now: float, journal: str | None, line: int | None
    ) -> Verdict:
        if self.repeat_after is None:
            return Verdict(REPEAT, True, "repeats allowed (--allow-repeat)")
        if self.rings_no_one:
            return Verdict(REPEAT, True, "not applied: the API is zaza's sandbox")
        since = now - self.repeat_after
        earlier = [
            d
            for d in dials
            if d.outcome != FAILED
            and d.at >= since
            and not (journal is not None and d.journal == journal and d.line == line)
        ]
        if not earlier:
            return Verdict(REPEAT, True, "not dialled by zaza within the repeat window")
        last = earlier[-1]
        unknown = " (outcome unknown)" if last.outcome in ("pending", "unknown") else ""
        return Verdict(
            REPEAT, False, f"called {clock_text(last.at, now)} by {last.source}{unknown}"
        )

    def verdicts(
        self,
        numbers: Iterable[str],
        *,
        repeat: bool = False,
        journal: str | None = None,
        lines: dict[str, int | None] | None = None,
    ) -> dict[str, list[Verdict]]:
        """Every rule's verdict for each number (for --dry-run and `dnc check`)."""
        wanted = list(numbers)
        now = time.time()
        entries = self.store.lookup_many(wanted)
        dials = self.store.dials_to(wanted, now - self.history) if self.history else {}
        result = {}
        for number in wanted:
            own = dials.get(number, [])
            found = [self.dnc_verdict(number, entries.get(number))]
            found.append(self.cap_verdict(number, own, now))
            if repeat:
                line = (lines or {}).get(number)
                found.append(self.repeat_verdict(number, own, now, journal, line))
            result[number] = found
        return result

    # ------------------------------------------------------------ dialling

    def begin_dial(
        self,
        *,
        to_number: str,
        from_number: str,
        agent_id: int,
        source: str,
        journal: str | None = None,
        line: int | None = None,
        repeat: bool = False,
    ) -> int:
        """Check every rule and write the dial to the ledger, in one transaction; the dial's
        ledger id. Raises BlockedError (exit 17) naming the rule; nothing is written then."""
        with self.store.transaction() as conn:
            # Read again inside the write lock: a number listed (or capped) a moment ago, by
            # another zaza, is refused.
            verdicts = self.verdicts(
                [to_number], repeat=repeat, journal=journal, lines={to_number: line}
            )[to_number]
            refused = next((v for v in verdicts if not v.allowed), None)
            if refused is not None:
                raise blocked_error(to_number, refused)
            return self.store.insert_dial(
                conn,
                to_number=to_number,
                from_number=from_number,
                agent_id=agent_id,
                source=source,
                journal=journal,
                line=line,
            )

    def finish_dial(self, dial_id: int, outcome: str, call_id: object = None) -> None:
        from zazacli.api.client import call_id as as_call_id

        self.store.finish_dial(dial_id, outcome, as_call_id({"id": call_id}))


def _one_line(text: str) -> str:
    """A reason as one terminal-safe field (a --reason may hold a tab or an escape)."""
    if text.isprintable():
        return text  # no import on the quick path
    from zazacli.sanitize import terminal_safe

    return terminal_safe(text)


def check_lines(verdicts: dict[str, list[Verdict]]) -> list[str]:
    """`zaza dnc check` as tab-separated lines: the number, `ok` or `blocked`, and the
    rule that blocks it (the same lines with or without Typer: see policy/quick.py)."""
    lines = []
    for number, found in verdicts.items():
        refused = [v for v in found if not v.allowed]
        if refused:
            lines += [f"{number}\tblocked\t{v.rule}: {_one_line(v.detail)}" for v in refused]
        else:
            lines.append(f"{number}\tok")
    return lines


def blocked_error(number: str, verdict: Verdict) -> BlockedError:
    """The one line for a refused dial, by rule; the verdict rides along (`.verdict`)."""
    error = _blocked_error(number, verdict)
    error.verdict = verdict  # type: ignore[attr-defined]
    return error


def _blocked_error(number: str, verdict: Verdict) -> BlockedError:
    if verdict.rule == DNC:
        return BlockedError(
            f"{number} is {verdict.detail}; nothing was sent",
            hint=f"only `zaza dnc remove {number}` lets it be called again, once the person "
            "has consented again",
        )
    if verdict.rule == CAP:
        return BlockedError(
            f"frequency cap: {verdict.detail}; nothing was sent",
            hint="wait for the window to pass, or change the cap: zaza profiles set NAME "
            "max_calls_per_number N/WINDOW",
        )
    return BlockedError(f"{number}: {verdict.detail}; nothing was sent")
