"""The agent graph's nodes: route, plan, retrieve, grade, extract, write, verify, respond.

Each node is a method of `AgentNodes`, which holds the injected `AgentDeps` (search, paper
lookup, recommender, writer, settings), so tests run the real nodes against a real store and
the local OpenAI-wire test server without patching anything. Every step that an LLM can do is a
call to the `Writer` (`agent/writers/`): the extractive writer offline, the LLM writer with a
model. Nodes never ask which one they hold. Both writers produce the drafts of
`agent/state.py`, which one verifier (`agent/verify.py`) checks and one renderer
(`agent/compose.py`) formats.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langgraph.config import get_stream_writer
from langgraph.types import Send

from agent import compose
from agent.conversation import answer_message, asked, question_message, turns
from agent.errors import UnknownPapersError
from agent.results import Answer, Mode, ReadingList, RemovedSentence, Usage
from agent.settings import Settings
from agent.state import (
    AgentState,
    ComparisonDraft,
    Draft,
    Evidence,
    EvidenceTask,
    Turn,
)
from agent.text import content_stems
from agent.verify import verify_comparison
from agent.verify import verify_sentences as verify_sentence_list
from agent.writers import AnswerTask, Writer
from store.models import Hit, Paper

# A follow-up leans on the previous turn ("which of them needs no training?").
_FOLLOW_UP_CUES = re.compile(
    r"\b(them|they|their|these|those|it|its|this one|that one|the first|the second|the last|"
    r"above|earlier|previous|same|which of|among them|of those|also|more about)\b",
    re.IGNORECASE,
)


@dataclass
class AgentDeps:
    """Everything the nodes need, injected so tests and `langgraph dev` can supply their own.

    `search(query, k)` returns hits best first; `lookup(ids)` returns the stored papers among
    `ids`; `recommend(interests, k)` gives reading recommendations (`PaperBrief.reading_list`);
    `writer` does every step an LLM can do (see `agent.writers`). `stream_tokens` decides
    whether an LLM writer's tokens go to the `custom` stream as they arrive (chat) or only
    finished sentences do.
    """

    settings: Settings
    search: Callable[[str, int], list[Hit]]
    lookup: Callable[[list[str]], list[Paper]]
    writer: Writer
    recommend: Callable[[list[str], int], ReadingList] | None = None
    stream_tokens: bool = True
    retrieve_k: int = 10
    max_papers: int = 8
    recommend_k: int = 5

    @property
    def mode(self) -> Mode:
        return self.writer.mode


DepsSource = AgentDeps | Callable[[], AgentDeps]


def _emit(event: dict[str, Any]) -> None:
    """Send an event to the `custom` stream; a no-op when nobody streams that mode."""
    try:
        writer = get_stream_writer()
    except RuntimeError:  # called outside a graph run (e.g. pb.tldr)
        return
    writer(event)


def _history(state: AgentState) -> list[Turn]:
    """The thread's earlier turns, as data from its messages."""
    return turns(state.get("messages") or [])


def _prose(state: AgentState, answer: Answer) -> str:
    """The answer as plain text for later turns: the verified sentences, not the Markdown."""
    if answer.abstained:
        return compose.NOT_COVERED
    if state.get("route") == "recommend":
        picks = state.get("recommendations") or []
        return " ".join(f"{r.paper.title}: {r.reason}" for r in picks)
    written = state.get("comparison") if state.get("route") == "compare" else state.get("draft")
    sentences = written.sentences if written is not None else []
    return " ".join(s.text for s in sentences) or compose.NOT_COVERED


def is_follow_up(question: str, history: Sequence[Turn]) -> bool:
    """Whether `question` leans on the thread's earlier turns for its meaning."""
    if not history:
        return False
    return bool(_FOLLOW_UP_CUES.search(question)) or len(set(content_stems(question))) <= 2


