"""JSON bodies from outside, read strictly."""

from __future__ import annotations

import json
from typing import Any


class InvalidJsonError(ValueError):
    """A body that parses as JSON but that zaza refuses: NaN/Infinity, or nested too deep."""


def _no_constant(name: str) -> Any:
    raise InvalidJsonError(name)


def parse_json(data: bytes | str) -> Any:
    """json.loads for bodies from outside: NaN, Infinity and -Infinity (not JSON, but
    Python accepts them) and nesting too deep for the interpreter raise InvalidJsonError;
    anything else unreadable raises ValueError, as json.loads does.

    Depth is bounded by the interpreter's recursion limit (about 1,000 levels), not by a
    walk of every answer: that walk cost a sixth of `calls list --all`. Data that deep
    which still loads, should anything downstream recurse on it, ends as one line too
    (main.py maps a RecursionError)."""
    try:
        return json.loads(data, parse_constant=_no_constant)
    except RecursionError:
        raise InvalidJsonError("nested too deeply") from None
