"""Paper sources: read a file or URL in any supported format into `Paper` records.

One file per format, each a `PaperSource` (`base.py`: format name, URL match, extensions,
content sniffing, parser), all in one registry, `ALL_SOURCES`; adding a format is a file and a
line here. `load_source` is the one entry point ingest uses. It reads the file (or fetches the
URL, under the shared retry policy of `store/retry.py`), decides the format, and yields a
`Paper` for every good record and a `Rejection` (location and reason) for every bad one, so one
bad record never costs the rest of the file. Problems with the source as a whole (missing file,
HTTP failure, unknown format) raise `SourceError` at call time, naming the path or URL.

Formats (`FORMATS`): `hf-page` (a browser copy of the Hugging Face Daily Papers page),
`hf-api` (the Daily Papers API JSON), `arxiv` (arXiv API Atom), `jsonl` and `csv`.
Detection, when `fmt` is not given: the URL's shape (`/api/daily_papers`, arXiv `api/query`),
then the file extension, then the content itself, each asked of the sources in registry order.

A period's listing (`fetch_period`, in `listing.py`) is fetched by source spec: `daily-papers`
(one Daily Papers API request a day) or `arxiv:CATEGORY` (the arXiv API's listing, paged).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from store.config import RetrySettings, SourceSettings
from store.models import Paper, Rejection
from store.sources.arxiv import ArxivSource
from store.sources.base import PaperSource
from store.sources.common import SourceError
from store.sources.csv import CsvSource
from store.sources.hf_api import HFApiSource, hf_daily_url
from store.sources.hf_page import HFPageSource
from store.sources.http import fetch_text
from store.sources.jsonl import JsonLinesSource
from store.sources.listing import (
    LISTING_SPECS,
    Listing,
    ListingPage,
    fetch_hf_day,
    fetch_period,
    parse_listing_spec,
)

__all__ = [
    "ALL_SOURCES",
    "FORMATS",
    "LISTING_SPECS",
    "SAMPLE_PAGE_DATE",
    "Listing",
    "ListingPage",
    "PaperSource",
    "SourceError",
    "detect_format",
    "fetch_hf_day",
    "fetch_period",
    "hf_daily_url",
    "load_source",
    "parse_listing_spec",
    "sample_corpus_path",
    "source_for",
]

ALL_SOURCES: tuple[PaperSource, ...] = (
    HFPageSource(),
    HFApiSource(),
    ArxivSource(),
    JsonLinesSource(),
    CsvSource(),
)
"""Every format, in the order detection asks them (content sniffing of a browser-copied page is
the loosest, so it is asked last)."""
FORMATS = tuple(source.name for source in ALL_SOURCES)
_BY_NAME = {source.name: source for source in ALL_SOURCES}
_SNIFF_ORDER = sorted(ALL_SOURCES, key=lambda source: isinstance(source, HFPageSource))

SAMPLE_PAGE_DATE = date(2025, 11, 6)
SAMPLE_FILE = "hf_daily_papers_2025-11-06.txt"


def sample_corpus_path() -> Path:
    """The bundled sample: a Daily Papers page copied from a browser (page date 2025-11-06)."""
    # store/data/ ships as package data of `store`, so this holds for an installed copy too.
    return Path(__file__).resolve().parent.parent / "data" / SAMPLE_FILE


def is_url(path_or_url: str) -> bool:
    return path_or_url.startswith(("http://", "https://"))


def source_for(fmt: str, name: str = "") -> PaperSource:
    """The source of format `fmt`; `SourceError` naming `name` and the choices otherwise."""
    try:
        return _BY_NAME[fmt]
    except KeyError:
        prefix = f"{name}: " if name else ""
        raise SourceError(
            f"{prefix}unknown format {fmt!r}; use one of: {', '.join(FORMATS)}"
        ) from None


def detect_format(name: str, head: str) -> str:
    """The format of a source from its name (path or URL) and its first few kilobytes."""
    lowered = name.casefold()
    if is_url(lowered):
        for source in ALL_SOURCES:
            if source.matches_url(lowered):
                return source.name
        lowered = lowered.split("?", 1)[0].split("#", 1)[0]
    suffix = Path(lowered).suffix
    for source in ALL_SOURCES:
        if suffix and suffix in source.extensions:
            return source.name
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
    for source in _SNIFF_ORDER:
        if source.sniff(text):
            return source.name
    return None


def read_source_text(
    path_or_url: str, settings: SourceSettings, retry: RetrySettings | None = None
) -> str:
    """The text of a file or URL; `SourceError` naming it when it cannot be read."""
    if is_url(path_or_url):
        return fetch_text(path_or_url, settings, retry)
    path = Path(path_or_url).expanduser()
    if not path.exists():
        raise SourceError(f"{path_or_url}: no such file")
    if not path.is_file():
        raise SourceError(f"{path_or_url}: not a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path_or_url}: cannot read: {exc.strerror or exc}") from exc
    try:
        # utf-8-sig: spreadsheet exports often start with a byte order mark.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(
            f"{path_or_url}:{line}: not UTF-8 text (byte {exc.start}: {exc.reason}); "
            "save the file as UTF-8"
        ) from exc


def load_source(
    path_or_url: str,
    fmt: str | None = None,
    page_date: date | None = None,
    settings: SourceSettings | None = None,
    retry: RetrySettings | None = None,
) -> Iterator[Paper | Rejection]:
    """Every record of a file or URL as a `Paper`, or a `Rejection` saying where and why.

    `page_date` only matters for `hf-page` (dates there may lack a year); when not given it
    comes from a YYYY-MM-DD in the file name, else the page header, else today. The file or URL
    is read, and the format decided, before this returns, so a `SourceError` surfaces here.
    """
    if fmt is not None:
        source_for(fmt, path_or_url)
    settings = settings or SourceSettings()
    text = read_source_text(path_or_url, settings, retry)
    source = source_for(fmt or detect_format(path_or_url, text[:8192]), path_or_url)
    return source.records(text, path_or_url, page_date)
