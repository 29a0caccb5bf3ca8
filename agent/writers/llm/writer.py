"""`LLMWriter`: the `Writer` that asks a chat model for each step's typed reply."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from agent.errors import UnsupportedTakeawayError
from agent.prompts import format_papers_as_data, render
from agent.results import ComparisonRow, Mode, Usage
from agent.state import ComparisonDraft, Draft, DraftSentence, Evidence, Route, Turn
from agent.text import numbers_in
from agent.themes import key_phrases, theme_name, theme_name_problems
from agent.verify import Rewriter, strip_citation_marks
from agent.writers.base import AnswerTask
from agent.writers.llm.citations import cites_from_numbers, numbered, parse_prose_draft
from agent.writers.llm.schemas import (
    Grades,
    NumberedComparison,
    NumberedDraft,
    PaperEvidence,
    QueryPlan,
    Rewrite,
    RouteDecision,
    Takeaway,
    ThemeName,
)
from store.models import Paper

if TYPE_CHECKING:
    from agent.llm import ChatLLM

SchemaT = TypeVar("SchemaT", bound=BaseModel)


def history_text(history: Sequence[Turn], turns: int = 3) -> str:
    """The thread's last `turns` exchanges, as the prompts show them."""
    if not history:
        return "(no earlier turns)"
    lines = []
    for turn in history[-turns:]:
        lines.append(f"Q: {turn.question}\nA: {turn.answer}")
    return "\n\n".join(lines)


def _evidence_text(papers: Sequence[Paper], evidence: Sequence[Evidence]) -> str:
    lines = []
    for n, (paper, ev) in enumerate(zip(papers, evidence, strict=True), start=1):
        quoted = " ".join(s.text for s in ev.sentences) or "(no sentence selected)"
        lines.append(f"[{n}] {paper.title}: {quoted}")
    return "\n".join(lines)


