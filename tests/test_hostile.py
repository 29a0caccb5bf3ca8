"""The hostile-input corpus through every entry point, offline and in LLM mode: paper text is
text in every rendering (Markdown, HTML, plain text, mail), links are http(s) links the project
built or checked, and no bracketed number survives that is not a citation of a listed source."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from agent.api import PaperBrief
from agent.results import Briefing, WrittenResult
from tests.conftest import MakePB
from tests.support.agent_responder import AgentResponder, PaperBlock
from tests.support.hostile import (
    CRLF_TITLE,
    EMAIL_TAGS,
    HOSTILE_RECORDS,
    REJECTED,
    SCRIPT_TITLE,
    STORED_IDS,
    assert_html_inert,
    assert_markdown_inert,
    assert_no_fake_citations,
)
from tests.support.openai_server import OpenAIServer
from tests.support.smtp_server import SMTPSink

WEEK = (date(2025, 5, 19), date(2025, 5, 25))
QUESTION = "How do tool agents plan?"


def _write_corpus(path: Path) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in HOSTILE_RECORDS), encoding="utf-8")
    return path


@pytest.fixture
def hostile_pb(make_pb: MakePB, tmp_path: Path, smtp_server: SMTPSink) -> PaperBrief:
    pb = make_pb(email=smtp_server.settings().model_dump())
    report = pb.ingest(_write_corpus(tmp_path / "hostile.jsonl"))
    assert {p for p in report.added} == STORED_IDS, report.summary()
    reasons = {r.location: r.reason for r in report.rejected}
    for location, field_name in REJECTED.items():
        assert f"field {field_name!r}" in reasons[location], reasons
    return pb


def _citations(result: WrittenResult) -> set[int]:
    return {source.n for source in result.sources}


def _check_written(result: WrittenResult) -> None:
    assert_markdown_inert(result.markdown, _citations(result))
    for source in result.sources:
        assert "\x00" not in source.title


def _check_briefing(pb: PaperBrief, briefing: Briefing, smtp_server: SMTPSink) -> None:
    numbered = set(range(1, 1 + max((len(t.papers) for t in briefing.themes), default=0)))
    assert_markdown_inert(briefing.markdown, numbered)
    assert_html_inert(briefing.html, EMAIL_TAGS, numbered)
    assert_no_fake_citations(briefing.text, numbered)
    assert "\x00" not in briefing.text and "\x1b" not in briefing.text
    assert "<script>alert(1)</script>" in briefing.text  # plain text shows the words as written
    for theme in briefing.themes:
        for takeaway in theme.takeaways.values():
            assert_no_fake_citations(takeaway)
    for pick in briefing.picks:
        assert_no_fake_citations(pick.reason)

    delivery = pb.send_briefing(briefing, ["ada@example.org"])
    assert delivery.sent
    message = smtp_server.received[-1][1]
    rich, plain = message.get_body(("html",)), message.get_body(("plain",))
    assert rich is not None and plain is not None
    assert_html_inert(rich.get_content(), EMAIL_TAGS, numbered)
    assert "\x00" not in plain.get_content()


def test_offline_answers_comparisons_and_picks_keep_hostile_paper_text_as_text(
    hostile_pb: PaperBrief,
) -> None:
    answer = hostile_pb.ask(QUESTION)
    assert not answer.abstained
    _check_written(answer)
    assert "javascript:" not in answer.markdown.replace("\\](javascript:", "")

    comparison = hostile_pb.compare("tool agents")
    assert comparison.rows
    _check_written(comparison)
    for row in comparison.rows:
        for cell in (row.problem, row.approach, row.key_result):
            assert_no_fake_citations(cell)

    by_ids = hostile_pb.compare(paper_ids=sorted(STORED_IDS))
    _check_written(by_ids)
    # The code field with a quote in it was rejected at ingest; the link in that abstract is
    # cut at the quote, an ordinary https link.
    code_links = sorted(row.code for row in by_ids.rows if row.code)
    assert code_links == ["https://github.com/evil/agents", "https://github.com/good/agents"]

    recommendations = hostile_pb.recommend(["tool agents"], k=4)
    assert {r.paper.id for r in recommendations} == STORED_IDS
    for rec in recommendations:
        assert_no_fake_citations(rec.reason)


def test_offline_briefing_keeps_hostile_paper_text_as_text(
    hostile_pb: PaperBrief, smtp_server: SMTPSink
) -> None:
    _check_briefing(hostile_pb, hostile_pb.briefing(*WEEK), smtp_server)


def test_llm_outputs_keep_hostile_paper_and_model_text_as_text(
    hostile_pb: PaperBrief, openai_server: OpenAIServer, smtp_server: SMTPSink, tmp_path: Path
) -> None:
    # The "model" repeats the hostile abstracts, markup and fake markers included.
    def chat(papers: list[PaperBlock], prompt: str) -> str:
        return (papers[0].first_sentence + " See [999].") if papers else "NOT COVERED"

    responder = AgentResponder(chat=chat)
    openai_server.set_responder(responder)
    pb = PaperBrief(
        data_dir=hostile_pb.settings.data_dir,
        settings=hostile_pb.settings.model_copy(
            update={
                "llm": hostile_pb.settings.llm.model_copy(
                    update={
                        "mode": "llm",
                        "base_url": openai_server.base_url,
                        "model": "test-model",
                    }
                )
            }
        ),
        embedder=hostile_pb.embedder,
        store=hostile_pb.store,
    )

    answer = pb.ask(QUESTION)
    assert answer.mode == "llm"
    _check_written(answer)
    comparison = pb.compare("tool agents")
    assert comparison.mode == "llm" and comparison.rows
    _check_written(comparison)
    assert "Read first" in comparison.markdown

    briefing = pb.briefing(*WEEK)
    assert briefing.mode == "llm"
    _check_briefing(pb, briefing, smtp_server)
    titles = " ".join(p.title for t in briefing.themes for p in t.papers)
    assert SCRIPT_TITLE in titles and CRLF_TITLE.split("\r")[0] in titles
