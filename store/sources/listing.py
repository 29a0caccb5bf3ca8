"""A period's listing of new papers, fetched by source spec.

- `daily-papers` (the default): the Hugging Face Daily Papers API, one request a day, days
  after today skipped (nothing is listed yet);
- `arxiv:CATEGORY` (e.g. `arxiv:cs.CL`): the arXiv API's listing of a category over the period
  (`cat:CATEGORY AND submittedDate:[start TO end]`, newest first), paged politely: `arxiv_page_size`
  entries a page, `arxiv_page_delay` seconds between pages, at most `arxiv_max_pages` pages, and
  it stops at the period's end: the last page (fewer entries than asked, or the feed's
  `totalResults` reached) or an entry older than the period's start.

Every request goes through `fetch_text`, under the shared retry policy. Each page comes back as a
`ListingPage` (the URL it came from and its records), so the caller ingests page by page.
"""

from __future__ import annotations

import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from store.config import RetrySettings, SourceSettings
from store.models import Paper, Rejection
from store.sources.arxiv import ArxivSource, feed_total
from store.sources.common import SourceError
from store.sources.hf_api import HFApiSource, hf_daily_url
from store.sources.http import fetch_text

log = logging.getLogger(__name__)

LISTING_SPECS = ("daily-papers", "arxiv:CATEGORY")
DEFAULT_LISTING = "daily-papers"
# arXiv archives and categories: cs.CL, math.AG, hep-th, astro-ph.CO, q-bio.NC, stat.ML ...
_ARXIV_CATEGORY = re.compile(r"^[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?$")


@dataclass
class ListingPage:
    """One request's worth of a listing: where it came from and its records."""

    source: str
    label: str
    records: list[Paper | Rejection]


class Listing(ABC):
    """A source of new papers over a period."""

    spec: str
    description: str

    @abstractmethod
    def pages(
        self,
        start: date,
        end: date,
        settings: SourceSettings,
        retry: RetrySettings | None = None,
        *,
        today: date | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Iterator[ListingPage]:
        """The listing of [start, end], one fetched page at a time."""


class DailyPapers(Listing):
    spec = "daily-papers"
    description = "Hugging Face Daily Papers"

    def pages(
        self,
        start: date,
        end: date,
        settings: SourceSettings,
        retry: RetrySettings | None = None,
        *,
        today: date | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Iterator[ListingPage]:
        last = min(end, today or date.today())
        day = start
        while day <= last:
            yield fetch_hf_day_page(day, settings, retry)
            day += timedelta(days=1)


class ArxivCategory(Listing):
    def __init__(self, category: str) -> None:
        self.category = category
        self.spec = f"arxiv:{category}"
        self.description = f"arXiv {category}"

    def url(self, base_url: str, start: date, end: date, offset: int, size: int) -> str:
        """The arXiv API query for entries `offset`.. of the category submitted in [start, end]."""
        query = f"cat:{self.category} AND submittedDate:[{start:%Y%m%d}0000 TO {end:%Y%m%d}2359]"
        params = {
            "search_query": query,
            "sortBy": "submittedDate",
            "sortOrder": "descending",
            "start": offset,
            "max_results": size,
        }
        return f"{base_url.rstrip('/')}/api/query?{urlencode(params)}"

    def pages(
        self,
        start: date,
        end: date,
        settings: SourceSettings,
        retry: RetrySettings | None = None,
        *,
        today: date | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Iterator[ListingPage]:
        size = settings.arxiv_page_size
        source = ArxivSource()
        for number in range(settings.arxiv_max_pages):
            if number:
                sleep(settings.arxiv_page_delay)
            offset = number * size
            url = self.url(settings.arxiv_base_url, start, end, offset, size)
            text = fetch_text(url, settings, retry)
            records = list(source.records(text, url))
            papers = [r for r in records if isinstance(r, Paper)]
            # The query bounds the dates already; this keeps a listing that ignores the bound
            # (or a paper re-dated between pages) inside the period too.
            kept: list[Paper | Rejection] = [
                r
                for r in records
                if not isinstance(r, Paper) or r.published is None or start <= r.published <= end
            ]
            yield ListingPage(source=url, label=f"{self.spec} page {number + 1}", records=kept)
            total = feed_total(text)
            if len(records) < size or (total is not None and offset + size >= total):
                return
            if any(p.published is not None and p.published < start for p in papers):
                return
        log.warning(
            "%s: stopped after arxiv_max_pages=%d pages of %d entries; the period has more "
            "(raise PAPERBRIEF_SOURCES__ARXIV_MAX_PAGES)",
            self.spec,
            settings.arxiv_max_pages,
            size,
        )


def parse_listing_spec(spec: str | None) -> Listing:
    """The listing a spec names: `daily-papers` (also the default) or `arxiv:CATEGORY`."""
    text = (spec or DEFAULT_LISTING).strip()
    if text in ("daily-papers", "hf", "huggingface"):
        return DailyPapers()
    if text.startswith("arxiv:"):
        category = text.removeprefix("arxiv:").strip()
        if _ARXIV_CATEGORY.match(category):
            return ArxivCategory(category)
        raise SourceError(
            f"{spec!r}: {category!r} is not an arXiv category (e.g. arxiv:cs.CL, arxiv:stat.ML)"
        )
    raise SourceError(
        f"unknown listing {spec!r}; use one of: {', '.join(LISTING_SPECS)} (e.g. arxiv:cs.CL)"
    )


def fetch_period(
    spec: str | None,
    start: date,
    end: date,
    settings: SourceSettings | None = None,
    retry: RetrySettings | None = None,
    *,
    today: date | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[ListingPage]:
    """The listing `spec` names over [start, end], page by page (see the module docstring).
    A bad spec raises `SourceError` here, before any request."""
    if end < start:
        raise SourceError(f"the period ends ({end}) before it starts ({start})")
    listing = parse_listing_spec(spec)
    return listing.pages(start, end, settings or SourceSettings(), retry, today=today, sleep=sleep)


def fetch_hf_day_page(
    day: date, settings: SourceSettings, retry: RetrySettings | None = None
) -> ListingPage:
    url = hf_daily_url(settings.hf_base_url, day)
    records = list(HFApiSource().records(fetch_text(url, settings, retry), url))
    return ListingPage(source=url, label=day.isoformat(), records=records)


def fetch_hf_day(
    day: date, settings: SourceSettings, retry: RetrySettings | None = None
) -> Iterator[Paper | Rejection]:
    """The papers Hugging Face listed on one day (none is an empty iterator, not an error)."""
    return iter(fetch_hf_day_page(day, settings, retry).records)
