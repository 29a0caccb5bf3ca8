"""What paper text may become in an output: the one escaping function, link validation, and
the one Jinja2 + markdown-it HTML layer.

Titles and abstracts come from the internet, so every renderer treats them as text:

- `escape_markdown` makes any string inert in Markdown (no raw HTML, links, images, emphasis,
  tables or block markers survive); every Markdown output (answers, comparisons,
  recommendations, the briefing) passes paper text, and the LLM's prose that quotes it,
  through it.
- `safe_url` is the one link check: only absolute http(s) URLs with a host and no characters
  that could break out of an attribute. Links the project builds from stored papers and links
  harvested from abstracts (`code` fields) pass through it before they are rendered.
- `markdown_html` turns the Markdown the project writes into HTML with markdown-it-py: raw HTML
  off, images off, every link re-validated with `safe_url`. Optional per-tag inline styles serve
  mail clients, which drop `<style>` blocks.

The Jinja2 environment (`environment()`, built by `make_environment`) is the HTML layer for
every HTML output: the email briefing (`templates/email/`) and any web page. Autoescape is on
for every template, undefined variables are errors, and these filters are registered:

- `markdown(text, styles=None)`: `markdown_html` as safe markup;
- `safe_url(url)`: the URL, or None when it fails validation (`{% if paper.url|safe_url %}`);
- `plural(n, noun)`: "1 paper", "3 papers".

Reuse (for a web app or any other HTML client): put templates under
`agent/templates/<area>/` and call `environment().get_template("<area>/page.html")`, or pass
extra loaders and globals to `make_environment(...)` to get an environment with the same
settings and filters plus your own. Do not build a second environment with other escaping.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

import jinja2
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from store.models import http_url

# Control characters (NUL, escape sequences, the C1 block) are never part of paper text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Characters that start inline Markdown or HTML constructs anywhere in a line.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
# An `&` that would start an HTML entity (`&lt;`, `&#106;`): escaped, it stays the two characters.
_ENTITY = re.compile(r"&(?=#?\w+;)")
# Block constructs recognised only at the start of a line: headings, quotes, list items,
# setext underlines, thematic breaks, numbered items.
_BLOCK_START = re.compile(r"^(\s*)([#+\-=](?=[\s#+\-=]|$)|\d{1,9}[.)](?=\s|$))")


def one_line(text: str) -> str:
    """Paper text as one line of text: control characters dropped, whitespace runs (CR/LF
    included) collapsed to one space. What the plain-text and HTML renderings show."""
    return " ".join(_CONTROL.sub("", text).split())


def escape_markdown(text: str) -> str:
    """Text from a paper (or written about it) as inert Markdown: one line, every metacharacter
    that could start markup backslash-escaped, control characters dropped.

    Line breaks become spaces: a CR/LF inside a title must not start a new block (a heading, a
    list, a table row) in the document it is placed in.
    """
    escaped = _ENTITY.sub(r"\\&", _INLINE_SPECIAL.sub(r"\\\1", one_line(text)))
    return _BLOCK_START.sub(lambda m: m.group(1) + _escape_block(m.group(2)), escaped)


def _escape_block(marker: str) -> str:
    if marker[-1] in ".)":
        return marker[:-1] + "\\" + marker[-1]
    return "\\" + marker


def unescape_markdown(text: str) -> str:
    """The text `escape_markdown` escaped, for plain-text renderings."""
    return re.sub(r"\\([\\`*_\[\]<>|~#+\-=.)&])", r"\1", text)


def safe_url(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) URL with a host and nothing that could break out of
    an attribute or a Markdown link; otherwise None (`store.models.http_url`, the one check)."""
    return http_url(url)


# --- Markdown -> HTML --------------------------------------------------------------------------


@functools.cache
def _markdown_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    # No <autolinks>: links come only from the project's own [text](url) Markdown, and each is
    # checked again here. Images are parsed, then shown as their alt text (`_text_only_images`).
    parser.disable("autolink")
    parser.validateLink = lambda url: safe_url(url) is not None  # type: ignore[method-assign]
    return parser


def markdown_html(markdown: str, styles: Mapping[str, str] | None = None) -> Markup:
    """Markdown the project wrote, as HTML (raw HTML in it stays text).

    `styles` maps a tag (`p`, `ul`, `li`, `a`, `table`, `th`, `td`, `code`, `strong`, `h`) to
    an inline `style` attribute; `h` styles every heading level, which is rendered as a `<p>`
    so a summary's headings do not compete with the page's own.
    """
    parser = _markdown_parser()
    tokens = parser.parse(markdown)
    _text_only_images(tokens)
    if styles:
        _apply_styles(tokens, styles)
    return Markup(parser.renderer.render(tokens, parser.options, {}))


def _text_only_images(tokens: Iterable[Any]) -> None:
    """A remote image tracks whoever opens the page or mail: shown as its alt text instead."""
    for token in tokens:
        if token.children:
            token.children = [
                Token("text", "", 0, content=child.content) if child.type == "image" else child
                for child in token.children
            ]


def _apply_styles(tokens: Iterable[Any], styles: Mapping[str, str]) -> None:
    for token in tokens:
        if token.children:
            _apply_styles(token.children, styles)
        if token.type in ("heading_open", "heading_close"):
            token.tag = "p"
            if token.nesting == 1 and "h" in styles:
                token.attrSet("style", styles["h"])
            continue
        if token.nesting == 1 or token.type == "code_inline":
            style = styles.get(token.tag)
            if style:
                existing = token.attrGet("style")
                token.attrSet("style", f"{style}{existing};" if existing else style)


# --- Jinja2 -----------------------------------------------------------------------------------


def plural(n: int, noun: str) -> str:
    """`plural(1, "paper")` -> "1 paper"; `plural(3, "paper")` -> "3 papers"."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _markdown_filter(text: str, styles: Mapping[str, str] | None = None) -> Markup:
    return markdown_html(text, styles)


def make_environment(
    loaders: Iterable[jinja2.BaseLoader] = (), globals: Mapping[str, Any] | None = None
) -> jinja2.Environment:
    """A Jinja2 environment with the project's settings: autoescape on for every template,
    strict undefined variables, the filters listed in the module docstring, and templates from
    `agent/templates/` after any `loaders` given."""
    loader = jinja2.ChoiceLoader([*loaders, jinja2.PackageLoader("agent", "templates")])
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["markdown"] = _markdown_filter
    env.filters["safe_url"] = safe_url
    env.filters["plural"] = plural
    if globals:
        env.globals.update(globals)
    return env


@functools.cache
def environment() -> jinja2.Environment:
    """The shared environment (built once): `agent/templates/` with the project's filters."""
    return make_environment()
