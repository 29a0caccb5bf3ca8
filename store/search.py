"""Hybrid search over the store: dense (Chroma) plus BM25, fused, filtered, optionally diverse.

Both retrievers see the same filters (date range, minimum upvotes, has code) and each takes
`settings.candidates` candidates. The fused score is a weighted sum of one part per retriever,
each retriever's scores min-max scaled over its candidates (so the best is 1 and the gaps
survive). By default (`fusion="scores"`) BM25's part is then multiplied by a confidence that
does not depend on the other candidates: how much of the most any paper could score for the
query its best match reaches (`_lexical_parts`). When a paper shares the query's rare words
the confidence is near 1 and the fusion is plain min-max fusion, the best on queries that
reuse a paper's words. When no paper really shares them (a paraphrase), BM25's best match is
incidental, the confidence is small and the dense ranking decides: min-max scaling alone
(`fusion="minmax"`, the former default) gave that incidental match 1.0, which outvoted the
dense winner (hit@1 0.18 against 0.57 dense-only on paraphrases in
bench/bench_search_quality.py). Score fusion keeps how far ahead the best match is, which
reciprocal rank fusion (`fusion="rrf"`, sum of 1 / (rrf_k + rank)) loses; it ranked worse on the
sample. An optional MMR step trades relevance for variety among the fused
candidates. `mode="dense"` and `mode="lexical"` run one retriever alone, for measurement.

Filtered dense queries are answered exactly from the in-memory snapshot (the papers' vectors and
filter columns) instead of Chroma's `where`: Chroma's metadata filters scan SQLite and took 1.5 s
per query at 100k papers (bench/bench_store.py), a numpy product over the rows that pass takes
milliseconds. Unfiltered dense queries use Chroma's HNSW index.

The snapshot (papers, vectors, BM25 index) lives in memory and is rebuilt lazily when the store
changes: when its count changes, or when this process wrote to it (`PaperStore.generation`).
A write by another process that keeps the count (a changed abstract on a shared Chroma server)
is seen after a restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from store.chroma import PaperStore, date_key
from store.config import SearchSettings
from store.embeddings import Embedder
from store.lexical import BM25Index
from store.models import Hit, Paper

SearchMode = Literal["hybrid", "dense", "lexical"]
SEARCH_MODES: tuple[SearchMode, ...] = ("hybrid", "dense", "lexical")

# Share of the attainable BM25 score at which the confidence in BM25 is one half (see
# `_lexical_parts`). Chosen on the tuning half of bench/bench_search_quality.py's queries: the
# best of 0.10..0.80 in steps of 0.05 by recall@5 + hit@1 + MRR@10 at dense weight 0.5 (0.20
# to 0.40 scored within a query of it). On the sample, the best BM25 match of queries that reuse
# a paper's words reached 0.17..0.84 of the attainable score (all but one above 0.26), that of
# paraphrases 0.10..0.26.
COVERAGE_HALF = 0.35


@dataclass(frozen=True)
class _Snapshot:
    """The papers as of one store state, with the BM25 index and filter columns over them."""

    key: tuple[int, int]
    papers: list[Paper]
    by_id: dict[str, Paper]
    index: BM25Index
    vectors: np.ndarray  # row i is papers[i]'s vector
    published: np.ndarray  # yyyymmdd, 0 when unknown
    upvotes: np.ndarray  # -1 when unknown
    has_code: np.ndarray

    @classmethod
    def build(cls, key: tuple[int, int], store: PaperStore) -> _Snapshot:
        papers, vectors = store.all_with_vectors()
        return cls(
            key=key,
            papers=papers,
            by_id={paper.id: paper for paper in papers},
            index=BM25Index(papers),
            vectors=vectors,
            published=np.array(
                [date_key(p.published) if p.published else 0 for p in papers], dtype=np.int64
            ),
            upvotes=np.array(
                [p.upvotes if p.upvotes is not None else -1 for p in papers], dtype=np.int64
            ),
            has_code=np.array([p.has_code for p in papers], dtype=bool),
        )

    def allowed(
        self,
        since: date | None,
        until: date | None,
        min_upvotes: int | None,
        has_code: bool | None,
    ) -> np.ndarray | None:
        """Mask of papers passing the filters (same semantics as `where_filter`); None when
        no filter is set."""
        if since is None and until is None and min_upvotes is None and has_code is None:
            return None
        mask = np.ones(len(self.papers), dtype=bool)
        if since is not None:
            mask &= self.published >= date_key(since)
        if until is not None:
            mask &= (self.published > 0) & (self.published <= date_key(until))
        if min_upvotes is not None:
            mask &= (self.upvotes >= 0) & (self.upvotes >= min_upvotes)
        if has_code is not None:
            mask &= self.has_code == has_code
        return mask

    def exact_dense(
        self, query_vector: np.ndarray, n: int, mask: np.ndarray
    ) -> list[tuple[str, float]]:
        """The n papers passing `mask` nearest to the query, by exact cosine similarity."""
        rows = np.flatnonzero(mask)
        if len(rows) == 0:
            return []
        similarity = self.vectors[rows] @ np.asarray(query_vector, dtype=np.float32)
        if len(rows) > n:
            best = np.argpartition(-similarity, n - 1)[:n]
            rows, similarity = rows[best], similarity[best]
        order = sorted(range(len(rows)), key=lambda i: (-float(similarity[i]), int(rows[i])))
        return [(self.papers[rows[i]].id, float(similarity[i])) for i in order]


class Searcher:
    """Searches one store with one embedder (the store's own)."""

    def __init__(self, store: PaperStore, embedder: Embedder, settings: SearchSettings) -> None:
        if embedder.name != store.embedder_name:
            raise ValueError(
                f"embedder {embedder.name!r} cannot search a store of {store.embedder_name!r}"
            )
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._snapshot: _Snapshot | None = None

    def _current(self) -> _Snapshot:
        key = (self.store.generation, self.store.count())
        if self._snapshot is None or self._snapshot.key != key:
            self._snapshot = _Snapshot.build(key, self.store)
        return self._snapshot

    def papers(self) -> list[Paper]:
        """Every stored paper, from the same in-memory snapshot search uses."""
        return list(self._current().papers)

    def search(
        self,
        query: str,
        k: int = 10,
        since: date | None = None,
        until: date | None = None,
        min_upvotes: int | None = None,
        has_code: bool | None = None,
        diverse: bool = False,
        mode: SearchMode = "hybrid",
    ) -> list[Hit]:
        """The k best papers for `query` that pass the filters, best first."""
        if not query.strip():
            raise ValueError("search query is empty")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if since is not None and until is not None and since > until:
            raise ValueError(f"since ({since}) is after until ({until})")
        if mode not in SEARCH_MODES:
            raise ValueError(f"unknown search mode {mode!r}; expected one of {SEARCH_MODES}")
        snapshot = self._current()
        if not snapshot.papers:
            return []
        pool = max(self.settings.candidates, k)
        dense: list[tuple[str, float]] = []
        lexical: list[tuple[str, float]] = []
        mask = snapshot.allowed(since, until, min_upvotes, has_code)
        if mode in ("hybrid", "dense"):
            query_vector = self.embedder.embed([query])[0]
            if mask is None:
                dense = self.store.query(query_vector, pool)
            else:
                dense = snapshot.exact_dense(query_vector, pool, mask)
        if mode in ("hybrid", "lexical"):
            lexical = snapshot.index.top(query, pool, mask)

        if mode == "dense":
            ranked = dense
        elif mode == "lexical":
            ranked = lexical
        else:
            ranked = self._fuse(dense, lexical, snapshot.index.max_score(query))
        dense_rank = {pid: rank for rank, (pid, _) in enumerate(dense, start=1)}
        lexical_rank = {pid: rank for rank, (pid, _) in enumerate(lexical, start=1)}

        if diverse and len(ranked) > 1:
            ranked = self._mmr(ranked, k)
        ranked = ranked[:k]

        papers = self._papers_for([pid for pid, _ in ranked], snapshot)
        return [
            Hit(
                paper=papers[pid],
                score=score,
                dense_rank=dense_rank.get(pid),
                lexical_rank=lexical_rank.get(pid),
            )
            for pid, score in ranked
            if pid in papers
        ]

    def _fuse(
        self,
        dense: Sequence[tuple[str, float]],
        lexical: Sequence[tuple[str, float]],
        lexical_ceiling: float,
    ) -> list[tuple[str, float]]:
        """Merge the two rankings; a paper missing from one list scores 0 there."""
        fusion = self.settings.fusion
        if fusion == "rrf":
            dense_parts, lexical_parts = (
                _rank_parts(dense, self.settings.rrf_k),
                _rank_parts(lexical, self.settings.rrf_k),
            )
        elif fusion == "minmax":
            dense_parts, lexical_parts = _minmax_parts(dense), _minmax_parts(lexical)
        else:
            dense_parts, lexical_parts = (
                _minmax_parts(dense),
                _lexical_parts(lexical, lexical_ceiling),
            )
        weights = (self.settings.dense_weight, 1.0 - self.settings.dense_weight)
        fused: dict[str, float] = {}
        for weight, ranking, parts in zip(
            weights, (dense, lexical), (dense_parts, lexical_parts), strict=True
        ):
            for (pid, _), part in zip(ranking, parts, strict=True):
                fused[pid] = fused.get(pid, 0.0) + weight * part
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))

    def _mmr(self, ranked: list[tuple[str, float]], k: int) -> list[tuple[str, float]]:
        """Maximal marginal relevance: each pick maximises
        lambda * relevance - (1 - lambda) * (highest cosine to a paper already picked),
        with relevance the retrieval score scaled to [0, 1]."""
        lam = self.settings.mmr_lambda
        ids = [pid for pid, _ in ranked]
        scores = np.array([score for _, score in ranked], dtype=np.float64)
        low, high = float(scores.min()), float(scores.max())
        relevance = (scores - low) / (high - low) if high > low else np.ones_like(scores)
        vectors = self.store.vectors(ids)
        similarity = vectors @ vectors.T
        chosen: list[int] = []
        remaining = list(range(len(ids)))
        while remaining and len(chosen) < k:
            if chosen:
                redundancy = similarity[np.ix_(remaining, chosen)].max(axis=1)
            else:
                redundancy = np.zeros(len(remaining))
            gain = lam * relevance[remaining] - (1.0 - lam) * redundancy
            best = remaining[int(np.argmax(gain))]
            chosen.append(best)
            remaining.remove(best)
        return [ranked[i] for i in chosen]

    def _papers_for(self, ids: list[str], snapshot: _Snapshot) -> dict[str, Paper]:
        found = {pid: snapshot.by_id[pid] for pid in ids if pid in snapshot.by_id}
        missing = [pid for pid in ids if pid not in found]
        if missing:
            # Written by another process since the snapshot: read them from the store.
            found.update({paper.id: paper for paper in self.store.get(missing)})
        return found


