"""Where the API key may go: the base URL's checks, and a path typed by the user resolved
below it (never to another host, never above the base path)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from zazacli.errors import UsageError


def is_loopback_host(host: str) -> bool:
    """`localhost`, or a literal loopback address (127.0.0.0/8, ::1), by address: a name that
    merely starts with `127.` (`127.0.0.1.evil.example`) is someone else's host."""
    import ipaddress

    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str, *, allow_insecure_http: bool) -> None:
    """Refuse to send a Bearer key in clear text to anything but this machine."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"base URL {base_url!r} is not an http(s) URL",
            hint="for example https://api.example.com/api/v1",
        )
    host = parts.hostname
    if parts.scheme == "http" and not is_loopback_host(host) and not allow_insecure_http:
        raise UsageError(
            f"refusing to send the API key over plain HTTP to {host}",
            hint="use https://, or pass --allow-insecure-http if you really mean it",
        )


def split_path(path: str, base_url: str) -> tuple[str, dict[str, list[str]]]:
    """(path relative to the base URL, query parameters) from what the user typed.

    An absolute URL is accepted only when it points below the base URL itself: the key
    is never sent to another host.
    """
    from urllib.parse import parse_qsl

    text = path.strip()
    if not text:
        raise UsageError("PATH is empty", hint="for example: zaza api GET /agents")
    base = urlsplit(base_url)
    base_path = base.path.rstrip("/")
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text) or text.startswith("//"):
        target = urlsplit(text)
        same_origin = (
            target.scheme.lower() == base.scheme.lower()
            and (target.hostname or "") == (base.hostname or "")
            and target.port == base.port
        )
        if not same_origin or not (
            target.path == base_path or target.path.startswith(base_path + "/")
        ):
            raise UsageError(
                f"refusing to send the API key to {target.netloc or text!r}: "
                f"PATH must be below the base URL {base_url}",
                hint="give a path relative to the base URL, e.g. /agents",
            )
        text = target.path[len(base_path) :] + (f"?{target.query}" if target.query else "")
    relative, _, raw_query = text.partition("?")
    relative = relative.split("#", 1)[0]
    # The public docs write endpoints as /v1/agents; the base URL already ends in /api/v1.
    for prefix in ("/api/v1", "/v1"):
        if base_path.endswith(prefix) and (relative == prefix or relative.startswith(prefix + "/")):
            relative = relative[len(prefix) :]
            break
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    return _below_base(relative, base_url), query


def _below_base(relative: str, base_url: str) -> str:
    """`relative` with its `.` and `..` segments resolved — percent-encoded ones too, which
    a server or proxy may decode — so that it can be checked: a path that climbs above the
    base URL would take the key outside the API (`/../../x` is `/x` on the same host)."""
    from urllib.parse import unquote

    kept: list[str] = []
    for segment in relative.split("/"):
        plain = unquote(segment)
        if plain in ("", "."):
            continue
        if plain == "..":
            if not kept:
                raise UsageError(
                    f"refusing to send the API key to {relative!r}: it climbs above the base "
                    f"URL {base_url}",
                    hint="give a path relative to the base URL, e.g. /agents",
                )
            kept.pop()
            continue
        kept.append(segment)
    return "/".join(kept)
