"""Embeddings from an OpenAI-compatible `/embeddings` endpoint (OpenAI, vLLM, Ollama, llama.cpp,
LM Studio, TEI), spoken directly over httpx.

The openai package stays the agent's vendor module (agent/llm.py); the store needs one POST.
Retries follow the shared policy (`store/retry.py`, the `retry` settings): 429 (honouring
Retry-After), 5xx, timeouts and connection errors; one budget per batch. Other HTTP errors (a
wrong key, an unknown model) fail at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from types import TracebackType

import httpx
import numpy as np
from pydantic import BaseModel, ValidationError

from store.config import EmbeddingSettings, RetrySettings
from store.embeddings import EmbeddingError
from store.retry import RetryExhausted, RetryPolicy, Transient, transient_status

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class _Row(BaseModel):
    index: int
    embedding: list[float]


class _Response(BaseModel):
    data: list[_Row]


class _Retryable(Exception):
    def __init__(self, transient: Transient) -> None:
        super().__init__(transient.reason)
        self.transient = transient


def _classify(exc: BaseException) -> Transient | None:
    return exc.transient if isinstance(exc, _Retryable) else None


class RemoteEmbedder:
    """Vectors from `{base_url}/embeddings`; `dim` is learnt from the first response."""

    def __init__(
        self,
        settings: EmbeddingSettings,
        *,
        retry: RetrySettings | RetryPolicy | None = None,
    ) -> None:
        model = settings.model
        if not model:
            raise EmbeddingError(
                "the openai embedding provider needs a model name "
                "(PAPERBRIEF_EMBEDDING__MODEL, e.g. text-embedding-3-small)"
            )
        self.model = model
        base_url = settings.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self.url = base_url.rstrip("/") + "/embeddings"
        key = settings.api_key.get_secret_value() if settings.api_key else None
        key = key or os.environ.get("OPENAI_API_KEY")
        self.batch_size = settings.batch_size
        self._retry = retry if isinstance(retry, RetryPolicy) else RetryPolicy(retry)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(settings.timeout))
        self._dim: int | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"openai:{self.model}"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.embed(["dimension probe"])
        assert self._dim is not None
        return self._dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of shape (len(texts), dim), float32, L2-normalised, in the order given."""
        if isinstance(texts, str):
            raise TypeError("embed takes a sequence of texts, not one string")
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        parts = [
            self._post(list(texts[start : start + self.batch_size]))
            for start in range(0, len(texts), self.batch_size)
        ]
        rows = np.concatenate(parts).astype(np.float32)
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        if np.any(norms == 0):
            raise EmbeddingError(f"{self.url} returned an all-zero vector")
        return rows / norms

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RemoteEmbedder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _post(self, batch: list[str]) -> np.ndarray:
        # Most servers reject an empty input string; a space embeds as "no content".
        inputs = [text if text.strip() else " " for text in batch]

        try:
            payload = self._retry.call(lambda: self._post_once(inputs), _classify)
        except RetryExhausted as exc:
            raise EmbeddingError(f"{self.url} failed after {exc.attempts} attempts: {exc}") from exc
        try:
            response = _Response.model_validate(payload)
        except ValidationError as exc:
            raise EmbeddingError(f"{self.url} returned an unexpected body: {exc}") from exc
        if sorted(row.index for row in response.data) != list(range(len(batch))):
            raise EmbeddingError(
                f"{self.url} returned {len(response.data)} embeddings for {len(batch)} texts"
            )
        widths = {len(row.embedding) for row in response.data}
        if len(widths) != 1 or 0 in widths:
            raise EmbeddingError(f"{self.url} returned embeddings of unequal or zero length")
        rows = np.array(
            [row.embedding for row in sorted(response.data, key=lambda r: r.index)],
            dtype=np.float32,
        )
        with self._lock:
            if self._dim is None:
                self._dim = int(rows.shape[1])
            elif rows.shape[1] != self._dim:
                raise EmbeddingError(
                    f"{self.url} returned {rows.shape[1]} dimensions, earlier {self._dim}"
                )
        return rows

    def _post_once(self, inputs: list[str]) -> object:
        try:
            response = self._client.post(self.url, json={"model": self.model, "input": inputs})
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise _Retryable(Transient(f"{type(exc).__name__}: {exc}")) from exc
        transient = transient_status(response.status_code, response.headers)
        if transient is not None:
            reason = f"HTTP {response.status_code}: {response.text[:200]}"
            raise _Retryable(Transient(reason, transient.retry_after))
        if response.status_code >= 400:
            raise EmbeddingError(
                f"{self.url} answered HTTP {response.status_code} for model {self.model!r}: "
                f"{response.text[:300]}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise EmbeddingError(f"{self.url} returned a body that is not JSON") from exc
