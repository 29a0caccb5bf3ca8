"""The weekly briefing job: a period's papers as themes, top picks and trending, then delivery.

`build_briefing` is what `PaperBrief.briefing` runs:

1. the period's papers from the store (plus any just fetched for it, see `PaperBrief.fetch`);
2. the sent ledger (`agent.mail.SentLedger`) splits off the papers an earlier briefing already
   carried (listed compactly, never presented as new) and marks those whose abstract changed
   since as updated;
3. the rest are clustered into themes on their stored embeddings (`agent.themes`), each named
   by its distinguishing terms and summarised by the agent's grounded, cited comparison
   (`BriefingDeps.compare`), every paper with its one-line takeaway (`Writer.takeaway`);
4. top picks chosen and ranked as `PaperBrief.reading_list` does (only papers that match an
   interest; an interest nothing matches is named with the closest papers), and the most
   upvoted papers;
5. Markdown, mail-safe HTML and plain text (`agent.render`).

Per-paper work (takeaways) and per-theme work (comparisons) run on a thread pool of
`settings.llm.concurrency` workers; in LLM mode every call goes through the LLM's disk cache, so
building the same period again makes no LLM calls.

It receives what it uses (`BriefingDeps`: settings, paper listing, vectors, comparison,
recommender, writer, ledger), never `PaperBrief`, so it sits below the API in the layers.

Periods (`agent.periods`): an ISO week (`2025-W21`), or any `since..until` range. The ledger
keys a briefing by its period label, so rebuilding a week after sending it does not count its
own papers as already sent, and sending is idempotent per period and recipient list.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from agent.errors import LLMError, MailError, UnsupportedTakeawayError
from agent.mail import SentLedger, build_message, send_message, sender_address
from agent.periods import period_label
from agent.render import render_html, render_markdown, render_text, week_title
from agent.results import (
    Briefing,
    Comparison,
    Mode,
    ReadingList,
    Recommendation,
    Source,
    Theme,
    Usage,
)
from agent.settings import Settings
from agent.themes import plan_themes
from agent.verify import strip_citation_marks
from agent.writers import Writer
from agent.writers.extractive import tldr
from store.models import Paper

log = logging.getLogger(__name__)
T = TypeVar("T")

OTHER_PAPERS = "Other papers this week"

# --- building --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BriefingDeps:
    """What a briefing is built from, injected (`PaperBrief.briefing_deps()` builds these).

    `papers(since, until)` lists stored papers published in the period; `vectors(ids)` their
    stored embeddings; `compare(ids)` is the agent's cited comparison of those papers;
    `recommend(interests, k, since, until)` gives the top picks (`PaperBrief.reading_list`);
    `writer` writes the takeaways and names the mode; `ledger` remembers what was sent.
    """

    settings: Settings
    papers: Callable[[date | None, date | None], list[Paper]]
    vectors: Callable[[list[str]], np.ndarray]
    compare: Callable[[list[str]], Comparison]
    recommend: Callable[[list[str], int, date, date], ReadingList]
    writer: Writer
    ledger: SentLedger


@dataclass
class _Takeaway:
    text: str
    usage: Usage
    extractive_fallback: bool = False


def _takeaway(writer: Writer, paper: Paper) -> _Takeaway:
    """The paper's one-line takeaway; the extractive one when the LLM's kept stating numbers
    its abstract does not contain (one unsupported line must not cost the whole briefing, but
    the briefing says how many were replaced). Like prose, a takeaway cites nothing: a
    bracketed number in it ("cite paper [999]") is removed by the verifier's rule."""
    try:
        text, usage = writer.takeaway(paper)
        return _Takeaway(strip_citation_marks(text), usage)
    except UnsupportedTakeawayError as exc:
        log.warning("%s; using the extractive takeaway instead", exc)
        return _Takeaway(strip_citation_marks(tldr(paper)), Usage(), extractive_fallback=True)


class _Stopped(Exception):
    """A briefing job not started because another one's LLM call already failed."""


def _results_or_first_failure(pool_jobs: Sequence[Future[Any]]) -> None:
    """Wait for every job, or raise the first failure at once with the jobs not yet started
    cancelled: an LLM that failed for one theme (retries exhausted) fails the briefing then,
    rather than after every other theme's calls have failed the same way."""
    done, _pending = wait(pool_jobs, return_when=FIRST_EXCEPTION)
    failed = [job for job in done if not job.cancelled() and job.exception() is not None]
    if not failed:
        return
    for job in pool_jobs:
        job.cancel()
    errors = [job.exception() for job in failed]
    first = next((e for e in errors if not isinstance(e, _Stopped)), errors[0])
    assert first is not None
    raise first


