"""A tool's arguments as an assistant sends them (a JSON object), read with the CLI's
rules: each bad or unknown argument is a UsageError naming it, never a crash."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zazacli.api.values import ID_MAX
from zazacli.errors import UsageError

LIST_DEFAULT = 20
LIST_MAX = 500


class Args:
    """The arguments of one tool call. `allowed` are the names its schema declares: any
    other is an error (a misspelt `satus` must not silently mean every status)."""

    def __init__(self, given: Mapping[str, Any] | None, allowed: set[str]) -> None:
        if given is None:
            given = {}
        if not isinstance(given, Mapping):
            raise UsageError("the arguments must be a JSON object")
        unknown = sorted(str(name) for name in given if name not in allowed)
        if unknown:
            raise UsageError(
                f"unknown argument{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
                hint="arguments: " + (", ".join(sorted(allowed)) or "none"),
            )
        # A JSON null is an argument left out.
        self.given = {name: value for name, value in given.items() if value is not None}

    def text(self, name: str) -> str | None:
        value = self.given.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise UsageError(f"{name} must be a string, not {_kind(value)}")
        return value

    def required_text(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise UsageError(f"{name} is required")
        if not value.strip():
            raise UsageError(f"{name} is empty")
        return value

    def integer(
        self, name: str, *, default: int | None = None, low: int = 0, high: int = ID_MAX
    ) -> int | None:
        value = self.given.get(name)
        if value is None:
            return default
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            value = int(value.strip())  # "12": as the CLI reads it
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(f"{name} must be a whole number, not {_kind(value)}")
        if not low <= value <= high:
            raise UsageError(f"{name} must be {low} to {high}, not {value}")
        return value

    def required_id(self, name: str = "id") -> int:
        value = self.integer(name)
        if value is None:
            raise UsageError(f"{name} is required")
        return value

    def limit(self, default: int = LIST_DEFAULT) -> int:
        limit = self.integer("limit", default=default, low=1, high=LIST_MAX)
        assert limit is not None
        return limit

    def values(self, name: str) -> list[str] | None:
        """An argument that takes several values: a list, or one string with commas (as
        `--status failed,busy`); the filters read the commas (api/filters.py)."""
        value = self.given.get(name)
        if value is None:
            return None
        items = value if isinstance(value, list) else [value]
        out = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, str | int):
                raise UsageError(f"{name} must be a string or a list of strings")
            out.append(str(item))
        if not out:
            raise UsageError(f"{name}: an empty list matches nothing; leave it out for any")
        return out

    def mapping(self, name: str) -> dict[str, str]:
        """An object of KEY: value, the values strings or numbers (as --vars-file)."""
        value = self.given.get(name)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise UsageError(f"{name} must be an object of KEY: value")
        out = {}
        for key, item in value.items():
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise UsageError(f"{name}: the value of {key!r} must be a string or a number")
            out[str(key)] = str(item)
        return out


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    return names.get(type(value), "a list" if isinstance(value, list) else "an object")
