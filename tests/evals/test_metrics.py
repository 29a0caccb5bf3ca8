"""Each metric on hand-made inputs whose answers are worked out by hand in the test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evals import metrics


def test_retrieval_metrics_at_k() -> None:
    ranked = ["a", "b", "c", "d"]
    gold = {"b", "d", "e"}
    # Top 3 is a, b, c: one of three gold papers, one of three returned.
    assert metrics.recall_at_k(ranked, gold, 3) == pytest.approx(1 / 3)
    assert metrics.precision_at_k(ranked, gold, 3) == pytest.approx(1 / 3)
    # b at rank 2: DCG = 1/log2(3); ideal has three hits at ranks 1..3.
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert metrics.ndcg_at_k(ranked, gold, 3) == pytest.approx((1 / math.log2(3)) / ideal)
    assert metrics.ndcg_at_k(["b", "d"], {"b", "d"}, 5) == pytest.approx(1.0)
    # Undefined rather than zero: no gold, or nothing returned.
    assert metrics.recall_at_k(ranked, set(), 3) is None
    assert metrics.precision_at_k([], gold, 3) is None


def test_rouge_is_f1_with_stemming() -> None:
    scores = metrics.rouge_f1("the cat sat", "the cat sat on the mat")
    # Unigrams: all 3 predicted are in the 6-word reference: P=1, R=1/2, F1=2/3.
    assert scores["rouge1"] == pytest.approx(2 / 3)
    # Bigrams: 2 of 2 predicted, 2 of 5 reference: P=1, R=2/5, F1=4/7.
    assert scores["rouge2"] == pytest.approx(4 / 7)
    # Longest common subsequence of 3 words: same as unigrams here.
    assert scores["rougeL"] == pytest.approx(2 / 3)
    # Porter stemming makes "cats running" and "cat runs" the same two words.
    assert metrics.rouge_f1("cats running", "cat runs")["rouge1"] == pytest.approx(1.0)


def test_best_rouge_takes_the_closest_reference() -> None:
    best = metrics.best_rouge_f1("the cat sat", ["a dog barked", "the cat sat"])
    assert best["rouge1"] == pytest.approx(1.0)
    assert metrics.rouge_f1("the cat sat", "a dog barked")["rouge1"] == 0.0


def test_plain_text_keeps_prose_and_drops_sources_notes_and_markup() -> None:
    markdown = (
        "_Offline extractive summary: no language model was used._\n\n"
        "## Answer\n"
        "Prophet and **Medusa** both decode faster [1, 2].\n\n"
        "| # | paper | approach | needs training |\n| --- | --- | --- | --- |\n"
        "| [1] | Prophet | commits early once the top candidates differ [1] | not stated |\n\n"
        "## Where they differ in decoding\n\n"
        "<details><summary>Removed by verification (1)</summary>\n\n"
        "- Prophet is 9x faster. — a number it lacks\n</details>\n\n"
        "**Sources**\n\n"
        "[1] [Prophet Paper](https://example.org/1), 2025-08-27\n"
        "[2] Medusa Paper, 2024-01-19\n"
    )
    text = metrics.plain_text(markdown, ["Prophet Paper", "Medusa Paper"])
    # Labels go (the one-word heading, column names, "[1]", "not stated"); prose stays.
    assert text.splitlines() == [
        "Prophet and Medusa both decode faster [1, 2].",
        "commits early once the top candidates differ [1]",
        "Where they differ in decoding",
    ]


def test_sentences_citations_and_numbers() -> None:
    assert metrics.split_sentences("One [1]. Two is 3.4x faster [2]! Three") == [
        "One [1].",
        "Two is 3.4x faster [2]!",
        "Three",
    ]
    assert metrics.cited_numbers("A [1, 2] and [4][5].") == [1, 2, 4, 5]
    # GSM8K holds no number; thousands separators are dropped; 97% is 97.
    assert metrics.numbers_in("up to 3.4x on GSM8K, 1,000 runs, 97%") == {"3.4", "1000", "97"}
    assert metrics.numbers_grounded("Steps fall 3.4x [1].", "steps by up to 3.4x") is True
    assert metrics.numbers_grounded("Steps fall 5x [1].", "steps by up to 3.4x") is False
    # The citation marker is not a number of the claim.
    assert metrics.numbers_grounded("Steps fall [1].", "nothing numeric") is None


def test_key_point_terms_match_at_word_starts() -> None:
    text = "Caching keys speeds up multi-agents and diffusion decoding."
    assert metrics.covered_by_terms(text, ["cach"], ["diffusion", "autoregressive"])
    assert metrics.covered_by_terms(text, ["agent"], [])
    assert not metrics.covered_by_terms("a reagent", ["agent"], [])
    assert not metrics.covered_by_terms(text, ["cach"], ["autoregressive"])


def fake_embed(table: dict[str, list[float]]) -> metrics.Embed:
    def embed(texts: list[str]) -> np.ndarray:
        return np.array([table[text] for text in texts], dtype=np.float32)

    return embed


def test_key_point_similarity_uses_the_closest_sentence_and_threshold() -> None:
    # cos(point, s1) = 0.8 >= 0.5; cos(point, s2) = 0.4 < 0.5.
    embed = fake_embed({"point": [1.0, 0.0], "s1": [0.8, 0.6], "s2": [0.4, math.sqrt(0.84)]})
    assert metrics.KEY_POINT_SIMILARITY == 0.5
    assert metrics.covered_by_similarity(embed, "point", ["s2", "s1"])
    assert not metrics.covered_by_similarity(embed, "point", ["s2"])
    assert not metrics.covered_by_similarity(embed, "point", [])
    assert metrics.embedding_similarity(embed, "point", "s1") == pytest.approx(0.8)


def test_support_is_the_share_of_content_words_found_in_the_evidence() -> None:
    evidence = "Prophet reduces the number of decoding steps."
    # prophet, reduces, decoding, steps: all four occur.
    assert metrics.lexical_support("Prophet reduces decoding steps [1].", evidence) == 1.0
    # prophet occurs; doubles, accuracy do not: 1 of 3.
    assert metrics.lexical_support("Prophet doubles accuracy [1].", evidence) == pytest.approx(
        1 / 3
    )
    assert metrics.is_supported("Prophet reduces decoding steps [1].", evidence)
    assert not metrics.is_supported("Prophet doubles accuracy [1].", evidence)


def test_an_unsupported_paraphrase_can_be_rescued_by_embedding_similarity() -> None:
    sentence = "It halves the work [1]."
    evidence = "Prophet reduces the number of decoding steps."
    close = fake_embed({"It halves the work.": [1.0, 0.0], evidence: [0.8, 0.6]})
    far = fake_embed({"It halves the work.": [1.0, 0.0], evidence: [0.6, 0.8]})
    # cos 0.8 >= 0.7 supports it; cos 0.6 does not.
    assert metrics.is_supported(sentence, evidence, close)
    assert not metrics.is_supported(sentence, evidence, far)


def test_plain_text_reads_markdown_escapes_as_the_text_they_escape() -> None:
    # Titles are escaped in results (`C^\infty` -> `C^\\infty`); the source entry must still be
    # recognised as the title, and an escaped pipe stays inside its table cell.
    title = "AlgoNet: $C^\\infty$ Smooth Algorithmic Neural Networks"
    markdown = (
        "AlgoNet smooths algorithms for inverse problems [1].\n\n"
        "| # | Paper | Key result |\n| --- | --- | --- |\n"
        "| [1] | AlgoNet | accuracy \\| speed both improve by 3 points |\n\n"
        "**Sources**\n\n[1] AlgoNet: $C^\\\\infty$ Smooth Algorithmic Neural Networks, 2019-03-20\n"
    )
    text = metrics.plain_text(markdown, [title])
    assert "2019-03-20" not in text
    assert "accuracy | speed both improve by 3 points" in text.splitlines()


@pytest.mark.parametrize(
    ("sentence", "cut"),
    [
        ("Using ParallelBench, we analyze dLLMs, revealing that [1].", True),
        ("It reaches a 3.4x speed-up over the [2].", True),
        ("The method lists three parts:", True),
        ("Prophet commits early and needs no training [1].", False),
        ("dKV-Cache achieves 2-10x speedup.", False),
    ],
)
def test_a_sentence_cut_mid_clause(sentence: str, cut: bool) -> None:
    assert metrics.cut_mid_clause(sentence) is cut


def test_a_reason_names_the_interest_in_words() -> None:
    reason = 'Matches your interest in "diffusion language models". Prophet commits early.'
    assert metrics.names_interest(reason, "diffusion language models")
    assert not metrics.names_interest("4 upvotes; 0.47 similar.", "diffusion language models")
