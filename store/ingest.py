"""The ingest pipeline: source records in, an idempotent, resumable upsert keyed by paper id.

Per run: collect the source's papers and rejections, keep one record per id (the last one, as a
sequence of upserts would), compare content hashes with the store, and embed only what is new or
changed, asking the content-hash embedding cache first. Writes go in batches, each one durable
before the next is embedded, so a run killed half way loses nothing already stored and the next
run picks up the rest with no duplicates (ids are the keys).

A paper whose title and abstract are unchanged but whose other fields differ (upvotes grow on
the Daily Papers page, a code link appears), or that is missing from the lexical index, is
rewritten with its stored vector: nothing is embedded and it counts as unchanged. A paper
identical to the stored one is not written at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import numpy as np

from store.chroma import PaperStore
from store.embeddings import Embedder
from store.models import IngestReport, Paper, Rejection

ProgressCallback = Callable[[int, int], None]
"""Called with (papers written so far, papers to write) after each durable batch."""

DEFAULT_BATCH = 64


class VectorCache(Protocol):
    """What ingest needs of the embedding cache (`store.embed_cache.EmbeddingCache`)."""

    def get_many(self, embedder_name: str, hashes: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put_many(self, embedder_name: str, vectors: dict[str, np.ndarray]) -> None: ...

    def close(self) -> None: ...


class SentenceEmbedding(Protocol):
    """What ingest needs of sentence vectors (`store.sentences.SentenceVectors`)."""

    def ensure(self, papers: Sequence[Paper]) -> int: ...


def ingest_items(
    items: Iterable[Paper | Rejection],
    store: PaperStore,
    embedder: Embedder,
    *,
    source: str,
    cache: VectorCache | None = None,
    sentences: SentenceEmbedding | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Upsert the papers among `items` into `store`; report what happened to each.

    With `sentences`, the abstract sentences of every new or changed paper are embedded and
    cached too (the sentence-level relevance evidence, `store/sentences.py`).
    """
    started = time.perf_counter()
    report = IngestReport(source=source)
    latest: dict[str, Paper] = {}
    for item in items:
        if isinstance(item, Rejection):
            report.rejected.append(item)
        else:
            latest.pop(item.id, None)  # re-insert so the order follows the last occurrence
            latest[item.id] = item
    papers = list(latest.values())

    ids = [paper.id for paper in papers]
    stored = {paper.id: paper for paper in store.get(ids)}
    # A batch written to Chroma but not to the lexical index (the run was killed in between) is
    # rewritten from its stored vector.
    indexed = store.indexed_hashes(ids)
    to_embed: list[Paper] = []
    refreshed: list[Paper] = []
    for paper in papers:
        old = stored.get(paper.id)
        if old is None:
            report.added.append(paper.id)
            to_embed.append(paper)
        elif old.content_hash != paper.content_hash:
            report.updated.append(paper.id)
            to_embed.append(paper)
        else:
            report.unchanged.append(paper.id)
            if old != paper or indexed.get(paper.id) != paper.content_hash:
                refreshed.append(paper)

    total = len(to_embed) + len(refreshed)
    done = 0
    if progress is not None:
        progress(done, total)
    for start in range(0, len(refreshed), batch_size):
        batch = refreshed[start : start + batch_size]
        store.upsert(batch, store.vectors([paper.id for paper in batch]))
        done += len(batch)
        if progress is not None:
            progress(done, total)
    for start in range(0, len(to_embed), batch_size):
        batch = to_embed[start : start + batch_size]
        vectors, embedded = _vectors_for(batch, embedder, cache)
        if sentences is not None:
            # Before the write: a paper in the store has its sentence vectors cached too.
            report.sentences_embedded += sentences.ensure(batch)
        store.upsert(batch, vectors)
        report.embedded += embedded
        done += len(batch)
        if progress is not None:
            progress(done, total)
    report.seconds = time.perf_counter() - started
    return report


def _vectors_for(
    batch: Sequence[Paper], embedder: Embedder, cache: VectorCache | None
) -> tuple[np.ndarray, int]:
    """Vectors for `batch` (from the cache where possible) and how many texts were embedded."""
    hashes = [paper.content_hash for paper in batch]
    cached = cache.get_many(embedder.name, hashes) if cache is not None else {}
    # The same text under two ids (one paper from two sources, one without an arXiv id) is
    # embedded once.
    missing = list(dict.fromkeys(h for h in hashes if h not in cached))
    if missing:
        text_of = {paper.content_hash: paper.embed_text for paper in batch}
        fresh = embedder.embed([text_of[h] for h in missing])
        if fresh.shape != (len(missing), embedder.dim):
            raise ValueError(
                f"embedder {embedder.name!r} returned shape {fresh.shape} for {len(missing)} "
                f"texts, expected ({len(missing)}, {embedder.dim})"
            )
        new = dict(zip(missing, np.asarray(fresh, dtype=np.float32), strict=True))
        if cache is not None:
            cache.put_many(embedder.name, new)
        cached = {**cached, **new}
    return np.stack([cached[h] for h in hashes]).astype(np.float32), len(missing)
