"""Extractive answers: an overview, then per paper its main point and key result, each a
sentence of that paper's abstract (shortened), citing it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set

from agent.state import Draft, DraftSentence, Evidence
from agent.text import TermStats
from agent.writers.extractive.matching import parse_question, related_stems
from agent.writers.extractive.phrasing import count_words, short_title
from agent.writers.extractive.shorten import shorten
from agent.writers.extractive.takeaway import key_result, main_point
from agent.writers.extractive.weights import Weighting
from store.models import Paper


def _evidence_strength(evidence: Evidence) -> float:
    relevances = sorted((s.relevance for s in evidence.sentences), reverse=True)
    return sum(r * (0.5**i) for i, r in enumerate(relevances[:3]))


def _themes(papers: Sequence[Paper], exclude: Set[str]) -> list[tuple[str, list[str]]]:
    """Groups of papers whose titles share a term the question did not already name:
    (term as written, paper ids), each paper in at most one group, at most two groups."""
    if len(papers) < 3:
        return []
    stats = TermStats([p.title for p in papers])
    groups: list[tuple[str, list[str]]] = []
    taken: set[str] = set()
    candidates = sorted(
        (t for t, c in stats.df.items() if 2 <= c < len(papers)),
        key=lambda t: (-stats.df[t] - (0.5 if " " in t else 0.0), t),
    )
    for term in candidates:
        parts = set(term.replace("-", " ").split())
        if " " not in term and len(term) < 4:
            continue  # "ai", "llm": too broad to name what papers share
        if parts & exclude or any(related_stems(p) & exclude for p in parts):
            continue
        members = [
            p.id
            for p, terms in zip(papers, stats.doc_terms, strict=True)
            if term in terms and p.id not in taken
        ]
        if len(members) < 2:
            continue
        groups.append((stats.surface(term), members))
        taken.update(members)
        if len(groups) == 2:
            break
    return groups


# Answer sentences longer than this lose their trailing elaborations (never a number).
_ANSWER_WORDS = 35


def write_answer(
    question: str,
    evidence: list[Evidence],
    papers: Mapping[str, Paper],
    weights: Weighting | None,
    max_papers: int = 6,
) -> Draft:
    """An extractive answer: a template overview, then per paper (most relevant first) its
    most relevant contribution or method sentence and its key result, each citing that paper.

    Papers that share a theme the question did not name are introduced together. Only
    papers in `papers` are cited. `abstained` with no sentences when no evidence bears on
    the question.
    """
    bearing = [e for e in evidence if e.bears_on_question and e.sentences and e.paper_id in papers]
    if not bearing:
        return Draft(abstained=True)
    bearing.sort(key=lambda e: -_evidence_strength(e))
    bearing = bearing[:max_papers]
    ids = [e.paper_id for e in bearing]
    n = len(bearing)
    if n == 1:
        overview = "One of the papers addresses this question."
    else:
        overview = (
            f"{count_words(n)} of the papers address this question; "
            "they are summarised below, most relevant first."
        )
    sentences = [DraftSentence(text=overview, cites=ids)]

    # Common words weigh less than rare ones when choosing each paper's sentences.
    parsed = parse_question(question, weights)
    question_terms = set(parsed.terms)
    ordered = [papers[i] for i in ids]
    themes = _themes(ordered, question_terms)
    intro: dict[str, DraftSentence] = {}
    for term, members in themes:
        names = [short_title(papers[i]) for i in members]
        listed = ", ".join(names[:-1]) + f" and {names[-1]}"
        intro[members[0]] = DraftSentence(
            text=f"{listed} share a focus on {term}.", cites=list(members)
        )
    # Papers keep their relevance order; a theme's members follow its strongest member.
    final: list[str] = []
    for paper_id in ids:
        if paper_id in final:
            continue
        group = next((m for _, m in themes if paper_id in m), [paper_id])
        final.extend(g for g in group if g not in final)

    for paper_id in final:
        if paper_id in intro:
            sentences.append(intro[paper_id])
        paper = papers[paper_id]
        used: set[str] = set()
        main = main_point(paper, parsed)
        if main is not None:
            used.add(main)
            sentences.append(
                DraftSentence(text=shorten(main, max_words=_ANSWER_WORDS), cites=[paper_id])
            )
        result = key_result(paper, parsed, used)
        if result is not None:
            sentences.append(
                DraftSentence(text=shorten(result, max_words=_ANSWER_WORDS), cites=[paper_id])
            )
    return Draft(sentences=sentences)