class LLMWriter:
    """The `Writer` over a chat model. Every LLM failure raises `LLMError`; there is no silent
    fallback to the extractive writer."""

    def __init__(self, llm: ChatLLM) -> None:
        self.llm = llm

    @property
    def mode(self) -> Mode:
        return "llm"

    def _structured(
        self, prompt: str, schema: type[SchemaT], **variables: object
    ) -> tuple[SchemaT, Usage]:
        messages = [{"role": "user", "content": render(prompt, **variables)}]
        result = self.llm.structured(messages, schema)
        return result.value, result.usage

    def route(self, question: str, history: Sequence[Turn]) -> tuple[Route, Usage]:
        decision, usage = self._structured(
            "route", RouteDecision, question=question, history=history_text(history)
        )
        return decision.route, usage

    def plan_queries(
        self, question: str, contextual: str, history: Sequence[Turn]
    ) -> tuple[list[str], Usage]:
        plan, usage = self._structured(
            "plan_queries", QueryPlan, question=question, history=history_text(history)
        )
        queries = [q.strip() for q in plan.queries if q.strip()][:3]
        return list(dict.fromkeys([*queries, contextual])), usage

    def grade(
        self,
        question: str,
        queries: Sequence[str],
        papers: Sequence[Paper],
        max_papers: int,
        *,
        whole_topic: bool = False,
    ) -> tuple[list[Paper], Usage]:
        grades, usage = self._structured(
            "grade", Grades, question=question, papers=format_papers_as_data(papers)
        )
        chosen = [papers[n - 1] for n in dict.fromkeys(grades.relevant) if 1 <= n <= len(papers)]
        return chosen[:max_papers], usage

    def extract_evidence(self, question: str, paper: Paper) -> tuple[Evidence, Usage]:
        reply, usage = self._structured(
            "extract_evidence",
            PaperEvidence,
            question=question,
            paper=format_papers_as_data([paper], numbered=False),
        )
        evidence = Evidence(
            paper_id=paper.id, sentences=reply.sentences, bears_on_question=reply.bears_on_question
        )
        return evidence, usage

    def write_answer(self, task: AnswerTask) -> tuple[Draft, Usage]:
        history = history_text(task.history)
        papers = format_papers_as_data(task.papers)
        evidence = _evidence_text(task.papers, task.evidence)
        if task.on_token is not None:
            # Chat: the answer streams token by token as prose with [n] marks, then is parsed
            # into the same draft the structured writer returns.
            prompt = render(
                "write_answer_stream",
                question=task.question,
                history=history,
                papers=papers,
                evidence=evidence,
            )
            chat = self.llm.chat([{"role": "user", "content": prompt}], on_token=task.on_token)
            return parse_prose_draft(chat.text, task.papers), chat.usage
        reply, usage = self._structured(
            "write_answer",
            NumberedDraft,
            question=task.question,
            history=history,
            papers=papers,
            evidence=evidence,
        )
        draft = Draft(sentences=numbered(reply.sentences, task.papers), abstained=reply.abstained)
        if draft.abstained:
            draft.sentences = []
        return draft, usage

    def write_comparison(
        self, query: str, papers: Sequence[Paper], evidence: Sequence[Evidence]
    ) -> tuple[ComparisonDraft, Usage]:
        reply, usage = self._structured(
            "write_comparison",
            NumberedComparison,
            query=query or "the papers below",
            papers=format_papers_as_data(papers),
        )
        rows = []
        for row in reply.rows:
            if 1 <= row.source <= len(papers):
                paper = papers[row.source - 1]
                rows.append(
                    ComparisonRow(
                        paper_id=paper.id,
                        title=paper.title,
                        problem=row.problem,
                        approach=row.approach,
                        key_result=row.key_result,
                        needs_training=row.needs_training,
                        code=paper.code_urls[0] if paper.code_urls else None,
                    )
                )
        read_first = None
        if reply.read_first is not None:
            read_first = cites_from_numbers([reply.read_first], papers)[0]
        draft = ComparisonDraft(
            rows=rows,
            shared=reply.shared,
            differences=reply.differences,
            read_first=read_first,
            read_first_reason=reply.read_first_reason,
            sentences=numbered(reply.sentences, papers),
        )
        return draft, usage

    def rewriter(self, papers: Mapping[str, Paper], usage: Usage) -> Rewriter | None:
        llm = self.llm

        def rewrite(sentence: DraftSentence, problems: list[str]) -> DraftSentence | None:
            cited = [papers[c] for c in sentence.cites if c in papers]
            marks = ", ".join(str(n) for n in range(1, len(cited) + 1))
            prompt = render(
                "rewrite_sentence",
                sentence=f"{sentence.text} [{marks}]",
                problems="\n".join(f"- {p}" for p in problems),
                papers=format_papers_as_data(cited),
            )
            result = llm.structured([{"role": "user", "content": prompt}], Rewrite)
            usage.add(result.usage)
            if not result.value.text.strip():
                return None
            return DraftSentence(
                text=result.value.text, cites=cites_from_numbers(result.value.sources, cited)
            )

        return rewrite

    def name_theme(self, group: Sequence[Paper], week: Sequence[Paper]) -> tuple[str, Usage]:
        """The model's name for the theme, given the papers and the key phrases they share;
        a name that fails `theme_name_problems` (too long, a number or words no member uses)
        is replaced by the extractive name, so a briefing never shows an unsupported name."""
        candidates = key_phrases(group, week, k=4)
        data = format_papers_as_data(list(group))
        reply, usage = self._structured(
            "name_theme", ThemeName, papers=data, candidates="; ".join(candidates) or "(none)"
        )
        name = " ".join(reply.name.split()).strip(" .\"'")
        if not name or theme_name_problems(name, group):
            return theme_name(group, week), usage
        return name, usage

    def takeaway(self, paper: Paper) -> tuple[str, Usage]:
        """The model's one-sentence takeaway, its numbers checked against the abstract. A
        failing takeaway gets one rewrite call, then raises `UnsupportedTakeawayError`.

        Asked for as a bounded structured reply (`Takeaway`), not free text: a model that
        does not stop gets cut at the sentence's bound instead of returning a page."""
        usage = Usage()
        data = format_papers_as_data([paper], numbered=False)
        reply, spent = self._structured("tldr", Takeaway, paper=data)
        usage.add(spent)
        text = " ".join(reply.sentence.split())
        allowed = numbers_in(f"{paper.title}. {paper.abstract}")
        bad = sorted(numbers_in(text) - allowed)
        if bad:
            prompt = render(
                "rewrite_sentence",
                sentence=text,
                problems=f"- {', '.join(bad)} does not occur in the abstract",
                papers=format_papers_as_data([paper]),
            )
            fixed = self.llm.structured([{"role": "user", "content": prompt}], Rewrite)
            usage.add(fixed.usage)
            text = " ".join(strip_citation_marks(fixed.value.text).split())
            if not text or numbers_in(text) - allowed:
                still = sorted(numbers_in(text) - allowed) or bad
                raise UnsupportedTakeawayError(paper.id, ", ".join(still))
        return text, usage
