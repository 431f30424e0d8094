"""On a terminal: a Rich table for a list, a panel for one record, local relative times.

Cells are built from data as `Text` (never markup); Rich is imported only here, and only
when something is drawn.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from zazacli.output.columns import LAYOUTS, Column
from zazacli.output.safe import plain_value, safe_text

if TYPE_CHECKING:
    from rich.text import Text

    from zazacli.output import Output


def rows(out: Output, items: Iterable[dict[str, Any]], kind: str, *, empty_message: str) -> int:
    """The whole list at once (a table needs every width); a notice when it is empty."""
    columns = LAYOUTS[kind].columns
    cells = [[column.cell(item, short=True) for column in columns] for item in items]
    if not cells:
        out.notice(empty_message)
        return 0
    from rich.table import Table

    keep = _fitting_columns(columns, cells, out.console.width)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for index in keep:
        table.add_column(columns[index].header, no_wrap=columns[index].no_wrap)
    for row in cells:
        table.add_row(*(row[index] for index in keep))
    out.console.print(table)
    return len(cells)


def _fitting_columns(columns: list[Column], cells: list[list[Text]], width: int) -> list[int]:
    """Indexes of the columns to show: drop low-priority ones until the rest fit."""
    widths = [
        max([len(column.header)] + [row[i].cell_len for row in cells]) + 2
        for i, column in enumerate(columns)
    ]
    keep = list(range(len(columns)))
    by_priority = sorted(keep, key=lambda i: (-columns[i].priority, -i))
    for index in by_priority:
        if sum(widths[i] for i in keep) <= width or columns[index].priority == 1:
            break
        keep.remove(index)
    return keep


def record(out: Output, item: dict[str, Any], kind: str) -> None:
    """A panel titled `call 90512`: known fields with their labels, then the server's other
    fields under their own names (data, like the values); absent fields are left out."""
    from rich.panel import Panel
    from rich.table import Table

    known, extra = LAYOUTS[kind].detail_of(item)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for column in known + extra:
        if column.raw(item) is not None:
            label = column.header.title() if column in known else column.header
            grid.add_row(safe_text(label), column.cell(item))
    title = safe_text(f"{kind} {plain_value(item.get('id'))}", "bold")
    out.console.print(Panel(grid, title=title, title_align="left", expand=False))