def fallback_notice(replaced: int, total: int) -> str:
    """What an LLM-mode briefing says when some takeaways are extractive instead."""
    return (
        f"{replaced} of {total} takeaways were written by the offline extractive writer: the "
        "LLM's kept stating numbers their abstracts do not contain."
    )


def _listing_summary(papers: Sequence[Paper], mode: Mode) -> Comparison:
    """Papers that fit no theme have nothing to compare: each is listed with its takeaway."""
    sources = [
        Source(n=n, paper_id=p.id, title=p.title, published=p.published, url=p.url)
        for n, p in enumerate(papers, 1)
    ]
    return Comparison(markdown="", sources=sources, retrieved=list(papers), mode=mode)


def build_briefing(
    deps: BriefingDeps,
    start: date,
    end: date,
    interests: Sequence[str] | None = None,
    *,
    include: Iterable[Paper] = (),
) -> Briefing:
    """The briefing for papers published in [start, end], plus `include` (e.g. just fetched)."""
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    settings = deps.settings.briefing
    label = period_label(start, end)
    by_id = {paper.id: paper for paper in deps.papers(start, end)}
    for paper in include:
        by_id.setdefault(paper.id, paper)
    papers = sorted(by_id.values(), key=lambda p: p.id)
    already_sent, updated = deps.ledger.classify(papers, label)
    earlier = {paper_id: by_id[paper_id] for paper_id in already_sent}
    new = [paper for paper in papers if paper.id not in earlier]

    mode = deps.writer.mode
    usage = Usage()
    themes: list[Theme] = []
    fallbacks: list[str] = []
    if new:
        vectors = deps.vectors([paper.id for paper in new])
        plan = plan_themes(
            vectors, settings.min_theme_similarity, settings.max_themes, settings.max_theme_size
        )
        groups = [[new[i] for i in cluster.members] for cluster in plan.themes]
        others = [new[i] for i in plan.other]
        workers = max(1, deps.settings.llm.concurrency)
        stop = threading.Event()

        def guarded(job: Callable[..., T], *args: Any) -> T:
            if stop.is_set():
                raise _Stopped()
            try:
                return job(*args)
            except LLMError:
                stop.set()
                raise

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="briefing") as pool:
            takeaway_jobs = {p.id: pool.submit(guarded, _takeaway, deps.writer, p) for p in new}
            # A theme is small enough to compare whole (`max_theme_size`).
            name_jobs = [
                pool.submit(guarded, deps.writer.name_theme, group, new) for group in groups
            ]
            summary_jobs = [
                pool.submit(guarded, deps.compare, [p.id for p in group]) for group in groups
            ]
            _results_or_first_failure([*takeaway_jobs.values(), *name_jobs, *summary_jobs])
            takeaways: dict[str, str] = {}
            for paper_id, takeaway_job in takeaway_jobs.items():
                done = takeaway_job.result()
                takeaways[paper_id] = done.text
                usage.add(done.usage)
                if done.extractive_fallback:
                    fallbacks.append(paper_id)
            for group, name_job, summary_job in zip(groups, name_jobs, summary_jobs, strict=True):
                summary = summary_job.result()
                usage.add(summary.usage)
                name, spent = name_job.result()
                usage.add(spent)
                themes.append(
                    Theme(
                        name=name,
                        papers=group,
                        summary=summary,
                        takeaways={p.id: takeaways[p.id] for p in group},
                    )
                )
            if others:
                themes.append(
                    Theme(
                        name=OTHER_PAPERS,
                        papers=others,
                        summary=_listing_summary(others, mode),
                        takeaways={p.id: takeaways[p.id] for p in others},
                        other=True,
                    )
                )

    # Picks are the few papers to read first: in a quiet week, a third of it at most.
    pick_count = min(settings.picks, -(-len(new) // 3))
    picks, picks_notice = _picks(deps, start, end, interests, exclude=set(earlier), k=pick_count)
    briefing = Briefing(
        start=start,
        end=end,
        themes=themes,
        picks=picks,
        picks_notice=picks_notice,
        trending=_trending(papers, settings.trending),
        updated=updated,
        already_sent=already_sent,
        mode=mode,
        usage=usage,
    )
    if fallbacks:
        briefing.notices.append(fallback_notice(len(fallbacks), len(new)))
    title = settings.title
    briefing.markdown = render_markdown(briefing, earlier, title)
    briefing.html = render_html(briefing, earlier, title)
    briefing.text = render_text(briefing, earlier, title)
    log.info(
        "briefing %s: %d papers in %d themes, %d already sent, %d updated (%d LLM calls)",
        label,
        len(new),
        len(themes),
        len(already_sent),
        len(briefing.updated),
        usage.llm_calls,
    )
    return briefing


def _picks(
    deps: BriefingDeps,
    start: date,
    end: date,
    interests: Sequence[str] | None,
    exclude: set[str],
    k: int,
) -> tuple[list[Recommendation], str | None]:
    """The top `k` of the period, leaving out papers sent in earlier briefings, and the line
    naming the interests no paper of the period matches (None when all match).

    With interests (given, else `settings.recommend.interests`) chosen and ranked as
    `PaperBrief.reading_list` does: only papers whose relevance evidence clears the floor for
    an interest, so a week with nothing on the reader's interests has no picks, says so and
    names the closest papers. Without interests, by popularity and novelty
    (`popular_and_novel`).
    """
    if k == 0:
        return [], None
    wanted = [i for i in (interests or deps.settings.recommend.interests) if i.strip()]
    if wanted:
        reading = deps.recommend(wanted, k + len(exclude), start, end)
        return [rec for rec in reading.picks if rec.paper.id not in exclude][:k], reading.notice
    candidates = [p for p in deps.papers(start, end) if p.id not in exclude]
    return popular_and_novel(deps, candidates, start, end, k), None


def popular_and_novel(
    deps: BriefingDeps, papers: Sequence[Paper], start: date, end: date, k: int
) -> list[Recommendation]:
    """The `k` papers with the best mean of popularity and novelty, each with its reason.

    Popularity is `agent.recommend.popularity_scores` (log upvotes against the period's most).
    Novelty is 1 minus the paper's highest cosine similarity to the papers stored from before
    the period (to the rest of the period when nothing older is stored): a paper unlike what
    the reader has seen before scores high. The reason says what the paper contributes, then
    why it was picked in words: a phrase no other paper of the period uses, its standing in
    the period's upvotes, and whether it is the least like the earlier papers.
    """
    from agent.recommend import (
        contribution_sentence,
        popularity_scores,
        recency_score,
        upvote_standing,
        what_is_new,
    )

    if not papers:
        return []
    vectors = deps.vectors([p.id for p in papers])
    before = deps.papers(None, start - timedelta(days=1))
    if before:
        reference = deps.vectors([p.id for p in before])
        closest = (vectors @ reference.T).max(axis=1)
        against = "earlier papers in the store"
    elif len(papers) > 1:
        similarity = vectors @ vectors.T
        np.fill_diagonal(similarity, -1.0)
        closest = similarity.max(axis=1)
        against = "the other papers of the period"
    else:
        closest = np.zeros(1)
        against = "the other papers of the period"
    novelty = np.clip(1.0 - closest, 0.0, 1.0)
    popularity = popularity_scores(papers)
    half_life = deps.settings.recommend.recency_half_life_days
    scored = sorted(
        range(len(papers)),
        key=lambda i: (-(popularity[i] + float(novelty[i])) / 2, papers[i].id),
    )
    most_novel = max(range(len(papers)), key=lambda i: (float(novelty[i]), -i))
    picks = []
    for i in scored[:k]:
        paper = papers[i]
        because = []
        new = what_is_new(paper, papers)
        if new:
            because.append(new)
        standing = upvote_standing(paper, papers)
        if standing and paper.upvotes:
            because.append(("it " if not because else "") + f"has {standing}")
        if i == most_novel and len(papers) > 1:
            because.append(("it " if not because else "") + f"is the least like {against}")
        reason = contribution_sentence(paper)
        if because:
            reason += f" Picked because {_and(because)}."
        picks.append(
            Recommendation(
                paper=paper,
                score=round((popularity[i] + float(novelty[i])) / 2, 6),
                reason=reason,
                relevance=0.0,
                recency=recency_score(paper.published, end, half_life),
                popularity=popularity[i],
            )
        )
    return picks


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" and {items[-1]}"


def _trending(papers: Sequence[Paper], k: int) -> list[Paper]:
    """The most upvoted papers; none when the source gives no upvotes."""
    voted = [paper for paper in papers if paper.upvotes]
    voted.sort(key=lambda p: (-(p.upvotes or 0), p.id))
    return voted[:k]


# --- output ----------------------------------------------------------------------------------


def output_paths(out: Path, briefing: Briefing) -> dict[str, Path]:
    """Where `--out` writes: `PATH.md`, `PATH.html`, `PATH.txt`.

    An existing directory (or a path ending in `/`) gets `briefing-<period>.*` inside it; a
    `.md`, `.html` or `.txt` suffix on PATH is dropped, so `--out out/briefing.md` works too.
    """
    text = str(out)
    if out.is_dir() or text.endswith(("/", "\\")):
        stem = out / f"briefing-{period_label(briefing.start, briefing.end)}"
    elif out.suffix.lower() in {".md", ".html", ".htm", ".txt", ".eml"}:
        stem = out.with_suffix("")
    else:
        stem = out
    return {kind: stem.parent / f"{stem.name}.{kind}" for kind in ("md", "html", "txt")}


def eml_path(out: Path | None, briefing: Briefing) -> Path:
    """Where a dry run writes the message: next to `out` (`PATH.eml`), else
    `./briefing-<period>.eml`."""
    label = period_label(briefing.start, briefing.end)
    base = out if out is not None else Path(f"briefing-{label}")
    return output_paths(base, briefing)["md"].with_suffix(".eml")


def write_briefing(briefing: Briefing, out: Path) -> list[Path]:
    """Write the Markdown, HTML and plain-text renderings; the paths written."""
    paths = output_paths(Path(out), briefing)
    bodies = {"md": briefing.markdown, "html": briefing.html, "txt": briefing.text}
    for kind, path in paths.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(bodies[kind], encoding="utf-8")
    return list(paths.values())


# --- delivery --------------------------------------------------------------------------------


@dataclass
class Delivery:
    """What `deliver_briefing` did."""

    period: str
    recipients: list[str]
    sent: bool = False
    skipped: bool = False
    eml: Path | None = None
    message_id: str | None = None

    def summary(self) -> str:
        to = ", ".join(self.recipients)
        if self.eml is not None:
            return f"dry run: wrote {self.eml} (to {to}, nothing sent)"
        if self.skipped:
            return (
                f"the {self.period} briefing was already sent to {to}; not sending again "
                "(--force sends anyway)"
            )
        return f"sent the {self.period} briefing to {to}"


def subject_for(title: str, briefing: Briefing) -> str:
    return f"{title} — {week_title(briefing.start, briefing.end)}"


def deliver_briefing(
    settings: Settings,
    ledger: SentLedger,
    briefing: Briefing,
    recipients: Sequence[str] | None = None,
    *,
    force: bool = False,
    dry_run: Path | None = None,
) -> Delivery:
    """Mail the briefing (or, with `dry_run`, write the message there as an .eml file).

    Idempotent per period and recipient list: a briefing already sent to the same recipients is
    not sent again unless `force`. A real send is recorded in the ledger, with the content hash
    of every paper it presented, so later briefings list them as already sent.
    """
    email = settings.email
    to = [r.strip() for r in (recipients or email.recipients) if r.strip()]
    if not to:
        raise MailError(
            "no recipients: set email.recipients (PAPERBRIEF_EMAIL__RECIPIENTS='[\"you@x.org\"]') "
            "or pass --to"
        )
    label = period_label(briefing.start, briefing.end)
    delivery = Delivery(period=label, recipients=to)
    if dry_run is None and not force and ledger.was_sent(label, to):
        delivery.skipped = True
        return delivery
    subject = subject_for(settings.briefing.title, briefing)
    message = build_message(subject, briefing.text, briefing.html, sender_address(email), to)
    delivery.message_id = str(message["Message-ID"])
    if dry_run is not None:
        dry_run.parent.mkdir(parents=True, exist_ok=True)
        dry_run.write_bytes(message.as_bytes())
        delivery.eml = dry_run
        return delivery
    send_message(message, email, to)
    presented = [paper for theme in briefing.themes for paper in theme.papers]
    ledger.record(label, to, presented, delivery.message_id, subject)
    delivery.sent = True
    return delivery
