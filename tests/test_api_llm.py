"""Which LLM the Python API writes with: the one a user injects or configures, never one the
settings switched off, and the client it built is closed with it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from agent import PaperBrief, Settings
from agent.compose import OFFLINE_LABEL
from agent.llm import OpenAIChat
from agent.settings import LLMSettings
from tests.conftest import MakePB
from tests.support.agent_responder import AgentResponder
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


def test_an_injected_llm_writes_and_every_result_says_so(
    sample_pb: PaperBrief, openai_server: OpenAIServer, tmp_path: Path
) -> None:
    # Auto mode with nothing configured: only the injected LLM object says an LLM is in use.
    # The answer, the comparison and the briefing must all name the writer that wrote them.
    openai_server.set_responder(AgentResponder())
    settings = Settings(data_dir=tmp_path)
    assert settings.llm.mode == "auto" and not settings.llm.use_llm
    llm = OpenAIChat(
        LLMSettings(base_url=openai_server.base_url, model="test-model"),
        cache_dir=tmp_path / "llm-cache",
    )
    pb = PaperBrief(
        data_dir=tmp_path,
        settings=settings,
        embedder=sample_pb.embedder,
        store=sample_pb.store,
        llm=llm,
    )

    answer = pb.ask("How do recent methods speed up diffusion language models?")
    comparison = pb.compare("diffusion language models")
    briefing = pb.briefing(date(2025, 5, 19), date(2025, 5, 25))

    assert pb.mode == "llm"
    assert (answer.mode, comparison.mode, briefing.mode) == ("llm", "llm", "llm")
    assert all(theme.summary.mode == "llm" for theme in briefing.themes)
    for written in (answer.markdown, comparison.markdown, briefing.markdown):
        assert OFFLINE_LABEL not in written
    assert "offline extractive writer" not in briefing.markdown
    assert answer.usage.llm_calls > 0 and briefing.usage.llm_calls > 0
    pb.close()
    llm.close()
