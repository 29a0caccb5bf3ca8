"""The extractive writer (agent/writers/extractive/) on the real sample corpus."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest

from agent.api import PaperBrief
from agent.state import Draft, Evidence, Turn
from agent.text import TermStats, numbers_in, split_sentences
from agent.writers.extractive import (
    ExtractiveWriter,
    WordWeights,
    classify_sentence,
    needs_training,
    shorten,
    strip_lead_in,
    tldr,
)
from agent.writers.extractive.answer import write_answer as write_answer_with
from agent.writers.extractive.comparison import code_url, write_comparison
from agent.writers.extractive.evidence import EvidenceGrader
from agent.writers.extractive.weights import bundled_word_weights
from store.models import Paper
from store.sources import load_source, sample_corpus_path
from tests.support.extracts import is_extract_of

SPEED_UP = "How do recent methods speed up diffusion language models?"
OUT_OF_CORPUS = "What is the best sourdough hydration?"


@pytest.fixture(scope="module")
def sample_papers() -> list[Paper]:
    return [p for p in load_source(str(sample_corpus_path())) if isinstance(p, Paper)]


@pytest.fixture(scope="module")
def corpus_stats(sample_papers: list[Paper]) -> TermStats:
    return TermStats([f"{p.title}. {p.abstract}" for p in sample_papers])


def titled(papers: list[Paper], prefix: str) -> Paper:
    return next(p for p in papers if p.title.startswith(prefix))


@pytest.fixture(scope="module")
def prophet(sample_papers: list[Paper]) -> Paper:
    return titled(sample_papers, "Diffusion Language Models Know the Answer")


@pytest.fixture(scope="module")
def diffusion_papers(sample_papers: list[Paper]) -> list[Paper]:
    prefixes = (
        "Diffusion Language Models Know the Answer",
        "dKV-Cache",
        "Accelerating Diffusion LLM Inference via Local Determinism",
        "Discrete Diffusion in Large Language and Multimodal Models: A Survey",
    )
    return [titled(sample_papers, p) for p in prefixes]


@pytest.fixture(scope="module")
def grader(sample_pb: PaperBrief) -> EvidenceGrader:
    """Grading and evidence as the writer does them, over the sample store."""
    return EvidenceGrader(sample_pb.relevance, bundled_word_weights())


def evidence_for(grader: EvidenceGrader, question: str, papers: list[Paper]) -> list[Evidence]:
    """Every paper's evidence after grading them together, as the graph does."""
    grader.grade(question, papers, len(papers))
    return [grader.evidence(question, p) for p in papers]


def write_answer(
    question: str,
    evidence: list[Evidence],
    papers: dict[str, Paper],
    asked: str | None = None,
    history: Sequence[Turn] = (),
) -> Draft:
    return write_answer_with(
        question, evidence, papers, bundled_word_weights(), asked=asked, history=history
    )


def assert_extractive(text: str, paper: Paper) -> None:
    assert is_extract_of(text, paper.abstract), f"{text!r} is not from {paper.title!r}"
    assert numbers_in(text) <= numbers_in(paper.abstract)


@pytest.mark.parametrize(
    ("sentence", "role"),
    [
        ("We propose Prophet, a training-free decoding paradigm.", "contribution"),
        ("In this paper, we introduce a benchmark for agents.", "contribution"),
        ("However, their inference remains slower than autoregressive models.", "problem"),
        ("Generating valid molecules remains challenging.", "problem"),
        ("Experiments show that our method outperforms strong baselines by 4.2%.", "result"),
        ("Prophet reduces the number of decoding steps by up to 3.4x.", "result"),
        ("Specifically, our method caches key and value states across steps.", "method"),
        ("Large language models are widely deployed.", "other"),
    ],
)
def test_classify_sentence_by_cue_phrases(sentence: str, role: str) -> None:
    assert classify_sentence(sentence) == role


def test_strip_lead_in_keeps_a_faithful_sentence() -> None:
    assert strip_lead_in("In this work, we highlight an overlooked property.") == (
        "We highlight an overlooked property."
    )
    assert strip_lead_in("Building on this observation, we introduce Prophet, a decoder.") == (
        "We introduce Prophet, a decoder."
    )
    # Without a subject of its own the clause carries the meaning: left alone.
    kept = "To this day, models remain slow."
    assert strip_lead_in("In this paper, results.") == "In this paper, results."
    assert strip_lead_in(kept) == kept


