"""Profiles (API keys and their settings) in one TOML file, and how settings resolve.

The file lives in `platformdirs.user_config_dir("zazacli")` (or `$ZAZA_CONFIG_DIR`),
mode 0600 in a 0700 directory, written atomically under a lock so two processes
never lose each other's changes. A corrupt file is reported, never overwritten.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

from zazacli.errors import ConfigError, UsageError

# [documented] production base URL of the ZazaVoice API.
DEFAULT_BASE_URL = "https://zazavoice-api-569199843054.us-central1.run.app/api/v1"
CONFIG_FILE = "config.toml"

# Keys a profile may hold, and their types; anything else in the file is kept as-is.
PROFILE_KEYS: dict[str, type] = {
    "api_key": str,
    "base_url": str,
    "region": str,
    "confirm": bool,
    "quiet_hours": str,
    "webhook_secret": str,
    "rate_outbound": float,
    "rate_inbound": float,
    "max_calls_per_number": str,
    "calling_windows": str,
}
# USD per minute for `calls stats` cost estimates: positive numbers (an integer is one too).
RATE_KEYS = frozenset({"rate_outbound", "rate_inbound"})
SECRET_KEYS = frozenset({"api_key", "webhook_secret"})


# Where config says what the user should know; the CLI passes its printer's warn.
Warn = Callable[[str], None]


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    override = env.get("ZAZA_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("zazacli"))


def mask_secret(value: str | None) -> str:
    """`zaza_live_8f…c9f2`: enough to tell keys apart, never enough to use one."""
    if not value:
        return "(none)"
    if len(value) <= 12:
        return value[:4] + "…"
    prefix_end = value.find("_", 5) + 1 if value.startswith(("zaza_", "whsec_")) else 4
    prefix_end = max(4, min(prefix_end, 10))
    return f"{value[:prefix_end]}…{value[-4:]}"


def key_fingerprint(api_key: str) -> str:
    """Tells keys apart (two organisations on one base URL) without revealing them: the
    first 12 hex digits of the key's SHA-256."""
    import hashlib

    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:12]


def api_scope(base_url: str, api_key: str) -> str:
    """A file name stem for what belongs to one API and key (the archive, the contact
    policy): `<host and path>-<key fingerprint>`, never the key."""
    import re
    from urllib.parse import urlsplit

    parts = urlsplit(base_url.rstrip("/"))
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", f"{parts.netloc}{parts.path}").strip("-.")[:80]
    return f"{slug or 'api'}-{key_fingerprint(api_key)}"


# ---------------------------------------------------------------- the file


