"""The records the store owns: papers, ingest reports and search hits.

Every source normalises into `Paper`; every consumer (search, agent, briefing, evals) reads
`Paper`. Identity and change detection live here so that every source computes them the same way.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, model_validator

LinkKind = Literal["paper", "code", "pdf", "project"]

_SPACE = re.compile(r"\s+")
# LaTeX residue that abstracts carry from arXiv sources and that pages render and copy badly:
# an escaped percent sign, and a multiplication sign whose backslash was lost ("22.58times").
_LATEX_PERCENT = re.compile(r"\\%")
_LOST_TIMES = re.compile(r"(?<=\d)(?:\\times|times)(?=\W|$)")
_ARXIV_ID = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$|^([a-z\-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")


# The largest title and abstract a source may bring in. Real abstracts stay under 2,000
# characters (arXiv's own limit is 1,920); these bounds keep every later step (embedding, BM25,
# sentence ranking, rendering) fast on hostile input, and a longer record is rejected by name.
MAX_TITLE_CHARS = 1_000
MAX_ABSTRACT_CHARS = 20_000

# In a URL: whitespace, quotes, angle brackets, backslash, backtick and control characters are
# never legitimate, and each could end an HTML attribute or a Markdown link.
_URL_FORBIDDEN = re.compile(r"[\s\"'<>\\`\x00-\x1f\x7f]")
MAX_URL_CHARS = 2048


def http_url(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) URL with a host and nothing that could break out of
    an HTML attribute or a Markdown link (parentheses percent-encoded); otherwise None.

    The one link check: sources keep only links that pass it, and every renderer checks again
    (`agent.markup.safe_url`), since a store may hold links from before the check.
    """
    if not url or len(url) > MAX_URL_CHARS or _URL_FORBIDDEN.search(url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return url.replace("(", "%28").replace(")", "%29")


def date_key(day: date) -> int:
    """`date(2025, 11, 6)` -> `20251106`: an int that orders like the date, for range filters."""
    return day.year * 10000 + day.month * 100 + day.day


def normalise_text(text: str) -> str:
    """Unicode-normalised text with runs of white space folded to one space and LaTeX residue
    (`14.2\\%`, `22.58times`) turned into what the author wrote (`14.2%`, `22.58x`)."""
    text = _LATEX_PERCENT.sub("%", unicodedata.normalize("NFKC", text))
    text = _LOST_TIMES.sub("x", text)
    return _SPACE.sub(" ", text).strip()


def normalise_title(title: str) -> str:
    """The form of a title used for identity: lower case, letters and digits only."""
    folded = normalise_text(title).casefold()
    return " ".join(re.findall(r"[^\W_]+", folded))


def bare_arxiv_id(raw: str) -> str | None:
    """`2508.19982v2` -> `2508.19982`; None when `raw` is not an arXiv id."""
    raw = raw.strip()
    for prefix in ("arXiv:", "arxiv:", "https://arxiv.org/abs/", "http://arxiv.org/abs/"):
        if raw.startswith(prefix):
            raw = raw[len(prefix) :]
    match = _ARXIV_ID.match(raw)
    if not match:
        return None
    return match.group(1) or match.group(3)


def paper_id_for(title: str, arxiv_id: str | None = None) -> str:
    """Stable id: the bare arXiv id when known, else `t-` and a hash of the normalised title."""
    if arxiv_id:
        bare = bare_arxiv_id(arxiv_id)
        if bare:
            return bare
    digest = hashlib.sha256(normalise_title(title).encode("utf-8")).hexdigest()
    return f"t-{digest[:16]}"


def content_hash_for(title: str, abstract: str) -> str:
    """Hash of exactly what is embedded, so a changed abstract is detected and re-embedded."""
    text = normalise_text(title) + "\n" + normalise_text(abstract)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Link(BaseModel):
    kind: LinkKind
    url: str


class Paper(BaseModel):
    """One paper as every part of paperbrief sees it."""

    id: str = Field(description="arXiv id when known, else 't-' + hash of the normalised title")
    title: str
    abstract: str
    authors: list[str] = Field(default_factory=list, description="Author names when known")
    author_count: int | None = Field(
        default=None, description="Number of authors (len(authors) when names are known)"
    )
    published: date | None = None
    upvotes: int | None = Field(default=None, description="Hugging Face upvotes, when known")
    links: list[Link] = Field(default_factory=list)
    source: str = Field(description="Where the record came from (file path or URL)")
    content_hash: str = ""

    @model_validator(mode="after")
    def _fill_derived(self) -> Paper:
        self.title = normalise_text(self.title)
        self.abstract = normalise_text(self.abstract)
        if not self.title:
            raise ValueError("title is empty")
        if not self.abstract:
            raise ValueError("abstract is empty")
        if self.authors and self.author_count is None:
            self.author_count = len(self.authors)
        if not self.content_hash:
            self.content_hash = content_hash_for(self.title, self.abstract)
        return self

    @property
    def url(self) -> str | None:
        """The paper's page (first `paper` link), if any."""
        return next((link.url for link in self.links if link.kind == "paper"), None)

    @property
    def code_urls(self) -> list[str]:
        return [link.url for link in self.links if link.kind == "code"]

    @property
    def has_code(self) -> bool:
        return bool(self.code_urls)

    @property
    def embed_text(self) -> str:
        """The text that is embedded and indexed: title, then abstract."""
        return f"{self.title}. {self.abstract}"


class Rejection(BaseModel):
    """A record that could not be ingested, and exactly where and why."""

    source: str = Field(description="File path or URL")
    location: str = Field(description="e.g. 'line 12', 'record 3', 'entry 5'")
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.location}: {self.reason}"


class IngestReport(BaseModel):
    source: str
    added: list[str] = Field(default_factory=list, description="Ids of new papers")
    updated: list[str] = Field(default_factory=list, description="Ids whose content changed")
    unchanged: list[str] = Field(default_factory=list)
    rejected: list[Rejection] = Field(default_factory=list)
    embedded: int = Field(default=0, description="Texts actually sent to the embedding model")
    sentences_embedded: int = Field(
        default=0, description="Abstract sentences sent to the embedding model (relevance evidence)"
    )
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.rejected)} rejected"
        )


class Hit(BaseModel):
    """A search result: the paper and its fused score (higher is better)."""

    paper: Paper
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
