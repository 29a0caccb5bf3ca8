"""The typed results the Python API returns: answers, comparisons, recommendations, briefings.

These are the public contract that the CLI, the briefing job and the evals read. Every written
result carries its markdown, the ids it cites, the papers it retrieved, the mode that wrote it
and what it cost.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from store.models import IngestReport, Paper

Mode = Literal["llm", "offline"]


class Usage(BaseModel):
    llm_calls: int = Field(default=0, description="Requests that reached the LLM server")
    cached_calls: int = Field(default=0, description="Calls answered from the on-disk cache")
    retries: int = Field(default=0, description="Requests re-sent after a transient failure")
    repairs: int = Field(
        default=0, description="Requests asking the model to fix a reply that failed validation"
    )
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = Field(default=None, description="Estimate, when prices are configured")

    def add(self, other: Usage) -> None:
        self.llm_calls += other.llm_calls
        self.cached_calls += other.cached_calls
        self.retries += other.retries
        self.repairs += other.repairs
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        if other.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + other.cost_usd


class Source(BaseModel):
    """One entry of a result's numbered source list: `[n]` in the text cites it."""

    n: int
    paper_id: str
    title: str
    published: date | None = None
    url: str | None = None


class RemovedSentence(BaseModel):
    """A sentence the verifier removed, and why (kept so a reader can audit it)."""

    sentence: str
    reason: str


class WrittenResult(BaseModel):
    """What every written result shares."""

    markdown: str = Field(description="The result as Markdown, with its source list")
    citations: list[str] = Field(default_factory=list, description="Paper ids cited in the text")
    sources: list[Source] = Field(default_factory=list)
    retrieved: list[Paper] = Field(default_factory=list, description="Papers the agent retrieved")
    relevant: list[str] = Field(
        default_factory=list,
        description="Ids of the retrieved papers judged to bear on the request (relevance "
        "grading), best first: the writer cites from these; empty when none did",
    )
    mode: Mode
    usage: Usage = Field(default_factory=Usage)
    removed: list[RemovedSentence] = Field(default_factory=list)


class Answer(WrittenResult):
    question: str
    thread_id: str | None = None
    abstained: bool = Field(
        default=False, description="True when the papers do not cover the question"
    )
    closest: list[str] = Field(
        default_factory=list,
        description="When abstaining: ids of the papers search found closest (not cited)",
    )


class ComparisonRow(BaseModel):
    paper_id: str
    title: str
    problem: str = Field(description="The problem or task: a clean phrase or a whole sentence")
    approach: str = Field(description="What the method is or how it works")
    key_result: str = Field(description="The headline result with its numbers, as stated")
    needs_training: bool | None = Field(
        default=None, description="True/False when the abstract says, None when it does not"
    )
    code: str | None = Field(default=None, description="Code repository URL, if any")
    method: str | None = Field(
        default=None, description="The method's name (and acronym), when the abstract names it"
    )
    benchmark: str | None = Field(
        default=None, description="Where the headline result was measured, when stated"
    )


class Comparison(WrittenResult):
    query: str | None = None
    rows: list[ComparisonRow] = Field(default_factory=list)
    shared: list[str] = Field(default_factory=list, description="What the papers share")
    differences: list[str] = Field(default_factory=list, description="Where they differ")
    read_first: str | None = Field(default=None, description="Paper id to read first")
    read_first_reason: str | None = None


class Recommendation(BaseModel):
    paper: Paper
    score: float
    reason: str = Field(description="One sentence tying the paper to the reader's interests")
    relevance: float
    recency: float
    popularity: float
    interest: str | None = Field(
        default=None, description="The interest the paper is recommended for (None: liked only)"
    )
    evidence: float | None = Field(
        default=None,
        description="The relevance evidence (agent/relevance.py) that the paper bears on that "
        "interest, a probability; None without interests",
    )


class InterestMatch(BaseModel):
    """How the candidates matched one of the reader's interests."""

    interest: str
    matching: int = Field(description="Candidates whose evidence clears the floor for it")
    closest: list[str] = Field(
        default_factory=list,
        description="When none clears: ids of the candidates that came closest (best first)",
    )


class ReadingList(BaseModel):
    """Recommendations with what the reader must know about them: the interests no candidate
    matches, named in one line with the papers that came closest, instead of unrelated picks."""

    picks: list[Recommendation] = Field(default_factory=list)
    interests: list[InterestMatch] = Field(default_factory=list)
    unmatched: list[str] = Field(
        default_factory=list, description="Interests no candidate's evidence clears the floor for"
    )
    closest: list[str] = Field(
        default_factory=list,
        description="When there are no picks: ids of the papers that came closest (not picks)",
    )
    notice: str | None = Field(
        default=None,
        description="One line naming the unmatched interests and the papers closest to them",
    )

    @property
    def abstained(self) -> bool:
        """True when interests were given and no candidate matches any of them."""
        return not self.picks and bool(self.unmatched)


class Theme(BaseModel):
    name: str
    papers: list[Paper]
    summary: Comparison
    takeaways: dict[str, str] = Field(default_factory=dict, description="paper id -> one line")
    other: bool = Field(
        default=False,
        description="True for the week's other papers: those that fit no theme, listed last",
    )


class Briefing(BaseModel):
    start: date
    end: date
    themes: list[Theme] = Field(default_factory=list)
    picks: list[Recommendation] = Field(default_factory=list)
    trending: list[Paper] = Field(default_factory=list)
    updated: list[str] = Field(
        default_factory=list, description="Ids sent before whose abstract has since changed"
    )
    already_sent: list[str] = Field(
        default_factory=list, description="Ids sent in an earlier briefing, not presented as new"
    )
    mode: Mode
    notices: list[str] = Field(
        default_factory=list,
        description="What the reader must know about how it was written, shown in every "
        "rendering (e.g. takeaways written extractively after the LLM failed)",
    )
    picks_notice: str | None = Field(
        default=None,
        description="When an interest matches no paper of the period: says so and names the "
        "closest papers (shown under the top picks)",
    )
    usage: Usage = Field(default_factory=Usage)
    markdown: str = ""
    html: str = ""
    text: str = ""


class FetchReport(BaseModel):
    """What `PaperBrief.fetch` ingested from a period's listing: one ingest report a page."""

    source: str = Field(description="The listing spec, e.g. daily-papers or arxiv:cs.CL")
    description: str = Field(description="The listing by name, e.g. Hugging Face Daily Papers")
    pages: list[str] = Field(default_factory=list, description="What each request covered")
    reports: list[IngestReport] = Field(default_factory=list)
    papers: list[Paper] = Field(
        default_factory=list, description="Every paper listed, new, updated or unchanged"
    )

    def summary(self) -> str:
        added = sum(len(r.added) for r in self.reports)
        updated = sum(len(r.updated) for r in self.reports)
        rejected = sum(len(r.rejected) for r in self.reports)
        unit = "day(s)" if self.source == "daily-papers" else "page(s)"
        return (
            f"fetched {len(self.pages)} {unit} of {self.description}: {len(self.papers)} papers "
            f"({added} added, {updated} updated, {rejected} rejected)"
        )