def test_shorten_cuts_asides_but_never_a_number() -> None:
    sentence = (
        "Empirical evaluations of LLaDA-8B and Dream-7B across multiple tasks show that Prophet "
        "reduces the number of decoding steps by up to 3.4x while preserving high quality."
    )
    short = shorten(sentence, max_words=10)
    assert numbers_in(short) == numbers_in(sentence)
    assert is_extract_of(short, sentence)
    aside = (
        "In this work, we propose the dKV-Cache method (a delayed cache), which reuses states, "
        "enabling 2-10x speedups."
    )
    assert shorten(aside, max_words=5, keep_numbers=False) == "We propose the dKV-Cache method."
    assert shorten(aside, max_words=5) == (
        "We propose the dKV-Cache method, which reuses states, enabling 2-10x speedups."
    )


def test_evidence_for_the_speed_up_question_quotes_the_speed_up(
    prophet: Paper, grader: EvidenceGrader
) -> None:
    evidence = grader.evidence(SPEED_UP, prophet)
    assert evidence.bears_on_question
    texts = [s.text for s in evidence.sentences]
    assert any("3.4x" in t for t in texts) or any("fast decoding paradigm" in t for t in texts)
    for sentence in evidence.sentences:
        assert sentence.text in split_sentences(prophet.abstract)


def test_the_writers_evidence_finds_the_speed_up(prophet: Paper, sample_pb: PaperBrief) -> None:
    evidence, usage = ExtractiveWriter(sample_pb.relevance).extract_evidence(SPEED_UP, prophet)
    assert usage.llm_calls == 0
    assert evidence.bears_on_question
    assert any("Prophet" in s.text for s in evidence.sentences)


def test_long_questions_find_every_paper_that_bears_on_them(
    sample_papers: list[Paper], grader: EvidenceGrader
) -> None:
    question = (
        "How do systems overlap computation with communication in distributed LLM training "
        "and inference?"
    )
    for prefix in ("T3:", "TokenWeave:", "CO2:"):
        paper = titled(sample_papers, prefix)
        assert evidence_for(grader, question, [paper])[0].bears_on_question, prefix
    for prefix in ("Molecular Graph Generation", "Diffusion Language Models Know the Answer"):
        paper = titled(sample_papers, prefix)
        assert not evidence_for(grader, question, [paper])[0].bears_on_question, prefix


def test_unrelated_papers_do_not_bear_on_the_question(
    sample_papers: list[Paper], grader: EvidenceGrader
) -> None:
    unrelated = titled(sample_papers, "A Retrieve-and-Read Framework for Knowledge Graph")
    assert not evidence_for(grader, SPEED_UP, [unrelated])[0].bears_on_question
    evidence = evidence_for(grader, OUT_OF_CORPUS, sample_papers)
    assert not any(e.bears_on_question for e in evidence)


def test_answer_cites_only_given_papers_with_sentences_from_their_abstracts(
    sample_papers: list[Paper], grader: EvidenceGrader
) -> None:
    evidence = evidence_for(grader, SPEED_UP, sample_papers)
    papers = {p.id: p for p in sample_papers}
    draft = write_answer(SPEED_UP, evidence, papers)
    assert not draft.abstained
    cited = {c for s in draft.sentences for c in s.cites}
    assert cited <= set(papers)
    diffusion_lm = [p for p in sample_papers if p.id in cited]
    assert all("iffusion" in p.title + p.abstract for p in diffusion_lm)
    for sentence in draft.sentences[1:]:
        if len(sentence.cites) == 1:
            assert_extractive(sentence.text, papers[sentence.cites[0]])
        else:  # template text names papers or a shared term, never a figure
            assert not numbers_in(sentence.text)
    prophet = titled(sample_papers, "Diffusion Language Models Know the Answer")
    assert prophet.id in cited
    assert any("3.4x" in s.text for s in draft.sentences if s.cites == [prophet.id])


def test_answer_never_cites_a_paper_it_was_not_given(
    sample_papers: list[Paper], diffusion_papers: list[Paper], grader: EvidenceGrader
) -> None:
    given = {p.id: p for p in diffusion_papers[:2]}
    evidence = evidence_for(grader, SPEED_UP, sample_papers)
    draft = write_answer(SPEED_UP, evidence, given)
    assert {c for s in draft.sentences for c in s.cites} == set(given)


