"""`paperbrief mcp`: the Model Context Protocol server, a thin client of `PaperBrief`.

Built on the official `mcp` SDK (2.x, `MCPServer`); the only module that imports it. Serves
over stdio (what desktop hosts start) or streamable HTTP. Every tool has typed arguments and
a typed result (structured content with the papers' ids and links, plus the Markdown a host
can show as is):

    search_papers  query, k, since/until, min_upvotes, has_code, diverse -> ranked papers
    get_paper      id -> the paper, its links and one-sentence takeaway
    ask            question, thread_id -> a cited answer (follow-ups on the same thread)
    compare        topic or paper_ids -> comparison table, shared points, differences
    recommend      interests, k, since/until, liked -> reading picks with reasons
    briefing       week or since/until, interests -> the briefing of that period
    ingest         source, format -> ingest report (only with serve.mcp_ingest: it writes)

The host's model as writer: when the client declares the `sampling` capability on a
handshake-era connection (protocol 2025-11-25 and earlier, what hosts speak today), ask,
compare, briefing and get_paper's takeaway are written by the host's model through
`sampling/createMessage` (`agent/sampling.py`), verified like any LLM draft, and their `writer`
field says so. Protocol 2026-07-28 deprecates sampling and allows no server-initiated request
inside a tool call, so there (and for clients without sampling, or with `llm.mode = "offline"`
or `serve.sampling = false`) the configured LLM or the offline writer writes, as in the CLI.

Errors a user can fix (unknown paper id, bad date, unreadable source...) come back as MCP tool
errors (`isError`) whose text says what was wrong; anything else is logged with its traceback.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Literal, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import (
    ClientCapabilities,
    SamplingCapability,
    SamplingMessage,
    TextContent,
    ToolAnnotations,
)
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from agent.api import PaperBrief
from agent.results import Answer, Briefing, Comparison, ReadingList, Recommendation, Source
from agent.sampling import SampleReply, SampleRequest, SamplingChat
from store.models import Hit, IngestReport, Paper

log = logging.getLogger(__name__)

R = TypeVar("R")

SERVER_NAME = "paperbrief"
INSTRUCTIONS = (
    "paperbrief answers from the paper abstracts in its store. Use search_papers to find "
    "papers, get_paper for one paper, ask for a cited answer (pass the returned thread_id to "
    "follow up), compare for a comparison, recommend for reading picks and briefing for a "
    "week's digest. Every [n] in an answer refers to its sources list, which links the papers."
)
_NO_MIDCALL_REQUESTS = "2026-07-28"
"""First protocol revision without server-initiated requests inside a tool call."""


# -- typed results --------------------------------------------------------------------------


class PaperCard(BaseModel):
    """A stored paper, with the links a reader follows."""

    id: str
    title: str
    abstract: str
    authors: list[str] = Field(default_factory=list)
    published: date | None = None
    upvotes: int | None = None
    url: str | None = Field(default=None, description="The paper's page")
    code_urls: list[str] = Field(default_factory=list)


class Citation(BaseModel):
    """One entry of a result's source list: `[n]` in its Markdown cites `paper_id`."""

    n: int
    paper_id: str
    title: str
    published: date | None = None
    url: str | None = None


class SearchResult(BaseModel):
    query: str
    hits: list[ScoredPaper]


class ScoredPaper(BaseModel):
    rank: int
    score: float
    paper: PaperCard


class PaperResult(BaseModel):
    paper: PaperCard
    takeaway: str = Field(description="One-sentence takeaway")
    writer: str = Field(description="Who wrote the takeaway")


class AnswerResult(BaseModel):
    question: str
    markdown: str = Field(description="The answer with [n] citations and its source list")
    thread_id: str | None = Field(description="Pass back as thread_id to ask a follow-up")
    abstained: bool = Field(description="True when the stored papers do not cover the question")
    citations: list[Citation]
    removed: list[str] = Field(
        default_factory=list, description="Sentences the verifier removed, with why"
    )
    writer: str = Field(description="Who wrote it: host model, configured LLM or offline writer")


class ComparisonTableRow(BaseModel):
    paper_id: str
    title: str
    problem: str
    approach: str
    key_result: str
    needs_training: bool | None = None
    code: str | None = None
    url: str | None = None


class ComparisonResult(BaseModel):
    markdown: str
    rows: list[ComparisonTableRow]
    shared: list[str]
    differences: list[str]
    read_first: str | None = None
    read_first_reason: str | None = None
    citations: list[Citation]
    removed: list[str] = Field(default_factory=list)
    writer: str


