"""What `--local` reads: calls, one call with its transcript, and names, from the archive.

The calls come back as the API last sent them (the raw JSON a sync stored), so `calls
list --local` and `calls show --local` print what `calls list` and `calls show` would
have printed at that sync, in every format. Nothing here needs the network or a key.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from zazacli.archive.store import Archive, archive_errors, archive_id, filter_sql
from zazacli.archive.tokens import restored
from zazacli.errors import NotFoundError

if TYPE_CHECKING:
    from pathlib import Path

    from zazacli.api.listing import CallFilter
    from zazacli.calls.stats import Rates

NAMED_TABLES = {"agent": "agents", "campaign": "campaigns"}


@contextlib.contextmanager
def opened(path: Path, warn: Callable[[str], None] = lambda _: None) -> Iterator[Archive]:
    """An existing archive, open for the `with` block (no archive: exit 3, with a hint to
    sync); SQLite's failures inside it are one-line errors naming the file."""
    with archive_errors(path):
        store = Archive.open(path, create=False, warn=warn)
        try:
            yield store
        finally:
            store.close()


def archived_calls(
    store: Archive, filters: CallFilter, limit: int | None = None, include_deleted: bool = False
) -> Iterator[dict[str, Any]]:
    """The calls matching `filters`, newest first (equal times: the higher id first, as
    the API numbers calls), streamed from the created-time index; those the API no longer
    lists only with `include_deleted`."""
    where, params = filter_sql(filters, include_deleted=include_deleted)
    query = f"SELECT raw FROM calls WHERE 1{where} ORDER BY created_at DESC, id DESC"
    if limit is not None:
        query += " LIMIT ?"
        params.append(limit)
    for (raw,) in store.conn.execute(query, params):
        yield json.loads(raw)


def archived_call(store: Archive, call_id: int) -> tuple[dict[str, Any], str | None]:
    """The call with its `turns` as the API sent them (no `turns` when the archive has
    none yet: the call was under way at the last sync, or its transcript failed), and when
    a refresh found that the API no longer lists it (None: it does)."""
    key = archive_id(call_id)
    row = None
    if key is not None:
        row = store.conn.execute(
            "SELECT raw, turns, deleted_at FROM calls WHERE id = ?", (key,)
        ).fetchone()
    if row is None:
        raise NotFoundError(
            f"call {call_id} is not in the archive {store.path}",
            hint="sync it first (zaza calls sync), or leave out --local to ask the API",
        )
    call = json.loads(row[0])
    if row[1] is not None:
        call["turns"] = json.loads(row[1])
    return call, row[2]


def archived_names(store: Archive, grouping: str) -> dict[int, str]:
    """{id: name} of the agents or campaigns as of the last sync."""
    table = NAMED_TABLES[grouping]
    rows = store.conn.execute(f"SELECT id, name FROM {table} WHERE name IS NOT NULL")
    return {ident: restored(name) for ident, name in rows}


def last_synced(store: Archive) -> str | None:
    """When the last sync that finished ended (UTC instant), None before any."""
    row = store.conn.execute("SELECT max(finished_at) FROM syncs").fetchone()
    return row[0] if row else None


def local_stats(
    store: Archive,
    grouping: str,
    filters: CallFilter,
    rates: Rates,
    *,
    include_deleted: bool = False,
) -> dict[str, Any]:
    """The report of `calls stats --local`: it says which file, and when it was synced."""
    from zazacli.archive.stats import archive_stats

    names = archived_names(store, grouping) if grouping in ("agent", "campaign") else None
    source = {"source": "archive", "archive": str(store.path), "synced_at": last_synced(store)}
    return archive_stats(
        store,
        grouping,
        filters,
        rates=rates,
        names=names,
        source=source,
        include_deleted=include_deleted,
    )
