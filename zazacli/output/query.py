"""`--jq EXPR` and `--template TEXT`: what a command prints as JSON, filtered or rendered.

The one place both apply. A command passes them to `Output.view`, which refuses them with
a format that is not JSON (and together), compiles them once (`compile_query`, a usage
error when they do not compile) and keeps the result in the `View` and on the `Output`;
then every JSON path of the printer comes here instead: a list (`Output.rows`), one
document (`Output.json_document`: records, reports, `zaza api`) and the items of a
stream (`Output.json_line`: `-o jsonl`, `calls tail`, `webhooks listen`).

What a user sees follows gh: jq runs over the JSON `-o json` would print (a list is one
document; `-o jsonl` and followers: each item), and prints each result on its own line,
strings raw (`jq -r`, made terminal-safe) and other values as compact JSON. A template
renders once per item (a document that is an object is one item). A runtime failure is a
`QueryError` (exit 1); a follower warns and goes on with the next event instead.

jq and jinja2 are imported only here, only when asked for: start-up does not pay for them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from zazacli.errors import QueryError, UsageError
from zazacli.output.formats import Format
from zazacli.output.formats.json import encode
from zazacli.sanitize import json_safe, terminal_safe

if TYPE_CHECKING:
    from zazacli.output import Output
    from zazacli.output.formats import Query

JSON_FORMATS = (Format.json, Format.jsonl)

# `.[]` on a list, then plain field names, then nothing or a top-level `|`: the program is
# `.[] | REST`, and REST sees one item at a time (`.` is the item; nothing outside it is
# reachable). Such a program gives the same results, in the same order, run on the list
# in slices as on the whole list, so a long list streams in constant memory, except when
# REST reads other inputs (`input`, `inputs`) or stops the whole program (`halt`): those
# words anywhere send it the whole document. `|=` is an update, not a pipe.
_FIELD = r"\.[A-Za-z_][A-Za-z0-9_]*"
_EACH = re.compile(rf"\s*\.\[\]((?:{_FIELD})*)\s*(?:\|(?!=)(.*))?\Z", re.S)
_ITEM_PATH = re.compile(rf"\s*((?:{_FIELD})+)\s*\Z")
_WHOLE_INPUT = re.compile(r"input|halt")
_SURROGATE = re.compile("[\ud800-\udfff]")
SLICE = 1000  # items a slice of a list gives jq at once
# Values a field path reads in Python exactly as jq (through the jq package) returns them:
# jq holds numbers as doubles, so integers beyond 2**53 (and floats, `1.0` comes back 1)
# go to jq itself, as do strings with anything terminal_safe would change.
_EXACT_INT = 2**53


def query_format(
    requested: str | None, piped: Format, *, jq: str | None, template: str | None
) -> Format:
    """The JSON a query reads: `-o json` or `-o jsonl` as asked, else JSON (a JSON line
    per item for a follower, whose plain output is JSON lines). Anything else, or both
    options, is a usage error."""
    flag = "--jq" if jq is not None else "--template"
    if jq is not None and template is not None:
        raise UsageError("--jq and --template cannot be used together")
    if requested is None:
        return Format.jsonl if piped is Format.jsonl else Format.json
    chosen = Format(requested)
    if chosen not in JSON_FORMATS:
        raise UsageError(
            f"{flag} works on JSON output: it cannot be used with -o {chosen} "
            "(leave -o out, or use -o json, or -o jsonl for one run per item)"
        )
    return chosen


def compile_query(*, jq: str | None, template: str | None) -> Query:
    """The query, compiled once; one that does not compile is a usage error (exit 2)."""
    flag, text = ("--jq", jq) if jq is not None else ("--template", template or "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{flag}: not valid text (a lone surrogate)") from None
    if jq is not None:
        return JqQuery(jq)
    from zazacli.output.template import TemplateQuery

    return TemplateQuery(text)


def shown(value: Any) -> str:
    """One jq result as gh prints it: a string raw (kept terminal-safe: its lines stay
    lines, escape sequences become visible text), anything else as compact JSON."""
    if isinstance(value, str):
        return terminal_safe(value, multiline=True)
    return json_safe(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def item_text(item: Any) -> str:
    """An item as the JSON formats write it (C1 and bidi controls as `\\u` escapes), for
    jq: a lone surrogate (not Unicode; jq refuses the whole document) as U+FFFD, the
    character that stands for one."""
    text = encode(item)
    if not text.isascii():
        text = _SURROGATE.sub("\ufffd", text)
    return json_safe(text)


def _exact(value: Any) -> bool:
    """Whether jq would print this value as `shown` does from Python (see _EXACT_INT)."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -_EXACT_INT <= value <= _EXACT_INT
    return isinstance(value, str) and value.isprintable()


