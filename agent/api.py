"""`PaperBrief`: the public Python API. The CLI, chat, briefing job and evals are its clients.

The constructor wires the parts together once: settings, embedder, Chroma store, searcher and an
optional LLM, every one of them injectable. Each feature (ingest, search, ask, compare,
recommend, briefing...) is a method that uses those attributes, so adding one is a method here
and the module that does the work.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx
from pydantic import BaseModel

from agent.errors import PaperNotFoundError, StoreError
from agent.inputs import (
    check_interests,
    check_k,
    check_min_upvotes,
    check_paper_ids,
    check_text,
    check_thread_id,
)
from agent.results import (
    Answer,
    Briefing,
    Comparison,
    FetchReport,
    Mode,
    ReadingList,
    Recommendation,
    Usage,
)
from agent.settings import Settings, load_settings
from agent.writers import Writer
from store.chroma import PaperStore
from store.embeddings import Embedder, make_embedder
from store.ingest import ProgressCallback, VectorCache, ingest_items
from store.models import Hit, IngestReport, Paper, Rejection
from store.search import Searcher, SearchMode
from store.sentences import SentenceVectors

if TYPE_CHECKING:
    from agent.briefing import BriefingDeps, Delivery
    from agent.doctor import DoctorReport
    from agent.graph import Agent
    from agent.llm import ChatLLM, OpenAIChat
    from agent.nodes import AgentDeps
    from agent.relevance import RelevanceJudge

DateLike = date | str | None

log = logging.getLogger(__name__)


def as_date(value: DateLike, name: str = "date") -> date | None:
    """A `date` from a `date` or an ISO `YYYY-MM-DD` string; None stays None."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a date (expected YYYY-MM-DD)") from None


