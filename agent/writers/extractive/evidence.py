"""Grading and evidence from the calibrated relevance decision (`agent/relevance.py`).

Which retrieved papers bear on a question, and which of a paper's sentences answer it, are
decided from retrieval evidence (dense cosines of the question with each paper and each of its
sentences, BM25 coverage, rank), not from word overlap. The decision for a question is made
once, over every candidate, when the graph grades; each paper's parallel evidence branch then
reads its part of it. A paper evidence is asked for without grading (a comparison of named
papers) is assessed on its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from agent.relevance import Assessment, PaperRelevance, RelevanceJudge
from agent.state import Evidence, EvidenceSentence
from agent.writers.extractive.matching import parse_question, rank_sentences
from agent.writers.extractive.roles import classify_sentence
from agent.writers.extractive.weights import Weighting
from store.models import Paper

# Questions whose assessment is kept for the evidence branches that follow grading.
_REMEMBERED = 16


class EvidenceGrader:
    """Grades papers and extracts evidence with one `RelevanceJudge`; `weights` weigh question
    words for the word ranking of sentences (see `evidence_of`)."""

    def __init__(self, judge: RelevanceJudge, weights: Weighting | None = None) -> None:
        self.judge = judge
        self.weights = weights
        self._recent: OrderedDict[str, Assessment] = OrderedDict()
        self._lock = threading.Lock()

    def grade(
        self,
        question: str,
        papers: Sequence[Paper],
        max_papers: int,
        queries: Sequence[str] = (),
        *,
        whole_topic: bool = False,
    ) -> list[Paper]:
        """The papers that bear on `question`, most relevant first; none to abstain. `papers`
        merge the results of the search `queries` round-robin; `whole_topic` keeps every paper
        whose evidence clears the bar (a comparison of a topic)."""
        assessment = self.judge.assess(
            question, papers, max_papers, queries, whole_topic=whole_topic
        )
        with self._lock:
            self._recent[question] = assessment
            self._recent.move_to_end(question)
            while len(self._recent) > _REMEMBERED:
                self._recent.popitem(last=False)
        return [r.paper for r in assessment.bearing]

    def evidence(self, question: str, paper: Paper, max_sentences: int = 3) -> Evidence:
        """The sentences of `paper` closest to `question`, best first, verbatim; whether the
        paper bears on it is the grading decision (or, ungraded, its own evidence)."""
        with self._lock:
            assessment = self._recent.get(question)
        found = assessment.by_id().get(paper.id) if assessment is not None else None
        if assessment is None or found is None:
            assessment = self.judge.assess(question, [paper])
            found = assessment.ranked[0]
        bears = any(r.paper.id == paper.id for r in assessment.bearing)
        by_words = rank_sentences(parse_question(question, self.weights), paper)[0]
        return evidence_of(found, [s.text for s in by_words], bears, max_sentences)


def evidence_of(
    relevance: PaperRelevance, by_words: Sequence[str], bears: bool, max_sentences: int = 3
) -> Evidence:
    """The paper's evidence: its sentences by the sum of their reciprocal ranks (from 1) by
    cosine with the question and by the question's words they cover (`rank_sentences`: word
    weights, related words, role), so a sentence must do well on both. The cosine alone
    favours a sentence restating the paper's topic over the one that answers the question
    ("decoding steps cut by 3.4x" for "how do they speed up ..."), the words alone miss
    paraphrases. Each sentence's `relevance` is its cosine."""
    word_rank = {text: rank for rank, text in enumerate(by_words, start=1)}
    fused = sorted(
        enumerate(relevance.sentences, start=1),
        key=lambda item: (
            -(1.0 / item[0] + 1.0 / word_rank.get(item[1].text, len(word_rank) + 1)),
            item[0],
        ),
    )
    chosen = [
        EvidenceSentence(text=s.text, role=classify_sentence(s.text), relevance=round(s.cosine, 4))
        for _, s in fused[:max_sentences]
    ]
    return Evidence(paper_id=relevance.paper.id, sentences=chosen, bears_on_question=bears)
