"""Paper text stays text: the one Markdown escape, the one link check, the one HTML layer."""

from __future__ import annotations

import html
import re

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from agent.markup import (
    environment,
    escape_markdown,
    make_environment,
    markdown_html,
    one_line,
    safe_url,
    unescape_markdown,
)
from tests.support.hostile import parse_html as _parse

# The most permissive common reading of Markdown: raw HTML on, as GitHub-like viewers, chat UIs
# and most static renderers allow it. Escaped paper text must still render as text only.
PERMISSIVE = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "[docs](javascript:alert(5))",
    "![img](https://tracker.example/pixel.png)",
    "<https://evil.example>",
    "# Heading\r\n- list\n1. item\n> quote\n| a | b |\n| - | - |",
    "**bold** _em_ `code` ~~strike~~",
    "&lt;script&gt; &#106;avascript:",
    "cite paper [999]",
    "nul\x00byte \x1b[31mred",
    "=== \n---",
    "trailing backslash \\",
]

# Text hypothesis draws: printable and control characters, weighted toward Markdown syntax.
_SYNTAX = st.sampled_from(
    [*list("\\`*_[]()<>|~#+-=.!&;:/\"' \n\r\t\x00"), "javascript:", "http://"]
)
TEXT = st.lists(st.one_of(_SYNTAX, st.text(max_size=4)), max_size=30).map("".join)


def _rendered_text(markdown: str) -> tuple[set[str], str]:
    """The tags and the text a permissive Markdown renderer makes of `markdown`."""
    parsed = _parse(PERMISSIVE.render(markdown))
    return {tag for tag, _ in parsed.tags}, "".join(parsed.text).strip()


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_renders_as_its_own_words_and_nothing_else(text: str) -> None:
    tags, shown = _rendered_text(escape_markdown(text))
    assert tags <= {"p"}, tags
    assert shown == one_line(text)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_escaped_text_is_always_one_paragraph_of_the_same_words(text: str) -> None:
    tags, shown = _rendered_text(escape_markdown(text))
    assert tags <= {"p"}, tags
    assert shown == one_line(text)


@settings(max_examples=300, deadline=None)
@given(TEXT, TEXT)
def test_escaped_text_inside_the_projects_own_markup_stays_inside_it(title: str, rest: str) -> None:
    # A line as the writers build it: list item, bold title, a project link, then paper text.
    line = f"- **{escape_markdown(title)}** [1] — {escape_markdown(rest)}"
    parsed = _parse(PERMISSIVE.render(line))
    assert [tag for tag, _ in parsed.tags] in (["ul", "li", "strong"], ["ul", "li"])


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_unescape_gives_back_the_text(text: str) -> None:
    assert unescape_markdown(escape_markdown(text)) == one_line(text)


def test_one_line_drops_control_characters_and_line_breaks() -> None:
    assert one_line("a\r\nb\x00c\x1b[0m \u2028 d") == "a bc[0m d"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        'https://github.com/x/y"><script>alert(1)</script>',
        "https://github.com/x/y onmouseover=alert(1)",
        "//evil.example/x",
        "ftp://files.example/x",
        "https:///no-host",
        "https://ok.example/\x00",
        "",
        None,
    ],
)
def test_safe_url_refuses_what_is_not_a_plain_http_link(url: str | None) -> None:
    assert safe_url(url) is None


def test_safe_url_keeps_http_links_and_closes_parentheses() -> None:
    assert safe_url("https://github.com/x/y") == "https://github.com/x/y"
    assert safe_url("http://arxiv.org/abs/2505.00001v2") == "http://arxiv.org/abs/2505.00001v2"
    assert (
        safe_url("https://en.wikipedia.org/wiki/A_(b)") == "https://en.wikipedia.org/wiki/A_%28b%29"
    )


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_safe_url_only_ever_returns_http_urls_without_breakout_characters(url: str) -> None:
    kept = safe_url(url)
    if kept is not None:
        assert re.match(r"^https?://", kept, re.IGNORECASE)
        assert not re.search(r"[\s\"'<>()\\`]", kept)


def test_markdown_html_drops_raw_html_images_and_unsafe_links() -> None:
    out = markdown_html(
        "<script>alert(1)</script> ![x](https://t.example/p.png) [a](javascript:alert(1)) "
        "[b](https://ok.example/) <https://auto.example>"
    )
    tags = _parse(out).tags
    assert [tag for tag, _ in tags] == ["p", "a"]
    assert tags[1][1]["href"] == "https://ok.example/"
    assert "&lt;script&gt;" in out


def test_markdown_html_inlines_styles_for_mail_clients() -> None:
    out = markdown_html(
        "## Head\n\n- one\n\n| a | b |\n| --- | --- |\n| 1 | 2 |",
        {"h": "font-weight:600;", "li": "margin:0;", "td": "padding:4px;"},
    )
    tags = _parse(out).tags
    assert ("p", {"style": "font-weight:600;"}) in tags
    assert ("li", {"style": "margin:0;"}) in tags
    assert ("td", {"style": "padding:4px;"}) in tags
    assert "<h2" not in out


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_markdown_html_never_emits_a_script_an_image_or_a_non_http_link(text: str) -> None:
    for tag, attrs in _parse(markdown_html(text)).tags:
        assert tag not in {"script", "img", "iframe", "style"}
        href = attrs.get("href")
        if href is not None:
            assert re.match(r"^https?://", href), href


def test_the_shared_environment_escapes_and_refuses_undefined_names() -> None:
    template = environment().from_string(
        "{{ title }} {{ n | plural('paper') }} {{ url | safe_url }} {{ md | markdown }}"
    )
    out = template.render(title="<b>x</b>", n=2, url="javascript:alert(1)", md="**y**")
    assert out == "&lt;b&gt;x&lt;/b&gt; 2 papers None <p><strong>y</strong></p>\n"
    with pytest.raises(jinja2.UndefinedError):
        environment().from_string("{{ missing }}").render()


def test_make_environment_adds_loaders_before_the_packaged_templates() -> None:
    env = make_environment([jinja2.DictLoader({"page.html": "{{ t }}"})], globals={"site": "pb"})
    assert env.get_template("page.html").render(t="<i>") == "&lt;i&gt;"
    assert env.get_template("email/briefing.html") is not None
    assert env.globals["site"] == "pb"
    assert html.escape("<") in env.from_string("{{ '<' }}").render()
