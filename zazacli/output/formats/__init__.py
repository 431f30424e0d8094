"""The output formats, as a table: `Format` names them, `RENDERERS` maps each to its module.

Every format module has the same two functions: `rows` prints a list (streaming where the
format allows) and returns how many items it printed; `record` prints one object. A new
format is one module with those two functions, one `Format` value and one entry below.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from zazacli.output.formats import csv, json, jsonl, plain, table


class Format(StrEnum):
    table = "table"
    plain = "plain"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


if TYPE_CHECKING:
    from zazacli.output import Output


class Renderer(Protocol):
    def rows(
        self, out: Output, items: Iterable[dict[str, Any]], kind: str, *, empty_message: str
    ) -> int: ...

    def record(self, out: Output, item: dict[str, Any], kind: str) -> None: ...

RENDERERS: dict[Format, Renderer] = {
    Format.table: table,
    Format.plain: plain,
    Format.json: json,
    Format.jsonl: jsonl,
    Format.csv: csv,
}
