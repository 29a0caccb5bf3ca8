"""`PaperStore`: the papers and their vectors in ChromaDB. The only module that imports chromadb.

One collection holds one embedding model's vectors. The collection's metadata records the
embedder's name and dimension, and opening it with another model is an error rather than a
silent mix of incomparable vectors. Each paper is stored whole (as JSON) so that `get` rebuilds
the exact `Paper`, plus the few fields search filters on as typed metadata: `published` as an
int yyyymmdd (range filters), `upvotes` as an int and `has_code` as a bool.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from store.config import StoreSettings
from store.errors import StoreError, StoreMismatchError
from store.models import Link, Paper

_REQUIRED = frozenset(Paper.model_fields)

# Metadata keys of the collection itself.
_EMBEDDER_KEY = "paperbrief_embedder"
_DIM_KEY = "paperbrief_dim"
# Chroma refuses batches above its max batch size and SQLite binds every id as a variable,
# so reads and writes go in chunks of this many ids.
_CHUNK = 1000


def date_key(day: date) -> int:
    """`date(2025, 11, 6)` -> `20251106`: an int that orders like the date, for range filters."""
    return day.year * 10000 + day.month * 100 + day.day


def where_filter(
    since: date | None = None,
    until: date | None = None,
    min_upvotes: int | None = None,
    has_code: bool | None = None,
) -> dict[str, Any] | None:
    """A Chroma `where` clause for the search filters; None when there is nothing to filter.

    Papers without a date (or without upvotes) never pass a date (or upvotes) filter.
    """
    clauses: list[dict[str, Any]] = []
    if since is not None:
        clauses.append({"published": {"$gte": date_key(since)}})
    if until is not None:
        clauses.append({"published": {"$lte": date_key(until)}})
    if min_upvotes is not None:
        clauses.append({"upvotes": {"$gte": min_upvotes}})
    if has_code is not None:
        clauses.append({"has_code": has_code})
    if not clauses:
        return None
    if len(clauses) == 1:
        return clauses[0]
    return {"$and": clauses}


def _metadata(paper: Paper) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "paper": paper.model_dump_json(),
        "content_hash": paper.content_hash,
        "has_code": paper.has_code,
    }
    # Chroma metadata cannot hold None; an absent key simply fails the range filters.
    if paper.published is not None:
        meta["published"] = date_key(paper.published)
    if paper.upvotes is not None:
        meta["upvotes"] = paper.upvotes
    return meta


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class PaperStore:
    """Papers, their vectors and filterable metadata in one Chroma collection."""

    def __init__(self, collection: Any, embedder_name: str, dim: int, location: str) -> None:
        self._collection = collection
        self.embedder_name = embedder_name
        self.dim = dim
        self.location = location
        # Bumped on every write through this object, so in-process caches (the BM25 index)
        # notice a changed abstract even when the count stays the same.
        self.generation = 0

    @classmethod
    def open(
        cls, settings: StoreSettings, data_dir: Path, embedder_name: str, dim: int
    ) -> PaperStore:
        """Open (or create) the collection for this embedder.

        Embedded store under `data_dir/chroma` unless `settings.chroma_url` names a server.
        Raises `StoreMismatchError` when the collection holds another model's vectors.
        """
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        try:
            if settings.chroma_url:
                parts = urlsplit(settings.chroma_url)
                if not parts.hostname:
                    raise StoreError(f"store.chroma_url={settings.chroma_url!r}: no host name")
                ssl = parts.scheme == "https"
                client: Any = chromadb.HttpClient(
                    host=parts.hostname,
                    port=parts.port or (443 if ssl else 8000),
                    ssl=ssl,
                    settings=chroma_settings,
                )
                location = settings.chroma_url
            else:
                path = Path(data_dir) / "chroma"
                path.mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
                location = str(path)
            collection = client.get_or_create_collection(
                settings.collection,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={_EMBEDDER_KEY: embedder_name, _DIM_KEY: dim},
                embedding_function=None,
            )
        except StoreError:
            raise
        except Exception as exc:
            where = settings.chroma_url or str(Path(data_dir) / "chroma")
            raise StoreError(f"cannot open the Chroma store at {where}: {exc}") from exc
        meta = collection.metadata or {}
        found_name, found_dim = meta.get(_EMBEDDER_KEY), meta.get(_DIM_KEY)
        if found_name != embedder_name or found_dim != dim:
            raise StoreMismatchError(
                f"collection {settings.collection!r} at {location} holds vectors of "
                f"{found_name!r} (dimension {found_dim}), not {embedder_name!r} (dimension "
                f"{dim}); use the same embedding settings, another data directory or another "
                "store.collection"
            )
        return cls(collection, embedder_name, dim, location)

    def count(self) -> int:
        return int(self._collection.count())

    def upsert(self, papers: Sequence[Paper], vectors: np.ndarray) -> None:
        """Insert or replace papers by id, with their vectors (one row per paper)."""
        if len(papers) != len(vectors):
            raise ValueError(f"{len(papers)} papers but {len(vectors)} vectors")
        if len(papers) == 0:
            return
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise StoreMismatchError(
                f"vectors of shape {vectors.shape} for a store of dimension {self.dim}"
            )
        for start in range(0, len(papers), _CHUNK):
            batch = papers[start : start + _CHUNK]
            self._collection.upsert(
                ids=[paper.id for paper in batch],
                embeddings=np.asarray(vectors[start : start + _CHUNK], dtype=np.float32),
                # No `documents`: Chroma would build a full-text index of them, which made
                # writes about 3x slower, and the paper JSON in the metadata holds the text.
                metadatas=[_metadata(paper) for paper in batch],
            )
        self.generation += 1

    def _get(self, ids: Sequence[str], include: list[str]) -> dict[str, Any]:
        """Chroma's `get`, chunked; skips unknown ids (Chroma returns rows in its own order)."""
        merged: dict[str, Any] = {"ids": [], "metadatas": [], "embeddings": []}
        for chunk in _chunks(list(dict.fromkeys(ids))):
            result = self._collection.get(ids=list(chunk), include=include)
            merged["ids"].extend(result["ids"])
            for key in ("metadatas", "embeddings"):
                if key in include:
                    merged[key].extend(result[key])
        return merged

    def get(self, ids: Sequence[str]) -> list[Paper]:
        """The papers with these ids that are stored, in the order asked."""
        result = self._get(ids, ["metadatas"])
        by_id = {
            pid: _paper_from(pid, meta)
            for pid, meta in zip(result["ids"], result["metadatas"], strict=True)
        }
        return [by_id[pid] for pid in ids if pid in by_id]

    def hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """id -> content hash, for the ids that are stored."""
        result = self._get(ids, ["metadatas"])
        return {
            pid: str(meta["content_hash"])
            for pid, meta in zip(result["ids"], result["metadatas"], strict=True)
        }

    def all_papers(self) -> list[Paper]:
        """Every stored paper (read in pages so memory stays flat on large stores)."""
        return [paper for page, _ in self._pages(with_vectors=False) for paper in page]

    def all_with_vectors(self) -> tuple[list[Paper], np.ndarray]:
        """Every stored paper and its vector (row i belongs to paper i)."""
        papers: list[Paper] = []
        blocks: list[np.ndarray] = [np.zeros((0, self.dim), dtype=np.float32)]
        for page, vectors in self._pages(with_vectors=True):
            papers.extend(page)
            blocks.append(vectors)
        return papers, np.concatenate(blocks)

    def _pages(self, with_vectors: bool) -> Iterator[tuple[list[Paper], np.ndarray]]:
        include = ["metadatas", "embeddings"] if with_vectors else ["metadatas"]
        offset = 0
        while True:
            page = self._collection.get(include=include, limit=_CHUNK, offset=offset)
            if not page["ids"]:
                return
            papers = [
                _paper_from(pid, meta)
                for pid, meta in zip(page["ids"], page["metadatas"], strict=True)
            ]
            vectors = (
                np.asarray(page["embeddings"], dtype=np.float32).reshape(len(papers), self.dim)
                if with_vectors
                else np.zeros((0, self.dim), dtype=np.float32)
            )
            yield papers, vectors
            offset += len(page["ids"])

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of these ids, one row each in the order asked."""
        result = self._get(ids, ["embeddings"])
        by_id = dict(zip(result["ids"], result["embeddings"], strict=True))
        missing = [pid for pid in ids if pid not in by_id]
        if missing:
            raise KeyError(f"no stored paper with id {missing[0]!r} ({len(missing)} missing)")
        if not ids:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray([by_id[pid] for pid in ids], dtype=np.float32)

    def query(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """The k nearest papers to `vector` that pass `where`, as (id, cosine similarity)."""
        if k <= 0:
            return []
        result = self._collection.query(
            query_embeddings=np.asarray(vector, dtype=np.float32).reshape(1, -1),
            n_results=k,
            where=where,
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = result["distances"][0] if result["distances"] else []
        # Chroma's cosine space reports distance = 1 - cosine similarity.
        return [(pid, 1.0 - float(dist)) for pid, dist in zip(ids, distances, strict=True)]


def _paper_from(pid: str, meta: Any) -> Paper:
    """Rebuild a stored paper without validating it again.

    Every stored record was validated (and its text normalised) by `Paper` before it was
    written; re-running the Unicode normalisation on read was three quarters of the time of
    loading a large store.
    """
    try:
        data = json.loads(meta["paper"])
        missing = _REQUIRED - data.keys()
        if missing:
            raise ValueError(f"missing {sorted(missing)}")
        data["links"] = [Link.model_construct(**link) for link in data.get("links") or []]
        if data.get("published"):
            data["published"] = date.fromisoformat(data["published"])
        return Paper.model_construct(**data)
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"stored record {pid!r} is not a paperbrief paper: {exc}") from exc
