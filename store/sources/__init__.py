"""Paper sources: read a file or URL in any supported format into `Paper` records.

`load_source` is the one entry point ingest uses. It reads the file (or fetches the URL, with
retries), decides the format, and yields a `Paper` for every good record and a `Rejection`
(location and reason) for every bad one, so one bad record never costs the rest of the file.
Problems with the source as a whole (missing file, HTTP failure, unknown format) raise
`SourceError` at call time, naming the path or URL.

Formats (`FORMATS`): `hf-page` (a browser copy of the Hugging Face Daily Papers page),
`hf-api` (the Daily Papers API JSON), `arxiv` (arXiv API Atom), `jsonl` and `csv`.
Detection, when `fmt` is not given: the URL's shape (`/api/daily_papers`, arXiv `api/query`),
then the file extension, then the content itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from store.config import SourceSettings
from store.models import Paper, Rejection
from store.sources.arxiv import parse_arxiv
from store.sources.common import SourceError
from store.sources.hf_api import hf_daily_url, parse_hf_api
from store.sources.hf_page import parse_hf_page
from store.sources.http import fetch_text
from store.sources.tabular import parse_csv, parse_jsonl

__all__ = [
    "FORMATS",
    "SAMPLE_PAGE_DATE",
    "SourceError",
    "detect_format",
    "fetch_hf_day",
    "hf_daily_url",
    "load_source",
    "sample_corpus_path",
]

FORMATS = ("hf-page", "hf-api", "arxiv", "jsonl", "csv")
SAMPLE_PAGE_DATE = date(2025, 11, 6)
SAMPLE_FILE = "hf_daily_papers_2025-11-06.txt"

_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".atom": "arxiv",
    ".xml": "arxiv",
}
_AUTHORS_LINE = re.compile(r"^\s*•\s*\d+\s+authors?\s*$", re.MULTILINE)


def sample_corpus_path() -> Path:
    """The bundled sample: a Daily Papers page copied from a browser (page date 2025-11-06)."""
    # store/data/ ships as package data of `store`, so this holds for an installed copy too.
    return Path(__file__).resolve().parent.parent / "data" / SAMPLE_FILE


def is_url(path_or_url: str) -> bool:
    return path_or_url.startswith(("http://", "https://"))


def detect_format(name: str, head: str) -> str:
    """The format of a source from its name (path or URL) and its first few kilobytes."""
    lowered = name.casefold()
    if is_url(lowered):
        if "/api/daily_papers" in lowered:
            return "hf-api"
        if "arxiv.org/api/query" in lowered or "/api/query?" in lowered:
            return "arxiv"
        lowered = lowered.split("?", 1)[0].split("#", 1)[0]
    suffix = Path(lowered).suffix
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    detected = sniff_format(head)
    if detected is None:
        raise SourceError(
            f"{name}: cannot tell the format from the name or content; "
            f"pass one of: {', '.join(FORMATS)}"
        )
    return detected


def sniff_format(head: str) -> str | None:
    """The format the content looks like, or None."""
    text = head.lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "arxiv" if "http://www.w3.org/2005/Atom" in text or "<feed" in text else None
    if text.startswith("["):
        return "hf-api"
    if text.startswith("{"):
        # One object per line is JSON Lines; a single (multi-line) object is an API paper.
        first_line = text.split("\n", 1)[0].strip()
        return "jsonl" if first_line.endswith("}") else "hf-api"
    first_line = text.split("\n", 1)[0].casefold()
    columns = [column.strip().strip('"') for column in re.split(r"[,\t]", first_line)]
    if "title" in columns and any(name in columns for name in ("abstract", "summary")):
        return "csv"
    if _AUTHORS_LINE.search(text) or "daily papers" in text[:500].casefold():
        return "hf-page"
    return None


def read_source_text(path_or_url: str, settings: SourceSettings) -> str:
    """The text of a file or URL; `SourceError` naming it when it cannot be read."""
    if is_url(path_or_url):
        return fetch_text(path_or_url, settings)
    path = Path(path_or_url).expanduser()
    if not path.exists():
        raise SourceError(f"{path_or_url}: no such file")
    if not path.is_file():
        raise SourceError(f"{path_or_url}: not a file")
    try:
        # utf-8-sig: spreadsheet exports often start with a byte order mark.
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path_or_url}: not UTF-8 text (byte {exc.start}: {exc.reason})"
        ) from exc
    except OSError as exc:
        raise SourceError(f"{path_or_url}: cannot read: {exc.strerror or exc}") from exc


def load_source(
    path_or_url: str,
    fmt: str | None = None,
    page_date: date | None = None,
    settings: SourceSettings | None = None,
) -> Iterator[Paper | Rejection]:
    """Every record of a file or URL as a `Paper`, or a `Rejection` saying where and why.

    `page_date` only matters for `hf-page` (dates there may lack a year); when not given it
    comes from a YYYY-MM-DD in the file name, else the page header, else today. The file or URL
    is read, and the format decided, before this returns, so a `SourceError` surfaces here.
    """
    if fmt is not None and fmt not in FORMATS:
        choices = ", ".join(FORMATS)
        raise SourceError(f"{path_or_url}: unknown format {fmt!r}; use one of: {choices}")
    settings = settings or SourceSettings()
    text = read_source_text(path_or_url, settings)
    fmt = fmt or detect_format(path_or_url, text[:8192])
    if fmt == "hf-page":
        return parse_hf_page(text, path_or_url, page_date)
    if fmt == "hf-api":
        return _checked(parse_hf_api(text, path_or_url))
    if fmt == "arxiv":
        return _checked(parse_arxiv(text, path_or_url))
    if fmt == "jsonl":
        return parse_jsonl(text, path_or_url)
    return _checked(parse_csv(text, path_or_url))


def _checked(records: Iterator[Paper | Rejection]) -> Iterator[Paper | Rejection]:
    """Run a parser up to its first record now, so a source-level error raises at call time."""
    try:
        first = next(records)
    except StopIteration:
        return iter(())

    def rest() -> Iterator[Paper | Rejection]:
        yield first
        yield from records

    return rest()


def fetch_hf_day(day: date, settings: SourceSettings) -> Iterator[Paper | Rejection]:
    """The papers Hugging Face listed on one day (none is an empty iterator, not an error)."""
    url = hf_daily_url(settings.hf_base_url, day)
    return _checked(parse_hf_api(fetch_text(url, settings), url))
