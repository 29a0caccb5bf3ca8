"""Which LLM the Python API writes with: the one a user injects or configures, never one the
settings switched off, and the client it built is closed with it."""

from __future__ import annotations

from tests.conftest import MakePB
from tests.support.openai_server import OpenAIServer


def test_a_configured_endpoint_gives_one_client_that_answers(
    make_pb: MakePB, openai_server: OpenAIServer
) -> None:
    pb = make_pb(llm={"base_url": openai_server.base_url, "model": "test-model"})
    openai_server.enqueue("pong")

    llm = pb.chat_llm
    assert llm is not None and llm is pb.chat_llm
    assert llm.chat([{"role": "user", "content": "ping"}]).text == "pong"
    pb.close()
    assert pb.chat_llm is not llm  # a closed PaperBrief builds a fresh client if used again
    pb.close()


def test_offline_mode_wins_over_a_configured_llm(
    make_pb: MakePB, openai_server: OpenAIServer
) -> None:
    configured = make_pb(
        llm={"base_url": openai_server.base_url, "model": "test-model", "mode": "offline"}
    )
    assert configured.chat_llm is None
    assert configured.ask("diffusion language models").mode == "offline"
    assert openai_server.requests == []
    configured.close()


def test_without_an_endpoint_the_offline_writer_is_used(make_pb: MakePB) -> None:
    pb = make_pb()
    assert pb.chat_llm is None
    pb.close()
