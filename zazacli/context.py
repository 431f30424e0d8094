"""What every command needs, built lazily: settings, the API client, the printer.

Commands get one AppContext from the Typer context; tests may pass their own
(`CliRunner().invoke(app, args, obj=AppContext(transport=...))`) to inject an
httpx transport for faults a real server cannot produce on demand, or a Timing
(`AppContext(timing=Timing(sleep=fake))`) to see retries without waiting them out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from zazacli import config

if TYPE_CHECKING:
    import httpx

    from zazacli.api.client import ZazaApi
    from zazacli.output import Output
    from zazacli.sandbox import Sandbox


class Options:
    """The global options of the root command. (Plain classes here: every command loads
    this module, and a dataclass costs ~0.3 ms to define.)"""

    __slots__ = (
        "allow_insecure_http",
        "base_url",
        "debug",
        "max_pages",
        "no_color",
        "no_pager",
        "profile",
        "sandbox",
        "timeout",
    )

    def __init__(
        self,
        profile: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        debug: bool = False,
        allow_insecure_http: bool = False,
        sandbox: bool = False,
        no_color: bool = False,
        no_pager: bool = False,
        max_pages: int | None = None,
    ) -> None:
        self.max_pages = max_pages
        self.profile = profile
        self.base_url = base_url
        self.timeout = timeout
        self.debug = debug
        self.allow_insecure_http = allow_insecure_http
        self.sandbox = sandbox
        self.no_color = no_color
        self.no_pager = no_pager


class Timing(NamedTuple):
    """How zaza waits, in one place so that a test can skip the waits without patching
    modules: `sleep` between retries and polls, `clock` (monotonic seconds) for their
    deadlines, `backoff(attempt)` for the seconds before retry `attempt + 1` (None: the
    HTTP layer's jittered exponential), the speed of the private `--sandbox` (4: a
    whole dispatched call takes about two seconds), how long a read may take, all its
    tries together (api/http.py's READ_DEADLINE), and `wall`, the time of day (epoch
    seconds) that the API's time stamps are measured against (`calls check`'s stuck
    calls), so a test can look at the calls as they will be an hour later, and how long a
    write to the contact-policy file waits for another process holding its lock."""

    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    backoff: Callable[[int], float] | None = None
    sandbox_speed: float = 4.0
    read_deadline: float = 60.0
    wall: Callable[[], float] = time.time
    lock_wait: float | None = None  # None: the policy store's BUSY_TIMEOUT


class AppContext:
    def __init__(
        self,
        options: Options | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        env: Mapping[str, str] | None = None,
        timing: Timing | None = None,
    ) -> None:
        self.options = options or Options()
        self.transport = transport
        self.timing = timing or Timing()
        self.env: Mapping[str, str] = os.environ if env is None else env
        self._sandbox: Sandbox | None = None
        self._scratch: Path | None = None
        self._closers: list[Callable[[], None]] = []

    @cached_property
    def config_dir(self) -> Path:
        return config.config_dir(self.env)

    @cached_property
    def settings(self) -> config.Settings:
        settings = config.resolve(
            self.config_dir,
            flag_profile=self.options.profile,
            flag_base_url=self.options.base_url,
            env=self.env,
            warn=self.out.warn,
        )
        if self.options.sandbox:
            sandbox = self.start_sandbox()
            settings.api_key, settings.base_url = sandbox.api_key, sandbox.base_url
            settings.sources.update(api_key="--sandbox", base_url="--sandbox")
        return settings

    def start_sandbox(self) -> Sandbox:
        """`--sandbox`: a private sandbox on a free loopback port for this one command."""
        if self._sandbox is None:
            from zazacli.sandbox import SandboxConfig, start_sandbox

            speed = self.timing.sandbox_speed
            self._sandbox = start_sandbox(SandboxConfig(port=0, quiet=True, speed=speed))
        return self._sandbox

    @cached_property
    def api(self) -> ZazaApi:
        """The API client of these settings. No key is an error here, before a command
        prints anything (a follower's banner, a progress bar)."""
        from zazacli.errors import AuthError

        settings = self.settings
        if not settings.api_key:
            raise AuthError("no API key configured", hint=self.key_hint())
        return self.client(settings.base_url, settings.api_key, key_hint=self.key_hint())

    def client(self, base_url: str, api_key: str, *, key_hint: str = "") -> ZazaApi:
        """An API client for this base URL and key, with this run's options and timing."""
        from zazacli.api.client import ZazaApi
        from zazacli.api.http import HttpClient
        from zazacli.api.urls import check_base_url

        check_base_url(base_url, allow_insecure_http=self.options.allow_insecure_http)
        timing = self.timing
        api = ZazaApi(
            HttpClient(
                base_url,
                api_key,
                timeout=self.options.timeout,
                transport=self.transport,
                notice=self.out.notice,
                log=self._debug_line if self.options.debug else None,
                key_hint=key_hint,
                sleep=timing.sleep,
                backoff=timing.backoff,
                read_deadline=timing.read_deadline,
            )
        )
        if self.options.max_pages is not None:
            api.max_pages = self.options.max_pages
        return api

    def _debug_line(self, line: str) -> None:
        self.out.notice(f"debug: {line}")

    @cached_property
    def out(self) -> Output:
        from zazacli.output import Output

        return Output(no_color=self.options.no_color, no_pager=self.options.no_pager)

    def key_hint(self) -> str:
        name = self.settings.profile_name
        if self.settings.sources.get("api_key") == "ZAZA_API_KEY":
            return "check the key in ZAZA_API_KEY"
        if name:
            return f"check the key of profile {name}: zaza profiles show {name}"
        return (
            "add a profile (zaza profiles add NAME) or set ZAZA_API_KEY; to try zaza without "
            "a key, on a private sandbox: zaza --sandbox calls list"
        )

    def scratch_dir(self) -> Path:
        """A private directory removed when the command ends (what belongs to a --sandbox,
        which lives for one command too)."""
        if self._scratch is None:
            import tempfile

            self._scratch = Path(tempfile.mkdtemp(prefix="zaza-"))
        return self._scratch

    def on_close(self, closer: Callable[[], None]) -> None:
        """Run `closer` when the command ends (files it opened: the policy file)."""
        self._closers.append(closer)

    def close(self) -> None:
        for closer in reversed(self._closers):
            closer()
        self._closers.clear()
        if self._scratch is not None:
            import shutil

            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
        if "api" in self.__dict__:
            self.api.close()
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