def test_answer_opens_by_naming_the_papers_by_their_approach(
    diffusion_papers: list[Paper], grader: EvidenceGrader
) -> None:
    evidence = evidence_for(grader, SPEED_UP, diffusion_papers[:3])
    draft = write_answer(SPEED_UP, evidence, {p.id: p for p in diffusion_papers})
    first = draft.sentences[0].text
    assert first.startswith("Three papers address this: ")
    for name in ("Prophet", "LocalLeap", "dKV-Cache"):
        assert name in first


def test_a_follow_up_narrows_to_what_it_asks_about_the_previous_papers(
    diffusion_papers: list[Paper], sample_papers: list[Paper], grader: EvidenceGrader
) -> None:
    papers = {p.id: p for p in sample_papers}
    first = write_answer(SPEED_UP, evidence_for(grader, SPEED_UP, diffusion_papers[:3]), papers)
    cited = sorted({c for s in first.sentences for c in s.cites})
    history = [Turn(question=SPEED_UP, answer="", cited=cited)]
    follow_up = "Which of them need no training?"
    retrieval = f"{SPEED_UP} {follow_up}"
    evidence = evidence_for(grader, retrieval, sample_papers)
    draft = write_answer(retrieval, evidence, papers, asked=follow_up, history=history)
    opening = draft.sentences[0].text
    assert opening.startswith("By their abstracts, ")
    assert {c for s in draft.sentences for c in s.cites} <= set(cited)
    # Each paper then says only what bears on training, in its own words.
    for sentence in draft.sentences[1:]:
        assert "train" in sentence.text.lower()


def test_out_of_corpus_question_abstains(
    sample_papers: list[Paper], grader: EvidenceGrader
) -> None:
    evidence = evidence_for(grader, OUT_OF_CORPUS, sample_papers)
    draft = write_answer(OUT_OF_CORPUS, evidence, {p.id: p for p in sample_papers})
    assert draft.abstained
    assert draft.sentences == []


def test_comparison_of_diffusion_lm_papers(diffusion_papers: list[Paper]) -> None:
    prophet, _dkv, _localleap, survey = diffusion_papers
    draft = write_comparison("speed up diffusion language models", diffusion_papers, [])
    rows = {r.paper_id: r for r in draft.rows}
    assert list(rows) == [p.id for p in diffusion_papers]
    assert rows[prophet.id].needs_training is False  # "a training-free fast decoding paradigm"
    assert rows[prophet.id].code == "https://github.com/pixeli99/Prophet"
    assert "3.4x" in rows[prophet.id].key_result
    assert rows[survey.id].needs_training is None
    for paper in diffusion_papers:
        row = rows[paper.id]
        for cell in (row.problem, row.approach, row.key_result):
            if cell:
                assert_extractive(cell, paper)
    assert "diffusion" in " ".join(draft.shared)
    assert any("prophet" in d.casefold() for d in draft.differences)
    assert draft.read_first == survey.id
    assert draft.read_first_reason and "survey" in draft.read_first_reason
    assert {c for s in draft.sentences for c in s.cites} == set(rows)


def test_comparison_without_a_survey_reads_the_most_central_paper_first(
    diffusion_papers: list[Paper], sample_papers: list[Paper]
) -> None:
    unrelated = titled(sample_papers, "Molecular Graph Generation")
    papers = [*diffusion_papers[:3], unrelated]
    draft = write_comparison(None, papers, [])
    assert draft.read_first in {p.id for p in diffusion_papers[:3]}
    assert draft.read_first_reason


