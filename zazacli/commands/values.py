"""The small parsers of option values many commands share: each bad value is a usage error
(exit 2) naming the option."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zazacli.errors import UsageError

if TYPE_CHECKING:
    from zazacli.output.fields import Fields


def pick_fields(text: str | None, kind: str) -> Fields | None:
    """`--fields` for a list or `show` of `kind` (call, agent, campaign)."""
    if text is None:
        return None
    from zazacli.output.fields import parse_fields

    return parse_fields(text, kind)


def text_value(value: str, what: str) -> str:
    """Free text from the command line that goes to a database or over the wire: bytes that
    are not UTF-8 (argv keeps them as lone surrogates) are a usage error, not a crash."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(
            f"{what} is not valid UTF-8 text", hint="check the terminal's or script's encoding"
        ) from None
    return value


def exclusive(**given: bool) -> None:
    """A usage error (exit 2) when options that cannot both hold are given together:
    `exclusive(limit=..., all=...)` names them as `--limit` and `--all`."""
    names = [f"--{name.replace('_', '-')}" for name, present in given.items() if present]
    if len(names) > 1:
        raise UsageError(f"{' and '.join(names)} cannot be used together")
