"""`LeanWriter`: the LLM pipeline for small or slow models (`llm.pipeline = "lean"`).

The full LLM pipeline asks the model to route, plan queries, grade papers, extract evidence from
each paper, write, and rewrite sentences that fail verification: about a dozen calls an ask. A
small local model does each of those poorly and slowly. The lean pipeline does what needs no
model as the offline mode does (the extractive writer's routing, query planning, relevance
grading and evidence selection, whatever they are on main), then makes ONE LLM call to write
the answer, the comparison or the takeaway from that evidence; the same verifier checks the
draft, and a sentence that fails is removed rather than sent back for a rewrite (another call).
Results are labelled `llm`: the model wrote them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agent.results import Mode, Usage
from agent.state import ComparisonDraft, Draft, Evidence, Route, Turn
from agent.verify import Rewriter
from agent.writers.base import AnswerTask, Writer
from store.models import Paper


class LeanWriter:
    """A `Writer` that reads with `reader` (the extractive writer) and writes with `author`
    (the LLM writer)."""

    def __init__(self, reader: Writer, author: Writer) -> None:
        self.reader = reader
        self.author = author

    @property
    def mode(self) -> Mode:
        return self.author.mode

    def route(self, question: str, history: Sequence[Turn]) -> tuple[Route, Usage]:
        return self.reader.route(question, history)

    def plan_queries(
        self, question: str, contextual: str, history: Sequence[Turn]
    ) -> tuple[list[str], Usage]:
        return self.reader.plan_queries(question, contextual, history)

    def grade(
        self,
        question: str,
        queries: Sequence[str],
        papers: Sequence[Paper],
        max_papers: int,
        *,
        whole_topic: bool = False,
    ) -> tuple[list[Paper], Usage]:
        return self.reader.grade(question, queries, papers, max_papers, whole_topic=whole_topic)

    def extract_evidence(self, question: str, paper: Paper) -> tuple[Evidence, Usage]:
        return self.reader.extract_evidence(question, paper)

    def write_answer(self, task: AnswerTask) -> tuple[Draft, Usage]:
        return self.author.write_answer(task)

    def write_comparison(
        self, query: str, papers: Sequence[Paper], evidence: Sequence[Evidence]
    ) -> tuple[ComparisonDraft, Usage]:
        return self.author.write_comparison(query, papers, evidence)

    def rewriter(self, papers: Mapping[str, Paper], usage: Usage) -> Rewriter | None:
        return None  # the verifier removes a failing sentence: no rewrite call

    def takeaway(self, paper: Paper) -> tuple[str, Usage]:
        return self.author.takeaway(paper)

    def name_theme(self, group: Sequence[Paper], week: Sequence[Paper]) -> tuple[str, Usage]:
        return self.author.name_theme(group, week)