def test_a_two_paper_comparison_reads_first_by_a_fact_that_sets_one_apart(
    diffusion_papers: list[Paper],
) -> None:
    prophet, dkv, _localleap, _survey = diffusion_papers
    # Two papers share exactly as much with each other: "shares the most terms" says nothing.
    tied = [dkv.model_copy(update={"upvotes": 7}), prophet.model_copy(update={"upvotes": 7})]
    draft = write_comparison(None, tied, [])
    assert draft.read_first_reason and "shares the most terms" not in draft.read_first_reason
    assert code_url(prophet) and not code_url(dkv)
    assert draft.read_first == prophet.id  # the only one with released code
    assert "code" in draft.read_first_reason

    more_votes = [tied[0].model_copy(update={"upvotes": 30}), tied[1]]
    draft = write_comparison(None, more_votes, [])
    assert draft.read_first == dkv.id
    assert draft.read_first_reason == "It has the most upvotes in the set (30)."

    no_code = [
        p.model_copy(update={"links": [], "abstract": p.abstract.split("http")[0]}) for p in tied
    ]
    assert not any(code_url(p) for p in no_code)
    earlier = min(no_code, key=lambda p: p.published or date.max)
    assert len({p.published for p in no_code}) == 2
    draft = write_comparison(None, no_code, [])
    assert draft.read_first == earlier.id
    assert draft.read_first_reason == "It appeared first, and the others came out after it."

    same_day = [p.model_copy(update={"published": date(2025, 11, 6)}) for p in no_code]
    draft = write_comparison(None, same_day, [])
    assert draft.read_first_reason
    assert "any order works" in draft.read_first_reason


def test_upvotes_that_tip_the_pick_without_a_claim_leave_it_to_the_most_central_paper(
    diffusion_papers: list[Paper],
) -> None:
    three = diffusion_papers[:3]
    centrality = TermStats([f"{p.title}. {p.abstract}" for p in three]).centrality()
    central = three[max(range(3), key=lambda i: centrality[i])]
    # The two others tie on upvotes, so neither has "the most upvotes"; the votes' weight in
    # the pick would otherwise choose one of them with no reason that holds.
    voted = [p.model_copy(update={"upvotes": 0 if p is central else 10}) for p in three]
    draft = write_comparison(None, voted, [])
    assert draft.read_first == central.id
    assert draft.read_first_reason == "Its abstract shares the most terms with the other papers."


def test_needs_training_from_cues(sample_papers: list[Paper]) -> None:
    learn2pd = titled(sample_papers, "Learning to Parallel")
    assert needs_training(learn2pd) is True  # "a framework that trains a lightweight ... filter"


def test_comparison_says_which_papers_need_no_training(
    diffusion_papers: list[Paper], sample_papers: list[Paper]
) -> None:
    prophet = diffusion_papers[0]
    learn2pd = titled(sample_papers, "Learning to Parallel")
    draft = write_comparison(None, [prophet, learn2pd], [])
    training = [s for s in draft.sentences if "no training" in s.text]
    assert len(training) == 1
    assert (
        training[0].text
        == "By their abstracts, Prophet needs no training; Learn2PD trains a model."
    )
    assert set(training[0].cites) == {prophet.id, learn2pd.id}


def test_tldr_is_one_faithful_shortened_sentence(sample_papers: list[Paper]) -> None:
    for paper in sample_papers:
        takeaway = tldr(paper)
        assert len(split_sentences(takeaway)) == 1, takeaway
        assert not takeaway.endswith("?"), takeaway
        # Pieces of the abstract in order: parentheticals and clauses cut, nothing added.
        assert is_extract_of(takeaway, paper.abstract, max_pieces=8), (paper.title, takeaway)
        assert len(takeaway) <= max(len(s) for s in split_sentences(paper.abstract)) + 1


def test_tldr_drops_the_framing_and_keeps_the_claim(sample_papers: list[Paper]) -> None:
    takeaways = [tldr(p) for p in sample_papers]
    assert not any(t.startswith(("In this paper", "In this work")) for t in takeaways)
    mean_words = sum(len(t.split()) for t in takeaways) / len(takeaways)
    mean_sentence = sum(
        len(s.split()) for p in sample_papers for s in split_sentences(p.abstract)
    ) / sum(len(split_sentences(p.abstract)) for p in sample_papers)
    assert mean_words < mean_sentence + 10


def test_bundled_word_weights_are_the_sample_pages(sample_papers: list[Paper]) -> None:
    # The table is data generated from the bundled page: regenerate it with
    # `python -m agent.writers.extractive.weights` when the page or the tokenizer changes.
    fresh = WordWeights.from_texts(f"{p.title}. {p.abstract}" for p in sample_papers)
    assert bundled_word_weights() == fresh
    assert fresh.weight("sourdough") == max(fresh.idf.values())
