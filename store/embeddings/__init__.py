"""Embedding models: one protocol, the bundled offline default, an HTTP endpoint, a test hasher.

Every embedder returns L2-normalised float32 rows, so a dot product is a cosine similarity.
`name` is recorded in the collection, so a store is never opened with a different model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from store.config import EmbeddingSettings, RetrySettings
from store.errors import EmbeddingError as EmbeddingError  # raised by the embedders; re-exported


@runtime_checkable
class Embedder(Protocol):
    @property
    def name(self) -> str:
        """Identifies model and preprocessing, e.g. 'minilm-int8:all-MiniLM-L6-v2:256'."""
        ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of shape (len(texts), dim), float32, L2-normalised."""
        ...


def make_embedder(settings: EmbeddingSettings, retry: RetrySettings | None = None) -> Embedder:
    """The embedder the settings name; `retry` governs a remote endpoint's retries."""
    if settings.provider == "hash":
        from store.embeddings.hashing import HashEmbedder

        return HashEmbedder()
    if settings.provider == "openai":
        from store.embeddings.remote import RemoteEmbedder

        return RemoteEmbedder(settings, retry=retry)
    from store.embeddings.minilm import MiniLMEmbedder

    return MiniLMEmbedder(
        batch_size=settings.batch_size, max_tokens=settings.max_tokens, threads=settings.threads
    )
