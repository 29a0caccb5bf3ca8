"""Hybrid search over the store: dense (Chroma) plus BM25, fused, filtered, optionally diverse.

Both retrievers see the same filters (date range, minimum upvotes, has code) and each takes
`settings.candidates` candidates (`Searcher.candidates`); `fuse` merges them. By default
(`fusion="scores"`) the fused score is mostly a weighted sum of one part per retriever: dense's
part falls with a paper's cosine gap to the best dense candidate (`DENSE_SPAN`; a ranking whose
candidates are all about as near barely separates them), BM25's part is its min-max scaled
score times a confidence that does not depend on the other candidates: the share of the
query's idf mass that BM25's best match contains (`Candidates.coverage`), through a steep curve
around `COVERAGE_HALF`. A paper holding the query's rare terms (a name, a quoted number) gets
BM25 its full say; when the best match shares only common words (a paraphrase), the dense
ranking decides. A small share (`RANK_SHARE`) of the score is reciprocal rank fusion, which
lifts a paper both retrievers rank well over one that only BM25 ranks first. Plain min-max
fusion (`fusion="minmax"`) and reciprocal rank fusion (`fusion="rrf"`, sum of 1 / (rrf_k +
rank)) are kept for comparison; the constants were chosen on the tuning half of SciTLDR-A
known-item search and the sample's queries (bench/bench_fusion.py, BENCHMARKS.md). Papers a
retriever scores alike, and papers with equal fused scores, are ordered by id, so two stores of
the same papers rank alike whatever order they were written in (Chroma and tantivy return ties
in storage order). Dense search is approximate (HNSW): two stores can still differ where one
graph misses a far candidate the other finds. An optional MMR step trades relevance for variety
among the fused candidates. `mode="dense"` and `mode="lexical"` run one retriever alone, for
measurement.

Nothing is held in memory between searches: BM25 and the filters run in the on-disk lexical
index (`store.lexical`), dense search in Chroma. A filtered dense query asks Chroma for the
nearest papers among the ids that pass the filters (read from the lexical index's fast fields)
when at most `FILTER_IDS_LIMIT` pass, and otherwise for the nearest overall from a wider pool,
keeping those that pass (Chroma's own `where` filter took 2.3 s per query at 100k papers).
Before each search the store catches up with writes by other processes and clients
(`PaperStore.refresh`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from store.chroma import PaperStore
from store.config import SearchSettings
from store.embeddings import Embedder
from store.lexical import Filters
from store.models import Hit, Paper

SearchMode = Literal["hybrid", "dense", "lexical"]
SEARCH_MODES: tuple[SearchMode, ...] = ("hybrid", "dense", "lexical")

# The `scores` fusion's constants, with `SearchSettings.dense_weight` 0.25 (bench/bench_fusion.py,
# BENCHMARKS.md). Chosen on the tuning half of SciTLDR-A dev known-item search (author and second
# TLDRs, with and without the title's words) and the sample's queries, against plain BM25 and
# RRF on every set and each of R@1, R@5 and MRR@10: the grid point whose worst paired z was
# highest, then the largest total margin. COVERAGE_HALF: the coverage (share of the query's idf
# mass in BM25's best match) at which the confidence in BM25 is one half. DENSE_SPAN: the
# cosine gap to the best dense candidate at which a paper's dense part reaches 0. RANK_SHARE:
# the share of the fused score that is reciprocal rank fusion (rrf_k, equal weights).
COVERAGE_HALF = 0.4
DENSE_SPAN = 0.3
RANK_SHARE = 0.1
# Up to this many papers passing the filters, dense search asks Chroma for the nearest among
# their ids; above it, for the nearest overall from a pool wide enough that about OVERFETCH
# times the candidates pass, and keeps those that pass. Chroma's own `where` took 2.3 s per
# query at 100k papers whatever the filter (bench/bench_store.py).
FILTER_IDS_LIMIT = 5000
OVERFETCH = 2.0


# BM25 matches read for `Searcher.lexical_shares`: candidates come from the retrievers' top 50
# each, and a paper BM25 ranks below this many shares few of the query's rare words.
LEXICAL_SHARE_POOL = 500


@dataclass(frozen=True)
class Candidates:
    """What each retriever found for one query, before fusion."""

    dense: list[tuple[str, float]]  # (id, cosine similarity), best first
    lexical: list[tuple[str, float]]  # (id, BM25 score), best first
    coverage: float  # share of the query's idf that BM25's best match contains (0: no match)


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

    def papers(self) -> list[Paper]:
        """Every stored paper, including what other processes wrote."""
        self.store.refresh()
        return self.store.all_papers()

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
        found = self.candidates(
            query,
            max(self.settings.candidates, k),
            Filters(since, until, min_upvotes, has_code),
            mode,
        )
        dense, lexical = found.dense, found.lexical
        if mode == "dense":
            ranked = dense
        elif mode == "lexical":
            ranked = lexical
        else:
            ranked = fuse(found, self.settings)
        dense_rank = {pid: rank for rank, (pid, _) in enumerate(dense, start=1)}
        lexical_rank = {pid: rank for rank, (pid, _) in enumerate(lexical, start=1)}

        if diverse and len(ranked) > 1:
            ranked = self._mmr(ranked, k)
        ranked = ranked[:k]

        papers = {paper.id: paper for paper in self.store.get([pid for pid, _ in ranked])}
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

    def candidates(
        self, query: str, pool: int, filters: Filters, mode: SearchMode = "hybrid"
    ) -> Candidates:
        """Each retriever's `pool` best papers passing `filters` (only those `mode` uses), after
        catching up with other writers."""
        self.store.refresh()
        dense: list[tuple[str, float]] = []
        lexical: list[tuple[str, float]] = []
        coverage = 0.0
        if mode in ("hybrid", "dense"):
            dense = self._dense(self.embedder.embed([query])[0], pool, filters)
        if mode in ("hybrid", "lexical"):
            lexical = self.store.lexical.top(query, pool, filters)
            if lexical:
                coverage = self.store.lexical.coverage(query, lexical[0][0])
        # Ties by id, not by the order the stores happened to write the papers in.
        return Candidates(
            sorted(dense, key=_best_first), sorted(lexical, key=_best_first), coverage
        )

    def lexical_shares(self, query: str, ids: Sequence[str]) -> dict[str, float]:
        """Each paper's BM25 score for `query` as a share of the most any paper could score
        (`LexicalIndex.max_score`), in [0, 1]: how much of the query's rare words it holds. A
        relevance signal that does not depend on the other candidates. Scores come from BM25's
        best `LEXICAL_SHARE_POOL` matches; a paper outside them (or unknown) gets 0."""
        if not query.strip() or not ids:
            return dict.fromkeys(ids, 0.0)
        self.store.refresh()
        ceiling = self.store.lexical.max_score(query)
        if ceiling <= 0.0:
            return dict.fromkeys(ids, 0.0)
        scores = dict(self.store.lexical.top(query, max(LEXICAL_SHARE_POOL, len(ids))))
        return {pid: min(1.0, scores.get(pid, 0.0) / ceiling) for pid in ids}

    def _dense(self, vector: np.ndarray, n: int, filters: Filters) -> list[tuple[str, float]]:
        """The n papers passing `filters` nearest to `vector`, by cosine similarity."""
        if not filters:
            return self.store.query(vector, n)
        index = self.store.lexical
        allowed = index.matching_ids(filters, FILTER_IDS_LIMIT)
        if allowed is not None:
            return self.store.query(vector, n, ids=allowed)
        # Many pass: the nearest papers overall from a pool wide enough that about OVERFETCH
        # times n of them pass, kept when they pass.
        total = max(index.count(), 1)
        share = max(index.count_matching(filters), 1) / total
        wanted = min(total, math.ceil(n * OVERFETCH / share))
        near = self.store.query(vector, wanted)
        passing = index.passing([pid for pid, _ in near], filters)
        return [(pid, score) for pid, score in near if pid in passing][:n]

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


def fuse(
    found: Candidates,
    settings: SearchSettings,
    coverage_half: float | None = None,
    dense_span: float | None = None,
    rank_share: float | None = None,
) -> list[tuple[str, float]]:
    """Merge the two rankings by `settings.fusion`; a paper missing from one list scores 0
    there. The keyword arguments override `COVERAGE_HALF`, `DENSE_SPAN` and `RANK_SHARE` (for
    the bench that chooses them)."""
    dense, lexical = found.dense, found.lexical
    if settings.fusion == "rrf":
        dense_parts, lexical_parts = (
            _rank_parts(dense, settings.rrf_k),
            _rank_parts(lexical, settings.rrf_k),
        )
    elif settings.fusion == "minmax":
        dense_parts, lexical_parts = _minmax_parts(dense), _minmax_parts(lexical)
    else:
        half = COVERAGE_HALF if coverage_half is None else coverage_half
        span = DENSE_SPAN if dense_span is None else dense_span
        confidence = found.coverage**4 / (found.coverage**4 + half**4) if found.coverage else 0.0
        dense_parts = _span_parts(dense, span)
        lexical_parts = [confidence * part for part in _minmax_parts(lexical)]
    fused = _weighted_sum((dense, lexical), (dense_parts, lexical_parts), settings.dense_weight)
    if settings.fusion == "scores":
        share = RANK_SHARE if rank_share is None else rank_share
        # Reciprocal rank fusion (equal weights), scaled so a paper first in both lists gets 1.
        ranks = _weighted_sum(
            (dense, lexical),
            (_rank_parts(dense, settings.rrf_k), _rank_parts(lexical, settings.rrf_k)),
            0.5,
        )
        scale = settings.rrf_k + 1
        fused = {pid: (1.0 - share) * fused[pid] + share * scale * ranks[pid] for pid in fused}
    return sorted(fused.items(), key=_best_first)


def _best_first(item: tuple[str, float]) -> tuple[float, str]:
    """Sort key: highest score first, ties by paper id."""
    return -item[1], item[0]


def _weighted_sum(
    rankings: tuple[Sequence[tuple[str, float]], Sequence[tuple[str, float]]],
    parts: tuple[Sequence[float], Sequence[float]],
    dense_weight: float,
) -> dict[str, float]:
    """dense_weight * the dense part + (1 - dense_weight) * the BM25 part, per paper."""
    fused: dict[str, float] = {}
    for weight, ranking, scores in zip(
        (dense_weight, 1.0 - dense_weight), rankings, parts, strict=True
    ):
        for (pid, _), part in zip(ranking, scores, strict=True):
            fused[pid] = fused.get(pid, 0.0) + weight * part
    return fused


def _rank_parts(ranking: Sequence[tuple[str, float]], rrf_k: int) -> list[float]:
    """Reciprocal rank fusion: 1 / (rrf_k + rank)."""
    return [1.0 / (rrf_k + rank) for rank in range(1, len(ranking) + 1)]


def _span_parts(ranking: Sequence[tuple[str, float]], span: float) -> list[float]:
    """Cosines as 1 - (best - cosine) / span, floored at 0: the best is 1, and a paper's part
    falls with its absolute gap to the best, so a dense ranking whose candidates are all about
    as near as each other barely separates them (min-max scaling would stretch any spread to
    the full range)."""
    if not ranking:
        return []
    best = max(score for _, score in ranking)
    return [max(0.0, 1.0 - (best - score) / span) for _, score in ranking]


def _minmax_parts(ranking: Sequence[tuple[str, float]]) -> list[float]:
    """Scores min-max scaled over the candidates: the best is 1 and the gaps survive."""
    scores = [score for _, score in ranking]
    if not scores:
        return []
    low, high = min(scores), max(scores)
    if high <= low:
        return [1.0] * len(scores)
    return [(score - low) / (high - low) for score in scores]
