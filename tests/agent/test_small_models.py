"""The LLM path with a small local model that does not know when to stop (issue: Gemma 3 270M
on llama.cpp): every text field the schema leaves unbounded runs on until max_tokens. Against
the OpenAI-wire test server's `Runaway` model, through the real client, on the real sample
store: ask, compare, recommend, tldr and a briefing succeed in both pipelines, with bounded
tokens, because every schema field is bounded and every call's max_tokens fits its schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.api import PaperBrief
from agent.llm import OpenAIChat
from agent.settings import Settings
from tests.support.agent_responder import AgentResponder, schema_name
from tests.support.openai_server import OpenAIServer, Runaway

SPEED_UP = "How do recent methods speed up diffusion language models?"
CEILING = 1200


def runaway_pb(
    sample_pb: PaperBrief, server: OpenAIServer, tmp_path: Path, pipeline: str
) -> PaperBrief:
    settings = Settings(
        data_dir=tmp_path,
        llm={
            "mode": "llm",
            "base_url": server.base_url,
            "model": "test-model",
            "max_tokens": CEILING,
            "pipeline": pipeline,
            "cache": False,
        },
        retry={"max_retries": 0},
    )
    return PaperBrief(
        data_dir=tmp_path,
        settings=settings,
        embedder=sample_pb.embedder,
        store=sample_pb.store,
        llm=OpenAIChat(settings.llm, retry=settings.retry),
    )


@pytest.mark.parametrize("pipeline", ["full", "lean"])
def test_every_feature_succeeds_against_a_runaway_model_with_bounded_tokens(
    sample_pb: PaperBrief, openai_server: OpenAIServer, tmp_path: Path, pipeline: str
) -> None:
    openai_server.set_responder(
        Runaway(AgentResponder(keep=lambda paper: "Diffusion" in paper.title))
    )
    pb = runaway_pb(sample_pb, openai_server, tmp_path, pipeline)
    papers = pb.papers()

    answer = pb.ask(SPEED_UP)
    comparison = pb.compare("diffusion language model acceleration")
    picks = pb.recommend(["diffusion language models"], k=3)
    takeaway = pb.tldr(papers[0])
    briefing = pb.briefing("2025-05-19", "2025-05-25")

    assert answer.mode == comparison.mode == briefing.mode == "llm"
    assert answer.citations and comparison.rows and picks and briefing.markdown
    assert 0 < len(takeaway) <= 240
    requests = openai_server.chat_requests
    # No call ran to the ceiling: each asked for what its schema needs, and got it.
    route_calls = [r for r in requests if schema_name(r.body) == "RouteDecision"]
    assert all(r.body["max_tokens"] < 200 for r in route_calls)
    usage = pb.llm_usage()
    assert usage is not None and usage.repairs == 0
    assert usage.completion_tokens < CEILING * len(requests) / 3
    if pipeline == "lean":
        # Retrieval, relevance and evidence as offline: the model only writes.
        names = {schema_name(r.body) for r in requests}
        assert names <= {"NumberedDraft", "NumberedComparison", "Takeaway", "ThemeName"}


def test_the_same_runaway_model_breaks_an_unbounded_schema() -> None:
    """The control: what the bounds prevent (the runaway field swallows max_tokens)."""
    from pydantic import BaseModel

    class Unbounded(BaseModel):
        route: str
        reason: str = ""

    model = Runaway(AgentResponder())
    body = {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "RouteDecision", "schema": Unbounded.model_json_schema()},
        },
        "messages": [{"role": "user", "content": "route this"}],
    }
    reply = model(body)
    assert len(getattr(reply, "content", "")) > 10_000
