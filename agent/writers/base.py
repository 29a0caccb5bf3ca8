"""The `Writer` protocol: the steps of the agent that an LLM can do, and the extractive writer
does without one. Nodes call these and never ask which writer they hold.

Every step returns its value and the LLM usage it cost (zero offline), so the graph sums usage
the same way in both modes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from agent.results import Mode, Usage
from agent.state import ComparisonDraft, Draft, Evidence, Route, Turn
from agent.verify import Rewriter
from store.models import Paper


@dataclass(frozen=True)
class AnswerTask:
    """What writing an answer needs.

    `question` is the turn's question as asked; `retrieval_question` carries the thread's
    earlier questions along when it is a follow-up. `papers` (relevance order) and `evidence`
    pair up one to one. `on_token`, when set, receives the answer's text as it is written
    (chat streaming; a writer that writes whole sentences may ignore it).
    """

    question: str
    retrieval_question: str
    history: Sequence[Turn]
    papers: Sequence[Paper]
    evidence: Sequence[Evidence]
    on_token: Callable[[str], None] | None = None


class Writer(Protocol):
    """The agent's mode-dependent steps. `mode` names the writer in results ("llm", "offline")."""

    @property
    def mode(self) -> Mode: ...

    def route(self, question: str, history: Sequence[Turn]) -> tuple[Route, Usage]:
        """What the question asks for: an answer, a comparison, recommendations, or nothing."""
        ...

    def plan_queries(
        self, question: str, contextual: str, history: Sequence[Turn]
    ) -> tuple[list[str], Usage]:
        """Search queries for `question`; `contextual` is it with a follow-up's context."""
        ...

    def grade(
        self,
        question: str,
        queries: Sequence[str],
        papers: Sequence[Paper],
        max_papers: int,
        *,
        whole_topic: bool = False,
    ) -> tuple[list[Paper], Usage]:
        """The retrieved `papers` that bear on the question, best first, at most `max_papers`.
        `whole_topic`: the request wants every paper on the topic (a comparison), not the
        papers that answer one question."""
        ...

    def extract_evidence(self, question: str, paper: Paper) -> tuple[Evidence, Usage]:
        """What one paper's abstract says about the question."""
        ...

    def write_answer(self, task: AnswerTask) -> tuple[Draft, Usage]:
        """A draft answer whose sentences cite the papers they rest on."""
        ...

    def write_comparison(
        self, query: str, papers: Sequence[Paper], evidence: Sequence[Evidence]
    ) -> tuple[ComparisonDraft, Usage]:
        """A comparison table and a written comparison of `papers`."""
        ...

    def rewriter(self, papers: Mapping[str, Paper], usage: Usage) -> Rewriter | None:
        """How the verifier repairs a sentence that failed a check (its cost added to
        `usage`), or None to remove such sentences."""
        ...

    def takeaway(self, paper: Paper) -> tuple[str, Usage]:
        """The paper's one-sentence takeaway."""
        ...

    def name_theme(self, group: Sequence[Paper], week: Sequence[Paper]) -> tuple[str, Usage]:
        """A name for a theme of `group` papers within the `week`'s papers."""
        ...