class Pick(BaseModel):
    paper: PaperCard
    score: float
    reason: str


class RecommendResult(BaseModel):
    picks: list[Pick]
    unmatched: list[str] = Field(
        default_factory=list, description="Interests no stored paper matches (no picks for them)"
    )
    notice: str | None = Field(
        default=None, description="One line naming the unmatched interests and the closest papers"
    )


class BriefingTheme(BaseModel):
    name: str
    summary: str = Field(description="The theme's cited comparison, Markdown")
    papers: list[Citation]


class BriefingResult(BaseModel):
    start: date
    end: date
    markdown: str
    themes: list[BriefingTheme]
    picks: list[Pick]
    picks_notice: str | None = Field(
        default=None, description="When an interest matches no paper of the period: says so"
    )
    trending: list[PaperCard]
    already_sent: list[str] = Field(default_factory=list)
    writer: str


class IngestResult(BaseModel):
    source: str
    summary: str
    added: list[str]
    updated: list[str]
    unchanged: int
    rejected: list[str]


SearchResult.model_rebuild()


def card(paper: Paper) -> PaperCard:
    return PaperCard(
        id=paper.id,
        title=paper.title,
        abstract=paper.abstract,
        authors=paper.authors,
        published=paper.published,
        upvotes=paper.upvotes,
        url=paper.url,
        code_urls=paper.code_urls,
    )


def citations(sources: Sequence[Source]) -> list[Citation]:
    return [
        Citation(n=s.n, paper_id=s.paper_id, title=s.title, published=s.published, url=s.url)
        for s in sources
    ]


def answer_result(answer: Answer, writer: str) -> AnswerResult:
    return AnswerResult(
        question=answer.question,
        markdown=answer.markdown,
        thread_id=answer.thread_id,
        abstained=answer.abstained,
        citations=citations(answer.sources),
        removed=[f"{r.sentence} ({r.reason})" for r in answer.removed],
        writer=writer,
    )


def comparison_result(comparison: Comparison, writer: str) -> ComparisonResult:
    urls = {p.id: p.url for p in comparison.retrieved}
    return ComparisonResult(
        markdown=comparison.markdown,
        rows=[
            ComparisonTableRow(**row.model_dump(), url=urls.get(row.paper_id))
            for row in comparison.rows
        ],
        shared=comparison.shared,
        differences=comparison.differences,
        read_first=comparison.read_first,
        read_first_reason=comparison.read_first_reason,
        citations=citations(comparison.sources),
        removed=[f"{r.sentence} ({r.reason})" for r in comparison.removed],
        writer=writer,
    )


def picks(recommendations: Sequence[Recommendation]) -> list[Pick]:
    return [Pick(paper=card(r.paper), score=r.score, reason=r.reason) for r in recommendations]


def briefing_result(briefing: Briefing, writer: str) -> BriefingResult:
    return BriefingResult(
        start=briefing.start,
        end=briefing.end,
        markdown=briefing.markdown,
        themes=[
            BriefingTheme(
                name=theme.name,
                summary=theme.summary.markdown,
                papers=[
                    Citation(n=n, paper_id=p.id, title=p.title, published=p.published, url=p.url)
                    for n, p in enumerate(theme.papers, start=1)
                ],
            )
            for theme in briefing.themes
        ],
        picks=picks(briefing.picks),
        picks_notice=briefing.picks_notice,
        trending=[card(p) for p in briefing.trending],
        already_sent=briefing.already_sent,
        writer=writer,
    )


def ingest_result(report: IngestReport) -> IngestResult:
    return IngestResult(
        source=report.source,
        summary=report.summary(),
        added=report.added,
        updated=report.updated,
        unchanged=len(report.unchanged),
        rejected=[str(r) for r in report.rejected],
    )


def writer_of(pb: PaperBrief) -> str:
    """Who writes for `pb`: the host's model, the configured LLM, or the offline writer."""
    llm = pb.chat_llm
    if llm is None:
        return "offline extractive writer"
    if isinstance(llm, SamplingChat):
        return f"host model via MCP sampling ({llm.model})"
    return f"configured LLM ({llm.model})"


# -- the server -----------------------------------------------------------------------------


