"""Rendering a briefing: Markdown, mail-client-safe HTML and plain text."""

from __future__ import annotations

from datetime import date

from agent.render import (
    render_html,
    render_markdown,
    render_text,
    theme_summary_markdown,
    week_title,
)
from agent.results import Briefing, Comparison, Recommendation, Source, Theme
from store.models import Link, Paper
from tests.support.hostile import parse_html as _parse

EVIL_TITLE = "Attacks <script>alert('x')</script> on & Agents"


def _paper(pid: str, title: str, abstract: str = "An abstract.", **extra: object) -> Paper:
    links = [Link(kind="paper", url=f"https://huggingface.co/papers/{pid}")]
    return Paper(id=pid, title=title, abstract=abstract, source="test", links=links, **extra)  # type: ignore[arg-type]


PROPHET = _paper("2508.19982", "Diffusion Language Models Know the Answer Before Decoding",
                 published=date(2025, 5, 20), upvotes=42)  # fmt: skip
EVIL = _paper("2505.00001", EVIL_TITLE, published=date(2025, 5, 21), upvotes=7)
LONELY = _paper("2505.00002", "Graph Transformers for Weather", published=date(2025, 5, 22))
OLD = _paper("2505.00003", "An Already Sent Paper", published=date(2025, 5, 19))

# What the agent's comparison writer emits: heading, label, table, shared, differences,
# prose with [n] marks, read first, sources, removed sentences.
SUMMARY_MD = """## Comparison

_Offline extractive summary: sentences are taken from the paper abstracts; no language model \
was used._

| # | Paper | Problem | Approach | Key result | Needs training | Code |
| --- | --- | --- | --- | --- | --- | --- |
| [1] | Attacks <script> | p | a | r | — | — |
| [2] | Diffusion Language Models | p | a | r | no | — |

**What they share**

- parallel decoding
- diffusion

- Both decode <b>tokens</b> in parallel [1, 2].

**Where they differ**

- One stops early [2]; the other attacks agents [1].

Prophet commits early [2].

**Read first:** [2] Diffusion Language Models Know the Answer Before Decoding.

**Sources**

[1] [Attacks](https://huggingface.co/papers/2505.00001), 2025-05-21 (`2505.00001`)
[2] [Diffusion](https://huggingface.co/papers/2508.19982), 2025-05-20 (`2508.19982`)

<details><summary>Removed by verification (1)</summary>

- A removed sentence — unsupported

</details>
"""


def _briefing() -> Briefing:
    comparison = Comparison(
        markdown=SUMMARY_MD,
        sources=[
            Source(n=1, paper_id=EVIL.id, title=EVIL.title),
            Source(n=2, paper_id=PROPHET.id, title=PROPHET.title),
        ],
        mode="offline",
    )
    themes = [
        Theme(
            name="Diffusion language · Decoding",
            papers=[PROPHET, EVIL],
            summary=comparison,
            takeaways={PROPHET.id: "Prophet halves <decoding> steps.", EVIL.id: "Agents & co."},
        ),
        Theme(
            name="Graph · Weather",
            papers=[LONELY],
            summary=Comparison(markdown="", mode="offline"),
            takeaways={LONELY.id: "Weather from graphs."},
        ),
    ]
    pick = Recommendation(
        paper=EVIL,
        score=0.9,
        reason="Matches <your> interest in agents.",
        relevance=0.9,
        recency=1.0,
        popularity=0.2,
    )
    return Briefing(
        start=date(2025, 5, 19),
        end=date(2025, 5, 25),
        themes=themes,
        picks=[pick],
        trending=[PROPHET, EVIL],
        updated=[EVIL.id],
        already_sent=[OLD.id],
        mode="offline",
    )


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "body", "table", "tr", "td", "th", "h1", "h2", "p", "div",
    "span", "a", "ul", "ol", "li", "strong", "em", "code", "thead", "tbody", "br",
}  # fmt: skip


