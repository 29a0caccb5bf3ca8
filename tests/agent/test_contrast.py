"""Comparative prose and answer openings written from facets, on real abstracts (the sample)."""

from __future__ import annotations

import pytest

from agent.facets import ends_mid_clause
from agent.verify import unsupported_numbers
from agent.writers.extractive.contrast import (
    answer_opening,
    approach_groups,
    comparison_sentences,
    differences,
    question_aspect,
    shared_phrases,
)
from store.models import Paper
from store.sources import load_source, sample_corpus_path


@pytest.fixture(scope="module")
def sample_papers() -> list[Paper]:
    return [p for p in load_source(str(sample_corpus_path())) if isinstance(p, Paper)]


@pytest.fixture(scope="module")
def speedups(sample_papers: list[Paper]) -> list[Paper]:
    prefixes = [
        "dKV-Cache",
        "Accelerating Diffusion Language Model Inference",
        "Diffusion Language Models Know the Answer",
        "Accelerating Diffusion LLM Inference",
        "Learning to Parallel",
    ]
    return [next(p for p in sample_papers if p.title.startswith(x)) for x in prefixes]


def test_papers_are_grouped_by_what_their_approaches_share(speedups: list[Paper]) -> None:
    groups = approach_groups(speedups, exclude=shared_phrases(speedups))
    caching = next(g for g in groups if "cach" in g.phrase.lower())
    assert set(caching.members) == {speedups[0].id, speedups[1].id}


def test_the_comparison_names_methods_states_the_contrast_and_cites_its_numbers(
    speedups: list[Paper],
) -> None:
    sentences = comparison_sentences(speedups)
    text = " ".join(s.text for s in sentences)
    assert "dKV-Cache and FreeCache both concern" in text
    assert "In contrast, " in text
    assert "Prophet is a training-free fast decoding paradigm" in text
    assert "3.4x" in text and "2-10x" in text
    papers = {p.id: p for p in speedups}
    for sentence in sentences:
        assert sentence.cites
        assert unsupported_numbers(sentence.text, sentence.cites, papers) == []
        assert not ends_mid_clause(sentence.text), sentence.text


def test_differences_are_phrases_not_word_lists(speedups: list[Paper]) -> None:
    for line in differences(speedups):
        name, _, what = line.partition(": ")
        assert name and len(what.split()) >= 3
        assert "," not in what or " " in what.split(",")[0]


@pytest.mark.parametrize(
    ("question", "aspect"),
    [
        ("Do any of these work without retraining the model?", "training"),
        ("By how much do they cut latency?", "magnitude"),
        ("Is there an open-source implementation?", "code"),
        ("Which benchmarks were they evaluated on?", "benchmark"),
        ("How does the first approach differ from the second?", "difference"),
        ("Which papers study protein folding?", "which"),
        ("What is known about sparse attention?", "general"),
    ],
)
def test_the_aspect_a_question_asks_about(question: str, aspect: str) -> None:
    assert question_aspect(question) == aspect


def test_a_training_question_is_answered_first_and_unstated_ones_are_said(
    speedups: list[Paper], sample_papers: list[Paper]
) -> None:
    survey = next(p for p in sample_papers if p.title.startswith("A Survey of AI Agent"))
    aspect, (first,) = answer_opening("Which of them need no training?", [*speedups, survey])
    assert aspect == "training"
    assert first.text.startswith("By their abstracts, ")
    need_none = first.text.split(" need no training")[0]
    for name in ("Prophet", "LocalLeap", "FreeCache"):
        assert name in need_none
    assert "Learn2PD trains a model" in first.text
    assert "does not say" in first.text


def test_a_how_much_question_is_answered_with_each_paper_s_figure(speedups: list[Paper]) -> None:
    aspect, (first,) = answer_opening("How much faster do they decode?", speedups)
    assert aspect == "magnitude"
    for figure in ("2-10x", "34x", "3.4x", "6.94x", "22.58x"):
        assert figure in first.text
    papers = {p.id: p for p in speedups}
    assert unsupported_numbers(first.text, first.cites, papers) == []
