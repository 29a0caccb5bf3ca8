"""Settings of the store side (storage, embeddings, search, sources).

Plain pydantic models; `agent.settings.Settings` nests them and reads env vars and the config
file, so the store never imports the agent.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (e.g. http://127.0.0.1:8000); unset: an embedded "
        "store in the data directory",
    )
    collection: str = Field(default="papers", description="Chroma collection name")


class EmbeddingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: Literal["minilm", "openai", "hash"] = Field(
        default="minilm",
        description="minilm: bundled all-MiniLM-L6-v2 int8 ONNX (offline); openai: an "
        "OpenAI-compatible /embeddings endpoint; hash: deterministic hashed bag of words "
        "(tests and quick experiments, no semantic quality)",
    )
    model: str | None = Field(
        default=None, description="Model name for the openai provider (e.g. text-embedding-3-small)"
    )
    base_url: str | None = Field(
        default=None,
        description="Base URL of the embeddings endpoint (openai provider); falls back to "
        "OPENAI_BASE_URL",
    )
    api_key: SecretStr | None = Field(
        default=None, description="API key for the embeddings endpoint; falls back to the LLM key"
    )
    batch_size: int = Field(
        default=8,
        ge=1,
        description="Texts per embedding batch (8: fastest and smallest peak memory for the "
        "bundled model, see bench/bench_embed.py)",
    )
    max_tokens: int = Field(default=256, ge=16, le=512, description="Tokens kept per text")
    timeout: float = Field(
        default=60.0, gt=0, description="Seconds per request to the embeddings endpoint"
    )
    threads: int = Field(
        default=0, ge=0, description="Threads for the ONNX runtime (0: one per core)"
    )


class SearchSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    candidates: int = Field(
        default=50, ge=1, description="Candidates taken from each retriever before fusion"
    )
    fusion: Literal["scores", "minmax", "rrf"] = Field(
        default="scores",
        description="How dense and BM25 results merge: scores: weighted sum of each "
        "retriever's part (dense by cosine gap to the best, BM25 min-max scaled and scaled "
        "down when its best match holds little of the query's idf mass) plus a small share "
        "of reciprocal rank fusion (chosen on SciTLDR known-item search, "
        "bench/bench_fusion.py); minmax: both parts min-max scaled, no BM25 scaling; rrf: "
        "reciprocal rank fusion",
    )
    dense_weight: float = Field(
        default=0.25,
        ge=0.0,
        le=1.0,
        description="Weight of the dense retriever in fusion (0.25 chosen with the scores "
        "fusion in bench/bench_fusion.py)",
    )
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal rank fusion constant")
    mmr_lambda: float = Field(
        default=0.7,
        ge=0.0,
        le=1.0,
        description="Relevance weight of the MMR diversity step (1: no diversity)",
    )


class SourceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hf_base_url: str = Field(
        default="https://huggingface.co",
        description="Base URL of the Hugging Face Daily Papers API",
    )
    http_timeout: float = Field(default=30.0, gt=0, description="Seconds per HTTP request")
    arxiv_base_url: str = Field(
        default="https://export.arxiv.org",
        description="Base URL of the arXiv API (`--fetch arxiv:CATEGORY`)",
    )
    arxiv_page_size: int = Field(
        default=100,
        ge=1,
        le=2000,
        description="Entries per arXiv API page when listing a category over a period",
    )
    arxiv_page_delay: float = Field(
        default=3.0,
        ge=0,
        description="Seconds between arXiv API pages (arXiv asks for 3)",
    )
    arxiv_max_pages: int = Field(
        default=20, ge=1, description="Most arXiv API pages read for one period"
    )


class RetrySettings(BaseModel):
    """One meaning for every network client (LLM, URL sources, remote embeddings)."""

    model_config = ConfigDict(extra="forbid")

    max_retries: int = Field(
        default=4,
        ge=0,
        description="Retries of a failed request (429, 5xx, timeout, connection error) per "
        "logical call; an attempt is one request sent, a retry one re-sent, and every request "
        "of a call (an LLM repair, a re-send after an endpoint quirk) draws on the same count",
    )
    max_seconds: float = Field(
        default=120.0,
        gt=0,
        description="Seconds one logical call may take before no further retry is started",
    )
    backoff: float = Field(
        default=1.0,
        ge=0,
        description="Seconds before the first retry, doubling per retry (with jitter; a "
        "server's Retry-After wins)",
    )
    backoff_max: float = Field(default=30.0, ge=0, description="Longest backoff pause")
    retry_after_max: float = Field(
        default=120.0,
        ge=0,
        description="Longest Retry-After honoured; a server asking for more fails the call at "
        "once, naming the pause it asked for",
    )