class AgentNodes:
    """The node functions, bound to their dependencies."""

    def __init__(self, deps: DepsSource) -> None:
        self._deps_source = deps
        self._deps: AgentDeps | None = deps if isinstance(deps, AgentDeps) else None

    @property
    def deps(self) -> AgentDeps:
        # Resolved on first use, so that building the module-level graph for `langgraph dev`
        # opens no store and loads no model at import time.
        if self._deps is None:
            source = self._deps_source
            assert callable(source)
            self._deps = source()
        return self._deps

    # -- nodes --------------------------------------------------------------------------------

    def receive_request(self, state: AgentState) -> dict[str, Any]:
        """Start a turn: validate the input and clear what the previous turn left behind.

        A chat client asks by appending a `HumanMessage` to `messages`; `question` with no such
        message is added to the conversation as one."""
        request = state.get("request") or "ask"
        in_chat = asked(state.get("messages") or []) if request == "ask" else None
        question = in_chat if in_chat is not None else (state.get("question") or "").strip()
        paper_ids = [p.strip() for p in state.get("paper_ids") or [] if p.strip()]
        if not question and not (request == "compare" and paper_ids):
            raise ValueError("a question (or, to compare, a topic or paper ids) is required")
        update: dict[str, Any] = {}
        if request == "ask" and in_chat is None:
            update["messages"] = [question_message(question)]
        return update | {
            "request": request,
            "question": question,
            "paper_ids": paper_ids,
            "queries": [],
            "retrieved": [],
            "relevant": [],
            "evidence": None,
            "draft": None,
            "comparison": None,
            "recommendations": [],
            "recommend_notice": None,
            "removed": [],
            "usage": None,
            "result": None,
        }

    def route_request(self, state: AgentState) -> dict[str, Any]:
        """Decide what the request is: an answer, a comparison, recommendations, or none."""
        if state.get("request") == "compare":
            return {"route": "compare"}
        route, usage = self.deps.writer.route(state["question"], _history(state))
        return {"route": route, "usage": usage}

    def plan_queries(self, state: AgentState) -> dict[str, Any]:
        """Search queries for the question; a follow-up carries the earlier questions along."""
        if state.get("paper_ids"):
            return {"queries": []}
        question = state["question"]
        history = _history(state)
        contextual = question
        if is_follow_up(question, history):
            earlier = " ".join(turn.question for turn in history[-2:])
            contextual = f"{earlier} {question}"
        queries, usage = self.deps.writer.plan_queries(question, contextual, history)
        return {"queries": queries, "usage": usage}

    def retrieve_papers(self, state: AgentState) -> dict[str, Any]:
        """Hybrid search for each query, fused round-robin; or the papers the caller named."""
        paper_ids = state.get("paper_ids") or []
        if paper_ids:
            found = {p.id: p for p in self.deps.lookup(paper_ids)}
            missing = [pid for pid in paper_ids if pid not in found]
            if missing:
                raise UnknownPapersError(missing)
            return {"retrieved": [found[pid] for pid in dict.fromkeys(paper_ids)]}
        k = self.deps.retrieve_k
        ranked = [[hit.paper for hit in self.deps.search(q, k)] for q in state["queries"]]
        papers: dict[str, Paper] = {}
        for rank in range(k):
            for hits in ranked:
                if rank < len(hits):
                    papers.setdefault(hits[rank].id, hits[rank])
        history = _history(state)
        if is_follow_up(state["question"], history):
            # "them" in a follow-up means the papers the previous answer cited.
            for paper in self.deps.lookup(history[-1].cited):
                papers.setdefault(paper.id, paper)
        retrieved = list(papers.values())
        _emit({"event": "retrieved", "papers": [p.id for p in retrieved]})
        return {"retrieved": retrieved}

    def grade_papers(self, state: AgentState) -> dict[str, Any]:
        """Keep the retrieved papers that bear on the question."""
        retrieved = state.get("retrieved") or []
        if state.get("paper_ids"):
            return {"relevant": retrieved}
        if not retrieved:
            return {"relevant": []}
        relevant, usage = self.deps.writer.grade(
            self._retrieval_question(state),
            state.get("queries") or [],
            retrieved,
            self.deps.max_papers,
            whole_topic=state.get("route") == "compare",
        )
        return {"relevant": relevant, "usage": usage}

    def _retrieval_question(self, state: AgentState) -> str:
        """The question as retrieval and grading see it: with its thread context if needed."""
        question = state.get("question") or ""
        history = _history(state)
        if is_follow_up(question, history):
            return " ".join([*(t.question for t in history[-2:]), question])
        return question

    def fan_out_evidence(self, state: AgentState) -> list[Send] | str:
        """One `extract_evidence` branch per relevant paper, run in parallel; none -> respond."""
        relevant = state.get("relevant") or []
        if not relevant:
            return "respond"
        question = self._retrieval_question(state)
        stream = bool(state.get("stream"))
        return [
            Send("extract_evidence", EvidenceTask(question=question, paper=p, stream=stream))
            for p in relevant
        ]

    def extract_evidence(self, task: EvidenceTask) -> dict[str, Any]:
        """What one paper's abstract says about the question (one branch of the fan-out)."""
        evidence, usage = self.deps.writer.extract_evidence(task["question"], task["paper"])
        return {"evidence": [evidence], "usage": usage}

    def choose_writer(self, state: AgentState) -> str:
        return "write_comparison" if state.get("route") == "compare" else "write_answer"

    def _bearing_papers(self, state: AgentState) -> tuple[list[Paper], list[Evidence]]:
        """Relevant papers whose evidence bears on the question, in relevance order."""
        by_id = {e.paper_id: e for e in state.get("evidence") or []}
        papers = [
            p
            for p in state.get("relevant") or []
            if p.id in by_id and by_id[p.id].bears_on_question
        ]
        return papers, [by_id[p.id] for p in papers]

    def write_answer(self, state: AgentState) -> dict[str, Any]:
        """A draft answer whose sentences cite the papers they rest on."""
        papers, evidence = self._bearing_papers(state)
        if not papers:
            return {"draft": Draft(abstained=True)}
        on_token = None
        if state.get("stream") and self.deps.stream_tokens:

            def on_token(token: str) -> None:
                _emit({"event": "token", "text": token})

        task = AnswerTask(
            question=state["question"],
            retrieval_question=self._retrieval_question(state),
            history=_history(state),
            papers=papers,
            evidence=evidence,
            on_token=on_token,
        )
        draft, usage = self.deps.writer.write_answer(task)
        return {"draft": draft, "usage": usage}

    def write_comparison(self, state: AgentState) -> dict[str, Any]:
        """A comparison table and a written comparison of the relevant papers."""
        query = state.get("question") or ""
        if state.get("paper_ids"):
            papers = state.get("relevant") or []
            by_id = {e.paper_id: e for e in state.get("evidence") or []}
            evidence = [by_id[p.id] for p in papers if p.id in by_id]
        else:
            papers, evidence = self._bearing_papers(state)
        if not papers:
            return {"comparison": ComparisonDraft()}
        comparison, usage = self.deps.writer.write_comparison(query, papers, evidence)
        return {"comparison": comparison, "usage": usage}

    def verify_draft(self, state: AgentState) -> dict[str, Any]:
        """Check every citation and number against the retrieved abstracts; repair or remove."""
        papers = {p.id: p for p in state.get("retrieved") or []}
        usage = Usage()
        rewrite = self.deps.writer.rewriter(papers, usage)
        update: dict[str, Any] = {}
        if state.get("comparison") is not None:
            comparison = state["comparison"]
            assert comparison is not None
            checked, removed = verify_comparison(comparison, papers, rewrite)
            update["comparison"] = checked
        else:
            draft = state.get("draft") or Draft(abstained=True)
            verified = verify_sentence_list(draft.sentences, papers, rewrite)
            removed = verified.removed
            abstained = draft.abstained or not verified.sentences
            update["draft"] = Draft(sentences=verified.sentences, abstained=abstained)
        update["removed"] = removed
        if usage.llm_calls or usage.cached_calls:
            update["usage"] = usage
        return update

    def recommend_papers(self, state: AgentState) -> dict[str, Any]:
        """Reading recommendations for the interest the question states: only papers whose
        relevance evidence clears the floor; none, and a line naming the closest papers, when
        the store has nothing on it (`PaperBrief.reading_list`)."""
        if self.deps.recommend is None:
            raise RuntimeError("this agent was built without a recommender")
        reading = self.deps.recommend([state["question"]], self.deps.recommend_k)
        closest: list[Paper] = []
        if reading.closest:
            found = {p.id: p for p in self.deps.lookup(reading.closest)}
            closest = [found[i] for i in reading.closest if i in found]
        return {
            "recommendations": reading.picks,
            "recommend_notice": reading.notice,
            "retrieved": [r.paper for r in reading.picks] or closest,
        }

    def respond(self, state: AgentState) -> dict[str, Any]:
        """Render the verified draft into the public result and remember the turn."""
        mode = self.deps.mode
        usage = state.get("usage") or Usage()
        retrieved = state.get("retrieved") or []
        removed: list[RemovedSentence] = state.get("removed") or []
        question = state.get("question") or ""
        route = state.get("route")
        # What relevance grading kept (the recommend route's picks are its judgement).
        if route == "recommend":
            judged = [r.paper.id for r in state.get("recommendations") or []]
        else:
            judged = [p.id for p in state.get("relevant") or []]
        relevant = {"relevant": judged}
        if state.get("request") == "compare":
            comparison = state.get("comparison") or ComparisonDraft()
            result: Any = compose.comparison_result(
                question or None, comparison, retrieved, mode, usage, removed
            )
            return {"result": result.model_copy(update=relevant)}
        asked_comparison = state.get("comparison")
        if route == "compare" and asked_comparison is not None:
            compared = compose.comparison_result(
                question, asked_comparison, retrieved, mode, usage, removed
            )
            answer = compose.answer_from_comparison(question, compared)
        elif route == "recommend":
            answer = compose.answer_from_recommendations(
                question,
                state.get("recommendations") or [],
                mode,
                usage,
                notice=state.get("recommend_notice"),
                closest=retrieved,
            )
        else:
            draft = state.get("draft") or Draft(abstained=True)
            answer = compose.answer_result(question, draft, retrieved, mode, usage, removed)
        answer = answer.model_copy(update=relevant)
        for sentence in compose.answer_sentences(answer):
            _emit({"event": "sentence", "text": sentence})
        return {"result": answer, "messages": [answer_message(answer, _prose(state, answer))]}
