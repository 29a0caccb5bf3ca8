"""The record fields of the files people assemble themselves: JSON Lines (`jsonl.py`) and CSV
(`csv.py`) records map to `Paper` fields by the same rules.

Columns (names are case-insensitive):
- `title` and `abstract` are required (`summary` is accepted for `abstract`);
- `id` or `arxiv_id`: an arXiv id (`2508.19982`, `arXiv:2508.19982v2` or an abs URL). Paper ids
  are arXiv ids or title hashes, so that one paper from two sources is one record; an `id` that
  is not an arXiv id is therefore not used, while a malformed `arxiv_id` is an error;
- `authors`: a JSON list, or text separated by `;` (or by `,` when there is no `;`);
- `published` or `date` (ISO date or date-time), `upvotes` (whole number);
- `url` (the paper's page, kind `paper`), `pdf`, `code` (one or more repository URLs).
Other columns are ignored. A bad record becomes a `Rejection` naming its line and the field, e.g.
`line 9: field 'published': not a date: 'yesterday'`; the other records still come through.
"""

from __future__ import annotations

import re
from typing import Any

from store.models import Link, Paper, Rejection, bare_arxiv_id, http_url, paper_id_for
from store.sources.common import (
    RecordError,
    build_paper,
    link_for_url,
    links_in_text,
    merge_links,
    parse_count,
    parse_date,
)

ABSTRACT_FIELDS = ("abstract", "summary")
ID_FIELDS = ("arxiv_id", "id")
DATE_FIELDS = ("published", "date")
_URL_SEPARATORS = re.compile(r"[\s;,]+")


def paper_or_rejection(record: dict[str, Any], source: str, location: str) -> Paper | Rejection:
    try:
        fields = record_fields(record)
    except RecordError as exc:
        return Rejection(source=source, location=location, reason=str(exc))
    return build_paper(source, location, **fields)


def _first(record: dict[str, Any], names: tuple[str, ...]) -> tuple[str, Any]:
    for name in names:
        value = record.get(name)
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return name, value
    return names[0], None


def _text(record: dict[str, Any], names: tuple[str, ...]) -> str:
    name, value = _first(record, names)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError(f"field {name!r}: expected text, found {type(value).__name__}")
    return value.strip()


def split_authors(value: Any) -> list[str]:
    """Author names from a list, or from `;`-separated (else `,`-separated) text."""
    if value is None:
        return []
    if isinstance(value, list):
        if not all(isinstance(name, str) for name in value):
            raise RecordError("field 'authors': expected a list of names")
        names = value
    elif isinstance(value, str):
        names = value.split(";") if ";" in value else value.split(",")
    else:
        raise RecordError(f"field 'authors': expected a list or text, found {type(value).__name__}")
    return [name.strip() for name in names if name.strip()]


def _urls(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    urls = []
    for item in items:
        if not isinstance(item, str):
            raise RecordError(f"field {field!r}: expected a URL, found {type(item).__name__}")
        for url in _URL_SEPARATORS.split(item.strip()):
            if not url:
                continue
            checked = http_url(url)
            if checked is None:
                raise RecordError(f"field {field!r}: not a plain http(s) URL: {url[:200]!r}")
            urls.append(checked)
    return urls


def record_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """The `Paper` fields of one record; RecordError naming the field that is wrong."""
    record = {str(key).strip().casefold(): value for key, value in raw.items() if key is not None}
    title = _text(record, ("title",))
    if not title:
        raise RecordError("missing field 'title'")
    abstract = _text(record, ABSTRACT_FIELDS)
    if not abstract:
        raise RecordError("missing field 'abstract'")

    arxiv_id = None
    id_field, raw_id = _first(record, ID_FIELDS)
    if raw_id is not None:
        arxiv_id = bare_arxiv_id(str(raw_id))
        if arxiv_id is None and id_field == "arxiv_id":
            raise RecordError(f"field 'arxiv_id': not an arXiv id: {raw_id!r}")

    date_field, raw_date = _first(record, DATE_FIELDS)
    published = parse_date(raw_date, date_field)
    upvotes = parse_count(record.get("upvotes"), "upvotes")
    author_count = parse_count(record.get("author_count"), "author_count")
    authors = split_authors(record.get("authors"))

    links: list[Link] = []
    for url in _urls(record.get("url"), "url"):
        links.append(Link(kind="paper", url=url))
        arxiv_id = arxiv_id or bare_arxiv_id(url.replace("/pdf/", "/abs/"))
    links += [Link(kind="pdf", url=url) for url in _urls(record.get("pdf"), "pdf")]
    for url in _urls(record.get("code"), "code"):
        found = link_for_url(url)
        links.append(Link(kind="code", url=found.url if found else url))
    if arxiv_id and not any(link.kind == "paper" for link in links):
        links.insert(0, Link(kind="paper", url=f"https://arxiv.org/abs/{arxiv_id}"))
    links += links_in_text(abstract)

    return {
        "id": paper_id_for(title, arxiv_id),
        "title": title,
        "abstract": abstract,
        "authors": authors,
        "author_count": author_count,
        "published": published,
        "upvotes": upvotes,
        "links": merge_links(links),
    }
