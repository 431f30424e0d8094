"""The output formats, as a table: `Format` names them, `MODULES` maps each to its module.

Every format module has the same two functions: `rows` prints a list (streaming where the
format allows) as its `View` says and returns how many items it printed; `record` prints one
object. A new
format is one module with those two functions, one `Format` value and one entry below.
Modules load on first use: `calls list --jsonl` never loads the table or CSV code, and an
error line loads none.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import Protocol

    from zazacli.output import Output

    class Renderer(Protocol):  # for the type checker only: a Protocol costs ~0.5 ms to define
        def rows(
            self,
            out: Output,
            items: Iterable[dict[str, Any]],
            kind: str,
            view: View,
            *,
            empty_message: str,
        ) -> int: ...

        def record(self, out: Output, item: dict[str, Any], kind: str) -> None: ...

    class Query(Protocol):  # `--jq` or `--template` (output/query.py): JSON in, text out
        def document(self, out: Output, data: Any) -> None: ...

        def rows(self, out: Output, items: Iterable[Any], fmt: Format) -> int: ...

        def item(self, out: Output, item: Any, *, follow: bool = False) -> None: ...


class Format(StrEnum):
    table = "table"
    plain = "plain"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


@dataclass(frozen=True)
class View:
    """How a command prints its data, read once from its options (Output.view): the format,
    and for lists a line of column names on plain output (`--header`) and every column of a
    table however narrow the terminal (`--wide`); `query`: `--jq` or `--template`, compiled
    (output/query.py), which then prints instead of the JSON `format` (json or jsonl)."""

    format: Format
    header: bool = False
    wide: bool = False
    query: Query | None = None


MODULES: dict[Format, str] = {
    Format.table: "table",
    Format.plain: "plain",
    Format.json: "json",
    Format.jsonl: "jsonl",
    Format.csv: "csv",
}


def renderer(fmt: Format) -> Renderer:
    module: Any = importlib.import_module(f"{__name__}.{MODULES[fmt]}")
    return module
