"""Grouping a week's papers into themes, and naming each theme.

Themes come from average-linkage agglomerative clustering on the cosine similarity of the
papers' embeddings: clusters merge while the most similar pair is at least
`min_similarity` alike; if that leaves more than `max_themes`, the smallest theme joins the
theme it is most like until `max_themes` remain. So the number of themes follows the week (a
quiet week of unrelated papers gives many small themes, a week dominated by one topic gives
one big theme), every paper lands in exactly one theme, and a theme of one paper is allowed.

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

    def merge(i: int, j: int) -> None:
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

    # Phase 1: merge the most similar pair while it is similar enough.
    while len(members) > 1:
        i, j = divmod(int(np.argmax(sim)), n)
        if float(sim[i, j]) < min_similarity:
            break
        merge(i, j)
    # Phase 2, over the cap: the smallest theme joins the theme it is most like. Merging the
    # most similar pair here instead would chain the leftovers into one incoherent giant theme.
    while len(members) > max_themes:
        smallest = min(members, key=lambda c: (sizes[c], -float(sim[c].max()), c))
        merge(smallest, int(np.argmax(sim[smallest])))

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


def week_terms(week: Sequence[Paper]) -> TermStats:
    """Term statistics of a week's papers, computed once and shared by all its theme names."""
    return TermStats([_document(p) for p in week])


def distinguishing_terms(
    group: Sequence[Paper], week: Sequence[Paper], k: int = 3, stats: TermStats | None = None
) -> list[str]:
    """The `k` terms that most set `group` apart from the rest of `week`, best first.

    A term (stemmed word or two-word phrase, see `agent.text.TermStats`) scores by how many of
    the group's papers use it, times its log frequency in the group, times its inverse document
    frequency over the whole week; in a group of several papers a term only one of them uses
    does not count. A term whose words repeat a better term is skipped, so a name does not say
    "diffusion, diffusion language". `stats` is `week_terms(week)` when already at hand.
    """
    stats = stats if stats is not None else week_terms(week)
    position = {paper.id: i for i, paper in enumerate(week)}
    frequency: Counter[str] = Counter()
    used_by: Counter[str] = Counter()
    for paper in group:
        terms = stats.doc_terms[position[paper.id]]
        frequency.update(terms)
        used_by.update(terms.keys())
    scored = []
    for term, count in frequency.items():
        if len(group) > 1 and used_by[term] < 2:
            continue
        phrase_bonus = 1.3 if " " in term else 1.0
        score = used_by[term] * (1 + math.log(count)) * stats.weight(term) * phrase_bonus
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


def theme_name(
    group: Sequence[Paper], week: Sequence[Paper], k: int = 3, stats: TermStats | None = None
) -> str:
    """A short readable name, e.g. "Diffusion language · Decoding · Remasking"."""
    terms = distinguishing_terms(group, week, k, stats)
    if not terms:
        return group[0].title if group else "Other papers"
    return " · ".join(term[:1].upper() + term[1:] for term in terms)
