"""What a paper source is: the one base class every format implements (one file per format).

A source has a format `name` (what `--format` and `fmt=` take), says whether a URL is one of
its endpoints (`matches_url`), which file extensions it owns, whether content looks like it
(`sniff`, given the first few kilobytes) and parses text into `Paper` records and `Rejection`s
(`parse`). The registry of all of them is `store.sources.ALL_SOURCES`; detection asks them in
that order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import date
from typing import ClassVar

from store.models import Paper, Rejection


class PaperSource(ABC):
    name: ClassVar[str]
    """The format name, e.g. `arxiv`."""
    extensions: ClassVar[tuple[str, ...]] = ()
    """File extensions (lower case, with the dot) that mean this format."""
    eager: ClassVar[bool] = True
    """Whether `load_source` runs the parser up to its first record at call time, so a
    source-level error (not JSON, an error feed) raises there rather than mid-ingest."""

    def matches_url(self, url: str) -> bool:
        """Whether `url` (lower-cased) is an endpoint that serves this format."""
        return False

    @abstractmethod
    def sniff(self, head: str) -> bool:
        """Whether the first few kilobytes of a text (BOM and leading space removed) look
        like this format."""

    @abstractmethod
    def parse(
        self, text: str, source: str, page_date: date | None = None
    ) -> Iterator[Paper | Rejection]:
        """Papers, and rejections naming where and why, from the text of `source`."""

    def records(
        self, text: str, source: str, page_date: date | None = None
    ) -> Iterator[Paper | Rejection]:
        """`parse`, run to the first record now when the source is `eager`."""
        records = self.parse(text, source, page_date)
        if not self.eager:
            return records
        try:
            first = next(records)
        except StopIteration:
            return iter(())

        def rest() -> Iterator[Paper | Rejection]:
            yield first
            yield from records

        return rest()