class Tools:
    """The tools over one `PaperBrief`; each runs the blocking API call in a worker thread."""

    def __init__(self, pb: PaperBrief) -> None:
        self.pb = pb

    async def run(self, ctx: Context | None, work: Callable[[PaperBrief], R]) -> R:
        """`work(pb)` in a worker thread, with the host's model as writer when it can lend it;
        errors a user can fix become tool errors with their message."""
        from agent.errors import USER_ERRORS

        brief, borrowed = self._brief_for(ctx)
        try:
            return await anyio.to_thread.run_sync(lambda: work(brief))
        except USER_ERRORS as exc:
            raise ToolError(str(exc)) from exc
        finally:
            if borrowed:
                brief.close()

    def _brief_for(self, ctx: Context | None) -> tuple[PaperBrief, bool]:
        """The `PaperBrief` to use for this call, and whether it was made for it (to close)."""
        session = _sampling_session(ctx, self.pb) if ctx is not None else None
        if session is None or ctx is None:
            return self.pb, False
        settings = self.pb.settings
        request_id = ctx.request_id

        async def sample(request: SampleRequest) -> SampleReply:
            messages = [
                SamplingMessage(
                    role="assistant" if m["role"] == "assistant" else "user",
                    content=TextContent(type="text", text=m["content"]),
                )
                for m in request.messages
            ]
            result = await session.create_message(
                messages,
                max_tokens=request.max_tokens,
                system_prompt=request.system,
                temperature=request.temperature,
                related_request_id=request_id,
            )
            content = result.content
            text = content.text if isinstance(content, TextContent) else ""
            if not text:
                raise RuntimeError(f"the host replied with {content.type} content, not text")
            return SampleReply(text=text, model=result.model)

        llm = SamplingChat(
            sample,
            asyncio.get_running_loop(),
            max_tokens=settings.llm.max_tokens,
            temperature=settings.llm.temperature,
            timeout=settings.serve.sampling_timeout,
        )
        brief = PaperBrief(
            settings=settings, embedder=self.pb.embedder, store=self.pb.store, llm=llm
        )
        # Share the loaded search snapshot (papers, BM25) instead of building another.
        brief.searcher = self.pb.searcher
        return brief, True


def _sampling_session(ctx: Context, pb: PaperBrief) -> Any | None:
    """The client session when its host can write for us in this call, else None."""
    if not pb.settings.serve.sampling or pb.settings.llm.mode == "offline":
        return None
    version = ctx.protocol_version
    if version is not None and is_version_at_least(version, _NO_MIDCALL_REQUESTS):
        return None
    session = ctx.session
    if not session.check_client_capability(ClientCapabilities(sampling=SamplingCapability())):
        return None
    return session


def _date(value: str | None, name: str) -> date | None:
    from agent.api import as_date

    try:
        return as_date(value, name)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc


READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)


