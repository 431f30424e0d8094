"""Writing a file so that a reader (or a crash) never sees half of it."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_atomically(path: Path, content: str, mode: int = 0o600, *, durable: bool = False) -> None:
    """Write to a temp file beside `path`, then rename it over `path`.

    The temp file is `.<name>.<pid>.<random>.tmp`, so a later run can tell whose it was.
    mkstemp creates it 0600: a secret is never briefly readable by others; `mode` is set
    before the rename. `durable` fsyncs the data first, for files that must survive a crash.
    """
    import tempfile  # only when writing: reading commands never pay for it

    fd, temp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(content)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if mode != 0o600:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
