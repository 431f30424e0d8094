"""A pager for long output on a terminal, after git and gh.

The pager is `ZAZA_PAGER`, else `PAGER`, else `less -FRX` (set but empty, or `cat`: none):
a command and its arguments, split as a shell splits words, run without a shell. It runs
with `LESS=FRX` unless LESS is set, as git does: quit when the text fits, keep colours,
leave the screen as it is.

Output is held until it is taller than the terminal; only then does the pager start, with
what was held, and the rest streams into it. So a short list prints as it would without a
pager, whatever the pager is. A pager that quits early (q in less) ends the command
quietly, like `| head` (the BrokenPipeError reaches the root command). A pager that
cannot be started is named in one warning, and the output goes to the terminal.
"""

from __future__ import annotations

import io
import math
import os
import re
import shlex
import subprocess
from collections.abc import Callable, Mapping
from typing import IO

DEFAULT_PAGER = "less -FRX"

# What takes no room on the screen: colour and other CSI sequences, OSC hyperlinks.
_INVISIBLE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def open_pager(
    terminal: IO[str], env: Mapping[str, str], warn: Callable[[str], None]
) -> PagedStream | None:
    """A stream in front of `terminal`, or None: no pager is wanted, or the terminal
    reports no height (a bare pseudo-terminal) so nothing is known to be too tall."""
    argv = pager_command(env)
    size = screen_size(terminal, env)
    if argv is None or size is None:
        return None
    return PagedStream(terminal, argv, size, warn)


def pager_command(env: Mapping[str, str]) -> list[str] | None:
    """The pager's argv, or None for none."""
    text = env.get("ZAZA_PAGER", env.get("PAGER", DEFAULT_PAGER))
    try:
        argv = shlex.split(text)
    except ValueError:  # unbalanced quotes: tried as one word, named if it does not start
        return [text]
    return None if not argv or argv == ["cat"] else argv


def screen_size(terminal: IO[str], env: Mapping[str, str]) -> tuple[int, int] | None:
    """(rows, columns): LINES and COLUMNS where set (as less and Rich read them), else
    the terminal's own; None without a number of rows."""
    try:
        size = os.get_terminal_size(terminal.fileno())
        rows, columns = size.lines, size.columns
    except (AttributeError, ValueError, OSError):
        rows, columns = 0, 0
    rows = _positive(env.get("LINES")) or rows
    columns = _positive(env.get("COLUMNS")) or columns or 80
    return (rows, columns) if rows > 0 else None


def _positive(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0


class PagedStream(io.TextIOBase):
    """A text stream in front of the terminal that holds output until it is taller than
    the screen, then starts the pager and feeds it. `finish()` ends it: what was held goes
    to the terminal, or the pager gets end-of-file and is waited for."""

    def __init__(
        self,
        terminal: IO[str],
        argv: list[str],
        size: tuple[int, int],
        warn: Callable[[str], None],
    ) -> None:
        super().__init__()
        self.terminal = terminal
        self.argv = argv
        self.warn = warn
        self.screen_rows, self.screen_columns = size
        self.held: list[str] = []
        self.rows = 0
        self.line_width = 0  # of the line not yet ended
        self.process: subprocess.Popen[str] | None = None
        self.sink: IO[str] | None = None  # the pager's stdin, or the terminal once past it

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.terminal, "encoding", None) or "utf-8")

    def isatty(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.sink is not None:
            return self.sink.write(text)
        self.held.append(text)
        self._count(text)
        if self.rows >= self.screen_rows:
            self._start()
        return len(text)

    def flush(self) -> None:
        if self.sink is not None and not self.sink.closed:
            self.sink.flush()

    def _count(self, text: str) -> None:
        """Screen rows of the held text, wrapped lines included."""
        *ended, rest = text.split("\n")
        for line in ended:
            width = self.line_width + _width(line)
            self.rows += max(1, math.ceil(width / self.screen_columns))
            self.line_width = 0
        self.line_width += _width(rest)

    def _start(self) -> None:
        held, self.held = "".join(self.held), []
        env = {**os.environ}
        env.setdefault("LESS", "FRX")
        self.terminal.flush()
        try:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=self.terminal,
                env=env,
                encoding=self.encoding,
                errors="replace",
            )
        except OSError as error:
            self.warn(
                f"cannot start the pager {shlex.join(self.argv)}: {error.strerror or error}; "
                "printing without one (set ZAZA_PAGER, or pass --no-pager)"
            )
            self.sink = self.terminal
        else:
            self.sink = self.process.stdin
        self.write(held)
        self.flush()

    def finish(self) -> None:
        try:
            if self.process is None:
                self.terminal.write("".join(self.held))
                self.terminal.flush()
            else:
                self._end_pager(self.process)
        finally:
            self.close()

    def _end_pager(self, process: subprocess.Popen[str]) -> None:
        """End-of-file for the pager, then wait until the reader quits it."""
        try:
            if self.sink is not None:
                self.sink.close()
        except BrokenPipeError:
            pass  # the pager has quit: what it did not read is not wanted
        while True:
            try:
                process.wait()
                return
            except KeyboardInterrupt:
                continue  # Ctrl-C is the pager's to handle; the terminal is its until it quits


def _width(line: str) -> int:
    from rich.cells import cell_len

    return cell_len(_INVISIBLE.sub("", line))