_ASK_JQ = object()  # a path that Python does not read as jq would: jq reads it


def read_path(item: Any, names: tuple[str, ...]) -> Any:
    """`.a.b` of an item as jq reads it: a field of an object (null when absent), null of
    null; anything else (jq's error, a value jq would print otherwise) is `_ASK_JQ`."""
    value = item
    for name in names:
        if isinstance(value, dict):
            value = value.get(name)
        elif value is not None:
            return _ASK_JQ
    return value if _exact(value) else _ASK_JQ


class JqQuery:
    """`--jq EXPR`, compiled once with the jq package."""

    flag = "--jq"

    def __init__(self, expression: str) -> None:
        import jq

        try:
            self.program = jq.compile(expression)
        except ValueError as error:
            raise UsageError(f"--jq: {compile_message(str(error))}") from None
        each = _EACH.match(expression)
        self.sliced = each is not None and not _WHOLE_INPUT.search(each.group(2) or "")
        # `.[].a.b` alone: each item's field read in Python, where it reads the same.
        simple = each is not None and each.group(1) and each.group(2) is None
        self.each_path = _names(each.group(1)) if each is not None and simple else None
        path = _ITEM_PATH.match(expression)
        self.item_path = _names(path.group(1)) if path else None

    # ------------------------------------------------------------ what Output calls

    def document(self, out: Output, data: Any) -> None:
        self._run(out, item_text(data))

    def rows(self, out: Output, items: Iterable[Any], fmt: Format) -> int:
        if fmt is Format.jsonl:
            return _each_line(out, items, self.item)
        if self.each_path is not None:
            return self._each_path(out, items, self.each_path)
        if self.sliced:
            return self._slices(out, items)
        texts = [item_text(item) for item in items]
        self._run(out, "[" + ",".join(texts) + "]")
        return len(texts)

    def item(self, out: Output, item: Any, *, follow: bool = False) -> None:
        try:
            if self.item_path is not None:
                value = read_path(item, self.item_path)
                if value is not _ASK_JQ:
                    out.stdout.write(shown(value) + "\n")
                    return
            self._run(out, item_text(item))
        except QueryError as error:
            if not follow:
                raise
            out.warn(f"{error.message} (event skipped)")

    # ------------------------------------------------------------ running jq

    def _run(self, out: Output, text: str) -> None:
        """Run the program on `text`, printing each result as it comes: the results before
        a runtime error are printed, as jq prints them."""
        write = out.stdout.write
        results: Iterator[Any] = iter(self.program.input_text(text))
        try:
            for value in results:
                write(shown(value) + "\n")
        except ValueError as error:
            raise QueryError(f"--jq: {runtime_message(str(error))}") from None
        finally:
            del results  # hands jq's state back to the program for the next run

    def _each_path(self, out: Output, items: Iterable[Any], names: tuple[str, ...]) -> int:
        write = out.stdout.write
        count = 0
        for item in items:
            count += 1
            value = read_path(item, names)
            if value is _ASK_JQ:
                self._run(out, "[" + item_text(item) + "]")
            else:
                write(shown(value) + "\n")
        return count

    def _slices(self, out: Output, items: Iterable[Any]) -> int:
        count = 0
        texts: list[str] = []
        for item in items:
            texts.append(item_text(item))
            if len(texts) == SLICE:
                self._run(out, "[" + ",".join(texts) + "]")
                count += len(texts)
                texts = []
        if texts:
            self._run(out, "[" + ",".join(texts) + "]")
        return count + len(texts)


def _each_line(out: Output, items: Iterable[Any], item: Callable[..., None]) -> int:
    """A list as JSON lines: the query per item, each item's output flushed."""
    count = 0
    for each in items:
        item(out, each)
        out.stdout.flush()
        count += 1
    return count


def _names(path: str) -> tuple[str, ...]:
    return tuple(path.split(".")[1:])


def compile_message(message: str) -> str:
    """jq's compile error on one line: `syntax error, unexpected end of file at line 1,
    column 2` (jq's copy of the program and its caret line are left out)."""
    errors = [
        line.removeprefix("jq: error: ").rstrip(":").replace(" at <top-level>,", " at")
        for line in message.splitlines()
        if line.startswith("jq: error: ")
    ]
    return "; ".join(errors) or message.strip()


def runtime_message(message: str) -> str:
    """jq's runtime error on one line (an `error(…)` may carry any text; the error line
    makes it terminal-safe)."""
    return " ".join(message.split("\n")) or "error (no message)"
