"""The extractive writer: what paperbrief writes without an LLM (offline mode, the default).

Deterministic and extractive: every claim is a sentence (or a shortened sentence) copied from
the abstract it cites. The only other text is template text ("Three papers address this
question.") naming counts, titles and shared terms of the cited papers, never a finding of its
own. Numbers are never rewritten; the verifier checks them all the same.

One module per job:

| module | job |
| --- | --- |
| `roles.py` | a sentence's rhetorical role (problem, contribution, method, result) from cues |
| `shorten.py` | a faithful shorter form of a sentence (lead-ins, asides, trailing clauses cut) |
| `evidence.py` | grading and evidence from the calibrated decision of `agent/relevance.py` |
| `matching.py` | how much of a question a sentence's words cover (choosing answer sentences) |
| `routing.py` | what a request asks for, and its search queries |
| `takeaway.py` | a paper's main point, key result and one-sentence takeaway |
| `answer.py` | answers: overview, then per paper its main point and key result |
| `comparison.py` | comparison rows, shared phrases and differences, what to read first |
| `contrast.py` | comparative prose from facets: groups, contrasts, answer openings by aspect |
| `phrasing.py` | the template words (counts as words, short titles, "a, b and c") |
| `weights.py` | word weights (idf) for question matching |
| `data/` | word lists and fitted weights, as data files |
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agent.relevance import RelevanceJudge
from agent.results import Mode, Usage
from agent.state import ComparisonDraft, Draft, Evidence, Route, Turn
from agent.themes import theme_name
from agent.verify import Rewriter
from agent.writers.base import AnswerTask
from agent.writers.extractive import answer, comparison, routing, takeaway
from agent.writers.extractive.comparison import code_url, is_survey, needs_training
from agent.writers.extractive.evidence import EvidenceGrader
from agent.writers.extractive.roles import classify_sentence
from agent.writers.extractive.shorten import shorten, strip_lead_in
from agent.writers.extractive.takeaway import key_result, main_point, tldr
from agent.writers.extractive.weights import Weighting, WordWeights, bundled_word_weights
from store.models import Paper


class ExtractiveWriter:
    """The `Writer` without an LLM. `relevance` decides which papers bear on a question and
    which of their sentences answer it (see `evidence.py`); `weights` weigh question words when
    choosing an answer's sentences (default: the bundled table, see `weights.py`)."""

    def __init__(self, relevance: RelevanceJudge, weights: Weighting | None = None) -> None:
        self.weights: Weighting = weights if weights is not None else bundled_word_weights()
        self.grader = EvidenceGrader(relevance, self.weights)

    @property
    def mode(self) -> Mode:
        return "offline"

    def route(self, question: str, history: Sequence[Turn]) -> tuple[Route, Usage]:
        return routing.route_question(question), Usage()

    def plan_queries(
        self, question: str, contextual: str, history: Sequence[Turn]
    ) -> tuple[list[str], Usage]:
        return routing.plan_queries(contextual), Usage()

    def grade(
        self,
        question: str,
        queries: Sequence[str],
        papers: Sequence[Paper],
        max_papers: int,
        *,
        whole_topic: bool = False,
    ) -> tuple[list[Paper], Usage]:
        graded = self.grader.grade(question, papers, max_papers, queries, whole_topic=whole_topic)
        return graded, Usage()

    def extract_evidence(self, question: str, paper: Paper) -> tuple[Evidence, Usage]:
        return self.grader.evidence(question, paper), Usage()

    def write_answer(self, task: AnswerTask) -> tuple[Draft, Usage]:
        papers = {p.id: p for p in task.papers}
        draft = answer.write_answer(
            task.retrieval_question,
            list(task.evidence),
            papers,
            self.weights,
            asked=task.question,
            history=task.history,
        )
        return draft, Usage()

    def write_comparison(
        self, query: str, papers: Sequence[Paper], evidence: Sequence[Evidence]
    ) -> tuple[ComparisonDraft, Usage]:
        return comparison.write_comparison(query, list(papers), list(evidence)), Usage()

    def rewriter(self, papers: Mapping[str, Paper], usage: Usage) -> Rewriter | None:
        return None  # a sentence that fails verification is removed, never reworded

    def takeaway(self, paper: Paper) -> tuple[str, Usage]:
        return takeaway.tldr(paper), Usage()

    def name_theme(self, group: Sequence[Paper], week: Sequence[Paper]) -> tuple[str, Usage]:
        return theme_name(group, week), Usage()


__all__ = [
    "ExtractiveWriter",
    "WordWeights",
    "classify_sentence",
    "code_url",
    "is_survey",
    "key_result",
    "main_point",
    "needs_training",
    "shorten",
    "strip_lead_in",
    "tldr",
]
