"""Everything zazacli prints goes through `Output`, the printer.

The rule (after gh): data goes to stdout, everything else to stderr. On a terminal,
Rich tables with local, relative times; when piped, headerless tab-separated lines
with RFC 3339 UTC times and no colour; `--json` one document, `--jsonl` a line per
object, `--csv` a spreadsheet. Rich is imported only when a terminal view is drawn, and
this module stays light to import (every error line is printed by an `Output`): format,
transcript and value code load when first used.

Lists and records are drawn by the format modules in `formats/` (one per `Format`),
from the per-noun layouts in `columns.py`; the printing that belongs to one command
lives beside them (`api.py`, `tail.py`, `stats.py`, `export.py`, `dispatch.py`, …).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

from zazacli.output.formats import Format, renderer
from zazacli.output.safe import json_safe, plain_value, safe_text, terminal_safe

if TYPE_CHECKING:
    from rich.console import Console

    from zazacli.errors import ZazaError

__all__ = ["Format", "Output"]


class Output:
    """Built once per command by the context (and by the error path); the streams are the
    ones current when it is built."""

    def __init__(
        self,
        *,
        no_color: bool = False,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
    ) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        forced = os.environ.get("ZAZA_FORCE_TTY", "") not in ("", "0")
        self.is_tty = forced or _isatty(self.stdout)
        self.err_tty = _isatty(self.stderr)
        self.color = not (no_color or os.environ.get("NO_COLOR"))
        self._console: Console | None = None
        self._err_console: Console | None = None

    # ------------------------------------------------------------ streams

    @property
    def console(self) -> Console:
        if self._console is None:
            self._console = self._make_console(self.stdout, self.is_tty)
        return self._console

    @property
    def err_console(self) -> Console:
        if self._err_console is None:
            self._err_console = self._make_console(self.stderr, self.err_tty)
        return self._err_console

    def _make_console(self, file: IO[str], tty: bool) -> Console:
        from rich.console import Console

        return Console(
            file=file,
            force_terminal=tty,
            no_color=not self.color,
            highlight=False,
            emoji=False,
            soft_wrap=not tty,
        )

    def write(self, line: str = "") -> None:
        self.stdout.write(line + "\n")

    def notice(self, message: str) -> None:
        """A human-facing line on stderr (never part of the data). Messages often quote the
        server (retry reasons, skipped rows), so they pass the terminal-safe filter."""
        self.stderr.write(terminal_safe(message, multiline=True) + "\n")
        self.stderr.flush()

    def warn(self, message: str) -> None:
        label = self._label("warning:", 33)
        self.stderr.write(f"{label} {terminal_safe(message, multiline=True)}\n")
        self.stderr.flush()

    def error(self, error: ZazaError) -> None:
        """`error: …` on one line and `hint: …` on the next, whatever the message holds
        (it quotes servers and files). No Rich: this runs on every failure."""
        self.stderr.write(f"{self._label('error:', 31)} {terminal_safe(error.message)}\n")
        if error.hint:
            self.stderr.write(f"hint: {terminal_safe(error.hint)}\n")
        self.stderr.flush()

    def _label(self, text: str, colour: int) -> str:
        """Coloured only for a person: stderr is a terminal, and neither --no-color nor
        NO_COLOR asked for none."""
        return f"\x1b[{colour}m{text}\x1b[0m" if self.err_tty and self.color else text

    def choose(self, *, json: bool = False, jsonl: bool = False, csv: bool = False) -> Format:
        if json:
            return Format.json
        if jsonl:
            return Format.jsonl
        if csv:
            return Format.csv
        return Format.table if self.is_tty else Format.plain

    # ------------------------------------------------------------ data

    def json_document(self, data: Any) -> None:
        self.write(json_safe(json.dumps(data, indent=2, ensure_ascii=False)))

    def rows(
        self,
        items: Iterable[dict[str, Any]],
        kind: str,
        fmt: Format,
        *,
        empty_message: str = "no results",
    ) -> int:
        """Print a list; returns how many items were printed. Streams except for tables."""
        return renderer(fmt).rows(self, items, kind, empty_message=empty_message)

    def record(self, item: dict[str, Any], kind: str, fmt: Format) -> None:
        """One object: key/value lines when piped, a Rich panel on a terminal."""
        renderer(fmt).record(self, item, kind)

    def section(self, title: str) -> None:
        if self.is_tty:
            self.console.print()
            self.console.print(safe_text(title, "bold"))
        else:
            self.write(f"\n# {terminal_safe(title)}")

    def key_values(self, pairs: Iterable[tuple[str, Any]]) -> None:
        """Small labelled tables (lead stats, calling hours, variables). Keys and values are
        data: shown literally (a `[link=…]` stays text), never read as markup."""
        pairs = [(k, v) for k, v in pairs]
        if not self.is_tty:
            for key, value in pairs:
                self.write(f"{plain_value(key)}\t{plain_value(value)}")
            return
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for key, value in pairs:
            grid.add_row(
                key if isinstance(key, Text) else safe_text(plain_value(key)),
                value if isinstance(value, Text) else safe_text(plain_value(value)),
            )
        self.console.print(grid)

    def bars(
        self, counts: list[tuple[str, int]], total: int | None = None, width: int = 30
    ) -> None:
        """Horizontal bars with count and share; plain TSV when piped."""
        from zazacli.output.values import STATUS_STYLES

        total = total if total else sum(n for _, n in counts) or 1
        if not self.is_tty:
            for key, value in counts:
                self.write(f"{plain_value(key)}\t{value}\t{value / total:.4f}")
            return
        from rich.table import Table

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column(justify="right")
        grid.add_column(justify="right")
        grid.add_column()
        for key, value in counts:
            share = value / total
            bar = "█" * round(share * width)
            style = STATUS_STYLES.get(key.upper(), "cyan")
            grid.add_row(
                safe_text(plain_value(key)), str(value), f"{share:.0%}", safe_text(bar, style)
            )
        self.console.print(grid)

    def transcript(self, call: dict[str, Any], fmt: str) -> None:
        """`text`, `json` or `srt` for files and tools; `chat` is the terminal view."""
        from zazacli.calls.transcript import to_srt, transcript_lines, transcript_turns

        turns = transcript_turns(call)
        if fmt == "json":
            self.json_document(turns)
        elif fmt == "srt":
            self.stdout.write(to_srt(call, turns))
        elif fmt == "chat" and self.is_tty:
            from zazacli.output.chat import chat

            chat(self.console, call, turns)
        else:
            for line in transcript_lines(call, turns):
                self.write(line)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
