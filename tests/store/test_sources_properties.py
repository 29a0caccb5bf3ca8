"""Property tests of the source parsers: whatever a file holds, every record becomes a `Paper`
or a located `Rejection` (never an exception), and a `Paper` carries no control characters,
no field over its limit and no link that is not a plain http(s) URL."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from store.models import MAX_ABSTRACT_CHARS, MAX_TITLE_CHARS, Paper, Rejection, http_url
from store.sources.common import SourceError
from store.sources.csv import parse_csv
from store.sources.hf_api import parse_hf_api
from store.sources.jsonl import parse_jsonl

_HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "[x](javascript:alert(1))",
        "![i](https://t.example/p.png)",
        "\r\n",
        "\x00",
        "\x1b[31m",
        "[999]",
        '"><',
        "javascript:alert(1)",
        "https://github.com/a/b",
        'https://github.com/a/b"><script>',
        " ",
        "|",
    ]
)
TEXT = st.lists(st.one_of(_HOSTILE, st.text(max_size=6)), max_size=12).map("".join)
FIELD_VALUE = st.one_of(TEXT, st.none(), st.integers(-5, 5), st.lists(TEXT, max_size=3))
RECORD = st.fixed_dictionaries(
    {"title": TEXT, "abstract": TEXT},
    optional={
        "url": FIELD_VALUE,
        "code": FIELD_VALUE,
        "published": FIELD_VALUE,
        "upvotes": FIELD_VALUE,
        "authors": FIELD_VALUE,
        "id": FIELD_VALUE,
    },
)


def _check(records: list[Paper | Rejection]) -> None:
    for record in records:
        assert isinstance(record, Paper | Rejection)
        if isinstance(record, Rejection):
            assert record.location and record.reason
            continue
        for text in (record.title, record.abstract):
            assert not any(ord(c) < 32 and c not in "\t\r\n" for c in text), text
        assert len(record.title) <= MAX_TITLE_CHARS
        assert len(record.abstract) <= MAX_ABSTRACT_CHARS
        for link in record.links:
            assert http_url(link.url) == link.url, link


@settings(max_examples=150, deadline=None)
@given(st.lists(RECORD, min_size=1, max_size=5))
def test_any_jsonl_records_become_papers_or_located_rejections(
    records: list[dict[str, Any]],
) -> None:
    text = "".join(json.dumps(r) + "\n" for r in records)
    parsed = list(parse_jsonl(text, "hostile.jsonl"))
    assert len(parsed) == len(records)
    _check(parsed)


@settings(max_examples=150, deadline=None)
@given(st.lists(RECORD, min_size=1, max_size=5))
def test_any_csv_rows_become_papers_or_located_rejections(records: list[dict[str, Any]]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["title", "abstract", "url", "code", "published"])
    writer.writeheader()
    for record in records:
        writer.writerow(
            {k: record.get(k) for k in writer.fieldnames if isinstance(record.get(k), str)}
        )
    try:
        parsed = list(parse_csv(out.getvalue(), "hostile.csv"))
    except SourceError as exc:
        assert "hostile.csv" in str(exc)
        return
    _check(parsed)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.fixed_dictionaries({"paper": RECORD}, optional={"githubRepo": TEXT}), max_size=4)
)
def test_any_daily_papers_api_entries_become_papers_or_located_rejections(
    entries: list[dict[str, Any]],
) -> None:
    for entry in entries:
        entry["paper"]["summary"] = entry["paper"].pop("abstract")
    try:
        parsed = list(parse_hf_api(json.dumps(entries), "api.json"))
    except SourceError as exc:
        assert "api.json" in str(exc)
        return
    _check(parsed)


def test_a_code_field_that_is_not_a_plain_url_rejects_its_record_by_name() -> None:
    record = {"title": "T", "abstract": "A.", "code": 'https://github.com/x/y"><script>'}
    [rejection] = list(parse_jsonl(json.dumps(record) + "\n", "x.jsonl"))
    assert isinstance(rejection, Rejection)
    assert rejection.location == "line 1"
    assert "field 'code': not a plain http(s) URL" in rejection.reason


def test_oversized_fields_are_rejected_and_control_characters_dropped() -> None:
    records = [
        {"title": "Big", "abstract": "x" * (MAX_ABSTRACT_CHARS + 1)},
        {"title": "T" * (MAX_TITLE_CHARS + 1), "abstract": "A."},
        {"title": "Nul\x00 \x1b[0mTitle", "abstract": "Nul\x00 abstract."},
    ]
    text = "".join(json.dumps(r) + "\n" for r in records)
    big, long_title, nul = parse_jsonl(text, "x.jsonl")
    assert isinstance(big, Rejection) and "field 'abstract'" in big.reason
    assert f"over the limit of {MAX_ABSTRACT_CHARS:,}" in big.reason
    assert isinstance(long_title, Rejection) and "field 'title'" in long_title.reason
    assert isinstance(nul, Paper)
    assert nul.title == "Nul [0mTitle" and nul.abstract == "Nul abstract."
