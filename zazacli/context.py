"""What every command needs, built lazily: settings, the API client, the printer.

Commands get one AppContext from the Typer context; tests may pass their own
(`CliRunner().invoke(app, args, obj=AppContext(transport=...))`) to inject an
httpx transport for faults a real server cannot produce on demand.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from zazacli import config

if TYPE_CHECKING:
    import httpx

    from zazacli.api.client import ZazaApi
    from zazacli.output import Output
    from zazacli.sandbox import Sandbox


@dataclass
class Options:
    """The global options of the root command."""

    profile: str | None = None
    base_url: str | None = None
    timeout: float | None = None
    debug: bool = False
    allow_insecure_http: bool = False
    sandbox: bool = False
    no_color: bool = False


class AppContext:
    def __init__(
        self,
        options: Options | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.options = options or Options()
        self.transport = transport
        self.env: Mapping[str, str] = os.environ if env is None else env
        self._sandbox: Sandbox | None = None

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

            # Four times real speed: a whole dispatched call takes about two seconds.
            self._sandbox = start_sandbox(SandboxConfig(port=0, quiet=True, speed=4.0))
        return self._sandbox

    @cached_property
    def api(self) -> ZazaApi:
        from zazacli.api.client import ZazaApi
        from zazacli.api.http import HttpClient, check_base_url

        settings = self.settings
        check_base_url(settings.base_url, allow_insecure_http=self.options.allow_insecure_http)
        return ZazaApi(
            HttpClient(
                settings.base_url,
                settings.api_key,
                timeout=self.options.timeout,
                transport=self.transport,
                debug=self.options.debug,
                notice=self.out.notice,
                key_hint=self.key_hint(),
            )
        )

    @cached_property
    def out(self) -> Output:
        from zazacli.output import Output

        return Output(no_color=self.options.no_color)

    def key_hint(self) -> str:
        name = self.settings.profile_name
        if self.settings.sources.get("api_key") == "ZAZA_API_KEY":
            return "check the key in ZAZA_API_KEY"
        if name:
            return f"check the key of profile {name}: zaza profiles show {name}"
        return "set ZAZA_API_KEY, or add a profile: zaza profiles add NAME"

    def close(self) -> None:
        if "api" in self.__dict__:
            self.api.close()
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
