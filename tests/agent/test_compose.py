"""Rendering verified drafts: whatever the writer (or the abstract it quotes) says, the Markdown
holds only the markup and links compose writes, and the only bracketed numbers are its own."""

from __future__ import annotations

from agent.compose import answer_from_recommendations, answer_result, comparison_result
from agent.results import ComparisonRow, Recommendation, Usage
from agent.state import ComparisonDraft, Draft, DraftSentence
from store.models import Link, Paper
from tests.support.hostile import SCRIPT_TITLE, assert_markdown_inert

EVIL = Paper(
    id="2505.30001",
    title=SCRIPT_TITLE,
    abstract="An abstract.",
    source="test",
    links=[Link(kind="paper", url="https://arxiv.org/abs/2505.30001")],
)
PLAIN = Paper(id="2505.30002", title="Plain [2] Title", abstract="Another.", source="test")
SENTENCE = "Agents <img src=x onerror=alert(1)> use [docs](javascript:alert(5)) ![i](https://t.example/p.png)"


def test_answer_prose_and_source_titles_are_text() -> None:
    draft = Draft(sentences=[DraftSentence(text=SENTENCE + ".", cites=[EVIL.id])])
    answer = answer_result("q", draft, [EVIL], "llm", Usage(), [])
    assert_markdown_inert(answer.markdown, {1})
    assert "](https://arxiv.org/abs/2505.30001)" in answer.markdown  # the project's own link


def test_comparison_cells_points_reasons_and_code_links_are_text() -> None:
    rows = [
        ComparisonRow(
            paper_id=EVIL.id,
            title=EVIL.title,
            problem="proves P=NP [999] | injected | cell",
            approach="**bold** <script>x</script>",
            key_result="12% better [7]",
            code='https://github.com/x/y"><script>alert(4)</script>',
        ),
        ComparisonRow(
            paper_id=PLAIN.id,
            title=PLAIN.title,
            problem="p",
            approach="a",
            key_result="r",
            code="javascript:alert(1)",
        ),
    ]
    draft = ComparisonDraft(
        rows=rows,
        shared=["Both use <b>agents</b> [999]"],
        differences=["One uses [docs](javascript:alert(5)); the other ![i](https://t.example/p)"],
        read_first=EVIL.id,
        read_first_reason="It is <script>best</script> [999].",
        sentences=[DraftSentence(text=SENTENCE, cites=[PLAIN.id])],
    )
    comparison = comparison_result("<script>q</script>", draft, [EVIL, PLAIN], "llm", Usage(), [])
    assert_markdown_inert(comparison.markdown, {1, 2})
    assert "[code]" not in comparison.markdown
    assert "[999]" not in comparison.markdown.replace("\\", "")
    assert "**Read first:** [1]" in comparison.markdown


def test_recommendations_answer_titles_and_reasons_are_text() -> None:
    rec = Recommendation(
        paper=EVIL,
        score=1.0,
        reason="Matches <your> interest, see [999].",
        relevance=1.0,
        recency=1.0,
        popularity=0.0,
    )
    answer = answer_from_recommendations("what to read", [rec], "offline", Usage())
    assert_markdown_inert(answer.markdown, {1})
