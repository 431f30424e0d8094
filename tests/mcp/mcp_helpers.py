"""Driving `zaza mcp` as an assistant does: a subprocess on stdio, through the SDK's own
client (mcp.client.stdio), against a sandbox in this process. Its stderr (the log) goes
to a file the test reads afterwards."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio
from conftest import REPO, Cli
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

T = TypeVar("T")


def server_env(sandbox: Any, tmp_path: Path, **more: str) -> dict[str, str]:
    """The environment of the server process: the test's (isolated config dir), the
    sandbox's URL and key, and an archive of the test's own."""
    return {
        **os.environ,
        "ZAZA_BASE_URL": sandbox.base_url,
        "ZAZA_API_KEY": sandbox.api_key,
        "ZAZA_ARCHIVE": str(tmp_path / "archive.sqlite3"),
        **more,
    }


def cli_of(env: dict[str, str]) -> Cli:
    """The CLI with the server's settings (to sync its archive, add to its list)."""
    names = ("ZAZA_BASE_URL", "ZAZA_API_KEY", "ZAZA_ARCHIVE", "ZAZA_DNC", "ZAZA_PROFILE")
    return Cli(env={name: env[name] for name in names if name in env})


@asynccontextmanager
async def connected(env: dict[str, str], *args: str, log: Path) -> AsyncIterator[ClientSession]:
    """An initialised client session with `zaza [args…]` (args hold `mcp` and its options)."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "zazacli", *args], env=env, cwd=str(REPO)
    )
    with log.open("a", encoding="utf-8") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


def run(
    env: dict[str, str],
    log: Path,
    body: Callable[[ClientSession], Awaitable[T]],
    *args: str,
) -> T:
    """`body(session)` against `zaza mcp [args…]`, to its end; the server is stopped after."""

    async def main() -> T:
        async with connected(env, "mcp", *args, log=log) as session:
            with anyio.fail_after(60):
                return await body(session)

    return anyio.run(main)


async def call(
    session: ClientSession, name: str, arguments: dict[str, Any] | None = None, **more: Any
) -> dict[str, Any]:
    """A tool's result that must have succeeded, parsed (arguments as a dict, or named)."""
    result = await session.call_tool(name, {**(arguments or {}), **more})
    [content] = result.content
    assert not result.is_error, content.text  # type: ignore[union-attr]
    return json.loads(content.text)  # type: ignore[union-attr]


async def fail(session: ClientSession, name: str, arguments: Any) -> str:
    """A tool's error text (it must be a tool error: isError, one text content)."""
    result = await session.call_tool(name, arguments)
    [content] = result.content
    assert result.is_error, content.text  # type: ignore[union-attr]
    return content.text  # type: ignore[union-attr]
