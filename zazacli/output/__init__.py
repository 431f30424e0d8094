"""Everything zazacli prints goes through `Output`, the printer.

The rule (after gh): data goes to stdout, everything else to stderr. On a terminal,
Rich tables with local, relative times; when piped, headerless tab-separated lines
with RFC 3339 UTC times and no colour; `-o/--format` picks one of those or `json` (one
document), `jsonl` (a line per object), `csv` (a spreadsheet). Long output on a
terminal goes through a pager (`paged`, pager.py). Rich is imported only when a terminal
view is drawn, and this module stays light to import (every error line is printed by an
`Output`): format, transcript and value code load when first used.

Lists and records are drawn by the format modules in `formats/` (one per `Format`),
from the per-noun layouts in `columns.py`; the printing that belongs to one command
lives beside them (`api.py`, `tail.py`, `stats.py`, `export.py`, `dispatch.py`, …).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

from zazacli.errors import UsageError
from zazacli.output.formats import Format, View, renderer
from zazacli.sanitize import json_safe, plain_value, terminal_safe

if TYPE_CHECKING:
    from rich.console import Console

    from zazacli.errors import ZazaError
    from zazacli.output.fields import Fields
    from zazacli.output.formats import Query

__all__ = ["Format", "Output", "View"]


def _safe_text(value: Any, style: str = "") -> Any:
    from zazacli.output.safe import safe_text  # Rich: only for a terminal view

    return safe_text(value, style)


class Output:
    """Built once per command by the context (and by the error path); the streams are the
    ones current when it is built."""

    def __init__(
        self,
        *,
        no_color: bool = False,
        no_pager: bool = False,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
    ) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        forced = os.environ.get("ZAZA_FORCE_TTY", "") not in ("", "0")
        # `terminal`: stdout is a terminal (or said to be), for colour and the defaults;
        # `drawn`: data is drawn for a person (a terminal, or `--format table`).
        self.terminal = forced or _isatty(self.stdout)
        self.drawn = self.terminal
        self.err_tty = _isatty(self.stderr)
        self.color = not (no_color or os.environ.get("NO_COLOR"))
        self.no_pager = no_pager
        self._console: Console | None = None
        self._err_console: Console | None = None
        # `--jq` / `--template` (output/query.py), set by `view`: every JSON this command
        # prints (lists, documents, lines) goes through it instead.
        self.query: Query | None = None
        self._said: set[str] = set()  # notices already printed: each once per process

    # ------------------------------------------------------------ streams

    @property
    def console(self) -> Console:
        if self._console is None:
            self._console = self._make_console(self.stdout, self.terminal, self.drawn)
        return self._console

    @property
    def err_console(self) -> Console:
        if self._err_console is None:
            self._err_console = self._make_console(self.stderr, self.err_tty, self.err_tty)
        return self._err_console

    def _make_console(self, file: IO[str], tty: bool, drawn: bool) -> Console:
        """Colour only on a terminal; lines folded to its width only where drawn for a
        person (a table piped with `--format table` is as wide as the terminal)."""
        from rich.console import Console

        return Console(
            file=file,
            force_terminal=tty,
            no_color=not self.color,
            highlight=False,
            emoji=False,
            soft_wrap=not drawn,
        )

    def write(self, line: str = "") -> None:
        self.stdout.write(line + "\n")

    def notice(self, message: str) -> None:
        """A human-facing line on stderr (never part of the data). Messages often quote the
        server (retry reasons, skipped rows), so they pass the terminal-safe filter. The
        same notice twice (the sandbox's, for each row of a batch) is printed once."""
        if message in self._said:
            return
        self._said.add(message)
        self.stderr.write(self._fold(terminal_safe(message, multiline=True)) + "\n")
        self.stderr.flush()

    def warn(self, message: str) -> None:
        label = self._label("warning:", 33)
        message = self._fold(terminal_safe(message, multiline=True), len("warning: "))
        self.stderr.write(f"{label} {message}\n")
        self.stderr.flush()

    def error(self, error: ZazaError) -> None:
        """`error: …` on one line and `hint: …` on the next, whatever the message holds
        (it quotes servers and files). No Rich: this runs on every failure."""
        message = self._fold(terminal_safe(error.message), len("error: "))
        self.stderr.write(f"{self._label('error:', 31)} {message}\n")
        if error.hint:
            self.stderr.write(f"hint: {self._fold(terminal_safe(error.hint), len('hint: '))}\n")
        self.stderr.flush()

    def _fold(self, text: str, label: int = 0) -> str:
        """On a terminal, lines longer than it fold between words (output/fit.py)."""
        if not self.err_tty:
            return text
        from zazacli.terminal import fold, terminal_columns

        return fold(text, terminal_columns(self.stderr), label)

    def _label(self, text: str, colour: int) -> str:
        """Coloured only for a person: stderr is a terminal, and neither --no-color nor
        NO_COLOR asked for none."""
        return f"\x1b[{colour}m{text}\x1b[0m" if self.err_tty and self.color else text

    def view(
        self,
        requested: str | None = None,
        *,
        piped: Format = Format.plain,
        header: bool = False,
        wide: bool = False,
        jq: str | None = None,
        template: str | None = None,
    ) -> View:
        """This command's view of its data: `-o/--format` (its aliases are rewritten to it
        before parsing: commands/app.format_aliases), else a table on a terminal and
        `piped` when not. A table or plain lines also decide how the command's other output
        (sections, summaries) is drawn: `drawn` says which. `--jq` or `--template` read
        JSON whatever stdout is (output/query.py), and print text for scripts."""
        query = None
        chosen: Format | None
        if jq is not None or template is not None:
            from zazacli.output.query import compile_query, query_format

            chosen = query_format(requested, piped, jq=jq, template=template)
        else:
            chosen = Format(requested) if requested else None
        if chosen is None:
            chosen = Format.table if self.terminal else piped
        if header and chosen in (Format.json, Format.jsonl):
            raise UsageError(f"--header is for plain output; {chosen} has no header line")
        if jq is not None or template is not None:
            query = self.query = compile_query(jq=jq, template=template)
            self.drawn = False
        elif chosen in (Format.table, Format.plain):
            self.drawn = chosen is Format.table
        return View(chosen, header=header, wide=wide, query=query)

    # ------------------------------------------------------------ data

    def json_document(self, data: Any) -> None:
        if self.query is not None:
            self.query.document(self, data)
            return
        self.write(json_safe(json.dumps(data, indent=2, ensure_ascii=False)))

    def json_line(self, item: Any, *, text: str | None = None, follow: bool = False) -> None:
        """One item of a stream of JSON lines (`text`: it already serialised). `follow`:
        a stream that goes on (tail, listen): flushed at once, and an event --jq or
        --template fails on is a warning, not the end."""
        if self.query is not None:
            self.query.item(self, item, follow=follow)
        else:
            from zazacli.output.formats.json import encode

            self.stdout.write(json_safe(encode(item) if text is None else text) + "\n")
        if follow:
            self.stdout.flush()

    def rows(
        self,
        items: Iterable[dict[str, Any]],
        kind: str,
        view: View,
        *,
        empty_message: str = "no results",
        fields: Fields | None = None,
    ) -> int:
        """Print a list; returns how many items were printed. Streams except for tables.
        `fields` (`--fields`): only those, as columns or keys, in that order."""
        if fields is not None:
            items, kind = fields.apply(items), fields.layout_kind()
        if view.query is not None:
            return view.query.rows(self, items, view.format)
        return renderer(view.format).rows(self, items, kind, view, empty_message=empty_message)

    def record(
        self, item: dict[str, Any], kind: str, fmt: Format, *, fields: Fields | None = None
    ) -> None:
        """One object: key/value lines when piped, a Rich panel on a terminal."""
        if fields is not None:
            fields.check(item)
            item, kind = fields.project(item), fields.layout_kind()
            if fmt is Format.table:
                # Labelled by the names asked for (a panel has the layout's own labels).
                self.key_values((column.key, column.cell(item)) for column in fields.columns())
                return
        renderer(fmt).record(self, item, kind)

    @contextlib.contextmanager
    def paged(self) -> Iterator[None]:
        """What is printed inside goes through the pager (output/pager.py) when stdout
        really is a terminal (not ZAZA_FORCE_TTY), and --no-pager was not given."""
        stream = None
        if not self.no_pager and _isatty(self.stdout):
            from zazacli.output.pager import open_pager

            stream = open_pager(self.stdout, os.environ, self.warn)
        if stream is None:
            yield
            return
        terminal, console = self.stdout, self._console
        self.stdout, self._console = stream, None
        try:
            yield
        finally:
            self.stdout, self._console = terminal, console
            stream.finish()

    def section(self, title: str) -> None:
        if self.drawn:
            self.console.print()
            self.console.print(_safe_text(title, "bold"))
        else:
            self.write(f"\n# {terminal_safe(title)}")

    def key_values(self, pairs: Iterable[tuple[str, Any]]) -> None:
        """Small labelled tables (lead stats, calling hours, variables). Keys and values are
        data: shown literally (a `[link=…]` stays text), never read as markup."""
        pairs = [(k, v) for k, v in pairs]
        if not self.drawn:
            for key, value in pairs:
                self.write(f"{plain_value(key)}\t{plain_value(value)}")
            return
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column(overflow="fold")  # a path or an id cut short cannot be copied
        for key, value in pairs:
            grid.add_row(
                key if isinstance(key, Text) else _safe_text(plain_value(key)),
                value if isinstance(value, Text) else _safe_text(plain_value(value)),
            )
        self.console.print(grid)

    def bars(
        self, counts: list[tuple[str, int]], total: int | None = None, width: int = 30
    ) -> None:
        """Horizontal bars with count and share; plain TSV when piped."""
        from zazacli.output.values import STATUS_STYLES

        total = total if total else sum(n for _, n in counts) or 1
        if not self.drawn:
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
                _safe_text(plain_value(key)), str(value), f"{share:.0%}", _safe_text(bar, style)
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
        elif fmt == "chat" and self.drawn:
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
