"""`--jsonl`: one compact JSON object per line, streamed as items arrive."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from zazacli.output.formats.json import encode
from zazacli.sanitize import json_safe

if TYPE_CHECKING:
    from zazacli.output import Output
    from zazacli.output.formats import View


def rows(
    out: Output, items: Iterable[dict[str, Any]], kind: str, view: View, *, empty_message: str
) -> int:
    write = out.stdout.write
    count = 0
    for item in items:
        write(json_safe(encode(item)) + "\n")
        count += 1
    return count


def record(out: Output, item: dict[str, Any], kind: str) -> None:
    out.json_line(item)
