"""Writing a file so that a reader (or a crash) never sees half of it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3


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


def tighten_own_file(path: Path, mode: int) -> bool:
    """chmod `path` to `mode` only if it is a plain file this user owns: never through a
    symbolic link (O_NOFOLLOW), never someone else's file. The change goes through the
    open descriptor, so a link swapped in meanwhile is not followed. True if changed."""
    import stat

    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return False  # a link (ELOOP), gone, or unreadable: leave it alone
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            return False
        os.fchmod(fd, mode)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def make_private_dir(directory: Path) -> bool:
    """Create `directory` (and missing parents) with mode 0700; False if it already existed.
    Only a directory zaza creates gets its mode set: an existing one is someone's choice."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=False)
    except FileExistsError:
        return False
    if os.name != "posix":
        return True
    with contextlib.suppress(OSError):
        # mkdir's mode passes through the umask; this is the directory just made.
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0))
        try:
            os.fchmod(fd, 0o700)
        finally:
            os.close(fd)
    return True


@contextlib.contextmanager
def sqlite_write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write to a SQLite file (`BEGIN IMMEDIATE`): all of it lands, or none of it, also
    when the process is killed (the archive and the contact-policy file)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


@contextlib.contextmanager
def sqlite_read(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Reads that see one committed state: a file another zaza is creating at this moment
    shows none of its tables or all of them, with their version."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


def sqlite_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """WAL mode. The switch of a new file that another zaza is opening too is refused at
    once ("locked": SQLite's busy handler does not wait for it), so it is tried again for
    up to `timeout` seconds."""
    import sqlite3
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


def create_private_file(path: Path, what: str) -> None:
    """A new, empty file readable by its owner alone (0600; its directory 0700 when zaza
    makes it), for personal data: call records, transcripts, a do-not-call list. Never
    through a symbolic link, dangling or not: the target would be created under the umask,
    wherever the link points. A file another zaza made meanwhile is left as it is."""
    import errno

    from zazacli.errors import UsageError, ZazaError

    if not path.parent.exists():
        make_private_dir(path.parent)
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        os.close(os.open(path, flags, 0o600))
    except OSError as exc:
        if path.is_symlink() or exc.errno == errno.ELOOP:
            raise UsageError(
                f"{path} is a symbolic link; zaza does not create its {what} through links",
                hint="give the real path instead",
            ) from None
        if exc.errno != errno.EEXIST:
            raise ZazaError(f"cannot create the {what} {path}: {exc.strerror or exc}") from None


def keep_private(path: Path, warn: Callable[[str], None]) -> None:
    """A file of ours that others can read is tightened to 0600, with a warning; one zaza
    cannot tighten (another user's, or reached through a link) is warned about."""
    import stat

    if os.name != "posix":
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if not mode & 0o077:
        return
    if tighten_own_file(path, 0o600):
        warn(f"{path} was readable by others (mode {mode:o}); tightened to 600")
    else:
        warn(f"{path} is readable by others (mode {mode:o}) and zaza cannot tighten it (chmod 600)")
