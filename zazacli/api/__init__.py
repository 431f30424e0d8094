"""The thin API module: HTTP policy in `http.py`, endpoints and wire assumptions in `client.py`.

Names are loaded on first use, so that `zazacli.api.values` (used by `--help`) does not
pull in httpx-facing code at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zazacli.api.client import ZazaApi
    from zazacli.api.http import BadRequestError, HttpClient, OutcomeUnknownError, check_base_url
    from zazacli.api.values import CALL_STATUSES, DIRECTIONS, TERMINAL_STATUSES

_WHERE = {
    "ZazaApi": "client",
    "BadRequestError": "http",
    "HttpClient": "http",
    "OutcomeUnknownError": "http",
    "check_base_url": "http",
    "CALL_STATUSES": "values",
    "DIRECTIONS": "values",
    "TERMINAL_STATUSES": "values",
}

__all__ = [
    "CALL_STATUSES",
    "DIRECTIONS",
    "TERMINAL_STATUSES",
    "BadRequestError",
    "HttpClient",
    "OutcomeUnknownError",
    "ZazaApi",
    "check_base_url",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"zazacli.api.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
