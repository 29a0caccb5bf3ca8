"""What every source parser shares: the source-level error, link extraction from abstracts and
building a `Paper` or a `Rejection` from one record.

Keeping these in one place means a GitHub link in an arXiv summary and one in a CSV cell become
the same `Link`, and every parser reports a bad record in the same words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from store.errors import RecordError as RecordError  # re-exported for the parsers
from store.errors import SourceError as SourceError  # re-exported for the parsers
from store.models import (
    MAX_ABSTRACT_CHARS,
    MAX_TITLE_CHARS,
    Link,
    LinkKind,
    Paper,
    Rejection,
    http_url,
)

# Characters that end a URL inside prose: white space, brackets and quotes, and the `{` that
# LaTeX `\href{url}{text}` leaves behind in arXiv abstracts.
_URL = re.compile(r"https?://[^\s<>()\[\]{}\"'`|\\]+", re.IGNORECASE)
# C0 and C1 control characters other than tab, line feed and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_TRAILING = ".,;:!?*'\""
_CODE_HOSTS = ("github.com", "gitlab.com", "huggingface.co", "bitbucket.org", "codeberg.org")
# huggingface.co paths that are not repositories (models, datasets and spaces are).
_HF_NOT_REPOS = {"papers", "blog", "docs", "learn", "posts", "collections", "api", "login", "join"}


def clean_url(raw: str) -> str:
    """A URL cut out of prose, without the sentence punctuation that followed it."""
    url = raw.rstrip(_TRAILING)
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1].rstrip(_TRAILING)
    return url


def link_for_url(url: str) -> Link | None:
    """The kind of link a URL is: a code repository, or else a project page; None if unusable
    (not a plain http(s) URL, see `store.models.http_url`)."""
    checked = http_url(url)
    if checked is None:
        return None
    url = checked
    match = re.match(r"https?://(?:www\.)?([^/:?#]+)(?::\d+)?(/[^?#]*)?", url, re.IGNORECASE)
    if not match:
        return None
    host = match.group(1).lower()
    parts = [part for part in (match.group(2) or "").split("/") if part]
    kind: LinkKind = "project"
    if host in _CODE_HOSTS:
        # A repository needs an owner and a name; `github.com/owner` alone is a profile.
        if host == "huggingface.co":
            if parts and parts[0] in ("datasets", "spaces"):
                parts = parts[1:]
            elif parts and parts[0] in _HF_NOT_REPOS:
                return Link(kind="project", url=url)
        if len(parts) >= 2:
            kind = "code"
    return Link(kind=kind, url=url)


def links_in_text(text: str) -> list[Link]:
    """Code repositories and project pages mentioned in an abstract, in order, without repeats."""
    links: list[Link] = []
    for raw in _URL.findall(text):
        url = clean_url(raw)
        link = link_for_url(url)
        if link is not None:
            links.append(link)
    return merge_links(links)


def merge_links(links: list[Link]) -> list[Link]:
    """Links without repeats (same URL, ignoring a trailing slash and case of the host)."""
    seen: set[str] = set()
    merged: list[Link] = []
    for link in links:
        key = link.url.rstrip("/").lower()
        if key in seen:
            continue
        seen.add(key)
        merged.append(link)
    return merged


def parse_date(value: Any, field: str) -> date | None:
    """A date from ISO text (`2025-08-27`, `2025-08-27T17:59:24.000Z`) or None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            pass
    raise RecordError(f"field {field!r}: not a date: {value!r}")


def parse_count(value: Any, field: str) -> int | None:
    """A non-negative whole number from JSON or text, or None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise RecordError(f"field {field!r}: not a whole number: {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise RecordError(f"field {field!r}: not a whole number: {value!r}")
    if number < 0:
        raise RecordError(f"field {field!r}: negative: {value!r}")
    return number


def build_paper(source: str, location: str, **fields: Any) -> Paper | Rejection:
    """A `Paper` from parsed fields, or a `Rejection` at `location` saying which field is wrong
    (including a title or abstract over `MAX_TITLE_CHARS` / `MAX_ABSTRACT_CHARS`). Control
    characters (NUL, terminal escapes) are dropped from both: they are never paper text."""
    for name, limit in (("title", MAX_TITLE_CHARS), ("abstract", MAX_ABSTRACT_CHARS)):
        value = fields.get(name)
        if isinstance(value, str):
            value = fields[name] = _CONTROL.sub("", value)
        if isinstance(value, str) and len(value) > limit:
            return Rejection(
                source=source,
                location=location,
                reason=f"field {name!r}: {len(value):,} characters, over the limit of {limit:,}",
            )
    try:
        return Paper(source=source, **fields)
    except ValidationError as exc:
        return Rejection(source=source, location=location, reason=describe_validation(exc))


Entry = TypeVar("Entry")


def papers_from_entries(
    source: str, entries: Iterable[Entry], entry_fields: Callable[[Entry], dict[str, Any]]
) -> Iterator[Paper | Rejection]:
    """A `Paper` or a `Rejection` (located as `entry N`) for each entry of a feed or list."""
    for number, entry in enumerate(entries, start=1):
        location = f"entry {number}"
        try:
            fields = entry_fields(entry)
        except RecordError as exc:
            yield Rejection(source=source, location=location, reason=str(exc))
            continue
        yield build_paper(source, location, **fields)


def describe_validation(exc: ValidationError) -> str:
    """Pydantic's errors in one line: `field 'title': title is empty`."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"field {where!r}: {message}" if where else message)
    return "; ".join(problems)
