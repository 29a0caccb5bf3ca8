"""Extractive comparisons: a row per paper from its facets (method name, problem, approach,
headline result, whether it needs training, code), the phrases the papers share and what sets
each apart, which to read first and why, and a written comparison that groups the papers by
what their approaches share and states the contrast (`contrast.py`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

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


def _standout(papers: Sequence[Paper], key: Callable[[Paper], float]) -> Paper | None:
    """The one paper whose `key` is strictly above every other's; None on a tie for the top."""
    ranked = sorted(papers, key=key, reverse=True)
    if len(ranked) > 1 and key(ranked[0]) <= key(ranked[1]):
        return None
    return ranked[0] if ranked else None


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

    # Only a claim that sets the paper apart: with two papers, or a tie, "shares the most terms
    # with the others" holds for each of them and says nothing.
    central = _standout(candidates, lambda p: centrality[p.id])
    voted = _standout(candidates, lambda p: p.upvotes or 0) if top_votes else None
    best = max(candidates, key=merit)
    if best is not central and best is not voted and central is not None and len(candidates) > 2:
        # The upvotes tipped the pick to a paper that has neither claim.
        best = central
    reasons = []
    if best is central:
        reasons.append("its abstract shares the most terms with the other papers")
    if best is voted:
        reasons.append(f"it has the most upvotes in the set ({best.upvotes})")
    if surveys:
        reasons.insert(0, "it is a survey")
    if not reasons:
        # Facts a reader weighs when the abstracts and votes do not decide: runnable code, then
        # which came out first (a later paper may build on it). No date in the words: the
        # verifier holds every figure to the abstracts.
        with_code = _standout(candidates, lambda p: bool(code_url(p)))
        earliest = _standout(
            candidates, lambda p: -p.published.toordinal() if p.published else -math.inf
        )
        if with_code is not None:
            best = with_code
            reasons.append("it is the only one with released code, so its method can be run")
        elif earliest is not None:
            best = earliest
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
