"""The Hugging Face Daily Papers API (`/api/daily_papers?date=YYYY-MM-DD`) as JSON.

The API returns a list of entries; each holds a `paper` object (`id` is the arXiv id, `title`,
`summary`, `authors[].name`, `publishedAt`, `upvotes`, and often `githubRepo` and
`projectPage`) beside entry-level fields (`title`, `publishedAt`, `numComments`, ...). A bare
paper object (what `/api/papers/<id>` returns) is accepted as an entry too.

Links, decided here: the Hugging Face paper page (`https://huggingface.co/papers/<id>`, kind
`paper`, first so `Paper.url` points at it), the arXiv abstract page (also kind `paper`), the
arXiv PDF (kind `pdf`), `githubRepo` and `projectPage` when present, and the code repositories
and project pages the summary names. `published` is the paper's `publishedAt` (its arXiv date),
falling back to the entry's. A bad entry becomes a `Rejection` at `entry N` (1-based).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

from store.models import Link, Paper, Rejection, bare_arxiv_id, paper_id_for
from store.sources.base import PaperSource
from store.sources.common import (
    RecordError,
    SourceError,
    link_for_url,
    links_in_text,
    merge_links,
    papers_from_entries,
    parse_count,
    parse_date,
)


class HFApiSource(PaperSource):
    name = "hf-api"

    def matches_url(self, url: str) -> bool:
        return "/api/daily_papers" in url

    def sniff(self, head: str) -> bool:
        if head.startswith("["):
            return True
        # One object per line is JSON Lines; a single (multi-line) object is an API paper.
        return head.startswith("{") and not head.split("\n", 1)[0].strip().endswith("}")

    def parse(
        self, text: str, source: str, page_date: date | None = None
    ) -> Iterator[Paper | Rejection]:
        return parse_hf_api(text, source)


def hf_daily_url(base_url: str, day: date) -> str:
    """The Daily Papers API URL for one day, e.g. `.../api/daily_papers?date=2025-11-06`."""
    return f"{base_url.rstrip('/')}/api/daily_papers?date={day.isoformat()}"


def parse_hf_api(text: str, source: str) -> Iterator[Paper | Rejection]:
    """Papers (and rejections) from a Daily Papers API response body."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{source}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    if isinstance(data, dict):
        # An error body (`{"error": "..."}`) or a single paper object.
        if "error" in data and "title" not in data:
            raise SourceError(f"{source}: the API answered with an error: {data['error']!r}")
        data = [data]
    if not isinstance(data, list):
        raise SourceError(f"{source}: expected a JSON list of entries, found {type(data).__name__}")
    yield from papers_from_entries(source, data, entry_fields)


def _text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError(f"field {field!r}: expected text, found {type(value).__name__}")
    return value


def entry_fields(entry: Any) -> dict[str, Any]:
    """The `Paper` fields of one API entry; RecordError naming the field that is wrong."""
    if not isinstance(entry, dict):
        raise RecordError(f"expected an object, found {type(entry).__name__}")
    paper = entry.get("paper", entry)
    if not isinstance(paper, dict):
        raise RecordError(f"field 'paper': expected an object, found {type(paper).__name__}")
    title = _text(paper.get("title") or entry.get("title"), "paper.title").strip()
    if not title:
        raise RecordError("missing field 'paper.title'")
    summary = _text(paper.get("summary") or entry.get("summary"), "paper.summary").strip()
    if not summary:
        raise RecordError("missing field 'paper.summary'")
    raw_id = _text(paper.get("id"), "paper.id").strip()
    arxiv_id = bare_arxiv_id(raw_id) if raw_id else None

    authors_raw = paper.get("authors") or []
    if not isinstance(authors_raw, list):
        raise RecordError("field 'paper.authors': expected a list")
    authors = []
    for author in authors_raw:
        name = author.get("name") if isinstance(author, dict) else author
        if isinstance(name, str) and name.strip():
            authors.append(name.strip())

    published = parse_date(paper.get("publishedAt"), "paper.publishedAt") or parse_date(
        entry.get("publishedAt"), "publishedAt"
    )
    upvotes = parse_count(paper.get("upvotes"), "paper.upvotes")

    links: list[Link] = []
    if arxiv_id:
        links += [
            Link(kind="paper", url=f"https://huggingface.co/papers/{arxiv_id}"),
            Link(kind="paper", url=f"https://arxiv.org/abs/{arxiv_id}"),
            Link(kind="pdf", url=f"https://arxiv.org/pdf/{arxiv_id}"),
        ]
    for field, kind in (("githubRepo", "code"), ("projectPage", "project")):
        url = paper.get(field) or entry.get(field)
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            found = link_for_url(url.strip())
            if found is not None:
                links.append(Link(kind="code", url=found.url) if kind == "code" else found)
    links += links_in_text(summary)

    return {
        "id": paper_id_for(title, arxiv_id),
        "title": title,
        "abstract": summary,
        "authors": authors,
        "published": published,
        "upvotes": upvotes,
        "links": merge_links(links),
    }
