"""On a terminal: a Rich table for a list, a panel for one record, local relative times.

Cells are built from data as `Text` (never markup); Rich is imported only here, and only
when something is drawn.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from zazacli.output.columns import LAYOUTS, Column
from zazacli.output.safe import safe_text
from zazacli.sanitize import plain_value

if TYPE_CHECKING:
    from rich.table import Table

    from zazacli.output import Output
    from zazacli.output.formats import View


def rows(
    out: Output, items: Iterable[dict[str, Any]], kind: str, view: View, *, empty_message: str
) -> int:
    """The whole list at once (a table needs every width); a notice when it is empty. On a
    narrow terminal the lowest-priority columns are hidden, and a notice names them."""
    layout = LAYOUTS[kind].table
    columns = layout if view.wide else fitting(layout, out.console.width)
    cells = [[column.cell(item, short=True) for column in columns] for item in items]
    if not cells:
        out.notice(empty_message)
        return 0
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in columns:
        fixed = column.width if column.fixed and not view.wide else None
        table.add_column(column.header, no_wrap=column.no_wrap or bool(fixed), width=fixed)
    for row in cells:
        table.add_row(*row)
    if view.wide:
        _print_wide(out, table)
    else:
        out.console.print(table)
    hidden = [column.header for column in layout if column not in columns]
    if hidden:
        out.notice(f"columns hidden: {', '.join(hidden)}; see all with --wide (or --json)")
    return len(cells)


GAP = 2  # cells between two columns (Rich's padding of 1 on each side)


def fitting(columns: list[Column], width: int) -> list[Column]:
    """The columns to show in `width` cells: the highest priorities hidden first (the
    rightmost first among equals) until the others' declared widths fit. Never measured
    from the data: the same columns for every page, at a given width."""
    shown = list(columns)
    ranked = sorted(range(len(columns)), key=lambda i: (columns[i].priority, i), reverse=True)
    for index in ranked:
        room = sum(column.room for column in shown) + GAP * (len(shown) - 1)
        if room <= width or columns[index].priority == 1:
            break
        shown.remove(columns[index])
    return shown


def spread(columns: list[Column], width: int) -> list[int]:
    """Each column's width in `width` cells (the gaps between them already taken out):
    its declared room, and what is left over shared among those not of a fixed width.
    For a grid that draws cells at the widths it is given (the terminal app's table)."""
    widths = [column.room for column in columns]
    flexible = [i for i, column in enumerate(columns) if not column.fixed] or [len(columns) - 1]
    left = max(0, width - sum(widths))
    for n, i in enumerate(flexible):
        widths[i] += left // len(flexible) + (1 if n < left % len(flexible) else 0)
    return widths


def _print_wide(out: Output, table: Table) -> None:
    """`--wide`: every column at its full width, however narrow the terminal; the
    terminal (or `less -S`) deals with the long lines, no cell is folded or cut."""
    from rich.measure import Measurement

    console = out.console
    natural = Measurement.get(console, console.options.update_width(10_000), table).maximum
    width = console.width
    console.width = max(width, natural)
    try:
        console.print(table)
    finally:
        console.width = width


def record(out: Output, item: dict[str, Any], kind: str) -> None:
    """A panel titled `call 90512`: known fields with their labels, then the server's other
    fields labelled the same way (`someNewField`: `Some new field`); absent ones left out."""
    from rich.panel import Panel
    from rich.table import Table

    known, extra = LAYOUTS[kind].detail_of(item)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for column in known + extra:
        if column.raw(item) is not None:
            grid.add_row(safe_text(column.label), column.cell(item))
    title = safe_text(f"{kind} {plain_value(item.get('id'))}", "bold")
    out.console.print(Panel(grid, title=title, title_align="left", expand=False))
