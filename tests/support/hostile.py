"""Hostile paper text and the checks every rendering of it must pass.

`HOSTILE_RECORDS` are JSONL records whose titles and abstracts carry HTML, Markdown links and
images, `javascript:` URLs, CR/LF, fake citation markers, NUL and escape bytes, and one 1 MB
abstract (over the ingest limit). `assert_markdown_inert` reads a Markdown output the way the
most permissive common renderer does (raw HTML on) and `assert_html_inert` parses HTML: neither
may contain markup that paper text brought in, a link that is not http(s), an image, or a
bracketed number that is not one of the output's own citations.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from html.parser import HTMLParser

from markdown_it import MarkdownIt

SCRIPT_TITLE = "Agents <script>alert(1)</script> & <img src=x onerror=alert(2)> for tool use"
CRLF_TITLE = "Planning tools\r\n# Injected heading\n- item | cell | agents"
NUL_TITLE = "Nul\u0000 Byte Agents \u001b[31m for tools"

HOSTILE_RECORDS = [
    {
        "id": "2505.30001",
        "title": SCRIPT_TITLE,
        "abstract": "We study tool-using agents with [docs](javascript:alert(5)) and "
        "![img](https://tracker.example/p.png) inline. Our agent planner improves tool success "
        "by 12% over baselines, see cite paper [999]. Code at "
        'https://github.com/evil/agents"><script>alert(3)</script>.',
        "published": "2025-05-19",
        "upvotes": 30,
        "url": "https://arxiv.org/abs/2505.30001",
    },
    {
        "id": "2505.30002",
        "title": CRLF_TITLE,
        "abstract": "| a | b |\n| --- | --- |\n| **bold** agents | _em_ |\r\nThis tool agent "
        "proves P=NP [999] with 40% fewer steps. <iframe src=https://evil.example></iframe> "
        "Agents plan tools [7].",
        "published": "2025-05-20",
        "upvotes": 12,
    },
    {
        "id": "2505.30003",
        "title": NUL_TITLE,
        "abstract": "Agents with tools \u0000 reach 55% accuracy [1] on planning benchmarks. "
        "&lt;script&gt;alert(6)&lt;/script&gt; stays text. Tool agents plan [2, 3].",
        "published": "2025-05-21",
        "upvotes": 3,
    },
    {
        "id": "2505.30004",
        "title": "Huge Agents Abstract for tools",
        "abstract": ("Tool agents plan long horizons with memory. " * 24000)[:1_000_000],
        "published": "2025-05-22",
    },
    {
        "id": "2505.30005",
        "title": "Bad code link agents",
        "abstract": "Agents with tools plan.",
        "code": 'https://github.com/x/y"><script>alert(4)</script>',
        "published": "2025-05-22",
    },
    {
        "id": "2505.30006",
        "title": "Tool Agents That Plan ~~Twice~~ _Faster_",
        "abstract": "Tool agents plan twice as fast with 2x fewer calls. Code: "
        "https://github.com/good/agents.",
        "published": "2025-05-23",
        "upvotes": 5,
        "code": "https://github.com/good/agents",
    },
]
STORED_IDS = {"2505.30001", "2505.30002", "2505.30003", "2505.30006"}
REJECTED = {"line 4": "abstract", "line 5": "code"}

PERMISSIVE = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
# What the project's own Markdown renders to; paper text may add none of the rest.
OWN_TAGS = {
    "p", "h1", "h2", "h3", "ul", "ol", "li", "strong", "em", "code", "a", "br", "table", "thead",
    "tbody", "tr", "th", "td", "details", "summary", "blockquote", "hr",
}  # fmt: skip
EMAIL_TAGS = {
    "html", "head", "meta", "title", "body", "table", "tr", "td", "th", "thead", "tbody", "h1",
    "h2", "p", "div", "span", "a", "ul", "ol", "li", "strong", "em", "code", "br",
}  # fmt: skip
_BRACKETED = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]")


class _Parsed(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(markup: str) -> _Parsed:
    parsed = _Parsed()
    parsed.feed(markup)
    parsed.close()
    return parsed


def assert_html_inert(
    markup: str, allowed_tags: Collection[str], citations: Collection[int] = ()
) -> None:
    parsed = parse_html(markup)
    tags = {tag for tag, _ in parsed.tags}
    assert tags <= set(allowed_tags), tags - set(allowed_tags)
    for tag, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "src" not in attrs, (tag, attrs)
        href = attrs.get("href")
        if href is not None:
            assert re.match(r"^https?://[^\s\"'<>]+$", href), href
            assert "tracker.example" not in href and "evil.example" not in href, href
    text = "".join(parsed.text)
    assert "\x00" not in text and "\x1b" not in text
    assert_no_fake_citations(text, citations)


def assert_markdown_inert(markdown: str, citations: Collection[int] = ()) -> None:
    """`markdown` read by a permissive renderer: only the project's own markup and links."""
    assert_html_inert(PERMISSIVE.render(markdown), OWN_TAGS, citations)


def assert_no_fake_citations(text: str, citations: Collection[int] = ()) -> None:
    """Every bracketed number in `text` is one of `citations` (the output's own sources)."""
    for match in _BRACKETED.finditer(text):
        numbers = {int(n) for n in re.findall(r"\d+", match.group(1))}
        assert numbers <= set(citations), (match.group(0), text[max(0, match.start() - 80) :][:200])
