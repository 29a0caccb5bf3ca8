"""Scoring a hand-made result: citations, grounding, abstention and key points."""

from __future__ import annotations

import numpy as np
import pytest

from agent import Answer, Paper, Source
from evals.scoring import answer_output, score, tldr_output
from evals.suite import Case


def paper(pid: str, title: str, abstract: str) -> Paper:
    return Paper(id=pid, title=title, abstract=abstract, source="test")


PROPHET = paper(
    "p1", "Prophet", "Prophet cuts decoding steps by up to 3.4x without additional training."
)
MEDUSA = paper("p2", "Medusa", "Medusa adds decoding heads and reaches a 2.2x speedup.")
OTHER = paper("p3", "Other", "A paper about graphs.")


def no_embed(texts: list[str]) -> np.ndarray:
    # Orthogonal rows: no similarity rescues anything, so term and lexical checks decide.
    return np.eye(len(texts), dtype=np.float32)


def answer(markdown: str, citations: list[str], abstained: bool = False) -> Answer:
    return Answer(
        question="q",
        markdown=markdown,
        citations=citations,
        sources=[
            Source(n=1, paper_id="p1", title="Prophet"),
            Source(n=2, paper_id="p2", title="Medusa"),
        ],
        retrieved=[PROPHET, OTHER],
        mode="offline",
        abstained=abstained,
    )


def test_grounding_counts_citations_numbers_and_unsupported_sentences() -> None:
    result = answer(
        "Prophet cuts decoding steps by up to 3.4x [1]. "
        "Medusa reaches a 9x speedup with decoding heads [2]. "
        "Quantum bananas sing loudly [1].\n\n**Sources**\n\n[1] Prophet\n[2] Medusa\n",
        citations=["p1", "p2"],
    )
    case = Case(
        id="c",
        task="ask",
        query="q",
        gold=["p1"],
        key_points=[{"text": "steps", "all": ["3.4"]}, {"text": "x", "any": ["bananas split"]}],
    )
    lookup = {p.id: p for p in (PROPHET, MEDUSA, OTHER)}
    scored = score(case, answer_output(result, lookup), ["p1"], 5, no_embed)
    values = scored.metrics
    # p2 is cited but was not retrieved (only p1 and p3 were): 1 of 2 citations grounded.
    assert values["citation_grounding"] == 0.5
    # Sentences with numbers: "3.4" is in Prophet's abstract, "9" is not in Medusa's.
    assert values["number_grounding"] == 0.5
    assert scored.ungrounded_numbers == ["Medusa reaches a 9x speedup with decoding heads [2]."]
    # The banana sentence shares no content word with Prophet's abstract.
    assert scored.unsupported == ["Quantum bananas sing loudly [1]."]
    assert values["supported_sentences"] == 2 / 3
    # Cited p1, p2 against gold p1: precision 1/2, recall 1.
    assert values["cited_precision"] == 0.5 and values["cited_recall"] == 1.0
    assert values["retrieved_recall"] == 1.0 and values["retrieved_precision"] == 0.5
    assert values["key_point_coverage"] == 0.5
    assert scored.key_points_missed == ["x"]
    assert values["abstention_correct"] == 1.0


def test_abstention_is_correct_only_when_it_matches_the_case() -> None:
    lookup = {p.id: p for p in (PROPHET, MEDUSA, OTHER)}
    out_of_corpus = Case(id="o", task="ask", query="sourdough?", expect_no_citations=True)
    in_corpus = Case(id="i", task="ask", query="prophet?", gold=["p1"])
    abstained = answer_output(answer("The papers do not cover this.", [], abstained=True), lookup)
    answered = answer_output(answer("Prophet cuts steps [1].", ["p1"]), lookup)
    assert score(out_of_corpus, abstained, [], 5, no_embed).metrics["abstention_correct"] == 1.0
    assert score(out_of_corpus, answered, [], 5, no_embed).metrics["abstention_correct"] == 0.0
    assert score(in_corpus, abstained, ["p1"], 5, no_embed).metrics["abstention_correct"] == 0.0


def test_a_tldr_is_checked_against_its_own_abstract() -> None:
    case = Case(id="t", task="tldr", paper="p1", reference="Prophet cuts decoding steps 3.4x.")
    scored = score(
        case, tldr_output("Prophet cuts decoding steps by 5x.", PROPHET), [], 5, no_embed
    )
    assert scored.metrics["number_grounding"] == 0.0
    assert scored.metrics["supported_sentences"] == 1.0
    assert 0.0 < (scored.metrics["rouge1"] or 0.0) < 1.0


def test_briefing_theme_sizes_and_summary_coverage_are_measured() -> None:
    from datetime import date

    from agent import Briefing, Comparison
    from agent.results import Theme

    summary = Comparison(
        markdown="Prophet cuts decoding steps by up to 3.4x [1].\n\n**Sources**\n\n[1] Prophet",
        citations=["p1"],
        sources=[Source(n=1, paper_id="p1", title="Prophet")],
        retrieved=[PROPHET, MEDUSA],
        mode="offline",
    )
    empty = Comparison(markdown="", mode="offline")
    briefing = Briefing(
        start=date(2025, 5, 19),
        end=date(2025, 5, 25),
        themes=[
            Theme(name="Fast decoding", papers=[PROPHET, MEDUSA], summary=summary),
            Theme(name="Other papers this week", papers=[OTHER], summary=empty, other=True),
        ],
        mode="offline",
        markdown="# Week\n\nProphet cuts decoding steps by up to 3.4x [1].",
    )
    from evals.scoring import briefing_output

    case = Case(id="b", task="brief", window={"start": "2025-05-19", "end": "2025-05-25"})
    values = score(case, briefing_output(briefing, {}), [], 5, no_embed).metrics
    assert values["theme_summary_coverage"] == 0.5  # the summary cites one of two papers
    assert values["theme_size_max"] == 2.0
    assert values["other_papers_share"] == pytest.approx(1 / 3)


def test_sentences_cut_mid_clause_are_counted() -> None:
    text = "Prophet cuts decoding steps by up to 3.4x [1]. Medusa adds heads, revealing that [2]."
    case = Case(id="a", task="ask", query="How fast?")
    output = answer_output(answer(text, ["p1", "p2"]), {"p1": PROPHET, "p2": MEDUSA})
    assert score(case, output, [], 5, no_embed).metrics["cut_mid_clause"] == 0.5
