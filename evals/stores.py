"""Fresh stores for eval runs, and the embedding memo that keeps them cheap to rebuild.

A suite that declares its corpus, and the known-item mode, run against a store holding exactly
that corpus: a new `PaperBrief` in a temporary directory, with the caller's settings (other data
dir, plus any overrides), embedder and LLM. Rebuilding it each run would re-embed every abstract
(minutes for a few hundred papers on two cores), so the fresh store's embedder looks every text
up first in the caller's embedding cache (`pb.embedding_cache`, in the caller's data dir) and
embeds only what is missing. The model is deterministic per text (batching does not change a
vector), so a warm run reads the very vectors a cold one computes.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from agent import PaperBrief, Settings

# The cache keys its rows by (embedder name, hash); this suffix keeps text-keyed rows apart
# from ingest's content-hash rows.
_NAMESPACE = "|eval-text"


class MemoisedEmbedder:
    """An embedder that reads and writes vectors by text in an embedding cache."""

    def __init__(self, inner: Any, cache: Any) -> None:
        self._inner = inner
        self._cache = cache
        self.computed = 0

    @property
    def name(self) -> str:
        # The store records the model's name: a memo must not look like another model.
        return str(self._inner.name)

    @property
    def dim(self) -> int:
        return int(self._inner.dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.asarray(self._inner.embed([]), dtype=np.float32)
        keys = [hashlib.sha256(text.encode("utf-8")).hexdigest() for text in texts]
        space = self.name + _NAMESPACE
        found = self._cache.get_many(space, keys)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            text_of = dict(zip(keys, texts, strict=True))
            vectors = self._inner.embed([text_of[k] for k in missing])
            computed = dict(zip(missing, np.asarray(vectors, dtype=np.float32), strict=True))
            self._cache.put_many(space, computed)
            self.computed += len(missing)
            found.update(computed)
        return np.stack([found[k] for k in keys]).astype(np.float32)


@contextmanager
def fresh_store(pb: PaperBrief, settings: Settings | None = None) -> Iterator[PaperBrief]:
    """A `PaperBrief` over an empty store in a temporary directory, removed on exit.

    `settings` (default `pb.settings`) apply with the temporary data dir; embeddings are
    memoised in `pb`'s embedding cache; `pb`'s injected LLM, if any, is shared."""
    base = settings if settings is not None else pb.settings
    with tempfile.TemporaryDirectory(prefix="paperbrief-eval-") as tmp:
        fresh_settings = base.model_copy(update={"data_dir": Path(tmp)})
        embedder = MemoisedEmbedder(pb.embedder, pb.embedding_cache)
        with PaperBrief(settings=fresh_settings, embedder=embedder, llm=pb.llm) as fresh:
            yield fresh
