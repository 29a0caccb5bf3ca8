"""The embedding cache: vectors already computed, keyed by embedder name and content hash.

Re-ingesting a source, or rebuilding the Chroma collection, then embeds only texts whose
content changed. One SQLite file in WAL mode; every `put_many` commits, so an ingest that is
interrupted keeps everything it embedded before the interruption.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import numpy as np

from store.sqlite_files import open_sqlite

# SQLite builds before 3.32 allow 999 bound parameters per statement.
_CHUNK = 900

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    embedder TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (embedder, content_hash)
) WITHOUT ROWID
"""


class EmbeddingCache:
    """float32 vectors by (embedder name, content hash), in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # One connection shared by the threads of one process, serialised by the lock. A file
        # that is not a database is set aside with a warning and the cache rebuilt.
        self._conn = open_sqlite(
            self.path, "embedding cache", timeout=30.0, check_same_thread=False
        )
        self._lock = threading.Lock()
        with self._lock:
            # A vector row (1.5 KB at 384 dimensions) overflows a 4 KB page of a WITHOUT ROWID
            # table into a page of its own; in 16 KB pages it stays inline, and the file is less
            # than half the size (bench/bench_relevance.py --cost). Only a new file takes it.
            self._conn.execute("PRAGMA page_size=16384")
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(_SCHEMA)
            self._conn.commit()

    def get_many(self, embedder_name: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors among `hashes`; hashes not cached are absent from the result."""
        found: dict[str, np.ndarray] = {}
        wanted = list(dict.fromkeys(hashes))
        with self._lock:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    "SELECT content_hash, dim, vector FROM embeddings "
                    f"WHERE embedder = ? AND content_hash IN ({marks})",
                    [embedder_name, *chunk],
                )
                for content_hash, dim, blob in rows:
                    vector = np.frombuffer(blob, dtype="<f4")
                    if vector.shape != (dim,):
                        continue  # a torn or foreign row: treat as not cached, it is re-embedded
                    found[content_hash] = vector.astype(np.float32)
        return found

    def put_many(self, embedder_name: str, vectors: Mapping[str, np.ndarray]) -> None:
        """Store (or replace) vectors and commit, so they survive an interruption after this."""
        rows = []
        for content_hash, vector in vectors.items():
            flat = np.asarray(vector, dtype="<f4").reshape(-1)
            if not np.all(np.isfinite(flat)):
                raise ValueError(f"vector for {content_hash} has non-finite values")
            rows.append((embedder_name, content_hash, flat.shape[0], flat.tobytes()))
        if not rows:
            return
        with self._lock, self._conn:
            self._conn.executemany(
                "INSERT OR REPLACE INTO embeddings (embedder, content_hash, dim, vector) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )

    def count(self, embedder_name: str | None = None) -> int:
        """Cached vectors, for one embedder or for all."""
        with self._lock:
            if embedder_name is None:
                row = self._conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()
            else:
                row = self._conn.execute(
                    "SELECT COUNT(*) FROM embeddings WHERE embedder = ?", (embedder_name,)
                ).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
