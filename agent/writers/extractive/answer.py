"""Extractive answers: a first sentence that responds to what was asked (from the papers'
facets), then per paper the sentences that speak to it, each a sentence of that paper's
abstract (shortened at clause boundaries), citing it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agent.state import Draft, DraftSentence, Evidence, Turn
from agent.writers.extractive.contrast import (
    answer_opening,
    aspect_sentence,
    grouped_order,
    refers_back,
)
from agent.writers.extractive.matching import parse_question
from agent.writers.extractive.shorten import shorten
from agent.writers.extractive.takeaway import key_result, main_point
from agent.writers.extractive.weights import Weighting
from store.models import Paper


def _evidence_strength(evidence: Evidence) -> float:
    relevances = sorted((s.relevance for s in evidence.sentences), reverse=True)
    return sum(r * (0.5**i) for i, r in enumerate(relevances[:3]))


# Answer sentences longer than this lose their trailing elaborations (never a number).
_ANSWER_WORDS = 35


def write_answer(
    question: str,
    evidence: list[Evidence],
    papers: Mapping[str, Paper],
    weights: Weighting | None,
    max_papers: int = 6,
    *,
    asked: str | None = None,
    history: Sequence[Turn] = (),
) -> Draft:
    """An extractive answer whose first sentence responds to what was asked, then per paper
    (most relevant first, papers sharing an approach together) what speaks to it.

    `question` is what retrieval saw (a follow-up carries the thread's earlier questions);
    `asked` is the turn's own question, which decides the aspect (`contrast.question_aspect`):
    "Which of them need no training?" opens with which do, which train and which do not say;
    "how much" with each paper's headline figure; otherwise with the papers by the approach
    they share. A follow-up that points back ("them", "these") narrows to the papers the
    previous answer cited. For training, figures and benchmarks each paper then gives the
    sentence that states it (and nothing when its abstract does not); otherwise its main
    point and key result. Only papers in `papers` are cited; `abstained` with no sentences
    when no evidence bears on the question.
    """
    bearing = [e for e in evidence if e.bears_on_question and e.sentences and e.paper_id in papers]
    asked = asked or question
    if history and refers_back(asked):
        previous = set(history[-1].cited)
        narrowed = [e for e in evidence if e.paper_id in previous and e.paper_id in papers]
        bearing = narrowed or bearing
    if not bearing:
        return Draft(abstained=True)
    bearing.sort(key=lambda e: -_evidence_strength(e))
    bearing = bearing[:max_papers]
    ids = [e.paper_id for e in bearing]

    # Common words weigh less than rare ones when choosing each paper's sentences.
    parsed = parse_question(question, weights)
    ordered = [papers[i] for i in ids]
    aspect, sentences = answer_opening(asked, ordered)
    final = grouped_order(ordered)

    for paper_id in final:
        paper = papers[paper_id]
        stated = aspect_sentence(aspect, paper)
        if aspect in _NARROW_ASPECTS:
            if stated is not None:
                sentences.append(
                    DraftSentence(text=shorten(stated, max_words=_ANSWER_WORDS), cites=[paper_id])
                )
            continue
        used: set[str] = set()
        main = main_point(paper, parsed)
        if main is not None:
            used.add(main)
            sentences.append(
                DraftSentence(text=shorten(main, max_words=_ANSWER_WORDS), cites=[paper_id])
            )
        # A question about figures or benchmarks gets the sentence that states the paper's.
        result = stated if stated is not None and stated not in used else None
        result = result or key_result(paper, parsed, used)
        if result is not None:
            sentences.append(
                DraftSentence(text=shorten(result, max_words=_ANSWER_WORDS), cites=[paper_id])
            )
    return Draft(sentences=sentences)


# Aspects an answer narrows to: each paper gives only the sentence that states it.
_NARROW_ASPECTS = frozenset({"training", "code"})
