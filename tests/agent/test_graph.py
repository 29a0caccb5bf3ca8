"""The agent in offline mode on the real store with the real sample corpus: answers that cite
the right papers, abstention, verifiable citations and numbers, chat threads that persist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig

from agent.api import PaperBrief
from agent.compose import NOT_COVERED, OFFLINE_LABEL
from agent.errors import UnknownPapersError
from agent.results import Answer, WrittenResult
from agent.settings import Settings
from agent.text import numbers_in, split_sentences

SPEED_UP = "How do recent methods speed up diffusion language models?"
PROPHET = "Diffusion Language Models Know the Answer Before Decoding"
OUT_OF_CORPUS = "What is the best recipe for sourdough bread?"
_MARK = re.compile(r"\[(\d+(?:, \d+)*)\]")


def _title(result: WrittenResult, paper_id: str) -> str:
    return next(p.title for p in result.retrieved if p.id == paper_id)


def prose_sentences(result: WrittenResult) -> list[tuple[str, list[str]]]:
    """(sentence, cited ids) for every sentence of the prose, read back from the markdown."""
    by_number = {s.n: s.paper_id for s in result.sources}
    body = result.markdown.split("**Sources**")[0]
    found = []
    for block in body.split("\n\n"):
        if not block.strip() or block == OFFLINE_LABEL or block.startswith(("|", "-", "#")):
            continue
        for sentence in split_sentences(block):
            numbers = [int(n) for group in _MARK.findall(sentence) for n in group.split(", ")]
            found.append((sentence, [by_number[n] for n in numbers]))
    return found


@pytest.fixture(scope="module")
def speed_up_answer(sample_pb: PaperBrief) -> Answer:
    return sample_pb.ask(SPEED_UP)


def test_answer_cites_the_diffusion_lm_acceleration_papers(speed_up_answer: Answer) -> None:
    answer = speed_up_answer
    titles = [_title(answer, pid) for pid in answer.citations]
    assert PROPHET in titles
    accelerating = [t for t in titles if "Accelerat" in t or "Cache" in t]
    assert len(accelerating) >= 2, titles
    assert all("Diffusion" in t for t in titles), titles
    assert answer.mode == "offline" and not answer.abstained
    assert answer.markdown.startswith(OFFLINE_LABEL)
    assert answer.usage.llm_calls == 0


def test_every_citation_resolves_to_a_retrieved_paper_and_numbers_to_its_abstract(
    speed_up_answer: Answer,
) -> None:
    answer = speed_up_answer
    retrieved = {p.id: p for p in answer.retrieved}
    assert [s.n for s in answer.sources] == list(range(1, len(answer.sources) + 1))
    assert set(answer.citations) <= set(retrieved)
    sentences = prose_sentences(answer)
    assert sentences
    for sentence, cited in sentences:
        assert cited or not numbers_in(sentence), sentence
        supported: set[str] = set()
        for paper_id in cited:
            paper = retrieved[paper_id]
            supported |= numbers_in(f"{paper.title}. {paper.abstract}")
        claimed = numbers_in(_MARK.sub("", sentence))
        assert claimed <= supported, (sentence, claimed - supported)


def test_out_of_corpus_question_is_declined_without_citations(sample_pb: PaperBrief) -> None:
    answer = sample_pb.ask(OUT_OF_CORPUS)
    assert answer.abstained
    assert answer.citations == [] and answer.sources == []
    assert NOT_COVERED in answer.markdown
    assert "[1]" not in answer.markdown


def test_follow_up_on_the_same_thread_uses_the_conversation(sample_pb: PaperBrief) -> None:
    first = sample_pb.ask(SPEED_UP)
    follow_up = sample_pb.ask("Which of them needs no training?", thread_id=first.thread_id)
    assert follow_up.thread_id == first.thread_id
    titles = [_title(follow_up, pid) for pid in follow_up.citations]
    assert PROPHET in titles
    assert all("Diffusion" in t for t in titles), titles
    # The same words on a fresh thread have no diffusion models to refer to.
    alone = sample_pb.ask("Which of them needs no training?")
    alone_titles = [_title(alone, pid) for pid in alone.citations]
    assert alone.abstained or not all("Diffusion" in t for t in alone_titles)


def test_thread_survives_a_new_paperbrief_on_the_same_data_dir(
    sample_pb: PaperBrief, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path)

    def reopen() -> PaperBrief:
        # The same store and model, a data dir of its own for the threads database.
        return PaperBrief(
            data_dir=tmp_path, settings=settings, embedder=sample_pb.embedder, store=sample_pb.store
        )

    first_process = reopen()
    first = first_process.ask(SPEED_UP)
    first_process.agent.close()

    second_process = reopen()
    assert [t.question for t in second_process.agent.history(first.thread_id or "")] == [SPEED_UP]
    follow_up = second_process.ask("Which of them needs no training?", thread_id=first.thread_id)
    assert PROPHET in [_title(follow_up, pid) for pid in follow_up.citations]
    assert len(second_process.agent.history(first.thread_id or "")) == 2


def test_a_thread_is_a_conversation_of_chat_messages_with_its_answers_as_data(
    sample_pb: PaperBrief, tmp_path: Path
) -> None:
    pb = PaperBrief(
        data_dir=tmp_path,
        settings=Settings(data_dir=tmp_path),
        embedder=sample_pb.embedder,
        store=sample_pb.store,
    )
    first = pb.ask(SPEED_UP)
    thread = first.thread_id or ""
    # A chat client (LangGraph Studio, Agent Chat UI) sends only a human message.
    config: RunnableConfig = {"configurable": {"thread_id": thread}}
    final = pb.agent.threaded_graph.invoke(
        {"messages": [HumanMessage(content="Which of them needs no training?")]}, config
    )

    messages = pb.agent.messages(thread)
    assert [m.type for m in messages] == ["human", "ai", "human", "ai"]
    assert messages[0].text == SPEED_UP
    answer, follow_up = messages[1], messages[3]
    assert answer.text == first.markdown  # what the chat client shows
    data = answer.additional_kwargs["paperbrief"]
    assert data["citations"] == first.citations
    assert [s["paper_id"] for s in data["sources"]] == first.citations
    assert "**Sources**" not in data["prose"] and data["prose"]
    # The typed result is still there, and the follow-up was read as one.
    typed = final["result"]
    assert isinstance(typed, Answer) and typed.question == "Which of them needs no training?"
    assert follow_up.text == typed.markdown
    assert PROPHET in [_title(typed, pid) for pid in typed.citations]
    assert [t.question for t in pb.agent.history(thread)] == [
        SPEED_UP,
        "Which of them needs no training?",
    ]
    pb.close()


def test_offline_stream_yields_the_finished_sentences_then_the_answer(
    sample_pb: PaperBrief,
) -> None:
    events = list(sample_pb.ask_stream(SPEED_UP))
    assert events[-1]["event"] == "answer"
    answer: Answer = events[-1]["answer"]
    streamed = [e["text"] for e in events if e["event"] == "sentence"]
    assert streamed and not [e for e in events if e["event"] == "token"]
    assert " ".join(streamed) in answer.markdown


def test_compare_a_topic_gives_a_table_shared_points_and_a_paper_to_read_first(
    sample_pb: PaperBrief,
) -> None:
    comparison = sample_pb.compare("diffusion language model acceleration")
    assert len(comparison.rows) >= 3
    assert all("Diffusion" in row.title for row in comparison.rows)
    assert comparison.shared and comparison.differences
    assert comparison.read_first in comparison.citations
    assert "| Paper | Method | Problem | Approach | Key result | Needs training | Code |" in (
        comparison.markdown
    )
    accelerating = [
        r.title for r in comparison.rows if "Accelerat" in r.title or "Cache" in r.title
    ]
    assert len(accelerating) >= 2, [r.title for r in comparison.rows]
    retrieved = {p.id: p for p in comparison.retrieved}
    for row in comparison.rows:
        paper = retrieved[row.paper_id]
        assert numbers_in(row.key_result) <= numbers_in(f"{paper.title}. {paper.abstract}")


def test_compare_named_papers_keeps_their_order(sample_pb: PaperBrief) -> None:
    papers = {p.title: p.id for p in sample_pb.papers()}
    ids = [papers[PROPHET], papers["dKV-Cache: The Cache for Diffusion Language Models"]]
    comparison = sample_pb.compare(paper_ids=ids)
    assert [row.paper_id for row in comparison.rows] == ids
    assert comparison.query is None
    prophet = comparison.rows[0]
    assert prophet.needs_training is False  # "a training-free fast decoding paradigm"
    assert prophet.code == "https://github.com/pixeli99/Prophet"


def test_compare_unknown_ids_names_them(sample_pb: PaperBrief) -> None:
    known = sample_pb.papers()[0].id
    with pytest.raises(UnknownPapersError) as caught:
        sample_pb.compare(paper_ids=[known, "2599.00001", "nope"])
    assert caught.value.missing == ["2599.00001", "nope"]
    assert "2599.00001" in str(caught.value) and "nope" in str(caught.value)


def test_a_question_asking_for_a_comparison_is_answered_with_one(sample_pb: PaperBrief) -> None:
    answer = sample_pb.ask("Compare the methods that accelerate diffusion language models")
    assert "| Paper | Method | Problem |" in answer.markdown
    assert answer.citations


def test_tldr_is_one_sentence_from_the_abstract(sample_pb: PaperBrief) -> None:
    paper = next(p for p in sample_pb.papers() if p.title == PROPHET)
    takeaway = sample_pb.tldr(paper.id)
    assert len(split_sentences(takeaway)) == 1
    assert numbers_in(takeaway) <= numbers_in(paper.abstract)
    assert "Prophet" in takeaway or "decod" in takeaway.lower()


def test_a_question_asking_what_to_read_is_answered_with_recommendations(
    sample_pb: PaperBrief,
) -> None:
    answer = sample_pb.ask("What should I read about diffusion language models?")
    assert answer.markdown.startswith("Papers to read")
    assert len(answer.citations) == 5
    titles = [_title(answer, pid) for pid in answer.citations]
    assert "Diffusion" in titles[0]
    assert [s.paper_id for s in answer.sources] == answer.citations


def test_asking_what_to_read_on_a_topic_the_store_lacks_abstains_naming_the_closest(
    sample_pb: PaperBrief,
) -> None:
    answer = sample_pb.ask("What should I read about coral reef bleaching?")
    assert answer.abstained
    assert answer.citations == [] and answer.sources == []
    text = answer.markdown.replace("\\", "")
    assert 'No paper in the store matches your interest in "coral reef bleaching"' in text
    assert len(answer.closest) == 3
    assert [p.id for p in answer.retrieved] == answer.closest
    for paper in answer.retrieved:
        assert paper.title in text
