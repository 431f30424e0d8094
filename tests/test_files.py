"""The SQLite files zaza keeps for people (the archive, the contact-policy file), opened by
several zazas at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

OPENERS = {
    "archive": "from zazacli.archive.store import Archive as Store; "
    "Store.open(path, create=True).close()",
    "contact-policy": "from zazacli.policy.store import PolicyStore as Store; "
    "Store.open(path).conn.close()",
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", OPENERS)
def test_zazas_creating_one_file_at_once_all_open_it(kind: str, tmp_path: Path) -> None:
    """Two syncs (or two dials) starting on a new file at the same moment, cron's and a
    person's: each opens it; none takes the other's first tables for another program's
    database, or its switch to WAL for a lock. Rounds of six processes: the window is narrow
    (before the fix about one open in 120 failed)."""
    opener = f"import sys; from pathlib import Path; path = Path(sys.argv[1]); {OPENERS[kind]}"
    for round_ in range(12):
        path = tmp_path / f"new-{round_}.sqlite3"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", opener, str(path)], stderr=subprocess.PIPE, text=True
            )
            for _ in range(6)
        ]
        errors = [proc.communicate(timeout=60)[1] for proc in procs]
        assert [proc.returncode for proc in procs] == [0] * 6, errors
        assert path.stat().st_mode & 0o777 == 0o600


def test_a_claim_landing_while_another_sync_reads_is_not_taken_for_another_apis(
    tmp_path: Path,
) -> None:
    """Sync B reads who the new archive mirrors while sync A (same API, same key) claims
    it: B goes on. The claim lands in the middle of B's read (SQLite's progress handler,
    called as B's statement steps), the moment that made B see half a claim."""
    from zazacli.archive.store import Archive

    path = tmp_path / "new.sqlite3"
    a = Archive.open(path, create=True)
    b = Archive.open(path, create=True)
    landed: list[bool] = []

    def claim_now() -> int:
        if not landed:
            landed.append(True)
            a.claim_source("https://api.example/v1", "f")
        return 0

    b.conn.set_progress_handler(claim_now, 1)
    b.claim_source("https://api.example/v1", "f")
    b.conn.set_progress_handler(None, 1)
    assert landed == [True]
    b.claim_source("https://api.example/v1", "f")  # claimed once, the same for both
    a.close()
    b.close()
