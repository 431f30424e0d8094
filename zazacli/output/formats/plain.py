"""Piped output: headerless tab-separated lines, RFC 3339 UTC times, no colour."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from zazacli.output.columns import LAYOUTS
from zazacli.output.safe import plain_value

if TYPE_CHECKING:
    from zazacli.output import Output


def rows(out: Output, items: Iterable[dict[str, Any]], kind: str, *, empty_message: str) -> int:
    """A line per item, the list columns in order; nothing at all for an empty list."""
    columns = LAYOUTS[kind].columns
    write = out.stdout.write
    count = 0
    for item in items:
        write("\t".join(column.plain(item) for column in columns) + "\n")
        count += 1
    return count


def record(out: Output, item: dict[str, Any], kind: str) -> None:
    """`field<TAB>value` lines: the known fields, then the rest."""
    known, extra = LAYOUTS[kind].detail_of(item)
    for column in known + extra:
        out.write(f"{plain_value(column.key)}\t{column.plain(item)}")
