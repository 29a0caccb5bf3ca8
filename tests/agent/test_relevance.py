"""The calibrated relevance decision on the real sample store with the real MiniLM embedder."""

from __future__ import annotations

from agent.api import PaperBrief
from agent.markup import escape_markdown
from agent.relevance import Assessment, model_for


def assess(pb: PaperBrief, question: str) -> Assessment:
    return pb.relevance.assess(question, [hit.paper for hit in pb.search(question, k=10)])


def test_an_out_of_domain_question_abstains_and_names_the_closest_papers(
    sample_pb: PaperBrief,
) -> None:
    for question in (
        "How do I make a sourdough starter from scratch?",
        "What is the statute of limitations for breach of contract in California?",
    ):
        assessment = assess(sample_pb, question)
        assert assessment.abstain, [r.paper.title for r in assessment.bearing]
        assert len(assessment.closest) == 3
        assert all(
            r.evidence < model_for(sample_pb.embedder.name).answer_at for r in assessment.ranked
        )


def test_a_question_restating_a_papers_claim_keeps_that_paper_first(
    sample_pb: PaperBrief,
) -> None:
    papers = sample_pb.papers()[:12]
    for paper in papers:
        question = sample_pb.tldr(paper)
        assessment = assess(sample_pb, question)
        assert assessment.bearing, question
        assert assessment.bearing[0].paper.id == paper.id, (question, paper.title)


def test_the_sentence_that_answers_comes_first(sample_pb: PaperBrief) -> None:
    paper = sample_pb.papers()[0]
    sentences = sample_pb.sentence_vectors.for_papers([paper])[0].sentences
    quoted = sentences[len(sentences) // 2]
    assessment = sample_pb.relevance.assess(quoted, [paper])
    assert assessment.ranked[0].sentences[0].text == quoted
    assert assessment.ranked[0].sentences[0].cosine > 0.99


def test_an_abstention_names_the_closest_papers_without_citing_them(
    sample_pb: PaperBrief,
) -> None:
    answer = sample_pb.ask("What is the best way to sear a steak in a cast iron pan?")
    assert answer.abstained
    assert answer.citations == [] and answer.sources == []
    assert answer.relevant == []
    assert len(answer.closest) == 3
    for paper in sample_pb.store.get(answer.closest):
        assert escape_markdown(paper.title) in answer.markdown


def test_an_answer_reports_the_papers_judged_relevant_and_cites_from_them(
    sample_pb: PaperBrief,
) -> None:
    paper = sample_pb.papers()[0]
    answer = sample_pb.ask(sample_pb.tldr(paper))
    assert answer.relevant[0] == paper.id
    assert set(answer.citations) <= set(answer.relevant)
    assert set(answer.relevant) <= {p.id for p in answer.retrieved}
    comparison = sample_pb.compare(sample_pb.tldr(paper))
    assert set(comparison.citations) <= set(comparison.relevant)
