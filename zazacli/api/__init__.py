"""The thin API module: HTTP policy in `http.py`, endpoints and wire assumptions in
`client.py`, enumerated wire values in `values.py` (import-free, for `--help`)."""
