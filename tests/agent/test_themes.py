"""Themes: every paper in exactly one theme, theme count following the week, readable names."""

from __future__ import annotations

import numpy as np
import pytest

from agent.themes import cluster_vectors, cohesion, key_phrases, plan_themes, theme_name
from store.models import Paper


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _topics(sizes: list[int], noise: float, seed: int = 0) -> tuple[np.ndarray, list[int]]:
    """Rows around len(sizes) orthogonal directions, and each row's true topic."""
    rng = np.random.default_rng(seed)
    dim = 64
    rows, labels = [], []
    for topic, size in enumerate(sizes):
        centre = np.zeros(dim)
        centre[topic] = 1.0
        for _ in range(size):
            rows.append(centre + noise * rng.standard_normal(dim))
            labels.append(topic)
    return _unit(np.array(rows)), labels


def _paper(pid: str, title: str, abstract: str) -> Paper:
    return Paper(id=pid, title=title, abstract=abstract, source="test")


def test_separated_topics_become_one_theme_each() -> None:
    vectors, labels = _topics([5, 3, 4], noise=0.08)
    clusters = cluster_vectors(vectors, min_similarity=0.45, max_themes=12)
    assert len(clusters) == 3
    for cluster in clusters:
        assert len({labels[i] for i in cluster.members}) == 1
    assert [len(c.members) for c in clusters] == [5, 4, 3]


@pytest.mark.parametrize("n", [1, 2, 7, 60])
def test_every_paper_lands_in_exactly_one_theme(n: int) -> None:
    rng = np.random.default_rng(n)
    vectors = _unit(rng.standard_normal((n, 16)))
    clusters = cluster_vectors(vectors, min_similarity=0.3, max_themes=5)
    members = sorted(i for c in clusters for i in c.members)
    assert members == list(range(n))
    assert 1 <= len(clusters) <= 5


def test_number_of_themes_adapts_to_the_threshold() -> None:
    vectors, _ = _topics([4, 4, 4, 4], noise=0.3)
    loose = cluster_vectors(vectors, min_similarity=-1.0, max_themes=12)
    medium = cluster_vectors(vectors, min_similarity=0.45, max_themes=12)
    strict = cluster_vectors(vectors, min_similarity=0.99, max_themes=20)
    assert len(loose) == 1
    assert len(strict) == 16
    assert 1 < len(medium) < 16


def test_max_themes_caps_a_week_of_unrelated_papers() -> None:
    vectors = np.eye(10, dtype=np.float32)
    assert len(cluster_vectors(vectors, min_similarity=0.5, max_themes=3)) == 3
    assert len(cluster_vectors(vectors, min_similarity=0.5, max_themes=12)) == 10


def test_over_the_cap_small_themes_join_big_ones_instead_of_big_ones_merging() -> None:
    vectors, labels = _topics([6, 6, 6, 1, 1, 1], noise=0.1, seed=3)
    clusters = cluster_vectors(vectors, min_similarity=0.45, max_themes=3)
    assert len(clusters) == 3
    big_topics = [{labels[i] for i in c.members} & {0, 1, 2} for c in clusters]
    assert sorted(len(t) for t in big_topics) == [1, 1, 1]
    assert (
        sorted(len(c.members) for c in clusters) == [7, 7, 7]
        or sum(len(c.members) for c in clusters) == 21
    )


def test_an_outlier_stays_a_theme_of_its_own() -> None:
    vectors, _ = _topics([6, 1], noise=0.05)
    clusters = cluster_vectors(vectors, min_similarity=0.45, max_themes=12)
    assert [c.members for c in clusters][-1] == [6]


def test_members_are_ordered_most_central_first() -> None:
    rows = _unit(np.array([[1.0, 0.5, 0.0], [1.0, 0.0, 0.05], [1.0, 0.0, 0.4]]))
    (cluster,) = cluster_vectors(rows, min_similarity=0.5, max_themes=3)
    assert cluster.members[0] == 1
    assert cluster.centrality == sorted(cluster.centrality, reverse=True)


