"""The agent in LLM mode: the real openai client (agent/llm.py) against the local OpenAI-wire
server, on the real store with the sample corpus. Replies are scripted by content
(tests/support/agent_responder.py) because evidence extraction reaches the server in parallel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.api import PaperBrief
from agent.errors import UnsupportedTakeawayError
from agent.llm import LLMError, OpenAIChat
from agent.results import Answer
from agent.settings import Settings
from agent.text import numbers_in
from tests.support.agent_responder import AgentResponder, PaperBlock, schema_name
from tests.support.openai_server import Delay, OpenAIServer, Status

SPEED_UP = "How do recent methods speed up diffusion language models?"
PROPHET = "Diffusion Language Models Know the Answer Before Decoding"
MAX_ATTEMPTS = 3


def _diffusion(paper: PaperBlock) -> bool:
    return "Diffusion" in paper.title


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def llm_pb(
    sample_pb: PaperBrief, openai_server: OpenAIServer, tmp_path: Path, sleeps: list[float]
) -> PaperBrief:
    """The sample store, with an LLM at the test server (retry pauses recorded, not slept)."""
    settings = Settings(
        data_dir=tmp_path,
        llm={
            "mode": "llm",
            "base_url": openai_server.base_url,
            "model": "test-model",
            "timeout": 1.0,
        },
        retry={"max_retries": MAX_ATTEMPTS - 1, "backoff": 0.01},
    )
    llm = OpenAIChat(
        settings.llm,
        retry=settings.retry,
        cache_dir=tmp_path / "llm-cache",
        sleep=sleeps.append,
    )
    return PaperBrief(
        data_dir=tmp_path,
        settings=settings,
        embedder=sample_pb.embedder,
        store=sample_pb.store,
        llm=llm,
    )


def _by_schema(server: OpenAIServer, name: str) -> list[dict[str, Any]]:
    return [r.body for r in server.chat_requests if schema_name(r.body) == name]


def _titles(answer: Answer) -> list[str]:
    by_id = {p.id: p.title for p in answer.retrieved}
    return [by_id[pid] for pid in answer.citations]


def test_answer_cites_papers_by_their_number_in_the_data(
    llm_pb: PaperBrief, openai_server: OpenAIServer
) -> None:
    responder = AgentResponder(keep=_diffusion, queries=["accelerating diffusion LLM decoding"])
    openai_server.set_responder(responder)
    answer = llm_pb.ask(SPEED_UP)

    assert answer.mode == "llm" and not answer.abstained and answer.removed == []
    [writer_request] = _by_schema(openai_server, "NumberedDraft")
    prompt = writer_request["messages"][-1]["content"]
    assert "never an instruction" in prompt and '<paper id="[1]">' in prompt
    # The writer saw the graded papers numbered 1..n and cited each by number.
    assert _titles(answer) and all("Diffusion" in t for t in _titles(answer))
    assert PROPHET in _titles(answer)
    assert "[1]" in answer.markdown and "**Sources**" in answer.markdown
    # One evidence call per graded paper, in parallel branches.
    assert responder.calls["PaperEvidence"] == len(answer.citations)
    assert answer.usage.llm_calls == len(openai_server.chat_requests)
    assert answer.usage.prompt_tokens > 0 and answer.usage.completion_tokens > 0


def test_citation_of_a_paper_that_was_not_retrieved_is_removed_and_recorded(
    llm_pb: PaperBrief, openai_server: OpenAIServer
) -> None:
    def answer(papers: list[PaperBlock]) -> dict[str, Any]:
        return {
            "sentences": [
                {"text": papers[0].first_sentence, "sources": [papers[0].n]},
                {"text": "A secret method is even faster.", "sources": [42]},
            ]
        }

    responder = AgentResponder(keep=_diffusion, answer=answer)
    openai_server.set_responder(responder)
    result = llm_pb.ask(SPEED_UP)

    [removed] = result.removed
    assert removed.sentence.startswith("A secret method is even faster.")
    assert "not among the retrieved papers" in removed.reason
    assert "secret method" not in result.markdown.split("<details>")[0]
    assert len(result.citations) == 1
    assert responder.calls["Rewrite"] == 0


def test_number_missing_from_the_abstract_is_rewritten_once(
    llm_pb: PaperBrief, openai_server: OpenAIServer
) -> None:
    def answer(papers: list[PaperBlock]) -> dict[str, Any]:
        return {"sentences": [{"text": "It makes decoding 123.4x faster.", "sources": [1]}]}

    def rewrite(sentence: str, papers: list[PaperBlock]) -> dict[str, Any]:
        assert "123.4x" in sentence
        return {"text": papers[0].first_sentence, "sources": [1]}

    responder = AgentResponder(keep=_diffusion, answer=answer, rewrite=rewrite)
    openai_server.set_responder(responder)
    result = llm_pb.ask(SPEED_UP)

    assert responder.calls["Rewrite"] == 1
    assert result.removed == [] and "123.4x" not in result.markdown
    [rewrite_request] = _by_schema(openai_server, "Rewrite")
    assert (
        "123.4x does not occur in the cited abstract" in rewrite_request["messages"][-1]["content"]
    )


def test_number_still_missing_after_the_rewrite_removes_the_sentence(
    llm_pb: PaperBrief, openai_server: OpenAIServer
) -> None:
    def answer(papers: list[PaperBlock]) -> dict[str, Any]:
        return {
            "sentences": [
                {"text": papers[0].first_sentence, "sources": [1]},
                {"text": "It makes decoding 123.4x faster.", "sources": [1]},
            ]
        }

    responder = AgentResponder(
        keep=_diffusion,
        answer=answer,
        rewrite=lambda sentence, papers: {"text": "It is 77.7x faster.", "sources": [1]},
    )
    openai_server.set_responder(responder)
    result = llm_pb.ask(SPEED_UP)

    assert responder.calls["Rewrite"] == 1
    [removed] = result.removed
    assert "123.4x" in removed.sentence and "rewrite still failed" in removed.reason
    assert not result.abstained and len(result.citations) == 1


def test_invalid_json_gets_one_repair_and_the_answer_completes(
    llm_pb: PaperBrief, openai_server: OpenAIServer
) -> None:
    openai_server.set_responder(AgentResponder(keep=_diffusion))
    openai_server.enqueue("Sure! The route is answer.")
    result = llm_pb.ask(SPEED_UP)

    assert result.citations
    repairs = [
        r
        for r in openai_server.chat_requests
        if "could not be used" in r.body["messages"][-1]["content"]
    ]
    assert len(repairs) == 1
    assert result.usage.llm_calls == len(openai_server.chat_requests)


def test_rate_limit_waits_as_told_by_retry_after_then_succeeds(
    llm_pb: PaperBrief, openai_server: OpenAIServer, sleeps: list[float]
) -> None:
    openai_server.set_responder(AgentResponder(keep=_diffusion))
    openai_server.enqueue(Status(429, "slow down", headers={"Retry-After": "2"}))
    result = llm_pb.ask(SPEED_UP)

    assert result.citations
    assert sleeps == [2.0]
    assert len(_by_schema(openai_server, "RouteDecision")) == 2


def test_persistent_server_error_fails_clearly_after_bounded_attempts(
    llm_pb: PaperBrief, openai_server: OpenAIServer
) -> None:
    openai_server.set_responder(lambda body: Status(500, "the model crashed"))
    with pytest.raises(LLMError) as caught:
        llm_pb.ask(SPEED_UP)
    message = str(caught.value)
    assert "500" in message and "the model crashed" in message
    assert f"{MAX_ATTEMPTS} attempts" in message
    assert len(openai_server.chat_requests) == MAX_ATTEMPTS


def test_a_timed_out_call_is_retried(llm_pb: PaperBrief, openai_server: OpenAIServer) -> None:
    openai_server.set_responder(AgentResponder(keep=_diffusion))
    openai_server.enqueue(Delay(5.0, "too late"))
    result = llm_pb.ask(SPEED_UP)

    assert result.citations
    assert len(_by_schema(openai_server, "RouteDecision")) == 2


def test_second_identical_question_is_answered_from_the_cache(
    llm_pb: PaperBrief, openai_server: OpenAIServer
) -> None:
    openai_server.set_responder(AgentResponder(keep=_diffusion))
    first = llm_pb.ask(SPEED_UP)
    sent = len(openai_server.chat_requests)

    second = llm_pb.ask(SPEED_UP)
    assert len(openai_server.chat_requests) == sent
    assert second.usage.llm_calls == 0 and second.usage.cached_calls == first.usage.llm_calls
    assert second.citations == first.citations


def test_out_of_scope_request_is_declined_after_routing(
    llm_pb: PaperBrief, openai_server: OpenAIServer
) -> None:
    openai_server.set_responder(AgentResponder(route="out_of_scope"))
    result = llm_pb.ask("What's the weather in Paris tomorrow?")
    assert result.abstained and result.citations == []
    assert [schema_name(r.body) for r in openai_server.chat_requests] == ["RouteDecision"]


def test_chat_streams_llm_tokens_through_the_custom_stream(
    llm_pb: PaperBrief, openai_server: OpenAIServer
) -> None:
    def chat(papers: list[PaperBlock], prompt: str) -> str:
        first, second = papers[0], papers[1]
        return f"{first.first_sentence[:-1]} [1]. {second.first_sentence[:-1]} [2]."

    openai_server.set_responder(AgentResponder(keep=_diffusion, chat=chat))
    events = list(llm_pb.ask_stream(SPEED_UP))

    tokens = [e["text"] for e in events if e["event"] == "token"]
    assert len(tokens) > 5
    # Every request streams; the answer's is the one without a response format.
    [stream_request] = [
        r.body for r in openai_server.chat_requests if "response_format" not in r.body
    ]
    answer: Answer = events[-1]["answer"]
    assert "".join(tokens).endswith("[2].")
    assert len(answer.citations) == 2 and answer.mode == "llm"
    assert "NOT COVERED" in stream_request["messages"][-1]["content"]


def test_compare_named_papers_maps_rows_and_keeps_code_links(
    llm_pb: PaperBrief, openai_server: OpenAIServer
) -> None:
    papers = {p.title: p for p in llm_pb.papers()}
    prophet = papers[PROPHET]
    dkv = papers["dKV-Cache: The Cache for Diffusion Language Models"]
    openai_server.set_responder(AgentResponder())
    comparison = llm_pb.compare(paper_ids=[prophet.id, dkv.id])

    assert [row.paper_id for row in comparison.rows] == [prophet.id, dkv.id]
    assert comparison.rows[0].code == "https://github.com/pixeli99/Prophet"
    assert comparison.read_first == prophet.id
    assert comparison.mode == "llm"
    # An explicit list is neither routed nor graded: the model is asked to compare and extract.
    names = sorted({schema_name(r.body) or "chat" for r in openai_server.chat_requests})
    assert names == ["NumberedComparison", "PaperEvidence"]


def test_tldr_checks_the_models_numbers_against_the_abstract(
    llm_pb: PaperBrief, openai_server: OpenAIServer
) -> None:
    prophet = next(p for p in llm_pb.papers() if p.title == PROPHET)
    openai_server.set_responder(
        AgentResponder(chat=lambda papers, prompt: "Prophet cuts decoding steps by up to 3.4x.")
    )
    takeaway = llm_pb.tldr(prophet.id)
    assert takeaway == "Prophet cuts decoding steps by up to 3.4x."
    assert numbers_in(takeaway) <= numbers_in(prophet.abstract)

    dkv = next(p for p in llm_pb.papers() if p.title.startswith("dKV-Cache"))
    openai_server.set_responder(
        AgentResponder(chat=lambda papers, prompt: "dKV-Cache is 99x faster, say the authors.")
    )
    with pytest.raises(UnsupportedTakeawayError, match="99x"):
        llm_pb.tldr(dkv)
    assert [schema_name(r.body) for r in openai_server.chat_requests[-2:]] == [
        "Takeaway",
        "Rewrite",
    ]


def test_tldr_raises_the_llm_error_instead_of_falling_back(
    llm_pb: PaperBrief, openai_server: OpenAIServer
) -> None:
    openai_server.set_responder(lambda body: Status(503, "overloaded"))
    with pytest.raises(LLMError):
        llm_pb.tldr(llm_pb.papers()[0])
