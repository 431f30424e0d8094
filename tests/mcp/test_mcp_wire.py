"""The wire, without the SDK's client: JSON-RPC 2.0, one message per line, on the pipes of
`zaza mcp`. Checks the format itself, so that a bug shared by the SDK's server and client
cannot hide."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Zaza
from mcp_helpers import server_env


def send(zaza: Zaza, message: dict[str, Any]) -> None:
    assert zaza.proc.stdin is not None
    zaza.proc.stdin.write(json.dumps(message) + "\n")
    zaza.proc.stdin.flush()


def answer(zaza: Zaza, message_id: int) -> dict[str, Any]:
    assert zaza.stdout is not None
    line = zaza.stdout.until(lambda line: json.loads(line).get("id") == message_id, 30)
    return json.loads(line)


def tool_call(message_id: int, name: str, arguments: Any) -> dict[str, Any]:
    params = {"name": name, "arguments": arguments}
    return {"jsonrpc": "2.0", "id": message_id, "method": "tools/call", "params": params}


@pytest.mark.slow
def test_raw_json_rpc_lines(sandbox: Any, tmp_path: Path) -> None:
    env = server_env(sandbox, tmp_path)
    with Zaza("mcp", env=env, stdin=-1) as zaza:
        client = {"name": "raw", "version": "1"}
        params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client}
        send(zaza, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params})
        hello = answer(zaza, 1)
        assert hello["jsonrpc"] == "2.0" and "error" not in hello
        assert hello["result"]["serverInfo"]["name"] == "zaza"
        assert hello["result"]["protocolVersion"] == "2025-06-18"
        assert "tools" in hello["result"]["capabilities"]
        send(zaza, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert zaza.proc.stdin is not None
        zaza.proc.stdin.write("this line is not JSON-RPC\n")  # a broken client: ignored
        send(zaza, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        tools = answer(zaza, 2)["result"]["tools"]
        assert "dispatch_call" not in [tool["name"] for tool in tools]
        assert all(set(tool) >= {"name", "description", "inputSchema"} for tool in tools)
        send(zaza, tool_call(3, "get_call", {"id": "twelve"}))
        bad = answer(zaza, 3)["result"]
        assert bad["isError"] is True
        assert bad["content"] == [
            {"type": "text", "text": "error: id must be a whole number, not a string"}
        ]
        send(zaza, tool_call(4, "dispatch_call", dict(toNumber="+14155550123")))
        assert answer(zaza, 4)["result"]["content"][0]["text"].startswith("error: no such tool")
        send(zaza, tool_call(5, "list_agents", {}))
        agents = answer(zaza, 5)["result"]
        assert "isError" not in agents or agents["isError"] is False
        document = json.loads(agents["content"][0]["text"])
        assert document["untrusted"][0]["id"] == 12
        assert zaza.proc.stdin is not None
        zaza.proc.stdin.close()  # the client leaves: the server ends, and well
        code, out, err = zaza.finish(30)
    assert code == 0, err
    for line in zaza.stdout.seen:  # type: ignore[union-attr]
        assert json.loads(line)["jsonrpc"] == "2.0"  # stdout holds the protocol alone
    assert "Traceback" not in err and "not JSON-RPC" not in err
    assert sandbox.app.requests["POST /calls/outbound"] == 0
