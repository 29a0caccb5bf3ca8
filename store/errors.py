"""The store's public errors, in one module (re-exported by `agent.errors` and `agent`).

`store/` never imports `agent/`, so these live here; the agent's own errors are in
`agent/errors.py`.
"""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot be opened or used (server unreachable, corrupt record)."""


class StoreMismatchError(StoreError):
    """The collection was built with another embedding model or dimension."""


class SourceError(Exception):
    """The whole source is unusable: missing or unreadable file, HTTP failure, unknown format.

    The message always names the path or URL. A single bad record is a `Rejection` instead.
    """


class RecordError(ValueError):
    """One record is unusable; the parser turns it into a `Rejection` at the record's location."""


class EmbeddingError(RuntimeError):
    """The embedding model cannot run: missing model package, unreachable or failing endpoint."""


__all__ = ["EmbeddingError", "RecordError", "SourceError", "StoreError", "StoreMismatchError"]
