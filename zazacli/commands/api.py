"""`zaza api`: a raw request to any /v1 endpoint, with the profile's key, retries and errors.

The escape hatch for endpoints the commands do not cover yet (after `gh api`). The request
goes through the same HttpClient as every command, so it gets the same auth, base URL
check, retry policy (never a blind resend of a write) and exit codes.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer

from zazacli.commands.app import get_context, single_command
from zazacli.commands.options import JqOpt, TemplateOpt
from zazacli.errors import (
    AuthError,
    NetworkError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    UsageError,
    ZazaError,
    exit_codes_help,
)

if TYPE_CHECKING:
    from zazacli.context import AppContext

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

API_EPILOG = (
    "\b\nExamples:\n"
    "  zaza api /agents\n"
    "  zaza api GET 'calls?status=FAILED&size=5'\n"
    "  zaza api GET calls -f status=NO_ANSWER -f agentId=12 --paginate\n"
    "  zaza api /agents --jq '.[] | select(.isActive) | .name'\n"
    "  zaza api POST /calls/outbound -f fromNumber=+14155550100 -f toNumber=+14155550124 \\\n"
    "      -f agentId=12 -f 'variables[NAME]=Alex'\n"
    "  zaza api POST /calls/outbound --input body.json\n\n"
    "-f/--field key=value is a query parameter for GET and a field of the JSON body "
    'otherwise. Values true, false, null, numbers and "quoted strings" are read as JSON '
    "(agentId=12 sends a number, agentId='\"12\"' a string); key[sub]=v nests an object, "
    "key[]=v appends to an array. With --input, fields go to the query string.\n\n"
    "Output: the response body, indented on a terminal and exactly as received when piped; "
    "--paginate prints one JSON item per line (it sets page and size itself); --jq and "
    "--template read the body (per item with --paginate), which must then be JSON. POST, PUT, "
    "PATCH and DELETE are never resent once they may have reached the server.\n\n"
) + exit_codes_help(
    {
        0: "HTTP 2xx or 3xx",
        ZazaError.exit_code: "other HTTP errors",
        UsageError.exit_code: "bad input, or HTTP 400/409/422",
        NotFoundError.exit_code: "HTTP 404",
        AuthError.exit_code: "HTTP 401/403, or no key",
        RateLimitedError.exit_code: "HTTP 429 after retries",
        NetworkError.exit_code: "network error (for a write: outcome unknown)",
    }
)

_FIELD_KEY = r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$"
_JSON_SCALAR = r'^(true|false|null|-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|".*")$'
_HEADER_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"


def _complete_method(incomplete: str) -> list[str]:
    found = [m for m in METHODS if m.startswith(incomplete.upper())]
    return [m.lower() for m in found] if incomplete.islower() else found


MethodArg = Annotated[
    str,
    typer.Argument(
        help="GET, POST, PUT, PATCH or DELETE (any case); a lone PATH means GET.",
        metavar="METHOD",
        show_default=False,
        autocompletion=_complete_method,
    ),
]
PathArg = Annotated[
    str | None,
    typer.Argument(
        help="Path below the base URL, with an optional query: /agents, 'calls?status=FAILED'.",
        metavar="PATH",
        show_default=False,
    ),
]
FieldOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--field",
        "-f",
        metavar="KEY=VALUE",
        help="A query parameter (GET) or JSON body field (typed, see below). Repeatable.",
    ),
]
InputOpt = Annotated[
    str | None,
    typer.Option("--input", metavar="FILE", help="The JSON request body from FILE; - = stdin."),
]
HeaderOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--header", "-H", metavar="'NAME: VALUE'", help="An extra request header. Repeatable."
    ),
]
PaginateOpt = Annotated[
    bool,
    typer.Option("--paginate", help="GET every page of a list; print one item per line."),
]
IncludeOpt = Annotated[
    bool,
    typer.Option("--include", "-i", help="Print the status line and headers on stderr."),
]


class RawRequest(NamedTuple):
    verb: str
    relative: str  # the path below the base URL
    params: dict[str, Any]
    json_body: Any  # from --field pairs (not GET)
    content: bytes | None  # from --input
    headers: dict[str, str]


def api(
    ctx: typer.Context,
    method: MethodArg,
    path: PathArg = None,
    fields: FieldOpt = None,
    input_file: InputOpt = None,
    headers: HeaderOpt = None,
    paginate: PaginateOpt = False,
    include: IncludeOpt = False,
    jq: JqOpt = None,
    template: TemplateOpt = None,
) -> None:
    """Send a request to the ZazaVoice API and print the response."""
    from zazacli.output import Format
    from zazacli.output.api import api_items, api_response

    verb, path = method_and_path(method, path)
    app_ctx = get_context(ctx)
    # No -o: the body is printed as sent; the view only carries --jq or --template.
    app_ctx.out.view(None, piped=Format.json, jq=jq, template=template)
    raw = raw_request(verb, path, app_ctx.settings.base_url, fields, input_file, headers)
    if paginate:
        if raw.verb != "GET":
            raise UsageError("--paginate only works with GET")
        if raw.headers or include:
            raise UsageError("--paginate works without -H and --include")
        api_items(app_ctx.out, app_ctx.api.iter_items(raw.relative, raw.params))
        return
    guarded = None
    if raw.verb == "POST" and raw.relative.strip("/") == "calls/outbound":
        guarded = guard_raw_dispatch(app_ctx, raw.json_body if raw.content is None else raw.content)
    try:
        response = app_ctx.api.http.request(
            raw.verb,
            raw.relative,
            params=raw.params,
            json_body=raw.json_body,
            content=raw.content,
            headers=raw.headers,
            # A write may have taken effect even when its answer was lost: never resend it.
            retry=raw.verb == "GET",
        )
    except ZazaError as exc:
        if guarded is not None:
            guarded.failed(exc)
        raise
    if guarded is not None:
        guarded.finished(response)
    api_response(app_ctx.out, response, include=include)


def method_and_path(method: str, path: str | None) -> tuple[str, str]:
    """(METHOD, PATH): a lone PATH means GET."""
    if path is None:
        if method.upper() in METHODS:
            raise UsageError("missing PATH", hint="for example: zaza api GET /agents")
        method, path = "GET", method
    verb = method.upper()
    if verb not in METHODS:
        raise UsageError(f"unknown method {method!r}", hint="use one of " + ", ".join(METHODS))
    return verb, path


def raw_request(
    verb: str,
    path: str,
    base_url: str,
    fields: list[str] | None,
    input_file: str | None,
    headers: list[str] | None,
) -> RawRequest:
    """What the arguments ask to send: --field pairs go in the query of a GET (or of a
    request whose body is --input), else in a JSON body."""
    from zazacli.api.urls import split_path

    relative, query = split_path(path, base_url)
    extra_headers = parse_headers(headers or [])
    pairs = [parse_field(text) for text in fields or []]
    body: bytes | None = None
    json_body: Any = None
    if input_file is not None:
        body = read_json_input(input_file)
        extra_headers.setdefault("Content-Type", "application/json")
    if verb == "GET" or body is not None:
        if body is not None and verb == "GET":
            raise UsageError("--input sends a body: use it with POST, PUT, PATCH or DELETE")
        for key, value in pairs:
            query.setdefault(key, []).append(value)
    elif pairs:
        json_body = build_body(pairs)
    params: dict[str, Any] = {k: v[0] if len(v) == 1 else v for k, v in query.items()}
    return RawRequest(verb, relative, params, json_body, body, extra_headers)


class RawDial:
    """A `zaza api POST /calls/outbound` in the ledger: written before, its outcome after."""

    def __init__(self, guard: Any, dial: int) -> None:
        self.guard = guard
        self.dial = dial

    def _finish(self, outcome: str, call: Any = None) -> None:
        with contextlib.suppress(ZazaError):
            self.guard.finish_dial(self.dial, outcome, call)

    def failed(self, exc: ZazaError) -> None:
        """No answer, a 5xx (from a proxy, after the API queued it?) or a redirect: maybe
        queued, it stays counted; any other error: nothing was."""
        from zazacli.errors import ApiError
        from zazacli.policy.store import FAILED, UNKNOWN

        lost = isinstance(exc, OutcomeUnknownError) or (
            isinstance(exc, ApiError) and exc.maybe_applied
        )
        self._finish(UNKNOWN if lost else FAILED)

    def finished(self, response: Any) -> None:
        from zazacli.policy.store import FAILED, QUEUED

        try:
            call = response.json().get("id")
        except (ValueError, AttributeError):
            call = None
        self._finish(QUEUED if response.is_success else FAILED, call)


def guard_raw_dispatch(app_ctx: AppContext, body: Any) -> RawDial | None:
    """A raw dispatch goes through the contact policy too: its toNumber is checked (the
    list, the cap) and written to the ledger before it is sent. A body without one is sent
    as it is: the API refuses a dispatch to no one."""
    import json

    from zazacli.commands.policy import contact_history, open_guard
    from zazacli.policy.lists import e164

    data = body
    if isinstance(body, bytes):
        try:
            data = json.loads(body)
        except ValueError:
            data = None
    to = data.get("toNumber") if isinstance(data, dict) else None
    if to is None:
        return None
    if not isinstance(to, str):
        raise UsageError("toNumber must be a phone number in E.164 (+14155550123)")
    number = e164(to, None, "toNumber")
    guard = open_guard(app_ctx, None)
    contact_history(app_ctx, guard, {number})
    agent = data.get("agentId") if isinstance(data, dict) else None
    dial = guard.begin_dial(
        to_number=number,
        from_number=str(data.get("fromNumber")),
        agent_id=agent if isinstance(agent, int) else 0,
        source="zaza api",
    )
    return RawDial(guard, dial)


# ---------------------------------------------------------------- input parsing


def parse_headers(lines: list[str]) -> dict[str, str]:
    import re

    found: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not name or not re.fullmatch(_HEADER_NAME, name):
            raise UsageError(f"-H {line!r}: expected 'Name: value'")
        if name.lower() == "authorization":
            raise UsageError(
                "-H: the Authorization header comes from the profile and cannot be replaced",
                hint="use --profile or ZAZA_API_KEY for another key",
            )
        if name.lower() in ("host", "content-length", "transfer-encoding"):
            raise UsageError(f"-H: {name} is set by zaza itself")
        found[name] = value.strip()
    return found


def parse_field(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise UsageError(f"-f {text!r}: expected key=value")
    return key, value


def typed_value(value: str) -> Any:
    """true/false/null, JSON numbers and "quoted strings" as JSON; anything else as text."""
    import json
    import re

    if re.match(_JSON_SCALAR, value, re.S):
        try:
            return json.loads(value)
        except ValueError:
            pass
    return value


def build_body(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """The JSON body from key=value fields: `a[b]=1` nests, `a[]=1` appends (as gh does)."""
    import re

    body: dict[str, Any] = {}
    for key, raw in pairs:
        match = re.match(_FIELD_KEY, key)
        if not match:
            raise UsageError(f"-f {key}=…: cannot read the key (use name, name[sub] or name[])")
        parts = [match.group(1)] + re.findall(r"\[([^\[\]]*)\]", match.group(2))
        value = typed_value(raw)
        node: Any = body
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            following = None if last else parts[index + 1]
            if part == "":
                if not isinstance(node, list):
                    raise UsageError(f"-f {key}: [] must follow a name")
                if last:
                    node.append(value)
                    break
                node.append({} if following else [])
                node = node[-1]
                continue
            if not isinstance(node, dict):
                raise UsageError(f"-f {key}: conflicts with an earlier field")
            if last:
                node[part] = value
                break
            child = node.setdefault(part, [] if following == "" else {})
            if not isinstance(child, list | dict):
                raise UsageError(f"-f {key}: {part} already has a value")
            node = child
    return body


def read_json_input(source: str) -> bytes:
    """The raw body, after checking it is JSON (so a typo is caught before sending)."""
    import json
    import sys

    try:
        if source == "-":
            stream = getattr(sys.stdin, "buffer", None)
            data = stream.read() if stream is not None else sys.stdin.read().encode()
        else:
            with open(source, "rb") as file:
                data = file.read()
    except OSError as error:
        raise UsageError(f"--input {source}: {error.strerror or error}") from None
    try:
        json.loads(data)
    except ValueError as error:
        where = "stdin" if source == "-" else source
        raise UsageError(f"--input {where} is not JSON: {error}") from None
    return data


app = single_command("api", api, epilog=API_EPILOG)
