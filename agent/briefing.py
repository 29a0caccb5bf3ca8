"""The weekly briefing job: a period's papers as themes, top picks and trending, then delivery.

`build_briefing` is what `PaperBrief.briefing` runs:

1. the period's papers from the store (plus any just fetched for it, see `fetch_period`);
2. the sent ledger (`agent.mail.SentLedger`) splits off the papers an earlier briefing already
   carried (listed compactly, never presented as new) and marks those whose abstract changed
   since as updated;
3. the rest are clustered into themes on their stored embeddings (`agent.themes`), each named
   by its distinguishing terms and summarised by the agent's grounded, cited comparison
   (`PaperBrief.compare(paper_ids=...)`), every paper with its one-line takeaway;
4. top picks ranked as `PaperBrief.recommend` ranks them, and the most upvoted papers;
5. Markdown, mail-safe HTML and plain text (`agent.render`).

Per-paper work (takeaways) and per-theme work (comparisons) run on a thread pool of
`settings.llm.concurrency` workers; in LLM mode every call goes through the LLM's disk cache, so
building the same period again makes no LLM calls.

Periods: an ISO week (`2025-W21`), or any `since..until` range. The ledger keys a briefing by
its period label, so rebuilding a week after sending it does not count its own papers as
already sent, and sending is idempotent per period and recipient list.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from agent.errors import MailError, UnsupportedTakeawayError
from agent.mail import SentLedger, build_message, send_message, sender_address
from agent.render import render_html, render_markdown, render_text, week_title
from agent.results import Briefing, Comparison, Mode, Recommendation, Source, Theme, Usage
from agent.themes import plan_themes, theme_name, week_terms
from agent.writers.extractive import tldr
from store.models import IngestReport, Paper

if TYPE_CHECKING:
    from agent.api import PaperBrief

log = logging.getLogger(__name__)

OTHER_PAPERS = "Other papers this week"

_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


# --- periods ---------------------------------------------------------------------------------


def iso_week_range(label: str) -> tuple[date, date]:
    """`2025-W21` -> (Monday 2025-05-19, Sunday 2025-05-25)."""
    match = _ISO_WEEK.match(label.strip())
    if not match:
        raise ValueError(f"{label!r} is not an ISO week (expected YYYY-Www, e.g. 2025-W21)")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{label!r}: {year} has no ISO week {week}") from None
    return monday, monday + timedelta(days=6)


def last_complete_week(today: date | None = None) -> tuple[date, date]:
    """Monday..Sunday of the last ISO week that has ended before `today` (default: today)."""
    today = today or date.today()
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(days=7), this_monday - timedelta(days=1)


def period_label(start: date, end: date) -> str:
    """`2025-W21` for an ISO week, else `2025-05-19..2025-05-25` (the ledger's key)."""
    iso = start.isocalendar()
    if iso.weekday == 1 and (end - start).days == 6:
        return f"{iso.year}-W{iso.week:02d}"
    return f"{start.isoformat()}..{end.isoformat()}"


def resolve_period(
    week: str | None = None, since: date | None = None, until: date | None = None
) -> tuple[date, date]:
    """The period a command names: an ISO week, a range, or the last complete ISO week."""
    if week and (since or until):
        raise ValueError("give either a week or --since/--until, not both")
    if week:
        return iso_week_range(week)
    if since or until:
        start = since or (until - timedelta(days=6) if until else None)
        end = until or (since + timedelta(days=6) if since else None)
        assert start is not None and end is not None
        if end < start:
            raise ValueError(f"the period ends ({end}) before it starts ({start})")
        return start, end
    return last_complete_week()


# --- building --------------------------------------------------------------------------------


def _takeaway(pb: PaperBrief, paper: Paper) -> tuple[str, Usage]:
    """The paper's one-line takeaway; the extractive one when the LLM's kept stating numbers
    its abstract does not contain (one unsupported line must not cost the whole briefing)."""
    try:
        return pb.writer.takeaway(paper)
    except UnsupportedTakeawayError as exc:
        log.warning("%s; using the extractive takeaway instead", exc)
        return tldr(paper), Usage()


def _listing_summary(papers: Sequence[Paper], mode: Mode) -> Comparison:
    """Papers that fit no theme have nothing to compare: each is listed with its takeaway."""
    sources = [
        Source(n=n, paper_id=p.id, title=p.title, published=p.published, url=p.url)
        for n, p in enumerate(papers, 1)
    ]
    return Comparison(markdown="", sources=sources, retrieved=list(papers), mode=mode)


def build_briefing(
    pb: PaperBrief,
    start: date,
    end: date,
    interests: Sequence[str] | None = None,
    *,
    include: Iterable[Paper] = (),
) -> Briefing:
    """The briefing for papers published in [start, end], plus `include` (e.g. just fetched)."""
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    settings = pb.settings.briefing
    label = period_label(start, end)
    by_id = {paper.id: paper for paper in pb.papers(start, end)}
    for paper in include:
        by_id.setdefault(paper.id, paper)
    papers = sorted(by_id.values(), key=lambda p: p.id)
    ledger = SentLedger.in_data_dir(pb.data_dir)
    already_sent, updated = ledger.classify(papers, label)
    earlier = {paper_id: by_id[paper_id] for paper_id in already_sent}
    new = [paper for paper in papers if paper.id not in earlier]

    mode = pb.mode
    usage = Usage()
    themes: list[Theme] = []
    if new:
        vectors = pb.store.vectors([paper.id for paper in new])
        plan = plan_themes(
            vectors, settings.min_theme_similarity, settings.max_themes, settings.max_theme_size
        )
        groups = [[new[i] for i in cluster.members] for cluster in plan.themes]
        others = [new[i] for i in plan.other]
        terms = week_terms(new)
        workers = max(1, pb.settings.llm.concurrency)
        _ = pb.agent  # built once here, not raced for by the workers
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="briefing") as pool:
            takeaway_jobs = {p.id: pool.submit(_takeaway, pb, p) for p in new}
            # A theme is small enough to compare whole (`max_theme_size`).
            summary_jobs = [
                pool.submit(pb.compare, None, [p.id for p in group]) for group in groups
            ]
            takeaways: dict[str, str] = {}
            for paper_id, takeaway_job in takeaway_jobs.items():
                text, spent = takeaway_job.result()
                takeaways[paper_id] = text
                usage.add(spent)
            for group, summary_job in zip(groups, summary_jobs, strict=True):
                summary = summary_job.result()
                usage.add(summary.usage)
                themes.append(
                    Theme(
                        name=theme_name(group, new, stats=terms),
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
    briefing = Briefing(
        start=start,
        end=end,
        themes=themes,
        picks=_picks(pb, start, end, interests, exclude=set(earlier), k=pick_count),
        trending=_trending(papers, settings.trending),
        updated=updated,
        already_sent=already_sent,
        mode=mode,
        usage=usage,
    )
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
    pb: PaperBrief,
    start: date,
    end: date,
    interests: Sequence[str] | None,
    exclude: set[str],
    k: int,
) -> list[Recommendation]:
    """The top `k` of the period, leaving out papers sent in earlier briefings.

    With interests (given, else `settings.recommend.interests`) ranked as `PaperBrief.recommend`
    ranks them; without, by popularity and novelty (`popular_and_novel`).
    """
    if k == 0:
        return []
    wanted = [i for i in (interests or pb.settings.recommend.interests) if i.strip()]
    if wanted:
        ranked = pb.recommend(wanted, k=k + len(exclude), since=start, until=end)
        return [rec for rec in ranked if rec.paper.id not in exclude][:k]
    candidates = [p for p in pb.papers(start, end) if p.id not in exclude]
    return popular_and_novel(pb, candidates, start, end, k)


def popular_and_novel(
    pb: PaperBrief, papers: Sequence[Paper], start: date, end: date, k: int
) -> list[Recommendation]:
    """The `k` papers with the best mean of popularity and novelty, each with its reason.

    Popularity is `agent.recommend.popularity_scores` (log upvotes against the period's most).
    Novelty is 1 minus the paper's highest cosine similarity to the papers stored from before
    the period (to the rest of the period when nothing older is stored): a paper unlike what
    the reader has seen before scores high.
    """
    from agent.recommend import popularity_scores, recency_score

    if not papers:
        return []
    vectors = pb.store.vectors([p.id for p in papers])
    before = pb.papers(until=start - timedelta(days=1))
    if before:
        reference = pb.store.vectors([p.id for p in before])
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
    half_life = pb.settings.recommend.recency_half_life_days
    scored = sorted(
        range(len(papers)),
        key=lambda i: (-(popularity[i] + float(novelty[i])) / 2, papers[i].id),
    )
    by_votes = sorted((p.upvotes or 0 for p in papers), reverse=True)
    picks = []
    for i in scored[:k]:
        paper = papers[i]
        facts = []
        if paper.upvotes:
            rank = by_votes.index(paper.upvotes) + 1
            place = "the most" if rank == 1 else f"#{rank}"
            facts.append(f"{paper.upvotes} upvotes, {place} this period")
        facts.append(f"its closest match among {against} is {float(closest[i]):.2f} similar")
        picks.append(
            Recommendation(
                paper=paper,
                score=round((popularity[i] + float(novelty[i])) / 2, 6),
                reason=_sentence(facts),
                relevance=0.0,
                recency=recency_score(paper.published, end, half_life),
                popularity=popularity[i],
            )
        )
    return picks


def _sentence(facts: Sequence[str]) -> str:
    text = "; ".join(facts)
    return text[:1].upper() + text[1:] + "."


def _trending(papers: Sequence[Paper], k: int) -> list[Paper]:
    """The most upvoted papers; none when the source gives no upvotes."""
    voted = [paper for paper in papers if paper.upvotes]
    voted.sort(key=lambda p: (-(p.upvotes or 0), p.id))
    return voted[:k]


# --- fetching --------------------------------------------------------------------------------


@dataclass
class FetchReport:
    """What `fetch_period` ingested: one ingest report per day asked for."""

    days: list[date] = field(default_factory=list)
    reports: list[IngestReport] = field(default_factory=list)
    papers: list[Paper] = field(default_factory=list)

    def summary(self) -> str:
        added = sum(len(r.added) for r in self.reports)
        updated = sum(len(r.updated) for r in self.reports)
        rejected = sum(len(r.rejected) for r in self.reports)
        return (
            f"fetched {len(self.days)} day(s) of Daily Papers: {len(self.papers)} papers "
            f"({added} added, {updated} updated, {rejected} rejected)"
        )


def fetch_period(pb: PaperBrief, start: date, end: date, today: date | None = None) -> FetchReport:
    """Ingest the Hugging Face Daily Papers of each day in [start, end] (one request a day).

    Days after `today` are skipped (nothing is listed yet). The papers come back too, since a
    paper listed this week may carry an earlier arXiv date and would otherwise miss the
    briefing of the week it was listed in.
    """
    from store.sources import hf_daily_url

    today = today or date.today()
    report = FetchReport()
    day = start
    while day <= min(end, today):
        url = hf_daily_url(pb.settings.sources.hf_base_url, day)
        ingested = pb.ingest(url, fmt="hf-api")
        report.days.append(day)
        report.reports.append(ingested)
        ids = ingested.added + ingested.updated + ingested.unchanged
        report.papers.extend(pb.store.get(ids) if ids else [])
        for rejection in ingested.rejected:
            log.warning("rejected: %s", rejection)
        day += timedelta(days=1)
    return report


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


def subject_for(pb: PaperBrief, briefing: Briefing) -> str:
    return f"{pb.settings.briefing.title} — {week_title(briefing.start, briefing.end)}"


def deliver_briefing(
    pb: PaperBrief,
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
    email = pb.settings.email
    to = [r.strip() for r in (recipients or email.recipients) if r.strip()]
    if not to:
        raise MailError(
            "no recipients: set email.recipients (PAPERBRIEF_EMAIL__RECIPIENTS='[\"you@x.org\"]') "
            "or pass --to"
        )
    label = period_label(briefing.start, briefing.end)
    delivery = Delivery(period=label, recipients=to)
    ledger = SentLedger.in_data_dir(pb.data_dir)
    if dry_run is None and not force and ledger.was_sent(label, to):
        delivery.skipped = True
        return delivery
    subject = subject_for(pb, briefing)
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