def build_server(pb: PaperBrief, *, allow_ingest: bool | None = None) -> MCPServer:
    """The MCP server over `pb`; `allow_ingest` (default `serve.mcp_ingest`) adds `ingest`."""
    # Sampling is deprecated by the 2026-07-28 revision only, which `_sampling_session` never
    # samples on; on the handshake-era connections it serves it is the protocol's own feature.
    warnings.filterwarnings("ignore", "The sampling capability", MCPDeprecationWarning)
    server: MCPServer = MCPServer(SERVER_NAME, instructions=INSTRUCTIONS, log_level="WARNING")
    tools = Tools(pb)

    @server.tool(annotations=READ_ONLY)
    async def search_papers(
        query: str,
        k: int = 10,
        since: str | None = None,
        until: str | None = None,
        min_upvotes: int | None = None,
        has_code: bool | None = None,
        diverse: bool = False,
    ) -> SearchResult:
        """Search the stored papers (hybrid dense + keyword), best first.

        since/until: published date bounds, YYYY-MM-DD. min_upvotes: at least this many
        Hugging Face upvotes. has_code: only papers with (true) or without (false) a code link.
        diverse: spread the results over different topics.
        """
        if not query.strip():
            raise ToolError("query is empty")
        if not 1 <= k <= 100:
            raise ToolError(f"k must be between 1 and 100, not {k}")
        start, end = _date(since, "since"), _date(until, "until")

        def work(brief: PaperBrief) -> list[Hit]:
            return brief.search(
                query,
                k=k,
                since=start,
                until=end,
                min_upvotes=min_upvotes,
                has_code=has_code,
                diverse=diverse,
            )

        hits = await tools.run(None, work)
        return SearchResult(
            query=query,
            hits=[
                ScoredPaper(rank=rank, score=round(hit.score, 4), paper=card(hit.paper))
                for rank, hit in enumerate(hits, start=1)
            ],
        )

    @server.tool(annotations=READ_ONLY)
    async def get_paper(paper_id: str, ctx: Context) -> PaperResult:
        """A stored paper by id: title, abstract, authors, date, links and its takeaway."""

        def work(brief: PaperBrief) -> PaperResult:
            paper = brief.paper(paper_id.strip())
            return PaperResult(
                paper=card(paper), takeaway=brief.tldr(paper), writer=writer_of(brief)
            )

        return await tools.run(ctx, work)

    @server.tool(annotations=READ_ONLY)
    async def ask(question: str, ctx: Context, thread_id: str | None = None) -> AnswerResult:
        """A direct answer from the stored abstracts; every factual sentence cites its papers
        as [n], listed in `citations`. Pass the returned thread_id to ask a follow-up."""
        if not question.strip():
            raise ToolError("question is empty")

        def work(brief: PaperBrief) -> AnswerResult:
            answer = brief.ask(question, thread_id=thread_id or None)
            return answer_result(answer, writer_of(brief))

        return await tools.run(ctx, work)

    @server.tool(annotations=READ_ONLY)
    async def compare(
        ctx: Context, topic: str | None = None, paper_ids: list[str] | None = None
    ) -> ComparisonResult:
        """Compare the papers on a topic, or exactly the papers named by paper_ids: a table
        (problem, approach, key result, needs training, code), what they share, where they
        differ and which to read first."""
        if not (topic and topic.strip()) and not paper_ids:
            raise ToolError("give a topic or a list of paper_ids to compare")

        def work(brief: PaperBrief) -> ComparisonResult:
            return comparison_result(brief.compare(topic, paper_ids=paper_ids), writer_of(brief))

        return await tools.run(ctx, work)

    @server.tool(annotations=READ_ONLY)
    async def recommend(
        interests: list[str],
        k: int = 5,
        since: str | None = None,
        until: str | None = None,
        liked: list[str] | None = None,
    ) -> RecommendResult:
        """The k stored papers most worth reading for these interests (and like the liked
        paper ids), ranked by relevance, recency and upvotes, each with a reason. An interest
        no stored paper matches gets no picks and is named in `unmatched` and `notice`."""
        wanted = [i for i in interests if i.strip()]
        if not wanted:
            raise ToolError("give at least one interest")
        if not 1 <= k <= 50:
            raise ToolError(f"k must be between 1 and 50, not {k}")
        start, end = _date(since, "since"), _date(until, "until")

        def work(brief: PaperBrief) -> ReadingList:
            return brief.reading_list(wanted, k=k, since=start, until=end, liked=liked)

        reading = await tools.run(None, work)
        return RecommendResult(
            picks=picks(reading.picks), unmatched=reading.unmatched, notice=reading.notice
        )

    @server.tool(annotations=READ_ONLY)
    async def briefing(
        ctx: Context,
        week: str | None = None,
        since: str | None = None,
        until: str | None = None,
        interests: list[str] | None = None,
    ) -> BriefingResult:
        """The briefing of a period: themes with cited comparisons and takeaways, top picks
        for the interests, and the most upvoted papers. week: an ISO week such as 2025-W21;
        or since/until (YYYY-MM-DD); default: the last complete week."""
        from agent.periods import resolve_period

        start, end = _date(since, "since"), _date(until, "until")
        try:
            first, last = resolve_period(week, start, end)
        except ValueError as exc:
            raise ToolError(str(exc)) from exc

        def work(brief: PaperBrief) -> BriefingResult:
            built = brief.briefing(first, last, interests or None)
            return briefing_result(built, writer_of(brief))

        return await tools.run(ctx, work)

    if pb.settings.serve.mcp_ingest if allow_ingest is None else allow_ingest:

        @server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False))
        async def ingest(
            source: str,
            format: Literal["hf-page", "hf-api", "arxiv", "jsonl", "csv"] | None = None,
            page_date: str | None = None,
        ) -> IngestResult:
            """Add or update the papers of a file path or URL in the store (idempotent).
            format is detected when omitted; page_date (YYYY-MM-DD) dates a Daily Papers page.
            """
            day = _date(page_date, "page_date")

            def work(brief: PaperBrief) -> IngestReport:
                return brief.ingest(source, fmt=format, page_date=day)

            return ingest_result(await tools.run(None, work))

    return server


def run_stdio(pb: PaperBrief, *, allow_ingest: bool | None = None) -> None:
    """Serve MCP on stdin/stdout until the client closes them."""
    build_server(pb, allow_ingest=allow_ingest).run("stdio")


def http_app(pb: PaperBrief, *, allow_ingest: bool | None = None, host: str = "127.0.0.1") -> Any:
    """The streamable HTTP MCP app (an ASGI app serving `/mcp`)."""
    return build_server(pb, allow_ingest=allow_ingest).streamable_http_app(host=host)