class ConfigFile:
    """The parsed profiles file: `default` plus `[profiles.NAME]` tables. (Plain classes
    here and in Settings: every command loads this module, and a dataclass costs ~0.3 ms
    to define.)"""

    __slots__ = ("default", "extra", "path", "profiles")

    def __init__(
        self,
        path: Path,
        default: str | None = None,
        profiles: dict[str, dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.default = default
        self.profiles: dict[str, dict[str, Any]] = {} if profiles is None else profiles
        self.extra: dict[str, Any] = {} if extra is None else extra

    def profile(self, name: str) -> dict[str, Any]:
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise UsageError(
                f"unknown profile {name!r} (known: {known})",
                hint="add it with: zaza profiles add " + name,
            ) from None


def load(directory: Path, *, warn: Warn) -> ConfigFile:
    """The profiles file (an empty one when there is none). `warn` gets what the user
    should know but that does not stop the command (a key file others could read)."""
    path = directory / CONFIG_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ConfigFile(path=path)
    except IsADirectoryError:
        raise ConfigError(f"{path} is a directory, expected the profiles file") from None
    except PermissionError:
        raise ConfigError(f"cannot read {path}: permission denied") from None
    _warn_if_loose(path, warn)
    import tomllib  # only when there is a file: cron jobs on env variables never pay for it

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(
            f"{path} is not UTF-8 text", hint="fix or move the file; zazacli will not overwrite it"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}",
            hint="fix or move the file; zazacli will not overwrite it",
        ) from None
    return _from_dict(path, data)


def _from_dict(path: Path, data: dict[str, Any]) -> ConfigFile:
    default = data.pop("default", None)
    if default is not None and not isinstance(default, str):
        raise ConfigError(f"{path}: 'default' must be a string (a profile name)")
    profiles = data.pop("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(f"{path}: 'profiles' must be a table of [profiles.NAME] tables")
    for name, values in profiles.items():
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: profile {name!r} must be a table")
        for key, kind in PROFILE_KEYS.items():
            if key not in values:
                continue
            if key in RATE_KEYS:
                if not is_rate(values[key]):
                    raise ConfigError(
                        f"{path}: profiles.{name}.{key} must be a positive number "
                        "(USD per minute, e.g. 0.12)",
                        hint="fix or move the file; zazacli will not overwrite it",
                    )
            elif not isinstance(values[key], kind):
                raise ConfigError(
                    f"{path}: profiles.{name}.{key} must be a {kind.__name__}",
                    hint="fix or move the file; zazacli will not overwrite it",
                )
    return ConfigFile(path=path, default=default, profiles=profiles, extra=data)


def is_rate(value: Any) -> bool:
    """A price per minute: a positive, finite number (TOML writes 1 as an integer)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return 0 < value < float("inf")


def _warn_if_loose(path: Path, warn: Warn) -> None:
    """A key file others can read is tightened to 0600, with a warning, if it is a plain
    file of this user's. A symbolic link, or someone else's file, is only warned about:
    zaza never changes permissions through a link or on a file it does not own."""
    from zazacli import files  # writing and fixing files only

    if os.name != "posix":
        return
    try:
        link = stat.S_ISLNK(os.lstat(path).st_mode)
        info = path.stat()
    except OSError:
        return
    mode = stat.S_IMODE(info.st_mode)
    loose = bool(mode & 0o077)
    foreign = info.st_uid != os.geteuid()
    if link:
        if loose or foreign:
            whose = "another user's file" if foreign else f"readable by others (mode {mode:o})"
            warn(
                f"{path} is a symbolic link to {os.path.realpath(path)}, {whose}; zaza does "
                "not change permissions through links: make the target private yourself "
                "(chmod 600)"
            )
        return
    if not stat.S_ISREG(info.st_mode):
        return
    if foreign:
        warn(f"{path} belongs to another user (uid {info.st_uid}); left as it is")
    elif loose and files.tighten_own_file(path, 0o600):
        warn(f"{path} was readable by others (mode {mode:o}); tightened to 600")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        import json  # only when writing: reading commands never pay for it

        # JSON string escapes are valid TOML basic-string escapes; DEL must be escaped too.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot store a {type(value).__name__} in the profiles file")


def _toml_key(key: str) -> str:
    if key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key):
        return key
    return _toml_value(key)


def dumps(cfg: ConfigFile) -> str:
    lines = ["# zazacli profiles. Keys are secrets: keep this file 0600.", ""]
    if cfg.default is not None:
        lines.append(f"default = {_toml_value(cfg.default)}")
    for key, value in cfg.extra.items():
        if not isinstance(value, dict):
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for name in sorted(cfg.profiles):
        lines += ["", f"[profiles.{_toml_key(name)}]"]
        for key, value in cfg.profiles[name].items():
            if value is not None and not isinstance(value, dict):
                lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _ensure_dir(directory: Path, warn: Warn) -> None:
    """Create the directory 0700; one that already exists (`ZAZA_CONFIG_DIR` pointing at a
    shared directory, say) is someone's choice: checked and warned about, never chmodded."""
    from zazacli import files  # writing and fixing files only

    try:
        if files.make_private_dir(directory):
            return
    except NotADirectoryError:
        raise ConfigError(f"{directory} exists and is not a directory") from None
    except PermissionError:
        raise ConfigError(f"cannot create {directory}: permission denied") from None
    except OSError as exc:
        raise ConfigError(f"cannot create {directory}: {exc.strerror or exc}") from None
    if not directory.is_dir():
        raise ConfigError(f"{directory} exists and is not a directory")
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        info = directory.stat()
        mode = stat.S_IMODE(info.st_mode)
        if info.st_uid != os.geteuid():
            warn(
                f"the config directory {directory} belongs to another user (uid {info.st_uid}); "
                "they can replace your profiles file"
            )
        elif mode & 0o077:
            risk = (
                "others can replace your profiles file"
                if mode & 0o022
                else "others can list it; the profiles file itself stays 600"
            )
            warn(
                f"the config directory {directory} is not private (mode {mode:o}): {risk}; "
                "zaza did not create it and leaves its mode alone (chmod 700 it yourself)"
            )


@contextlib.contextmanager
def _locked(directory: Path, warn: Warn) -> Iterator[None]:
    """An exclusive lock beside the file: concurrent `profiles add` never lose a write."""
    _ensure_dir(directory, warn)
    lock_path = directory / ".config.lock"
    # O_NOFOLLOW: in a shared directory, a planted link must not make us open another file.
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(lock_path, flags, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot open the lock file {lock_path}: {exc.strerror or exc}") from None
    try:
        if os.name == "posix":
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _write_atomic(path: Path, text: str) -> None:
    from zazacli import files  # writing and fixing files only

    if path.is_symlink():
        # Writing through it would put keys wherever the link points; replacing it would
        # silently undo the link (dotfile managers). Neither without the user saying so.
        raise ConfigError(
            f"{path} is a symbolic link; zaza does not write through links",
            hint="replace the link with the file itself, or point ZAZA_CONFIG_DIR at the "
            "directory the link points into",
        )
    try:
        files.write_atomically(path, text, 0o600, durable=True)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def editing(directory: Path, *, warn: Warn) -> Iterator[ConfigFile]:
    """Load, let the caller change, and write back — all under the lock."""
    with _locked(directory, warn):
        cfg = load(directory, warn=warn)
        yield cfg
        _write_atomic(cfg.path, dumps(cfg))


# ---------------------------------------------------------------- resolution


class Settings:
    """What a command runs with, and where each value came from (for `profiles show`)."""

    __slots__ = ("api_key", "base_url", "profile", "profile_name", "sources")

    def __init__(
        self,
        profile_name: str | None,
        api_key: str | None,
        base_url: str,
        profile: dict[str, Any] | None = None,
        sources: dict[str, str] | None = None,
    ) -> None:
        self.profile_name = profile_name
        self.api_key = api_key
        self.base_url = base_url
        self.profile: dict[str, Any] = {} if profile is None else profile
        self.sources: dict[str, str] = {} if sources is None else sources

    def get(self, key: str, default: Any = None) -> Any:
        return self.profile.get(key, default)


def resolve(
    directory: Path,
    *,
    flag_profile: str | None = None,
    flag_base_url: str | None = None,
    env: Mapping[str, str] | None = None,
    warn: Warn,
) -> Settings:
    """flag → environment → profile → default, here and in the helpers below."""
    env = os.environ if env is None else env
    cfg = load(directory, warn=warn)
    name, name_source = _profile_name(cfg, flag_profile, env)
    profile = dict(cfg.profiles.get(name, {})) if name else {}

    sources: dict[str, str] = {}
    if name:
        sources["profile"] = name_source
    api_key, key_source = _api_key(env, profile, name)
    if key_source:
        sources["api_key"] = key_source
    base_url, sources["base_url"] = _base_url(flag_base_url, env, profile, name)

    if env.get("ZAZA_WEBHOOK_SECRET"):
        profile["webhook_secret"] = env["ZAZA_WEBHOOK_SECRET"]
        sources["webhook_secret"] = "ZAZA_WEBHOOK_SECRET"

    return Settings(
        profile_name=name,
        api_key=api_key,
        base_url=base_url.rstrip("/"),
        profile=profile,
        sources=sources,
    )


def _profile_name(
    cfg: ConfigFile, flag_profile: str | None, env: Mapping[str, str]
) -> tuple[str | None, str]:
    """The profile to use and why: --profile, ZAZA_PROFILE, the default or the only one."""
    if flag_profile:
        name, name_source = flag_profile, "--profile"
    elif env.get("ZAZA_PROFILE"):
        name, name_source = env["ZAZA_PROFILE"], "ZAZA_PROFILE"
    elif cfg.default:
        name, name_source = cfg.default, "default profile"
    elif len(cfg.profiles) == 1:
        name, name_source = next(iter(cfg.profiles)), "only profile"
    else:
        return None, ""

    # An explicitly named profile must exist; a stale `default` is tolerated when the
    # environment supplies a key (cron jobs and CI).
    if name not in cfg.profiles:
        if name_source in ("--profile", "ZAZA_PROFILE") or not env.get("ZAZA_API_KEY"):
            cfg.profile(name)
        return None, name_source
    return name, name_source


def _api_key(
    env: Mapping[str, str], profile: dict[str, Any], name: str | None
) -> tuple[str | None, str | None]:
    """The key and where it came from: ZAZA_API_KEY, else the profile (no source: no key)."""
    if env.get("ZAZA_API_KEY"):
        return env["ZAZA_API_KEY"], "ZAZA_API_KEY"
    api_key: str | None = profile.get("api_key")
    return api_key, f"profile {name}" if api_key else None


def _base_url(
    flag_base_url: str | None, env: Mapping[str, str], profile: dict[str, Any], name: str | None
) -> tuple[str, str]:
    """The base URL and where it came from: --base-url, ZAZA_BASE_URL, the profile, default."""
    if flag_base_url:
        return flag_base_url, "--base-url"
    if env.get("ZAZA_BASE_URL"):
        return env["ZAZA_BASE_URL"], "ZAZA_BASE_URL"
    if profile.get("base_url"):
        return profile["base_url"], f"profile {name}"
    return DEFAULT_BASE_URL, "default"
