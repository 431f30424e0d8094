"""`--json`: one document. A list is a streamed array (valid JSON, constant memory, `[]`
when empty); one record is indented. Every document passes `json_safe` (the same data,
with C1 and bidi controls as `\\u` escapes), so it is inert on a terminal too."""

from __future__ import annotations

import json.encoder
from collections.abc import Callable, Iterable
from json import JSONEncoder
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

from zazacli.sanitize import json_safe

if TYPE_CHECKING:
    from zazacli.output import Output
    from zazacli.output.formats import View


def _item_encoder() -> Callable[[Any], str]:
    """`json.dumps(item, ensure_ascii=False)`, minus its set-up on every call: it builds a
    JSONEncoder, whose `encode` builds CPython's C encoder, per item. Here both are built
    once (items come from a JSON parser, so there is no cycle to check for), and the C
    encoder is used only if it writes what `encode` writes, else `encode` itself."""
    encoder = JSONEncoder(ensure_ascii=False, check_circular=False)
    make: Any = getattr(json.encoder, "c_make_encoder", None)  # None: no C speed-up here
    try:
        # The arguments JSONEncoder.iterencode passes for these settings.
        once = make(None, encoder.default, encode_basestring, None, ": ", ", ", False, False, True)
        probe = {"a": [1, -2.5, None, True, "é\u2028"], "b": {}}
        if "".join(once(probe, 0)) == encoder.encode(probe):
            return lambda item: "".join(once(item, 0))
    except TypeError:  # not CPython's (None is not callable), or another signature
        pass
    return encoder.encode


encode = _item_encoder()


def rows(
    out: Output, items: Iterable[dict[str, Any]], kind: str, view: View, *, empty_message: str
) -> int:
    write = out.stdout.write
    write("[")
    count = 0
    for item in items:
        write(",\n" if count else "\n")
        write(json_safe(encode(item)))
        count += 1
    write("\n]\n" if count else "]\n")
    return count


def record(out: Output, item: dict[str, Any], kind: str) -> None:
    out.json_document(item)