class PaperBrief:
    """Reads paper abstracts for you. Start with `ingest` (or `ingest_sample`), then `search`."""

    def __init__(
        self,
        data_dir: str | Path | None = None,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        store: PaperStore | None = None,
        llm: object | None = None,
    ) -> None:
        settings = settings if settings is not None else load_settings()
        if data_dir is not None:
            settings = settings.model_copy(update={"data_dir": Path(data_dir).expanduser()})
        self.settings: Settings = settings
        self.data_dir: Path = settings.data_dir
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.embedder: Embedder = (
            embedder if embedder is not None else make_embedder(settings.embedding, settings.retry)
        )
        self.store: PaperStore = (
            store
            if store is not None
            else PaperStore.open(
                settings.store, self.data_dir, self.embedder.name, self.embedder.dim
            )
        )
        self.searcher = Searcher(self.store, self.embedder, settings.search)
        self.llm = llm
        self._cache: VectorCache | None = None
        self._sentences: SentenceVectors | None = None
        self._relevance: RelevanceJudge | None = None
        self._agent: Agent | None = None
        self._settings_llm: OpenAIChat | None = None
        self._writer: Writer | None = None

    def __repr__(self) -> str:
        return f"PaperBrief(data_dir={str(self.data_dir)!r}, embedder={self.embedder.name!r})"

    def close(self) -> None:
        """Close the embedding cache, the chat threads' database and the LLM client this object
        built (an injected LLM belongs to its owner); the store needs no closing."""
        if self._cache is not None:
            self._cache.close()
            self._cache = None
        if self._agent is not None:
            self._agent.close()
            self._agent = None
        if self._settings_llm is not None:
            self._settings_llm.close()
            self._settings_llm = None
            self._writer = None  # it wrote with the client just closed; rebuilt on next use

    @property
    def chat_llm(self) -> ChatLLM | None:
        """The LLM that writes in the configured mode, or None for the offline writer.

        The injected `llm` wins; otherwise one is built from `settings.llm` when the settings
        configure it (auto mode) or require it (llm mode), with its response cache in the data
        dir. `settings.llm.mode == "offline"` always gives None.
        """
        if self.settings.llm.mode == "offline":
            return None
        if self.llm is not None:
            return cast("ChatLLM", self.llm)
        if not self.settings.llm.use_llm:
            return None
        if self._settings_llm is None:
            from agent.llm import OpenAIChat

            self._settings_llm = OpenAIChat.from_settings(
                self.settings.llm, cache_dir=self.data_dir / "llm-cache", retry=self.settings.retry
            )
        return self._settings_llm

    @property
    def writer(self) -> Writer:
        """The writer every answer, comparison, takeaway and briefing is written with.

        The one place the mode is decided: the LLM writer over `chat_llm` when there is one
        (`settings.llm.pipeline = "lean"`: the extractive writer's reading with the LLM
        writing, see `agent/writers/lean.py`), else the extractive writer. Decided on first
        use, then fixed for this object.
        """
        if self._writer is None:
            llm = self.chat_llm
            if llm is None:
                from agent.writers.extractive import ExtractiveWriter

                self._writer = ExtractiveWriter(self.relevance)
            else:
                from agent.writers.llm import LLMWriter

                self._writer = LLMWriter(llm)
                if self.settings.llm.pipeline == "lean":
                    from agent.writers.extractive import ExtractiveWriter
                    from agent.writers.lean import LeanWriter

                    self._writer = LeanWriter(ExtractiveWriter(self.relevance), self._writer)
        return self._writer

    @property
    def mode(self) -> Mode:
        """`"llm"` or `"offline"`: the writer results are written with (see `writer`)."""
        return self.writer.mode

    def llm_usage(self) -> Usage | None:
        """What the LLM client has spent since this object was made (calls, retries, repairs,
        tokens, cost), failed calls included; None offline or for an LLM that does not count."""
        llm = self.llm if self.llm is not None else self._settings_llm
        total = getattr(llm, "usage_total", None)
        return total if isinstance(total, Usage) else None

    def __enter__(self) -> PaperBrief:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def embedding_cache(self) -> VectorCache:
        """The content-hash embedding cache under the data directory (opened on first use)."""
        if self._cache is None:
            from store.embed_cache import EmbeddingCache

            self._cache = EmbeddingCache(self.data_dir / "embeddings.sqlite")
        return self._cache

    @property
    def sentence_vectors(self) -> SentenceVectors:
        """Vectors of the abstracts' sentences, cached beside the papers' own (see
        `store/sentences.py`): the sentence-level relevance evidence."""
        if self._sentences is None:
            from agent.text import split_sentences

            self._sentences = SentenceVectors(self.embedding_cache, self.embedder, split_sentences)
        return self._sentences

    @property
    def relevance(self) -> RelevanceJudge:
        """The calibrated relevance decision over this store (see `agent/relevance.py`): which
        retrieved papers bear on a question, which sentences answer it, when to abstain."""
        if self._relevance is None:
            from agent.relevance import RelevanceJudge, model_for

            self._relevance = RelevanceJudge(
                embed=self.embedder.embed,
                paper_vectors=self.store.vectors,
                sentence_vectors=self.sentence_vectors.for_papers,
                lexical_shares=self.searcher.lexical_shares,
                model=model_for(self.embedder.name),
            )
        return self._relevance

    # -- ingest -------------------------------------------------------------------------------

    def ingest(
        self,
        path_or_url: str | Path,
        fmt: str | None = None,
        page_date: DateLike = None,
        progress: bool | ProgressCallback | None = None,
    ) -> IngestReport:
        """Add or update the papers of a file or URL; idempotent, and resumable if interrupted.

        `fmt` is one of `store.sources.FORMATS` (detected when None); `page_date` dates the
        papers of a Daily Papers page. `progress=True` draws a progress bar on stderr; a callable
        is called with (written, total) after each batch. Rejected records are listed in the
        report, never raised; a source that cannot be read at all raises `SourceError`.
        """
        from store.sources import load_source

        source = str(path_or_url)
        items = load_source(
            source,
            fmt=fmt,
            page_date=as_date(page_date, "page_date"),
            settings=self.settings.sources,
            retry=self.settings.retry,
        )
        return self._ingest_items(items, source, progress)

    def _ingest_items(
        self,
        items: Iterable[Paper | Rejection],
        source: str,
        progress: bool | ProgressCallback | None = None,
    ) -> IngestReport:
        with _progress_for(progress, source) as callback:
            try:
                return ingest_items(
                    items,
                    self.store,
                    self.embedder,
                    source=source,
                    cache=self.embedding_cache,
                    sentences=self.sentence_vectors,
                    batch_size=self.settings.embedding.batch_size * 4,
                    progress=callback,
                )
            except httpx.TransportError as exc:
                # Only the Chroma HTTP client talks to a server during an ingest of a local
                # file; a URL source's own failures arrive as SourceError.
                where = self.settings.store.chroma_url or "the Chroma server"
                raise StoreError(
                    f"{where} stopped answering during the ingest of {source} "
                    f"({type(exc).__name__}: {exc}); papers written before are kept: start the "
                    "server and run the same ingest again, it resumes where it stopped"
                ) from exc

    def fetch(
        self,
        source: str | None = None,
        since: DateLike = None,
        until: DateLike = None,
        *,
        today: DateLike = None,
    ) -> FetchReport:
        """Ingest the papers a listing announced over [since, until]; what `brief --fetch` runs.

        `source` is a listing spec (`store.sources.LISTING_SPECS`): `daily-papers` (the default:
        the Hugging Face Daily Papers API, one request a day, days after `today` skipped) or
        `arxiv:CATEGORY` such as `arxiv:cs.CL` (the arXiv API's listing, paged politely). Every
        paper listed comes back in the report, since a paper listed this week may carry an
        earlier arXiv date and would otherwise miss this week's briefing (`briefing(include=)`).
        """
        from store.sources import fetch_period, parse_listing_spec

        start, end = as_date(since, "since"), as_date(until, "until")
        if start is None or end is None:
            raise ValueError("fetching a listing needs a start and an end date")
        listing = parse_listing_spec(source)
        report = FetchReport(source=listing.spec, description=listing.description)
        pages = fetch_period(
            listing.spec,
            start,
            end,
            self.settings.sources,
            self.settings.retry,
            today=as_date(today, "today"),
        )
        for page in pages:
            ingested = self._ingest_items(page.records, page.source)
            report.pages.append(page.label)
            report.reports.append(ingested)
            ids = ingested.added + ingested.updated + ingested.unchanged
            report.papers.extend(self.store.get(ids) if ids else [])
            for rejection in ingested.rejected:
                log.warning("rejected: %s", rejection)
        return report

    def ingest_sample(self, progress: bool | ProgressCallback | None = None) -> IngestReport:
        """Ingest the bundled Hugging Face Daily Papers page of 2025-11-06."""
        from store.sources import SAMPLE_PAGE_DATE, sample_corpus_path

        return self.ingest(
            sample_corpus_path(), fmt="hf-page", page_date=SAMPLE_PAGE_DATE, progress=progress
        )

    # -- reading ------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 10,
        since: DateLike = None,
        until: DateLike = None,
        *,
        min_upvotes: int | None = None,
        has_code: bool | None = None,
        diverse: bool = False,
        mode: SearchMode = "hybrid",
    ) -> list[Hit]:
        """The k papers that best match `query` (hybrid dense + BM25), best first.

        Filters: published date in [since, until], at least `min_upvotes` upvotes, with
        (`has_code=True`) or without (`False`) a code link. `diverse=True` spreads the results
        over different topics (MMR).
        """
        return self.searcher.search(
            check_text(query, "the search query"),
            k=check_k(k),
            since=as_date(since, "since"),
            until=as_date(until, "until"),
            min_upvotes=check_min_upvotes(min_upvotes),
            has_code=has_code,
            diverse=diverse,
            mode=mode,
        )

    def papers(self, since: DateLike = None, until: DateLike = None) -> list[Paper]:
        """Stored papers published in [since, until] (both optional), oldest first.

        With a date bound, papers without a known date are left out; without bounds they come
        last.
        """
        start, end = as_date(since, "since"), as_date(until, "until")
        selected = [
            paper
            for paper in self.searcher.papers()
            if (start is None or (paper.published is not None and paper.published >= start))
            and (end is None or (paper.published is not None and paper.published <= end))
        ]
        return sorted(selected, key=lambda p: (p.published is None, p.published or date.min, p.id))

    def paper(self, paper_id: str) -> Paper:
        """The stored paper with this id; `PaperNotFoundError` (a KeyError) if there is none."""
        found = self.store.get([paper_id])
        if not found:
            raise PaperNotFoundError(
                f"no paper with id {paper_id!r} in {self.store.location} "
                f"({self.store.count()} papers stored)"
            )
        return found[0]

    def stats(self) -> dict[str, Any]:
        """What the store holds: counts, date range, sources, model and location."""
        papers = self.searcher.papers()
        dates = sorted(p.published for p in papers if p.published is not None)
        return {
            "papers": len(papers),
            "earliest": dates[0].isoformat() if dates else None,
            "latest": dates[-1].isoformat() if dates else None,
            "with_code": sum(p.has_code for p in papers),
            "sources": dict(Counter(p.source for p in papers).most_common()),
            "embedder": self.embedder.name,
            "dim": self.embedder.dim,
            "store": self.store.location,
            "collection": self.settings.store.collection,
            "data_dir": str(self.data_dir),
        }

    def doctor(self) -> DoctorReport:
        """Check the setup and say how to fix what fails: LLM endpoint, model, chat and JSON
        replies (json_schema or the json_object fallback), embedding model, data directory."""
        from agent.doctor import run_doctor

        return run_doctor(self.settings)

    # -- the agent: answers, comparisons, takeaways ---------------------------------------------

    def agent_deps(self) -> AgentDeps:
        """What the agent graph runs on: this object's search, store lookup, recommender,
        writer and settings (see `agent.nodes.AgentDeps`)."""
        from agent.nodes import AgentDeps

        def search(query: str, k: int) -> list[Hit]:
            return self.search(query, k=k)

        def lookup(ids: list[str]) -> list[Paper]:
            return self.store.get(ids) if ids else []

        def recommend(interests: list[str], k: int) -> ReadingList:
            return self.reading_list(interests, k=k)

        return AgentDeps(
            settings=self.settings,
            search=search,
            lookup=lookup,
            writer=self.writer,
            recommend=recommend,
        )

    @property
    def agent(self) -> Agent:
        """The LangGraph agent over this store (built on first use; see `agent/graph.py`)."""
        if self._agent is None:
            from agent.graph import THREADS_FILE, Agent

            self._agent = Agent(self.agent_deps(), self.data_dir / THREADS_FILE)
        return self._agent

    def warm_up(self) -> None:
        """Load what the first answer would otherwise wait for: the embedding model and the
        search indexes (one search), the writer with its relevance model, and the agent graph
        (about 1 s on the sample with the bundled model, against 0.1-0.3 s for an answer
        after it). `chat` calls it while the first question is typed; calling it again costs
        one search."""
        self.search("paper", k=1)
        _ = self.agent

    def ask(self, question: str, thread_id: str | None = None) -> Answer:
        """A direct answer whose every factual sentence cites the papers it comes from.

        Questions on the same `thread_id` form a conversation, kept on disk under the data dir
        (a new thread when None; the answer's `thread_id` says which). A question the papers do
        not cover gets `abstained=True` and no citations.
        """
        return self.agent.ask(check_text(question, "the question"), check_thread_id(thread_id))

    def ask_stream(self, question: str, thread_id: str | None = None) -> Iterator[dict[str, Any]]:
        """`ask`, as events: `{"event": "token"|"sentence"|"retrieved", ...}` while it is
        written, then `{"event": "answer", "answer": Answer}`."""
        return self.agent.stream_ask(
            check_text(question, "the question"), check_thread_id(thread_id)
        )

    def compare(
        self, query: str | None = None, paper_ids: Sequence[str] | None = None
    ) -> Comparison:
        """Compare the papers on a topic (`query`) or the papers named by `paper_ids`.

        Unknown ids raise `UnknownPapersError` (a KeyError) naming them.
        """
        topic = check_text(query, "the comparison topic") if query is not None else None
        return self.agent.compare(topic, check_paper_ids(paper_ids, "paper ids"))

    def tldr(self, paper: Paper | str) -> str:
        """The one-sentence takeaway of a paper (or a paper id)."""
        target = self.paper(paper) if isinstance(paper, str) else paper
        text, _usage = self.writer.takeaway(target)
        return text

    def recommend(
        self,
        interests: Sequence[str] | str,
        k: int = 5,
        since: DateLike = None,
        until: DateLike = None,
        liked: Sequence[str] | None = None,
        today: DateLike = None,
    ) -> list[Recommendation]:
        """The `k` papers published in [since, until] most worth reading for these interests.

        `reading_list(...).picks`: only papers whose relevance evidence clears the floor for
        one of the interests, so an interest the store has nothing on gets none (fewer than
        `k`, possibly none; `reading_list` says which interests and names the closest papers).
        """
        return self.reading_list(interests, k, since, until, liked, today).picks

    def reading_list(
        self,
        interests: Sequence[str] | str,
        k: int = 5,
        since: DateLike = None,
        until: DateLike = None,
        liked: Sequence[str] | None = None,
        today: DateLike = None,
    ) -> ReadingList:
        """Recommendations for these interests among the papers published in [since, until],
        with the interests no paper matches named in one line (`notice`) with the papers that
        came closest (`closest`), instead of unrelated picks.

        A paper is recommended for an interest only when its relevance evidence
        (`agent/relevance.py`) clears `settings.recommend.min_evidence` (default: the floor
        calibrated for the embedder). The recommendable papers are ranked by relevance to the
        interests (and to the `liked` paper ids, which are never recommended back), recency and
        upvotes, weighted by `settings.recommend`; each with a one-sentence reason. `today`
        (default: the newest candidate's date) anchors recency, so results are reproducible.
        Unknown liked ids raise `UnknownLikedPapersError` (a KeyError) naming them. See
        `agent/recommend.py`.
        """
        from agent.recommend import floor_for, period_scope, reading_list

        wanted = check_interests(interests)
        count = check_k(k)
        liked_ids = check_paper_ids(liked, "liked paper ids")
        start, end = as_date(since, "since"), as_date(until, "until")
        floor = self.settings.recommend.min_evidence
        return reading_list(
            self.papers(start, end),
            wanted,
            judge=self.relevance,
            store=self.store,
            settings=self.settings.recommend,
            floor=floor if floor is not None else floor_for(self.embedder.name).floor,
            k=count,
            liked=liked_ids,
            today=as_date(today, "today"),
            scope=period_scope(start, end),
        )

    # -- the weekly briefing ----------------------------------------------------------------------

    def briefing_deps(self) -> BriefingDeps:
        """What the briefing is built from: this object's settings, papers, stored vectors,
        the agent's comparison, the recommender, the writer and the sent ledger."""
        from agent.briefing import BriefingDeps
        from agent.mail import SentLedger

        def compare(paper_ids: list[str]) -> Comparison:
            return self.compare(None, paper_ids)

        def recommend(interests: list[str], k: int, since: date, until: date) -> ReadingList:
            return self.reading_list(interests, k=k, since=since, until=until)

        _ = self.agent  # built once here, not raced for by the briefing's worker threads
        return BriefingDeps(
            settings=self.settings,
            papers=self.papers,
            vectors=self.store.vectors,
            compare=compare,
            recommend=recommend,
            writer=self.writer,
            ledger=SentLedger.in_data_dir(self.data_dir),
        )

    def briefing(
        self,
        start: DateLike,
        end: DateLike,
        interests: Sequence[str] | None = None,
        *,
        include: Iterable[Paper] = (),
    ) -> Briefing:
        """The briefing of the papers published in [start, end] (see `agent/briefing.py`).

        Themes of similar papers, each with a cited comparison and one-line takeaways; top picks
        for `interests` (default: `settings.recommend.interests`); the most upvoted papers; and
        papers an earlier sent briefing already carried, listed apart (changed ones marked).
        `include` adds papers listed in the period whatever their date (`fetch(...).papers`).
        """
        from agent.briefing import build_briefing

        if interests is not None:
            interests = check_interests(interests)
        first, last = as_date(start, "start"), as_date(end, "end")
        if first is None or last is None:
            raise ValueError("a briefing needs a start and an end date")
        return build_briefing(self.briefing_deps(), first, last, interests, include=include)

    def write_briefing(self, briefing: Briefing, out: str | Path) -> list[Path]:
        """Write `out.md`, `out.html` and `out.txt` (a directory gets `briefing-<period>.*`
        inside it); the paths written."""
        from agent.briefing import write_briefing

        return write_briefing(briefing, Path(out).expanduser())

    def send_briefing(
        self,
        briefing: Briefing,
        recipients: Sequence[str] | None = None,
        *,
        force: bool = False,
        dry_run: bool = False,
        out: str | Path | None = None,
    ) -> Delivery:
        """Mail the briefing to `recipients` (default: `settings.email.recipients`).

        Idempotent per period and recipient list: a briefing already sent to them is not sent
        again unless `force`; a send is recorded in the sent ledger. `dry_run` writes the
        message as an .eml file instead (next to `out`, else `./briefing-<period>.eml`).
        """
        from agent.briefing import deliver_briefing, eml_path
        from agent.mail import SentLedger

        eml = eml_path(Path(out) if out else None, briefing) if dry_run else None
        ledger = SentLedger.in_data_dir(self.data_dir)
        return deliver_briefing(
            self.settings, ledger, briefing, recipients, force=force, dry_run=eml
        )

    # -- run artifacts ----------------------------------------------------------------------------

    def save_run(
        self,
        result: BaseModel,
        directory: str | Path,
        kind: str | None = None,
        request: dict[str, Any] | None = None,
    ) -> Path:
        """Save a result's run artifacts (request, result, retrieved papers, settings with
        secrets masked, usage) to a new folder under `directory`; returns the folder.

        `kind` (ask, compare, brief) and `request` default to what the result records.
        See `agent/artifacts.py`.
        """
        from agent.artifacts import kind_of, request_of, save_run

        return save_run(
            Path(directory).expanduser(),
            kind if kind is not None else kind_of(result),
            request if request is not None else request_of(result),
            result,
            self.settings,
        )

    def save_failed_run(
        self,
        error: BaseException,
        directory: str | Path,
        kind: str,
        request: dict[str, Any],
        usage: Usage | None = None,
    ) -> Path:
        """Save a failed run (request, error, usage spent before it failed, settings with
        secrets masked) to a new folder under `directory`; returns the folder. `usage`
        defaults to the error's own (an `LLMError` carries it), else `llm_usage()`."""
        from agent.artifacts import save_failed_run

        spent = usage or getattr(error, "usage", None) or self.llm_usage()
        return save_failed_run(
            Path(directory).expanduser(), kind, request, error, spent, self.settings
        )


class _progress_for:
    """Context manager turning `progress=` into a callback; True draws a tqdm bar on stderr."""

    def __init__(self, progress: bool | ProgressCallback | None, source: str) -> None:
        self._progress = progress
        self._source = source
        self._bar: Any = None

    def __enter__(self) -> ProgressCallback | None:
        if callable(self._progress):
            return self._progress
        if not self._progress:
            return None
        from tqdm import tqdm

        def update(done: int, total: int) -> None:
            if self._bar is None:
                name = Path(self._source).name or self._source
                self._bar = tqdm(
                    total=total, desc=f"ingest {name}", unit="paper", file=sys.stderr, disable=None
                )
            self._bar.update(done - self._bar.n)

        callback: Callable[[int, int], None] = update
        return callback

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()
