"""Piped output: tab-separated lines, RFC 3339 UTC times, no colour; a header line only
with `--header` (`View.header`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from zazacli.output.columns import LAYOUTS
from zazacli.sanitize import plain_value

if TYPE_CHECKING:
    from zazacli.output import Output
    from zazacli.output.formats import View


def rows(
    out: Output, items: Iterable[dict[str, Any]], kind: str, view: View, *, empty_message: str
) -> int:
    """A line per item, the list columns in order. An empty list prints nothing, or only
    the header line with `--header` (as a CSV has its header row)."""
    columns = LAYOUTS[kind].columns
    write = out.stdout.write
    if view.header:
        write("\t".join(plain_value(column.header) for column in columns) + "\n")
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
