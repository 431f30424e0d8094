"""The thin API module: HTTP policy in `http.py`, endpoints and wire assumptions in `client.py`."""

from zazacli.api.client import CALL_STATUSES, DIRECTIONS, TERMINAL_STATUSES, ZazaApi
from zazacli.api.http import BadRequestError, HttpClient, OutcomeUnknownError, check_base_url

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
