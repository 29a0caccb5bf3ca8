"""JSON Lines: one paper object per line, fields as in `tabular.py`; blank lines skipped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

from store.models import Paper, Rejection
from store.sources.base import PaperSource
from store.sources.tabular import paper_or_rejection


class JsonLinesSource(PaperSource):
    name = "jsonl"
    extensions = (".jsonl", ".ndjson")
    eager = False  # every problem is a line's, reported as a rejection

    def sniff(self, head: str) -> bool:
        return head.startswith("{") and head.split("\n", 1)[0].strip().endswith("}")

    def parse(
        self, text: str, source: str, page_date: date | None = None
    ) -> Iterator[Paper | Rejection]:
        return parse_jsonl(text, source)


def parse_jsonl(text: str, source: str) -> Iterator[Paper | Rejection]:
    """Papers (and rejections) from JSON Lines: one object per line, blank lines skipped."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        location = f"line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            reason = f"invalid JSON: {exc.msg} (column {exc.colno})"
            yield Rejection(source=source, location=location, reason=reason)
            continue
        if not isinstance(record, dict):
            reason = f"expected a JSON object, found {type(record).__name__}"
            yield Rejection(source=source, location=location, reason=reason)
            continue
        yield paper_or_rejection(record, source, location)
