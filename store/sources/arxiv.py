"""arXiv API Atom feeds (`export.arxiv.org/api/query?...`).

Parsed with defusedxml, so a hostile feed cannot expand entities or reach out to the network.
Each `<entry>` gives: the bare arXiv id from `<id>http://arxiv.org/abs/2508.19982v2</id>`, title,
summary, authors, `published` date, links to the abstract page (kind `paper`) and the PDF (kind
`pdf`), and the code repositories and project pages the summary names. arXiv reports a bad
query as a single entry whose id is `.../api/errors#...`; that becomes a `SourceError`.
A bad entry becomes a `Rejection` at `entry N` (1-based, in feed order).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from store.models import Link, Paper, Rejection, bare_arxiv_id, paper_id_for
from store.sources.base import PaperSource
from store.sources.common import (
    RecordError,
    SourceError,
    links_in_text,
    merge_links,
    papers_from_entries,
    parse_date,
)

ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


class ArxivSource(PaperSource):
    name = "arxiv"
    extensions = (".atom", ".xml")

    def matches_url(self, url: str) -> bool:
        return "arxiv.org/api/query" in url or "/api/query?" in url

    def sniff(self, head: str) -> bool:
        return head.startswith("<") and ("http://www.w3.org/2005/Atom" in head or "<feed" in head)

    def parse(
        self, text: str, source: str, page_date: date | None = None
    ) -> Iterator[Paper | Rejection]:
        return parse_arxiv(text, source)


def feed_total(text: str) -> int | None:
    """`opensearch:totalResults` of an arXiv API feed: how many entries the query matches."""
    try:
        root = fromstring(text.encode("utf-8"))
    except (ParseError, DefusedXmlException):
        return None
    total = root.find(f"{OPENSEARCH}totalResults")
    try:
        return int((total.text or "").strip()) if total is not None else None
    except ValueError:
        return None


def parse_arxiv(text: str, source: str) -> Iterator[Paper | Rejection]:
    """Papers (and rejections) from an arXiv API Atom feed."""
    try:
        root = fromstring(text.encode("utf-8"))
    except ParseError as exc:
        raise SourceError(f"{source}: not well-formed XML: {exc}") from exc
    except DefusedXmlException as exc:
        raise SourceError(f"{source}: refused unsafe XML: {exc}") from exc
    if root.tag != f"{ATOM}feed":
        raise SourceError(f"{source}: expected an Atom <feed>, found <{root.tag}>")
    entries = root.findall(f"{ATOM}entry")
    if len(entries) == 1 and "/api/errors" in _child_text(entries[0], "id"):
        message = _child_text(entries[0], "summary") or "unknown error"
        raise SourceError(f"{source}: arXiv reported an error: {message}")
    yield from papers_from_entries(source, entries, entry_fields)


def _child_text(element: Element, name: str) -> str:
    child = element.find(f"{ATOM}{name}")
    return (child.text or "").strip() if child is not None else ""


def entry_fields(entry: Element) -> dict[str, Any]:
    """The `Paper` fields of one Atom entry; RecordError naming the element that is wrong."""
    raw_id = _child_text(entry, "id")
    if not raw_id:
        raise RecordError("missing element <id>")
    arxiv_id = bare_arxiv_id(raw_id)
    if arxiv_id is None:
        raise RecordError(f"element <id>: not an arXiv id: {raw_id!r}")
    title = _child_text(entry, "title")
    if not title:
        raise RecordError(f"{arxiv_id}: missing element <title>")
    summary = _child_text(entry, "summary")
    if not summary:
        raise RecordError(f"{arxiv_id}: missing element <summary>")
    try:
        published = parse_date(_child_text(entry, "published"), "published")
    except RecordError as exc:
        raise RecordError(f"{arxiv_id}: {exc}") from None
    authors = [
        name for author in entry.findall(f"{ATOM}author") if (name := _child_text(author, "name"))
    ]

    links: list[Link] = [Link(kind="paper", url=f"https://arxiv.org/abs/{arxiv_id}")]
    for link in entry.findall(f"{ATOM}link"):
        href = (link.get("href") or "").strip()
        if link.get("title") == "pdf" or link.get("type") == "application/pdf":
            links.append(Link(kind="pdf", url=href.replace("http://", "https://", 1)))
    if not any(link.kind == "pdf" for link in links):
        links.append(Link(kind="pdf", url=f"https://arxiv.org/pdf/{arxiv_id}"))
    links += links_in_text(summary)

    return {
        "id": paper_id_for(title, arxiv_id),
        "title": title,
        "abstract": summary,
        "authors": authors,
        "published": published,
        "links": merge_links(links),
    }
