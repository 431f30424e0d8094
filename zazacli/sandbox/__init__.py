"""A local ZazaVoice-compatible API server with seeded data (no CLI imports in this package).

The constants are defined here and the server is imported on first use, so that the CLI can
show `--help` defaults without paying for `http.server` at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

DEFAULT_API_KEY = "zaza_test_sandbox_4f1c2a9e7b3d"
# The sandbox organisation's own numbers; a dispatch must come from one of them.
ORG_NUMBERS: tuple[str, ...] = ("+14155550100", "+14155550101", "+16465550102")

if TYPE_CHECKING:
    from zazacli.sandbox.app import SandboxConfig
    from zazacli.sandbox.server import Sandbox, start_sandbox

__all__ = ["DEFAULT_API_KEY", "ORG_NUMBERS", "Sandbox", "SandboxConfig", "start_sandbox"]

_LAZY = {"Sandbox": "server", "SandboxConfig": "app", "start_sandbox": "server"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"zazacli.sandbox.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
