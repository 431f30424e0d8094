"""A progress bar for long runs (export-transcripts, sync): on a terminal's stderr a bar of
calls done against the API's count when it gave one, with counts beside it; in a log, a
line every 30 seconds. While the bar shows, notices (the API client's 429 retries) are
printed above it, not through it."""

from __future__ import annotations

import time
from typing import IO, TYPE_CHECKING, Any

from zazacli.output.safe import safe_text

if TYPE_CHECKING:
    from typing import Self

    from zazacli.output import Output


class Progress:
    """`with Progress(out, total, label) as bar:` then `bar.show(done, counts, line)`:
    `counts` (Rich markup, short) goes beside the bar, `line` (plain) to the log."""

    LOG_EVERY = 30.0

    def __init__(
        self, out: Output, total: int | None, label: str, *, transient: bool = False
    ) -> None:
        self.out = out
        self.total = total
        self.label = label
        self.transient = transient
        self._bar: Any = None
        self._task: Any = None
        self._saved_stderr: IO[str] | None = None
        self._last_log = time.monotonic()

    def __enter__(self) -> Self:
        if not self.out.err_tty:
            return self
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        columns: list[Any] = [TextColumn(f"[bold]{self.label}")]
        if self.total is None:
            columns += [SpinnerColumn(), TextColumn("{task.completed:,}"), TimeElapsedColumn()]
        else:
            columns += [BarColumn(bar_width=20), MofNCompleteColumn(), TimeRemainingColumn()]
        columns.append(TextColumn("{task.fields[counts]}"))
        self._bar = Bar(*columns, console=self.out.err_console, transient=self.transient)
        self._bar.start()
        self._task = self._bar.add_task(self.label, total=self.total, counts="")
        self._saved_stderr = self.out.stderr
        self.out.stderr = _ConsoleLines(self._bar.console)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        if self._saved_stderr is not None:
            self.out.stderr = self._saved_stderr
            self._saved_stderr = None

    def show(self, done: int, counts: str, line: str) -> None:
        """`done` calls so far; `counts` beside the bar, or `line` in a log (at most every
        30 seconds)."""
        if self._bar is not None:
            self._bar.update(self._task, completed=done, counts=counts)
        elif time.monotonic() - self._last_log >= self.LOG_EVERY:
            self._last_log = time.monotonic()
            of = f"/{self.total:,}" if self.total is not None else ""
            self.out.notice(f"progress: {done:,}{of} calls: {line}")


class _ConsoleLines:
    """A text stream that prints whole lines through a Rich console (above a live bar)."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self._partial = ""

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self.console.print(safe_text(line), highlight=False)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True
