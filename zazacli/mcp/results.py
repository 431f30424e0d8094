"""One tool call, from its arguments to the text the assistant reads: a Result as JSON, or
zaza's error line. No SDK here (server.py speaks the protocol), so a tool's answer can be
made and tested without it. What is logged names the tool and the outcome only: never an
argument, a result or a message, which may carry a caller's words."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

from zazacli.errors import ZazaError
from zazacli.mcp.args import Args
from zazacli.mcp.catalog import ToolSpec
from zazacli.mcp.tools import Backing
from zazacli.sanitize import json_safe, terminal_safe

# The CLI's option names in zaza's messages, as the tools name their arguments.
_ARGUMENT_NAMES = {
    "--from": "fromNumber",
    "--to": "toNumber",
    "--status": "status",
    "--direction": "direction",
    "--agent": "agent",
    "--since": "since",
    "--until": "until",
    "--by": "by",
    "--role": "role",
}
_OPTION = re.compile(r"--[a-z]+(?![\w-])")


class Answer(NamedTuple):
    text: str
    is_error: bool
    log: str  # one line for stderr: the tool and its outcome, nothing from outside


def answer(
    spec: ToolSpec, arguments: Mapping[str, Any] | None, backing: Backing, secret: str | None
) -> Answer:
    """Run one tool; every failure, even one zaza did not foresee, is an error answer."""
    started = time.perf_counter()
    backing.notes.clear()
    try:
        args = Args(arguments, set(spec.properties))
        result = spec.run(args, backing)
        document: dict[str, Any] = {"about": result.about, "untrusted": result.data}
        document.update(result.extra)
        if backing.notes:
            document["notes"] = list(backing.notes)
        text = json_safe(json.dumps(document, indent=2, ensure_ascii=False))
        took = (time.perf_counter() - started) * 1000
        return Answer(redacted(text, secret), False, f"{spec.name}: ok ({took:.0f} ms)")
    except ZazaError as error:
        return _failed(spec, error, secret)
    except RecursionError:
        return _failed(spec, ZazaError("the data is nested too deeply to handle"), secret)
    except Exception as error:  # a tool call must never take the server down
        internal = ZazaError(f"internal error: {type(error).__name__}: {error}")
        return _failed(spec, internal, secret)


def _failed(spec: ToolSpec, error: ZazaError, secret: str | None) -> Answer:
    return Answer(
        redacted(error_text(error), secret), True, f"{spec.name}: error (exit {error.exit_code})"
    )


def error_text(error: ZazaError) -> str:
    """`error: …` (one line, as zaza prints it), then `hint: …` when there is one."""
    lines = [f"error: {_named(error.message)}"]
    if error.hint:
        lines.append(f"hint: {_named(error.hint)}")
    return "\n".join(terminal_safe(line) for line in lines)


def unknown_tool(name: str, names: list[str]) -> str:
    shown = terminal_safe(name[:100])
    return f"error: no such tool: {shown}\nhint: tools: {', '.join(names)}"


def _named(text: str) -> str:
    return _OPTION.sub(lambda m: _ARGUMENT_NAMES.get(m.group(), m.group()), text)


def redacted(text: str, secret: str | None) -> str:
    """The key never leaves in a result or an error, whatever text carried it there."""
    if secret and len(secret) >= 8 and secret in text:
        return text.replace(secret, secret[:5] + "…")
    return text
