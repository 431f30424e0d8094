"""The local call archive behind `zaza calls sync`, `search` and `archive`.

One SQLite file per API (its base URL and a fingerprint of the key, never the key): the
calls as the API sent them (raw JSON, so unknown fields survive) beside indexed columns,
their transcripts, and an FTS5 index over every turn. Every write is one transaction, so a
sync killed at any point leaves an archive the next sync completes. No printing here.
"""