def _rank_parts(ranking: Sequence[tuple[str, float]], rrf_k: int) -> list[float]:
    """Reciprocal rank fusion: 1 / (rrf_k + rank)."""
    return [1.0 / (rrf_k + rank) for rank in range(1, len(ranking) + 1)]


def _minmax_parts(ranking: Sequence[tuple[str, float]]) -> list[float]:
    """Scores min-max scaled over the candidates: the best is 1 and the gaps survive."""
    scores = [score for _, score in ranking]
    if not scores:
        return []
    low, high = min(scores), max(scores)
    if high <= low:
        return [1.0] * len(scores)
    return [(score - low) / (high - low) for score in scores]


def _lexical_parts(ranking: Sequence[tuple[str, float]], ceiling: float) -> list[float]:
    """Min-max scaled BM25 scores times the confidence that BM25 found the query's words:
    x^4 / (x^4 + COVERAGE_HALF^4), x the best candidate's share of the attainable score.

    The curve is steep, close to a switch: a best match that shares only a word or two of the
    query gets little say, one that matches much of it counts nearly in full.
    """
    if not ranking or ceiling <= 0.0:
        return [0.0] * len(ranking)
    share = ranking[0][1] / ceiling
    confidence = share**4 / (share**4 + COVERAGE_HALF**4)
    return [confidence * part for part in _minmax_parts(ranking)]
