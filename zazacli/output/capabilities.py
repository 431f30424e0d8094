"""`zaza capabilities`: what the API supports, and what only the dashboard can do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zazacli.api.capabilities import Capability
    from zazacli.output import Output


def capabilities_table(
    out: Output,
    supported: list[Capability],
    dashboard_only: list[Capability],
    *,
    json: bool,
) -> None:
    """Two groups: what the API does (endpoints, commands) and where the dashboard does the
    rest. Piped: `api<TAB>feature<TAB>endpoints<TAB>commands` and
    `dashboard<TAB>feature<TAB>where`."""
    if json:
        out.json_document(_capabilities_document(supported, dashboard_only))
        return
    if not out.drawn:
        _write_capabilities_tsv(out, supported, dashboard_only)
        return
    _print_group(
        out,
        "[bold green]Supported by the ZazaVoice API today[/bold green]",
        [
            (_sentence(c.feature), ", ".join(c.endpoints), _commands_text(c.commands))
            for c in supported
        ],
    )
    _print_group(
        out,
        "[bold yellow]Dashboard only (not in the API yet), and where[/bold yellow]",
        [(_sentence(c.feature), c.dashboard or "") for c in dashboard_only],
    )
    out.console.print(
        "[dim]Endpoints ZazaVoice adds under /v1 before zaza has a command for them: "
        "zaza api METHOD PATH[/dim]"
    )


def _capabilities_document(
    supported: list[Capability], dashboard_only: list[Capability]
) -> dict[str, Any]:
    """The `--json` document: `api` and `dashboardOnly`."""
    return {
        "api": [
            {
                "feature": c.feature,
                "endpoints": list(c.endpoints),
                "commands": list(c.commands),
            }
            for c in supported
        ],
        "dashboardOnly": [{"feature": c.feature, "dashboard": c.dashboard} for c in dashboard_only],
    }


def _write_capabilities_tsv(
    out: Output, supported: list[Capability], dashboard_only: list[Capability]
) -> None:
    for c in supported:
        out.write("\t".join(["api", c.feature, ", ".join(c.endpoints), ", ".join(c.commands)]))
    for c in dashboard_only:
        out.write("\t".join(["dashboard", c.feature, c.dashboard or ""]))


def _print_group(out: Output, title: str, rows: list[tuple[str, ...]]) -> None:
    """A markup title, then the rows as an indented grid (feature, cyan, dim)."""
    from rich.markup import escape
    from rich.padding import Padding
    from rich.table import Table

    table = Table.grid(padding=(0, 2))
    for style in ("", "cyan", "dim")[: len(rows[0]) if rows else 0]:
        table.add_column(style=style)
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    out.console.print(title)
    out.console.print(Padding(table, (0, 0, 1, 2)))


def _sentence(text: str) -> str:
    """The text with its first letter capitalised."""
    return text[:1].upper() + text[1:]


def _commands_text(names: tuple[str, ...]) -> str:
    """`zaza calls show, transcript, wait`: the shared noun once."""
    nouns = {name.rsplit(" ", 1)[0] for name in names}
    if len(nouns) != 1:
        return ", ".join(names)
    return f"{nouns.pop()} " + ", ".join(name.rsplit(" ", 1)[1] for name in names)
