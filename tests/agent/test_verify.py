"""The verifier keeps what the cited abstracts support and removes, with a reason, what they don't.

Papers are the real records of the bundled sample page (parsed, not embedded: no model needed).
"""

from __future__ import annotations

import pytest

from agent.results import ComparisonRow
from agent.state import ComparisonDraft, DraftSentence
from agent.verify import (
    sentence_problems,
    strip_citation_marks,
    verify_comparison,
    verify_sentences,
)
from store.models import Paper
from store.sources import SAMPLE_PAGE_DATE, load_source, sample_corpus_path


@pytest.fixture(scope="module")
def sample_papers() -> dict[str, Paper]:
    papers = load_source(str(sample_corpus_path()), fmt="hf-page", page_date=SAMPLE_PAGE_DATE)
    return {p.title: p for p in papers if isinstance(p, Paper)}


@pytest.fixture(scope="module")
def prophet(sample_papers: dict[str, Paper]) -> Paper:
    return sample_papers["Diffusion Language Models Know the Answer Before Decoding"]


@pytest.fixture(scope="module")
def freecache(sample_papers: dict[str, Paper]) -> Paper:
    return sample_papers[
        "Accelerating Diffusion Language Model Inference via Efficient KV Caching and Guided "
        "Diffusion"
    ]


def test_supported_sentence_is_kept(prophet: Paper, freecache: Paper) -> None:
    papers = {prophet.id: prophet, freecache.id: freecache}
    sentences = [
        DraftSentence(text="Prophet reduces decoding steps by up to 3.4x.", cites=[prophet.id]),
        DraftSentence(
            text="FreeCache and guided diffusion reach a 34x speedup.", cites=[freecache.id]
        ),
    ]
    verified = verify_sentences(sentences, papers)
    assert verified.sentences == sentences
    assert verified.removed == []


def test_number_absent_from_the_cited_abstract_removes_the_sentence(
    prophet: Paper, freecache: Paper
) -> None:
    papers = {prophet.id: prophet, freecache.id: freecache}
    # 34x is FreeCache's figure, not Prophet's: citing Prophet for it is a misattribution.
    wrong = DraftSentence(text="Prophet delivers a 34x speedup.", cites=[prophet.id])
    verified = verify_sentences([wrong], papers)
    assert verified.sentences == []
    [removed] = verified.removed
    assert "34x" in removed.reason
    assert "Prophet delivers" in removed.sentence


def test_citation_outside_the_retrieved_set_is_dropped_when_another_supports_it(
    prophet: Paper,
) -> None:
    papers = {prophet.id: prophet}
    sentence = DraftSentence(
        text="Prophet is training-free and reduces decoding steps by up to 3.4x.",
        cites=["2501.00001", prophet.id],
    )
    verified = verify_sentences([sentence], papers)
    assert [s.cites for s in verified.sentences] == [[prophet.id]]
    assert verified.removed == []


def test_sentence_citing_only_unretrieved_papers_is_removed_without_a_rewrite(
    prophet: Paper,
) -> None:
    calls: list[DraftSentence] = []

    def rewrite(sentence: DraftSentence, problems: list[str]) -> DraftSentence | None:
        calls.append(sentence)
        return sentence

    verified = verify_sentences(
        [DraftSentence(text="Some method is fast.", cites=["[9]"])], {prophet.id: prophet}, rewrite
    )
    assert verified.sentences == []
    assert "not among the retrieved papers" in verified.removed[0].reason
    assert calls == []


def test_failed_sentence_is_rewritten_once_and_kept_when_the_rewrite_passes(
    prophet: Paper,
) -> None:
    calls: list[list[str]] = []

    def rewrite(sentence: DraftSentence, problems: list[str]) -> DraftSentence | None:
        calls.append(problems)
        return DraftSentence(
            text="Prophet cuts decoding steps by up to 3.4x.", cites=sentence.cites
        )

    wrong = DraftSentence(text="Prophet cuts decoding steps by up to 5x.", cites=[prophet.id])
    verified = verify_sentences([wrong], {prophet.id: prophet}, rewrite)
    assert [s.text for s in verified.sentences] == ["Prophet cuts decoding steps by up to 3.4x."]
    assert len(calls) == 1 and "5x" in calls[0][0]
    assert verified.rewrites == 1


def test_rewrite_that_still_fails_removes_the_sentence(prophet: Paper) -> None:
    def rewrite(sentence: DraftSentence, problems: list[str]) -> DraftSentence | None:
        return DraftSentence(text="Prophet cuts steps by 6x.", cites=sentence.cites)

    wrong = DraftSentence(text="Prophet cuts steps by 5x.", cites=[prophet.id])
    verified = verify_sentences([wrong], {prophet.id: prophet}, rewrite)
    assert verified.sentences == []
    assert "rewrite still failed" in verified.removed[0].reason


def test_uncited_number_is_removed_but_uncited_connective_text_is_kept(prophet: Paper) -> None:
    verified = verify_sentences(
        [
            DraftSentence(text="Two approaches stand out."),
            DraftSentence(text="Decoding gets 97% faster."),
        ],
        {prophet.id: prophet},
    )
    assert [s.text for s in verified.sentences] == ["Two approaches stand out."]
    assert "without citing" in verified.removed[0].reason


def test_citation_marks_in_the_text_are_not_numbers(prophet: Paper) -> None:
    assert strip_citation_marks("Prophet stops early [2, 3].") == "Prophet stops early."
    sentence = DraftSentence(text="Prophet stops early [7].", cites=[prophet.id])
    assert sentence_problems(sentence, {prophet.id: prophet}) == []


def test_comparison_rows_keep_only_their_own_numbers(prophet: Paper, freecache: Paper) -> None:
    papers = {prophet.id: prophet, freecache.id: freecache}
    draft = ComparisonDraft(
        rows=[
            ComparisonRow(
                paper_id=prophet.id,
                title=prophet.title,
                problem="slow DLM decoding",
                approach="early commit decoding",
                key_result="up to 34x fewer steps",
            ),
            ComparisonRow(
                paper_id=freecache.id,
                title=freecache.title,
                problem="slow DLM inference",
                approach="KV approximation caching",
                key_result="up to a 34x end-to-end speedup",
            ),
            ComparisonRow(
                paper_id="2509.99999", title="Not compared", problem="", approach="", key_result=""
            ),
        ],
        shared=["Both are training-free.", "Both reach 1000x."],
        read_first="2509.99999",
        read_first_reason="It is short.",
    )
    checked, removed = verify_comparison(draft, papers)
    assert [r.paper_id for r in checked.rows] == [prophet.id, freecache.id]
    assert checked.rows[0].key_result == ""
    assert checked.rows[1].key_result == "up to a 34x end-to-end speedup"
    assert checked.shared == ["Both are training-free."]
    assert checked.read_first is None
    reasons = " | ".join(r.reason for r in removed)
    assert "not among the compared papers" in reasons and "1000x" in reasons
