"""CSV (or tab-separated) files with a header row; columns as in `tabular.py`."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date

from store.models import Paper, Rejection
from store.sources.base import PaperSource
from store.sources.common import SourceError
from store.sources.tabular import ABSTRACT_FIELDS, paper_or_rejection


class CsvSource(PaperSource):
    name = "csv"
    extensions = (".csv", ".tsv")

    def sniff(self, head: str) -> bool:
        first_line = head.split("\n", 1)[0].casefold()
        columns = [column.strip().strip('"') for column in re.split(r"[,\t]", first_line)]
        return "title" in columns and any(name in columns for name in ABSTRACT_FIELDS)

    def parse(
        self, text: str, source: str, page_date: date | None = None
    ) -> Iterator[Paper | Rejection]:
        return parse_csv(text, source)


def parse_csv(text: str, source: str) -> Iterator[Paper | Rejection]:
    """Papers (and rejections) from CSV with a header row (comma- or tab-separated)."""
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip().casefold() for name in (reader.fieldnames or [])]
    if not header:
        raise SourceError(f"{source}: empty CSV, no header row")
    missing = []
    if "title" not in header:
        missing.append("'title'")
    if not any(name in header for name in ABSTRACT_FIELDS):
        missing.append("'abstract' (or 'summary')")
    if missing:
        raise SourceError(
            f"{source}: line 1: the CSV header has no {' or '.join(missing)} column "
            f"(found: {', '.join(header)})"
        )
    next_start = reader.line_num + 1
    for row in reader:
        start, next_start = next_start, reader.line_num + 1
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        location = f"line {start}"
        if None in row:
            reason = f"{len(header) + len(row[None])} cells for {len(header)} columns"
            yield Rejection(source=source, location=location, reason=reason)
            continue
        yield paper_or_rejection(row, source, location)
