"""The Hugging Face Daily Papers page as text copied from a browser.

What a copy looks like (see `store/data/hf_daily_papers_2025-11-06.txt`): a few header lines
(`Daily Papers`, `byAK and the research community`, the page's date such as `Nov 6`), then per
paper a title line, one abstract paragraph and, for most papers, a footer:

    • 9 authors          (or the submitting organisation, e.g. `Salesforce Salesforce`)
    ·
    Aug 27 2             (date, then the upvote count when the page shows one)

Rules, decided here:
- A date without a year (`Aug 27`) is in the page's year, unless that would put it after the page
  date, in which case it is in the year before. A date with a year (`Dec 19, 2022`) is as given.
- The number after the date is the upvote count. When the page shows none, `upvotes` is None:
  the copied text cannot tell a hidden zero from a missing count, so we do not invent a 0.
- `• N authors` gives `author_count` only; the page lists no names. An organisation line gives
  neither (it names who submitted the paper, not who wrote it).
- A paper with no footer at all (the page shows some so) is kept, with no date or counts.
- The page has no arXiv ids, so the id is `paper_id_for(title)`; links are the code repositories
  and project pages named in the abstract, and a `paper` link to the Hugging Face paper search
  for the title (the copy keeps no direct link).
- A malformed entry (a title without an abstract, a `·` without a date, an impossible date)
  becomes a `Rejection` naming its line; the other papers still come through.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Literal
from urllib.parse import urlencode

from store.models import Link, Paper, Rejection, paper_id_for
from store.sources.base import PaperSource
from store.sources.common import build_paper, links_in_text

MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
HEADER_LINES = {
    "new",
    "get trending papers in your email inbox!",
    "subscribe",
    "daily papers",
    "byak and the research community",
    "by ak and the research community",
}
SEPARATOR = "·"
_DATE_LINE = re.compile(r"^([A-Z][a-z]{2}) (\d{1,2})(?:, (\d{4}))?(?: (\d+))?$")
_AUTHORS_LINE = re.compile(r"^(?:[•·*-]\s*)?(\d+)\s+authors?$")
_FILE_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# Abstracts run to hundreds of characters and several sentences; titles do not. Only used to
# decide which line is missing when titles and abstracts no longer alternate.
_ABSTRACT_MIN_CHARS = 250

Kind = Literal["text", "authors", "separator", "date"]


@dataclass(frozen=True)
class Line:
    number: int
    text: str
    kind: Kind


@dataclass
class Footer:
    author_count: int | None = None
    published: date | None = None
    upvotes: int | None = None
    error: str | None = None
    error_line: int | None = None


_PAGE_AUTHORS_LINE = re.compile(r"^\s*•\s*\d+\s+authors?\s*$", re.MULTILINE)


class HFPageSource(PaperSource):
    name = "hf-page"
    eager = False  # the page parser reads the whole text up front anyway

    def sniff(self, head: str) -> bool:
        return bool(_PAGE_AUTHORS_LINE.search(head)) or "daily papers" in head[:500].casefold()

    def parse(
        self, text: str, source: str, page_date: date | None = None
    ) -> Iterator[Paper | Rejection]:
        return parse_hf_page(text, source, page_date)


def classify(number: int, text: str) -> Line:
    if text == SEPARATOR:
        return Line(number, text, "separator")
    if _AUTHORS_LINE.match(text):
        return Line(number, text, "authors")
    if _DATE_LINE.match(text) and text[:3] in MONTHS:
        return Line(number, text, "date")
    return Line(number, text, "text")


def hf_paper_search_url(title: str) -> str:
    """The Hugging Face paper search for a title: the page gives no direct paper link."""
    return "https://huggingface.co/papers?" + urlencode({"q": title})


def resolve_date(month: int, day: int, year: int | None, page_date: date) -> date:
    """The full date of a footer date; a year-less date is never after the page date."""
    if year is not None:
        return date(year, month, day)
    try:
        candidate = date(page_date.year, month, day)
    except ValueError:
        candidate = None  # Feb 29 in a non-leap page year: try the year before
    if candidate is None or candidate > page_date:
        candidate = date(page_date.year - 1, month, day)
    return candidate


def parse_date_line(text: str, page_date: date) -> tuple[date, int | None]:
    """`Aug 27 2` -> (date, upvotes); ValueError naming what is wrong."""
    match = _DATE_LINE.match(text)
    if not match or match.group(1) not in MONTHS:
        raise ValueError(f"expected a date such as 'Aug 27' or 'Dec 19, 2022', found {text!r}")
    month = MONTHS[match.group(1)]
    year = int(match.group(3)) if match.group(3) else None
    upvotes = int(match.group(4)) if match.group(4) else None
    try:
        published = resolve_date(month, int(match.group(2)), year, page_date)
    except ValueError:
        raise ValueError(f"not a valid date: {text!r}") from None
    return published, upvotes


def infer_page_date(source: str, header_date: str | None, today: date) -> date:
    """The page date when none is given: a YYYY-MM-DD in the file name, else the header's
    month and day in the most recent year that is not after today, else today."""
    match = _FILE_DATE.search(source.rsplit("/", 1)[-1])
    if match:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
    if header_date:
        try:
            return parse_date_line(header_date, today)[0]
        except ValueError:
            pass
    return today


def split_header(lines: list[Line]) -> tuple[int, str | None]:
    """Where the papers start, and the header's date line (`Nov 6`) if the copy has one."""
    position = 0
    while position < len(lines) and lines[position].text.casefold() in HEADER_LINES:
        position += 1
    if position and position < len(lines) and lines[position].kind == "date":
        return position + 1, lines[position].text
    return position, None