def test_html_escapes_every_title_and_abstract_derived_text() -> None:
    html = render_html(_briefing(), {OLD.id: OLD})
    assert "<script" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "Prophet halves &lt;decoding&gt; steps." in html
    assert "Matches &lt;your&gt; interest" in html
    # The visible text still reads as the title, once decoded by the mail client.
    assert EVIL_TITLE in "".join(_parse(html).text)


def test_html_is_mail_client_safe() -> None:
    parsed = _parse(render_html(_briefing(), {OLD.id: OLD}))
    tags = {tag for tag, _ in parsed.tags}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    assert "table" in tags
    for _, attrs in parsed.tags:
        assert "class" not in attrs and "src" not in attrs
        href = attrs.get("href")
        if href is not None:
            assert href.startswith("https://"), href


def test_html_drops_links_that_are_not_http() -> None:
    briefing = _briefing()
    bad = _paper("2505.00009", "Sneaky", published=date(2025, 5, 20))
    bad.links = [Link(kind="paper", url="javascript:alert(1)")]
    briefing.trending = [bad]
    html = render_html(briefing)
    assert "javascript:" not in html
    assert "Sneaky" in html


def test_every_section_is_in_all_three_renderings() -> None:
    briefing = _briefing()
    earlier = {OLD.id: OLD}
    outputs = {
        "md": render_markdown(briefing, earlier),
        "html": render_html(briefing, earlier),
        "text": render_text(briefing, earlier),
    }
    for kind, out in outputs.items():
        for heading in ("Top picks", "Trending", "Already in an earlier briefing"):
            assert heading in out, (kind, heading)
        assert "Diffusion language · Decoding" in out, kind
        assert "Graph · Weather" in out, kind
        assert "An Already Sent Paper" in out, kind
        assert "2025-W21" in out, kind
        assert "Weather from graphs." in out, kind


def test_markdown_neutralises_html_in_titles_and_marks_updates() -> None:
    md = render_markdown(_briefing(), {OLD.id: OLD})
    assert "<script>" not in md
    assert "\\<script\\>" in md
    evil_line = next(line for line in md.splitlines() if "Attacks" in line and "\\[2\\]" in line)
    assert "(updated)" in evil_line
    prophet_line = next(line for line in md.splitlines() if "Know the Answer" in line)
    assert "(updated)" not in prophet_line


def test_theme_summary_keeps_the_comparison_and_points_at_the_theme_list() -> None:
    theme = _briefing().themes[0]
    summary = theme_summary_markdown(theme)
    assert "What they share" in summary and "Where they differ" in summary
    assert "parallel decoding · diffusion" in summary
    assert "| ---" not in summary
    assert "Sources" not in summary and "Removed by verification" not in summary
    assert "_Offline" not in summary
    # Source [1] is the evil paper, listed second under the theme; source [2] is listed first.
    assert "Prophet commits early [1]." in summary
    assert "the other attacks agents [2]" in summary
    assert "[1, 2]" in summary
    assert "\\<b\\>tokens\\</b\\>" in summary


def test_plain_text_wraps_and_keeps_the_words() -> None:
    text = render_text(_briefing(), {OLD.id: OLD})
    assert EVIL_TITLE in text.replace("\n", " ").replace("   ", " ")
    long_lines = [line for line in text.splitlines() if len(line) > 78]
    assert all("https://" in line for line in long_lines), long_lines
    assert "<b>tokens</b>" in text


def test_an_empty_period_says_so() -> None:
    empty = Briefing(start=date(2025, 5, 19), end=date(2025, 5, 25), mode="offline")
    for out in (render_markdown(empty), render_text(empty), render_html(empty)):
        assert "No papers in the store for this period." in out


def test_week_title_names_iso_weeks_and_ranges() -> None:
    assert week_title(date(2025, 5, 19), date(2025, 5, 25)) == "2025-W21 (19 May – 25 May 2025)"
    assert week_title(date(2025, 5, 20), date(2025, 5, 22)) == "20 May – 22 May 2025"
