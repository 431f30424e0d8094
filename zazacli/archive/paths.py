"""Where archives live: one file per API, named by its base URL and a fingerprint of the
key (a truncated SHA-256, never the key), under the platform's user data directory."""

from __future__ import annotations

from pathlib import Path

from zazacli.config import api_scope, key_fingerprint

__all__ = ["archives_dir", "default_archive", "key_fingerprint", "known_archives"]

SUFFIX = ".sqlite3"


def archives_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("zazacli")) / "archives"


def default_archive(base_url: str, api_key: str) -> Path:
    """`<data dir>/archives/<host and path>-<key fingerprint>.sqlite3`."""
    return archives_dir() / f"{api_scope(base_url, api_key)}{SUFFIX}"


def known_archives() -> list[Path]:
    """The archives in the data directory (for a hint when none is chosen)."""
    try:
        return sorted(archives_dir().glob(f"*{SUFFIX}"))
    except OSError:
        return []
