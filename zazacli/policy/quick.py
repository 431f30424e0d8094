"""`zaza dnc check NUMBER…` without Typer: a cron job or a CRM hook asks before every call,
so the answer takes no longer than `zaza --version` (tests/benchmarks/bench_policy.py).

Only the plain case is answered here — numbers already in E.164, no options — and only when
nothing needs saying (no warning, an existing list); anything else returns None and the
full command runs, with the same lines (policy/rules.check_lines)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import IO


def _is_e164(text: str) -> bool:
    """`+` and 8 to 15 digits, the first not 0 (no regex: `re` costs ~1 ms to load here)."""
    digits = text[1:]
    return (
        text[:1] == "+"
        and 8 <= len(digits) <= 15
        and digits.isascii()
        and digits.isdigit()
        and digits[0] != "0"
    )


def quick_check(numbers: list[str], env: Mapping[str, str], stdout: IO[str]) -> int | None:
    """The exit code (0 or 17) once the lines are written; None to run the full command."""
    if not numbers or not all(_is_e164(number) for number in numbers):
        return None
    from pathlib import Path

    from zazacli import config
    from zazacli.errors import ZazaError

    warnings: list[str] = []
    try:
        settings = config.resolve(config.config_dir(env), env=env, warn=warnings.append)
        if env.get("ZAZA_DNC"):
            path = Path(env["ZAZA_DNC"]).expanduser()
        elif settings.api_key:
            from zazacli.policy.store import default_policy_file

            path = default_policy_file(settings.base_url, settings.api_key)
        else:
            return None
        if not path.is_file():
            return None
        from zazacli.policy.rules import Guard, Listed, check_lines, parse_cap
        from zazacli.policy.store import PolicyStore

        cap_text = env.get("ZAZA_MAX_CALLS_PER_NUMBER") or settings.get("max_calls_per_number")
        cap = parse_cap(cap_text)
        with PolicyStore.open(path, create=False, warn=warnings.append, readonly=True) as store:
            verdicts = Guard(store, cap=cap, listed=Listed()).verdicts(numbers)
    except ZazaError:
        return None
    if warnings:
        return None
    stdout.write("".join(line + "\n" for line in check_lines(verdicts)))
    blocked = any(not verdict.allowed for found in verdicts.values() for verdict in found)
    return 17 if blocked else 0
