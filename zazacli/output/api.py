"""`zaza api`: the response body on stdout (indented on a terminal, as received when
piped); with --include the status line and headers on stderr."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

from zazacli.errors import QueryError
from zazacli.sanitize import json_safe, terminal_safe

if TYPE_CHECKING:
    import httpx

    from zazacli.output import Output


def api_response(out: Output, response: httpx.Response, *, include: bool) -> None:
    if include:
        out.notice(f"{response.http_version} {response.status_code} {response.reason_phrase}")
        for name, value in response.headers.raw:  # as the server spelled them
            out.notice(terminal_safe(f"{name.decode('latin-1')}: {value.decode('latin-1')}"))
        out.notice("")
    content = response.content
    if not content:
        return
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if out.query is not None:
        _queried(out, content, kind)
        return
    textual = kind.startswith("text/") or "json" in kind or not kind
    if not out.drawn:
        # Exactly what the server sent (a newline added after text, for the shell).
        _write_bytes(out.stdout, content)
        if textual and not content.endswith(b"\n"):
            out.stdout.write("\n")
        return
    try:
        data = json.loads(content)
    except ValueError:
        if not textual:
            out.notice(f"({len(content)} bytes of {kind}; pipe to a file to keep them)")
            return
        out.write(terminal_safe(response.text.rstrip("\n"), multiline=True))
        return
    # json.dumps escapes C0 controls itself; C1 ones (a raw CSI) and bidi controls must not
    # reach the terminal: json_safe writes them as \u escapes (the same JSON).
    pretty = json_safe(json.dumps(data, indent=2, ensure_ascii=False))
    if out.color:
        from rich.highlighter import JSONHighlighter
        from rich.text import Text

        out.console.print(JSONHighlighter()(Text(pretty)), soft_wrap=True)
    else:
        out.write(pretty)


def _queried(out: Output, content: bytes, kind: str) -> None:
    """--jq or --template over the body, which must then be JSON."""
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        raise QueryError(
            f"the response is not JSON ({kind or 'no Content-Type'}, {len(content)} bytes): "
            "--jq and --template read JSON"
        ) from None
    out.json_document(data)


def api_items(out: Output, items: Iterable[dict[str, Any]]) -> int:
    """`zaza api --paginate`: one compact JSON item per line, as each page arrives."""
    count = 0
    for item in items:
        out.json_line(item)
        count += 1
        if count % 100 == 0:
            out.stdout.flush()
    return count


def _write_bytes(stream: IO[str], data: bytes) -> None:
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(data.decode("utf-8", "replace"))
        return
    stream.flush()
    buffer.write(data)
    buffer.flush()
