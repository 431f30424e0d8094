"""Fixtures that run the real sandbox server on a free loopback port (imported by conftest)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from zazacli.sandbox import Sandbox, SandboxConfig, start_sandbox

# Fast enough that a dispatched call ends in 80 ms; small enough to start in milliseconds.
FAST: dict[str, Any] = {"port": 0, "speed": 100.0, "calls": 300, "quiet": True}


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """make_sandbox(**config) starts a sandbox with those SandboxConfig fields; all are closed
    at the end of the test."""
    started: list[Sandbox] = []

    def factory(**config: Any) -> Sandbox:
        running = start_sandbox(SandboxConfig(**{**FAST, **config}))
        started.append(running)
        return running

    yield factory
    for running in started:
        running.close()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    """A sandbox on a free port, with live calls 100x faster than real time.

    Its newest seeded calls have already ended (`live_calls=False`), so tests that compare
    two reads of the history see the same data; `make_sandbox()` has them under way.
    """
    return make_sandbox(live_calls=False)


@pytest.fixture
def real_api(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    """A sandbox that plays the real API: it does not say it is zaza's sandbox (quirk
    no-sandbox-header), so quiet hours apply to it as they would to ZazaVoice."""
    return make_sandbox(live_calls=False, quirks=("no-sandbox-header",))
