"""Where archives live: one file per API, named by its base URL and a fingerprint of the
key (a truncated SHA-256, never the key), under the platform's user data directory."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

ARCHIVE_ENV = "ZAZA_ARCHIVE"
SUFFIX = ".sqlite3"
FINGERPRINT_CHARS = 12


def key_fingerprint(api_key: str) -> str:
    """Tells keys apart (two organisations on one base URL) without revealing them."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:FINGERPRINT_CHARS]


def archives_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("zazacli")) / "archives"


def default_archive(base_url: str, api_key: str) -> Path:
    """`<data dir>/archives/<host and path>-<key fingerprint>.sqlite3`."""
    parts = urlsplit(base_url.rstrip("/"))
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", f"{parts.netloc}{parts.path}").strip("-.")[:80]
    return archives_dir() / f"{slug or 'api'}-{key_fingerprint(api_key)}{SUFFIX}"


def known_archives() -> list[Path]:
    """The archives in the data directory (for a hint when none is chosen)."""
    try:
        return sorted(archives_dir().glob(f"*{SUFFIX}"))
    except OSError:
        return []
