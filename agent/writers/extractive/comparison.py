"""Extractive comparisons: a row per paper from its facets (method name, problem, approach,
headline result, whether it needs training, code), the phrases the papers share and what sets
each apart, which to read first and why, and a written comparison that groups the papers by
what their approaches share and states the contrast (`contrast.py`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from agent.facets import facets_of
from agent.state import ComparisonDraft, DraftSentence, Evidence
from agent.text import TermStats
from agent.writers.extractive.contrast import (
    comparison_row,
    comparison_sentences,
    differences,
    shared_phrases,
)
from agent.writers.extractive.phrasing import count_words, short_title
from store.models import Paper


def needs_training(paper: Paper) -> bool | None:
    """False when the abstract says the method is training-free, True when the method trains
    or fine-tunes, None when it does not say or is a survey (`agent.facets`)."""
    return facets_of(paper).training


def code_url(paper: Paper) -> str | None:
    """The paper's code repository: its first code link, else a repository URL its abstract
    gives ("Our code is available at https://github.com/...")."""
    return facets_of(paper).code


def is_survey(paper: Paper) -> bool:
    return facets_of(paper).kind == "survey"


def _read_first(papers: Sequence[Paper], stats: TermStats) -> tuple[str | None, str | None]:
    """Which paper to read first, and why, from facts about the papers: a survey when the set
    has one, else the paper whose abstract shares most with the others or that has the most
    upvotes; when neither sets one apart (two papers, a tie), the only one with code, else the
    earliest. A reason that holds for every paper is never given as one."""
    if not papers:
        return None, None
    surveys = [p for p in papers if is_survey(p)]
    if len(surveys) == 1 and len(papers) > 1:
        survey = surveys[0]
        return survey.id, (
            f"It is the only survey among these {count_words(len(papers)).lower()} papers, "
            "so it covers the area rather than a single method."
        )
    candidates = surveys or list(papers)
    if len(candidates) == 1:
        return candidates[0].id, "It is the only paper in the set."
    # Rounded: two papers' centralities are the same cosine summed in another order, and
    # float noise must not pick the paper (a tie goes to upvotes, then to the set's order).
    centrality = {p.id: round(c, 9) for p, c in zip(papers, stats.centrality(), strict=True)}
    top_votes = max((p.upvotes or 0) for p in candidates)

    def merit(p: Paper) -> tuple[float, int]:
        votes = math.log1p(p.upvotes or 0) / math.log1p(top_votes) if top_votes else 0.0
        return (centrality[p.id] + 0.1 * votes, p.upvotes or 0)

    best = max(candidates, key=merit)
    others = [p for p in candidates if p.id != best.id]
    reasons = []
    # Only a claim that sets the paper apart: with two papers, or a tie, "shares the most terms
    # with the others" holds for each of them and says nothing.
    if all(centrality[best.id] > centrality[p.id] for p in others):
        reasons.append("its abstract shares the most terms with the other papers")
    if best.upvotes and all(best.upvotes > (p.upvotes or 0) for p in others):
        reasons.append(f"it has the most upvotes in the set ({best.upvotes})")
    if surveys:
        reasons.insert(0, "it is a survey")
    if not reasons and len(candidates) > 2:
        # The upvotes tipped the pick to a paper that has neither claim: the most central
        # paper, when one is, is the one with a reason.
        central = max(candidates, key=lambda p: centrality[p.id])
        if all(centrality[central.id] > centrality[p.id] for p in candidates if p is not central):
            best = central
            reasons.append("its abstract shares the most terms with the other papers")
    if not reasons:
        # Facts a reader weighs when the abstracts and votes do not decide: runnable code, then
        # which came out first (a later paper may build on it).
        with_code = [p for p in candidates if code_url(p)]
        dates = [p.published for p in candidates if p.published is not None]
        earliest = min(dates, default=None)
        if len(with_code) == 1:
            best = with_code[0]
            reasons.append("it is the only one with released code, so its method can be run")
        elif earliest is not None and dates.count(earliest) == 1:
            # No date in the words: the verifier holds every figure to the abstracts.
            best = next(p for p in candidates if p.published == earliest)
            reasons.append("it appeared first, and the others came out after it")
        else:
            reasons.append("none stands out by upvotes, date or released code, so any order works")
    text = " and ".join(reasons)
    return best.id, text[0].upper() + text[1:] + "."


def write_comparison(
    query: str | None,
    papers: list[Paper],
    evidence: list[Evidence] | None = None,
) -> ComparisonDraft:
    """A comparison of `papers`: one row each (method, problem, approach, headline result
    with its numbers, whether it needs training, code link), the phrases they share, what
    sets each apart, which to read first and why, and a written comparison that groups the
    papers by what their approaches share and states the contrast.

    Every cell and every described fact is copied from the paper it describes (facets, or
    sentences shortened at clause boundaries only, never losing a number); `query` steers
    which main sentence a paper without facets contributes. `evidence`, when given, decides
    which papers are worth comparing: papers whose evidence does not bear on the query are
    left out, unless that would leave none.
    """
    if evidence:
        off_topic = {e.paper_id for e in evidence if not e.bears_on_question}
        kept = [p for p in papers if p.id not in off_topic]
        papers = kept or papers
    if not papers:
        return ComparisonDraft()
    stats = TermStats([f"{p.title}. {p.abstract}" for p in papers])
    rows = [comparison_row(p, query) for p in papers]
    n = len(papers)
    shared = shared_phrases(papers, k=4) if n > 1 else []
    read_first, reason = _read_first(papers, stats)
    sentences = comparison_sentences(papers, query)
    if read_first is not None and reason is not None and n > 1:
        first = next(p for p in papers if p.id == read_first)
        sentences.append(
            DraftSentence(
                text=f"Read {short_title(first)} first: {reason[:1].lower()}{reason[1:]}",
                cites=[read_first],
            )
        )
    return ComparisonDraft(
        rows=rows,
        shared=shared,
        differences=differences(papers),
        read_first=read_first,
        read_first_reason=reason,
        sentences=sentences,
    )
