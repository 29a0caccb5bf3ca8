"""Facets read off real abstracts (the bundled sample page): names, training, headline results."""

from __future__ import annotations

import pytest

from agent.facets import ends_mid_clause, facets_of, is_extract
from store.models import Paper
from store.sources import load_source, sample_corpus_path


@pytest.fixture(scope="module")
def sample_papers() -> list[Paper]:
    return [p for p in load_source(str(sample_corpus_path())) if isinstance(p, Paper)]


def titled(papers: list[Paper], prefix: str) -> Paper:
    return next(p for p in papers if p.title.startswith(prefix))


def test_a_named_training_free_method(sample_papers: list[Paper]) -> None:
    facets = facets_of(titled(sample_papers, "Diffusion Language Models Know the Answer"))
    assert facets.name == "Prophet"
    assert facets.training is False
    assert facets.mechanism is not None and "early commit decoding" in facets.mechanism
    assert facets.headline is not None and facets.headline.figure == "up to 3.4x"
    assert "decoding steps" in facets.headline.phrase
    assert not facets.headline.phrase.startswith("Empirical evaluations")


def test_a_name_with_its_acronym_and_a_benchmark(sample_papers: list[Paper]) -> None:
    facets = facets_of(titled(sample_papers, "Learning to Parallel"))
    assert (facets.name, facets.acronym) == ("Learning to Parallel Decode", "Learn2PD")
    assert facets.training is True
    assert facets.headline is not None and "22.58x" in facets.headline.figure
    assert facets.headline.benchmark == "the LLaDA benchmark"


def test_the_headline_is_the_method_s_own_result_with_what_it_beats(
    sample_papers: list[Paper],
) -> None:
    facets = facets_of(titled(sample_papers, "Dimple"))
    assert facets.headline is not None
    assert facets.headline.figure == "3.9%"
    assert facets.headline.compared_with == "LLaVA-NEXT"


def test_a_training_free_side_remark_does_not_hide_that_the_method_trains(
    sample_papers: list[Paper],
) -> None:
    # CtrlDiff learns block sizes with reinforcement learning; only its conditioning is
    # "without retraining".
    assert facets_of(titled(sample_papers, "CtrlDiff")).training is True


def test_surveys_and_benchmarks_are_told_apart_from_methods(sample_papers: list[Paper]) -> None:
    assert facets_of(titled(sample_papers, "A Survey of AI Agent Protocols")).kind == "survey"
    assert facets_of(titled(sample_papers, "ParallelBench")).kind == "benchmark"
    assert facets_of(titled(sample_papers, "A Survey of AI Agent Protocols")).training is None


def test_no_facet_is_guessed_or_cut_mid_clause(sample_papers: list[Paper]) -> None:
    for paper in sample_papers:
        facets = facets_of(paper)
        source = f"{paper.title}. {paper.abstract}"
        phrases = [facets.name, facets.acronym, facets.task, facets.mechanism]
        if facets.headline is not None:
            phrases.append(facets.headline.phrase)
        for phrase in filter(None, phrases):
            assert is_extract(phrase, source), (paper.title, phrase)
            assert not ends_mid_clause(phrase), (paper.title, phrase)


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        (
            "Using ParallelBench, we analyze both dLLMs and autoregressive LLMs, revealing that.",
            True,
        ),
        ("It achieves a 3.4x speed-up over the", True),
        ("We propose Prophet, a training-free decoding paradigm.", False),
        ("a delayed and conditioned caching strategy for key and value states", False),
    ],
)
def test_ends_mid_clause(text: str, cut: bool) -> None:
    assert ends_mid_clause(text) is cut