def looks_like_abstract(text: str) -> bool:
    return len(text) >= _ABSTRACT_MIN_CHARS or text.count(". ") >= 2


def parse_hf_page(
    text: str, source: str, page_date: date | None = None, today: date | None = None
) -> Iterator[Paper | Rejection]:
    """Papers (and rejections) from a browser copy of a Daily Papers page."""
    raw_lines = text.splitlines()
    lines = [
        classify(number, stripped)
        for number, raw in enumerate(raw_lines, start=1)
        if (stripped := raw.strip())
    ]
    start, header_date = split_header(lines)
    if page_date is None:
        page_date = infer_page_date(source, header_date, today or date.today())
    yield from _parse_entries(lines[start:], source, page_date)


def _parse_entries(lines: list[Line], source: str, page_date: date) -> Iterator[Paper | Rejection]:
    position = 0
    while position < len(lines):
        # A run of text lines: title/abstract pairs of papers shown without a footer, then the
        # pair the footer below belongs to. A text line just above `·` is an organisation line.
        run: list[Line] = []
        while position < len(lines) and lines[position].kind == "text":
            next_is_separator = (
                position + 1 < len(lines) and lines[position + 1].kind == "separator"
            )
            if next_is_separator:
                break
            run.append(lines[position])
            position += 1
        footer_start = lines[position].number if position < len(lines) else None
        footer, position = _parse_footer(lines, position, page_date)
        if not run:
            if footer_start is not None:
                yield Rejection(
                    source=source,
                    location=f"line {footer_start}",
                    reason="paper details (authors, date) without a title and abstract above them",
                )
            continue
        yield from _papers_from_run(run, footer, source)


def _parse_footer(lines: list[Line], position: int, page_date: date) -> tuple[Footer, int]:
    footer = Footer()
    if position < len(lines) and lines[position].kind == "authors":
        match = _AUTHORS_LINE.match(lines[position].text)
        assert match is not None  # classified as authors by the same pattern
        footer.author_count = int(match.group(1))
        position += 1
    elif (
        position < len(lines)
        and lines[position].kind == "text"
        and position + 1 < len(lines)
        and lines[position + 1].kind == "separator"
    ):
        position += 1  # the submitting organisation: not an author list
    if position < len(lines) and lines[position].kind == "separator":
        separator = lines[position]
        position += 1
        if position >= len(lines):
            footer.error = "'·' at the end of the page, with no date after it"
            footer.error_line = separator.number
            return footer, position
        date_line = lines[position]
        position += 1
        try:
            footer.published, footer.upvotes = parse_date_line(date_line.text, page_date)
        except ValueError as exc:
            footer.error, footer.error_line = str(exc), date_line.number
    elif position < len(lines) and lines[position].kind == "date":
        date_line = lines[position]
        position += 1
        try:
            footer.published, footer.upvotes = parse_date_line(date_line.text, page_date)
        except ValueError as exc:
            footer.error, footer.error_line = str(exc), date_line.number
    return footer, position


def _papers_from_run(run: list[Line], footer: Footer, source: str) -> Iterator[Paper | Rejection]:
    index = 0
    while index < len(run):
        title = run[index]
        remaining = len(run) - index
        if looks_like_abstract(title.text) and remaining % 2 == 1:
            yield Rejection(
                source=source,
                location=f"line {title.number}",
                reason="abstract without a title line above it",
            )
            index += 1
            continue
        abstract = run[index + 1] if remaining >= 2 else None
        if abstract is None or (remaining % 2 == 1 and not looks_like_abstract(abstract.text)):
            yield Rejection(
                source=source,
                location=f"line {title.number}",
                reason=f"paper {title.text[:80]!r} has no abstract line after its title",
            )
            index += 1
            continue
        index += 2
        last = index == len(run)
        if last and footer.error:
            yield Rejection(
                source=source,
                location=f"line {footer.error_line}",
                reason=f"paper {title.text[:80]!r}: {footer.error}",
            )
            continue
        links = [Link(kind="paper", url=hf_paper_search_url(title.text))]
        links += links_in_text(abstract.text)
        yield build_paper(
            source,
            f"line {title.number}",
            id=paper_id_for(title.text),
            title=title.text,
            abstract=abstract.text,
            author_count=footer.author_count if last else None,
            published=footer.published if last else None,
            upvotes=footer.upvotes if last else None,
            links=links,
        )
