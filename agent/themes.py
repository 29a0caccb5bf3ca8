"""Grouping a week's papers into themes, and naming each theme.

Themes come from average-linkage agglomerative clustering on the cosine similarity of the
papers' embeddings: clusters merge while the most similar pair is at least
`min_similarity` alike, and keep merging past that only while there are more than
`max_themes`. So the number of themes follows the week (a quiet week of unrelated papers gives
many small themes, a week dominated by one topic gives one big theme), every paper lands in
exactly one theme, and a theme of one paper is allowed.

A theme's name is made of the terms that distinguish its papers from the rest of the week
(tf-idf with the week as the collection), so two themes of the same week get different names.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agent.text import TermStats
from store.models import Paper

# Title words count more than abstract words: a title states the topic, an abstract also
# states its setting.
_TITLE_WEIGHT = 3


def _document(paper: Paper) -> str:
    return " ".join([f"{paper.title}."] * _TITLE_WEIGHT + [paper.abstract])


@dataclass(frozen=True)
class Cluster:
    """Indices into the clustered papers, most central first, and how central each is."""

    members: list[int]
    centrality: list[float]


def cluster_vectors(vectors: np.ndarray, min_similarity: float, max_themes: int) -> list[Cluster]:
    """Average-linkage clusters of L2-normalised rows; largest cluster first.

    Deterministic for a given row order: ties go to the lowest index.
    """
    n = int(vectors.shape[0])
    if n == 0:
        return []
    if max_themes < 1:
        raise ValueError("max_themes must be at least 1")
    rows = np.asarray(vectors, dtype=np.float64)
    sim = rows @ rows.T
    np.fill_diagonal(sim, -np.inf)
    sizes = np.ones(n, dtype=np.int64)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    while len(members) > 1:
        flat = int(np.argmax(sim))
        i, j = divmod(flat, n)
        best = float(sim[i, j])
        if best < min_similarity and len(members) <= max_themes:
            break
        if i > j:
            i, j = j, i
        # Lance-Williams update for average linkage: the similarity of the merged cluster to
        # any other is the size-weighted mean of its parts' similarities.
        merged = (sizes[i] * sim[i] + sizes[j] * sim[j]) / (sizes[i] + sizes[j])
        sim[i, :] = merged
        sim[:, i] = merged
        sim[i, i] = -np.inf
        sim[j, :] = -np.inf
        sim[:, j] = -np.inf
        sizes[i] += sizes[j]
        members[i].extend(members.pop(j))

    clusters = []
    for indices in members.values():
        centroid = rows[indices].mean(axis=0)
        norm = float(np.linalg.norm(centroid)) or 1.0
        scores = rows[indices] @ (centroid / norm)
        order = sorted(range(len(indices)), key=lambda k: (-scores[k], indices[k]))
        clusters.append(
            Cluster(
                members=[indices[k] for k in order],
                centrality=[round(float(scores[k]), 6) for k in order],
            )
        )
    clusters.sort(key=lambda c: (-len(c.members), c.members[0]))
    return clusters


def distinguishing_terms(group: Sequence[Paper], week: Sequence[Paper], k: int = 3) -> list[str]:
    """The `k` terms that most set `group` apart from the rest of `week`, best first.

    A term (stemmed word or two-word phrase, see `agent.text.TermStats`) scores by how many of
    the group's papers use it, times its log frequency in the group, times its inverse document
    frequency over the whole week; in a group of several papers a term only one of them uses
    does not count. A term whose words repeat a better term is skipped, so a name does not say
    "diffusion, diffusion language".
    """
    members = {paper.id for paper in group}
    stats = TermStats(
        [_document(p) for p in group],
        background=[_document(p) for p in week if p.id not in members],
    )
    frequency: Counter[str] = Counter()
    for terms in stats.doc_terms:
        frequency.update(terms)
    scored = []
    for term, count in frequency.items():
        if len(group) > 1 and stats.df[term] < 2:
            continue
        phrase_bonus = 1.3 if " " in term else 1.0
        score = stats.df[term] * (1 + math.log(count)) * stats.weight(term) * phrase_bonus
        scored.append((-score, term))
    scored.sort()
    chosen: list[str] = []
    for _, term in scored:
        if any(set(term.split(" ")) & set(other.split(" ")) for other in chosen):
            continue
        chosen.append(term)
        if len(chosen) == k:
            break
    return [stats.surface(term) for term in chosen]


def theme_name(group: Sequence[Paper], week: Sequence[Paper], k: int = 3) -> str:
    """A short readable name, e.g. "Diffusion language · Decoding · Remasking"."""
    terms = distinguishing_terms(group, week, k)
    if not terms:
        return group[0].title if group else "Other papers"
    return " · ".join(term[:1].upper() + term[1:] for term in terms)
