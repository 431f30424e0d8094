"""`--template TEXT`: each item through a Jinja template, in a sandbox (output/query.py
applies it; this module holds the environment and its helpers).

The rules, for scripts (docs/scripting.md shows them):
- the item's fields are the names (`{{ id }}`, `{{ variables.NAME }}`); a list renders
  once per item, an object once;
- `\\t`, `\\n` and `\\\\` in TEXT are a tab, a newline and a backslash, as a shell user
  writes them in gh's templates;
- a name the item lacks renders empty (an API leaves out fields, and one odd item must not
  end a long list), and so does null; true/false print as JSON does, lists and objects as
  compact JSON;
- every value printed passes `plain_value` (terminal-safe, on one line: a tab or newline in
  data shows as `\\t`, `\\n`), so data never breaks a line or sends an escape sequence;
- an item whose rendering does not end with a newline gets one, and an item that renders
  to nothing prints nothing (so `{% if … %}` filters);
- the sandbox refuses Python's internals (`{{ ''.__class__ }}`): an error, exit 1.

Helpers, as functions and filters: `ago` (`3h ago`), `duration` (`1:05`, as tables show
it) and `e164` (a number in E.164, as given when it is not one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from jinja2 import ChainableUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from zazacli.errors import QueryError, UsageError
from zazacli.output.formats import Format
from zazacli.output.values import duration, relative
from zazacli.sanitize import plain_value
from zazacli.times import parse_time

if TYPE_CHECKING:
    from jinja2 import Template

    from zazacli.output import Output

_ESCAPE = re.compile(r"\\([tn\\])")
_ESCAPED = {"t": "\t", "n": "\n", "\\": "\\"}


def ago(value: Any) -> str:
    """A timestamp as its age: `3h ago` (`in 2m` ahead); text that is not one, as it is."""
    parsed = parse_time(value)
    if parsed is None:
        return "" if value is None else str(value)
    return relative(parsed)


def e164(value: Any, region: str | None = None) -> str:
    """A phone number in E.164 (`+14155550123`); a national one needs `region` ("US"). A
    value that is not a number is printed as it is: one odd row must not end a list."""
    from zazacli.policy.lists import e164 as normalized

    if value is None or value == "":
        return ""
    try:
        return normalized(str(value), region, "number")
    except UsageError:
        return str(value)


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox, where reaching for an unsafe attribute is an error at once (the
    stock one renders an empty value for `{{ ''.__class__ }}` and fails only a step on)."""

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe"
        )


def environment() -> SandboxedEnvironment:
    env = _Sandbox(
        undefined=ChainableUndefined,
        finalize=plain_value,
        keep_trailing_newline=True,
        autoescape=False,
    )
    helpers = {"ago": ago, "duration": duration, "e164": e164}
    env.globals.update(helpers)
    env.filters.update(helpers)
    return env


class TemplateQuery:
    """`--template TEXT`, compiled once."""

    flag = "--template"

    def __init__(self, text: str) -> None:
        source = _ESCAPE.sub(lambda match: _ESCAPED[match.group(1)], text)
        try:
            self.template: Template = environment().from_string(source)
        except TemplateSyntaxError as error:
            raise UsageError(f"--template: {error.message} (line {error.lineno})") from None
        except TemplateError as error:
            raise UsageError(f"--template: {error}") from None

    def document(self, out: Output, data: Any) -> None:
        for item in data if isinstance(data, list) else [data]:
            self._render(out, item)

    def rows(self, out: Output, items: Iterable[Any], fmt: Format) -> int:
        count = 0
        for item in items:
            self._render(out, item)
            if fmt is Format.jsonl:
                out.stdout.flush()
            count += 1
        return count

    def item(self, out: Output, item: Any, *, follow: bool = False) -> None:
        try:
            self._render(out, item)
        except QueryError as error:
            if not follow:
                raise
            out.warn(f"{error.message} (event skipped)")

    def _render(self, out: Output, item: Any) -> None:
        names = {str(key): value for key, value in item.items()} if isinstance(item, dict) else {}
        try:
            text = self.template.render(names)
        except SecurityError as error:
            raise QueryError(f"--template: {error}") from None
        except Exception as error:  # the user's template: any error it raises is theirs
            raise QueryError(f"--template: {type(error).__name__}: {error}") from None
        if text:
            out.stdout.write(text if text.endswith("\n") else text + "\n")