def test_no_papers_no_themes() -> None:
    assert cluster_vectors(np.zeros((0, 8)), 0.45, 12) == []


WEEK = [
    _paper(
        "d1",
        "Fast Decoding for Diffusion Language Models",
        "Diffusion language models generate tokens in parallel. We cut the number of "
        "denoising steps of diffusion language models with early commit decoding.",
    ),
    _paper(
        "d2",
        "Reinforcement Learning for Diffusion Language Models",
        "We train diffusion language models with reinforcement learning on reasoning tasks, "
        "using a masked denoising objective.",
    ),
    _paper(
        "d3",
        "Scaling Masked Diffusion Language Models",
        "Masked diffusion language models scale like autoregressive ones; denoising steps "
        "trade quality for speed.",
    ),
    _paper(
        "g1",
        "Message Passing on Knowledge Graphs",
        "Graph neural networks answer link prediction queries on knowledge graphs by message "
        "passing over node neighbourhoods.",
    ),
    _paper(
        "g2",
        "Graph Transformers versus Message Passing",
        "We relate graph transformers to message passing neural networks on graph benchmarks.",
    ),
]


def test_names_are_key_phrases_that_set_a_theme_apart() -> None:
    diffusion, graphs = WEEK[:3], WEEK[3:]
    diffusion_name = theme_name(diffusion, WEEK)
    graph_name = theme_name(graphs, WEEK)
    assert diffusion_name.startswith("Diffusion language models")
    assert "graph" not in diffusion_name.lower()
    assert "message passing" in graph_name.lower()
    assert diffusion_name != graph_name


def test_names_are_cased_as_the_abstracts_write_them() -> None:
    week = [
        _paper(
            "a",
            "Faster LLMs With KV Cache Reuse",
            "We reuse the KV cache of LLMs across requests, so LLMs answer faster.",
        ),
        _paper(
            "b",
            "KV Cache Compression For Long Contexts",
            "Long contexts make the KV cache of LLMs the memory bottleneck.",
        ),
        _paper("c", "Protein Folding", "Proteins fold; we predict structures."),
    ]
    name = theme_name(week[:2], week)
    assert name.startswith("KV cache")  # not "Kv cache", not "KV Cache"


def test_a_second_phrase_never_repeats_a_word_of_the_first() -> None:
    phrases = key_phrases(WEEK[:3], WEEK, k=2)
    words = [w.lower() for phrase in phrases for w in phrase.split()]
    assert len(words) == len(set(words))
    assert 1 <= len(phrases) <= 2


def test_a_big_cluster_is_split_into_themes_one_paragraph_can_compare() -> None:
    vectors, _ = _topics([14, 3], noise=0.15, seed=5)
    plan = plan_themes(vectors, min_similarity=0.3, max_themes=12, max_size=6)
    assert plan.themes
    assert all(2 <= len(c.members) <= 6 for c in plan.themes)
    placed = sorted([i for c in plan.themes for i in c.members] + plan.other)
    assert placed == list(range(17))


def test_papers_that_fit_no_theme_are_left_as_other_papers() -> None:
    vectors, _ = _topics([4, 1, 1], noise=0.05)
    plan = plan_themes(vectors, min_similarity=0.45, max_themes=12, max_size=6)
    assert [sorted(c.members) for c in plan.themes] == [[0, 1, 2, 3]]
    assert plan.other == [4, 5]


def test_themes_over_the_cap_go_to_other_papers_instead_of_merging() -> None:
    vectors, _ = _topics([3, 3, 3, 2], noise=0.05)
    plan = plan_themes(vectors, min_similarity=0.45, max_themes=2, max_size=6)
    assert len(plan.themes) == 2
    assert len(plan.other) == 5
    assert all(cohesion(vectors[c.members]) > 0.45 for c in plan.themes)
