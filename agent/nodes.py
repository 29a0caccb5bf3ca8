"""The agent graph's nodes: route, plan, retrieve, grade, extract, write, verify, respond.

Each node is a method of `AgentNodes`, which holds the injected `AgentDeps` (search, paper
lookup, recommender, LLM or None, settings), so tests run the real nodes against a real store and
the local OpenAI-wire test server without patching anything. With an LLM the nodes ask it for
pydantic-typed replies; without one (offline mode) they use deterministic heuristics and the
extractive writer of `agent/offline.py`. Both writers produce the drafts of `agent/state.py`,
which one verifier (`agent/verify.py`) checks and one renderer (`agent/compose.py`) formats.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from langgraph.config import get_stream_writer
from langgraph.types import Send
from pydantic import BaseModel

from agent import compose, offline
from agent.prompts import format_papers_as_data, render
from agent.results import ComparisonRow, Mode, Recommendation, RemovedSentence, Usage
from agent.settings import Settings
from agent.state import (
    AgentState,
    ComparisonDraft,
    Draft,
    DraftSentence,
    Evidence,
    EvidenceTask,
    Grades,
    NumberedComparison,
    NumberedDraft,
    NumberedSentence,
    PaperEvidence,
    QueryPlan,
    Rewrite,
    Route,
    RouteDecision,
    Turn,
    UnknownPapersError,
)
from agent.text import GENERIC_WORDS, content_stems, content_words, numbers_in, split_sentences
from agent.verify import Rewriter, strip_citation_marks, verify_comparison
from agent.verify import verify_sentences as verify_sentence_list
from store.models import Hit, Paper

if TYPE_CHECKING:
    from agent.llm import ChatLLM

SchemaT = TypeVar("SchemaT", bound=BaseModel)

# Offline routing cues. A request names what it wants in a handful of words; anything else is
# a question to answer.
_COMPARE_CUES = re.compile(
    r"\b(compare|comparing|comparison|versus|vs\.?|differ|differs|difference|differences|"
    r"contrast|how does .{1,80} relate to)\b",
    re.IGNORECASE,
)
_RECOMMEND_CUES = re.compile(
    r"\b(recommend\w*|what should i read|what to read|which papers should i|suggest\w* "
    r"(?:some |a few )?papers|reading list|worth reading|must[- ]read)\b",
    re.IGNORECASE,
)
# A follow-up leans on the previous turn ("which of them needs no training?").
_FOLLOW_UP_CUES = re.compile(
    r"\b(them|they|their|these|those|it|its|this one|that one|the first|the second|the last|"
    r"above|earlier|previous|same|which of|among them|of those|also|more about)\b",
    re.IGNORECASE,
)
# Offline query expansion: what a question says casually and abstracts say in their own words.
# A question that matches a cue gets a second, keyword query with the expansion appended.
_EXPANSIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(cue, re.IGNORECASE), words)
    for cue, words in (
        (
            r"\b(speed\w*|fast\w*|quick\w*|accelerat\w*|latency|slow\w*|efficien\w*)\b",
            "accelerate speedup faster inference decoding latency",
        ),
        (
            r"\b(no|without|free of) (additional |extra |any )?(training|fine-?tuning)|"
            r"training[- ]free|retrain\w*",
            "training-free without additional training",
        ),
        (r"\b(cheap\w*|cost\w*|budget|compute)\b", "efficient cost compute"),
        (r"\b(memory|cache|caching)\b", "memory cache KV"),
        (r"\b(evaluat\w*|benchmark\w*|measure\w*)\b", "benchmark evaluation"),
        (r"\b(hallucinat\w*|factual\w*|grounded)\b", "hallucination factuality grounding"),
    )
)
# Offline grading keeps a candidate whose title and abstract contain at least this share of the
# question's distinctive terms (stopwords and generic research words excluded).
MIN_TERM_COVERAGE = 0.5


@dataclass
class AgentDeps:
    """Everything the nodes need, injected so tests and `langgraph dev` can supply their own.

    `search(query, k)` returns hits best first; `lookup(ids)` returns the stored papers among
    `ids`; `recommend(interests, k)` ranks reading recommendations; `llm` is None in offline
    mode. `stream_tokens` decides whether LLM tokens go to the `custom` stream as they arrive
    (chat) or only finished sentences do.
    """

    settings: Settings
    search: Callable[[str, int], list[Hit]]
    lookup: Callable[[list[str]], list[Paper]]
    recommend: Callable[[list[str], int], list[Recommendation]] | None = None
    llm: ChatLLM | None = None
    stream_tokens: bool = True
    retrieve_k: int = 10
    max_papers: int = 8
    recommend_k: int = 5

    @property
    def mode(self) -> Mode:
        return "llm" if self.llm is not None else "offline"


DepsSource = AgentDeps | Callable[[], AgentDeps]


def _emit(event: dict[str, Any]) -> None:
    """Send an event to the `custom` stream; a no-op when nobody streams that mode."""
    try:
        writer = get_stream_writer()
    except RuntimeError:  # called outside a graph run (e.g. pb.tldr)
        return
    writer(event)


def is_follow_up(question: str, history: Sequence[Turn]) -> bool:
    """Whether `question` leans on the thread's earlier turns for its meaning."""
    if not history:
        return False
    return bool(_FOLLOW_UP_CUES.search(question)) or len(set(content_stems(question))) <= 2


def term_coverage(question: str, paper: Paper) -> float:
    """Share of the question's distinctive terms that occur in the paper's title or abstract."""
    wanted = set(content_stems(question))
    if not wanted:
        return 0.0
    present = set(content_stems(f"{paper.title}. {paper.abstract}", drop_generic=False))
    return len(wanted & present) / len(wanted)


def offline_queries(question: str) -> list[str]:
    """The question itself, plus a keyword query with expansions when the question has a cue."""
    expansions = [words for cue, words in _EXPANSIONS if cue.search(question)]
    if not expansions:
        return [question]
    keywords = " ".join(dict.fromkeys(w for w in content_words(question) if w not in GENERIC_WORDS))
    return [question, " ".join([keywords, *expansions])]


def _history_text(history: Sequence[Turn], turns: int = 3) -> str:
    if not history:
        return "(no earlier turns)"
    lines = []
    for turn in history[-turns:]:
        lines.append(f"Q: {turn.question}\nA: {turn.answer}")
    return "\n\n".join(lines)


def _cites_from_numbers(numbers: Iterable[int], papers: Sequence[Paper]) -> list[str]:
    """Source numbers as shown in the delimited data -> paper ids; an out-of-range number is
    kept as `[n]` so the verifier sees (and reports) a citation of no retrieved paper."""
    cites = []
    for n in numbers:
        cites.append(papers[n - 1].id if 1 <= n <= len(papers) else f"[{n}]")
    return list(dict.fromkeys(cites))


def _numbered(
    sentences: Iterable[NumberedSentence], papers: Sequence[Paper]
) -> list[DraftSentence]:
    return [
        DraftSentence(text=s.text, cites=_cites_from_numbers(s.sources, papers)) for s in sentences
    ]


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

    # -- LLM helpers --------------------------------------------------------------------------

    def _structured(
        self, prompt: str, schema: type[SchemaT], **variables: object
    ) -> tuple[SchemaT, Usage]:
        llm = self.deps.llm
        assert llm is not None
        result = llm.structured([{"role": "user", "content": render(prompt, **variables)}], schema)
        return result.value, result.usage

    # -- nodes --------------------------------------------------------------------------------

    def receive_request(self, state: AgentState) -> dict[str, Any]:
        """Start a turn: validate the input and clear what the previous turn left behind."""
        question = (state.get("question") or "").strip()
        paper_ids = [p.strip() for p in state.get("paper_ids") or [] if p.strip()]
        request = state.get("request") or "ask"
        if not question and not (request == "compare" and paper_ids):
            raise ValueError("a question (or, to compare, a topic or paper ids) is required")
        return {
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
            "removed": [],
            "usage": None,
            "result": None,
        }

    def route_request(self, state: AgentState) -> dict[str, Any]:
        """Decide what the request is: an answer, a comparison, recommendations, or none."""
        if state.get("request") == "compare":
            return {"route": "compare"}
        question = state["question"]
        if self.deps.llm is None:
            route: Route = "answer"
            if _RECOMMEND_CUES.search(question):
                route = "recommend"
            elif _COMPARE_CUES.search(question):
                route = "compare"
            return {"route": route}
        decision, usage = self._structured(
            "route",
            RouteDecision,
            question=question,
            history=_history_text(state.get("history") or []),
        )
        return {"route": decision.route, "usage": usage}

    def plan_queries(self, state: AgentState) -> dict[str, Any]:
        """Search queries for the question; a follow-up carries the earlier questions along."""
        if state.get("paper_ids"):
            return {"queries": []}
        question = state["question"]
        history = state.get("history") or []
        follow_up = is_follow_up(question, history)
        contextual = question
        if follow_up:
            earlier = " ".join(turn.question for turn in history[-2:])
            contextual = f"{earlier} {question}"
        if self.deps.llm is None:
            return {"queries": offline_queries(contextual)}
        plan, usage = self._structured(
            "plan_queries", QueryPlan, question=question, history=_history_text(history)
        )
        queries = [q.strip() for q in plan.queries if q.strip()][:3]
        return {"queries": list(dict.fromkeys([*queries, contextual])), "usage": usage}

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
        history = state.get("history") or []
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
        question = self._retrieval_question(state)
        if self.deps.llm is None:
            # Ranked by how much of every query a paper covers, so that a paper matching the
            # expanded wording ("accelerate" for "speed up") is not crowded out.
            queries = list(dict.fromkeys([question, *(state.get("queries") or [])]))
            scored = []
            for index, paper in enumerate(retrieved):
                coverages = [term_coverage(q, paper) for q in queries]
                if max(coverages) >= MIN_TERM_COVERAGE:
                    scored.append((-sum(coverages), index, paper))
            kept = [paper for _, _, paper in sorted(scored, key=lambda s: (s[0], s[1]))]
            return {"relevant": kept[: self.deps.max_papers]}
        grades, usage = self._structured(
            "grade", Grades, question=question, papers=format_papers_as_data(retrieved)
        )
        chosen = [
            retrieved[n - 1] for n in dict.fromkeys(grades.relevant) if 1 <= n <= len(retrieved)
        ]
        return {"relevant": chosen[: self.deps.max_papers], "usage": usage}

    def _retrieval_question(self, state: AgentState) -> str:
        """The question as retrieval and grading see it: with its thread context if needed."""
        question = state.get("question") or ""
        history = state.get("history") or []
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
        paper = task["paper"]
        if self.deps.llm is None:
            return {"evidence": [offline.extract_evidence(task["question"], paper)]}
        reply, usage = self._structured(
            "extract_evidence",
            PaperEvidence,
            question=task["question"],
            paper=format_papers_as_data([paper], numbered=False),
        )
        evidence = Evidence(
            paper_id=paper.id, sentences=reply.sentences, bears_on_question=reply.bears_on_question
        )
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
        question = state["question"]
        if not papers:
            return {"draft": Draft(abstained=True)}
        if self.deps.llm is None:
            draft = offline.write_answer(
                self._retrieval_question(state), evidence, {p.id: p for p in papers}
            )
            return {"draft": draft}
        history = _history_text(state.get("history") or [])
        evidence_text = self._evidence_text(papers, evidence)
        if state.get("stream") and self.deps.stream_tokens:
            # Chat: the answer streams token by token as prose with [n] marks, then is parsed
            # into the same draft the structured writer returns.
            prompt = render(
                "write_answer_stream",
                question=question,
                history=history,
                papers=format_papers_as_data(papers),
                evidence=evidence_text,
            )

            def on_token(token: str) -> None:
                _emit({"event": "token", "text": token})

            chat = self.deps.llm.chat([{"role": "user", "content": prompt}], on_token=on_token)
            return {"draft": parse_prose_draft(chat.text, papers), "usage": chat.usage}
        reply, usage = self._structured(
            "write_answer",
            NumberedDraft,
            question=question,
            history=history,
            papers=format_papers_as_data(papers),
            evidence=evidence_text,
        )
        draft = Draft(sentences=_numbered(reply.sentences, papers), abstained=reply.abstained)
        if draft.abstained:
            draft.sentences = []
        return {"draft": draft, "usage": usage}

    @staticmethod
    def _evidence_text(papers: Sequence[Paper], evidence: Sequence[Evidence]) -> str:
        lines = []
        for n, (paper, ev) in enumerate(zip(papers, evidence, strict=True), start=1):
            quoted = " ".join(s.text for s in ev.sentences) or "(no sentence selected)"
            lines.append(f"[{n}] {paper.title}: {quoted}")
        return "\n".join(lines)

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
        if self.deps.llm is None:
            return {"comparison": offline.write_comparison(query, papers, evidence)}
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
            read_first = _cites_from_numbers([reply.read_first], papers)[0]
        draft = ComparisonDraft(
            rows=rows,
            shared=reply.shared,
            differences=reply.differences,
            read_first=read_first,
            read_first_reason=reply.read_first_reason,
            sentences=_numbered(reply.sentences, papers),
        )
        return {"comparison": draft, "usage": usage}

    def verify_draft(self, state: AgentState) -> dict[str, Any]:
        """Check every citation and number against the retrieved abstracts; repair or remove."""
        papers = {p.id: p for p in state.get("retrieved") or []}
        usage = Usage()
        rewrite = self._rewriter(papers, usage) if self.deps.llm is not None else None
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

    def _rewriter(self, papers: dict[str, Paper], usage: Usage) -> Rewriter:
        llm = self.deps.llm
        assert llm is not None

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
                text=result.value.text, cites=_cites_from_numbers(result.value.sources, cited)
            )

        return rewrite

    def recommend_papers(self, state: AgentState) -> dict[str, Any]:
        """Reading recommendations for the interest the question states."""
        if self.deps.recommend is None:
            raise RuntimeError("this agent was built without a recommender")
        recommendations = self.deps.recommend([state["question"]], self.deps.recommend_k)
        return {
            "recommendations": recommendations,
            "retrieved": [r.paper for r in recommendations],
        }

    def respond(self, state: AgentState) -> dict[str, Any]:
        """Render the verified draft into the public result and remember the turn."""
        mode = self.deps.mode
        usage = state.get("usage") or Usage()
        retrieved = state.get("retrieved") or []
        removed: list[RemovedSentence] = state.get("removed") or []
        question = state.get("question") or ""
        route = state.get("route")
        if state.get("request") == "compare":
            comparison = state.get("comparison") or ComparisonDraft()
            result: Any = compose.comparison_result(
                question or None, comparison, retrieved, mode, usage, removed
            )
            return {"result": result}
        asked_comparison = state.get("comparison")
        if route == "compare" and asked_comparison is not None:
            compared = compose.comparison_result(
                question, asked_comparison, retrieved, mode, usage, removed
            )
            answer = compose.answer_from_comparison(question, compared)
        elif route == "recommend":
            answer = compose.answer_from_recommendations(
                question, state.get("recommendations") or [], mode, usage
            )
        else:
            draft = state.get("draft") or Draft(abstained=True)
            answer = compose.answer_result(question, draft, retrieved, mode, usage, removed)
        for sentence in compose.answer_sentences(answer):
            _emit({"event": "sentence", "text": sentence})
        turn = Turn(question=question, answer=compose.prose_of(answer), cited=answer.citations)
        return {"result": answer, "history": [turn]}


_MARKS = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")


def parse_prose_draft(text: str, papers: Sequence[Paper]) -> Draft:
    """A streamed prose answer with `[n]` marks -> the draft the verifier checks."""
    body = text.strip()
    if not body or body.upper().startswith("NOT COVERED"):
        return Draft(abstained=True)
    sentences = []
    for sentence in split_sentences(body):
        numbers = [int(n) for group in _MARKS.findall(sentence) for n in re.split(r"[,;]", group)]
        clean = strip_citation_marks(sentence)
        if clean:
            sentences.append(DraftSentence(text=clean, cites=_cites_from_numbers(numbers, papers)))
    return Draft(sentences=sentences)


def tldr_for(paper: Paper, llm: ChatLLM | None) -> tuple[str, Usage]:
    """One-sentence takeaway: the extractive one offline; in LLM mode the model's, with its
    numbers checked against the abstract. A failing takeaway gets one rewrite call, then raises
    `UnsupportedTakeawayError`; an LLM failure raises `LLMError`. Never a silent fallback."""
    if llm is None:
        return offline.tldr(paper), Usage()
    usage = Usage()
    data = format_papers_as_data([paper], numbered=False)
    result = llm.chat([{"role": "user", "content": render("tldr", paper=data)}])
    usage.add(result.usage)
    text = " ".join(result.text.split())
    allowed = numbers_in(f"{paper.title}. {paper.abstract}")
    bad = sorted(numbers_in(text) - allowed)
    if bad:
        prompt = render(
            "rewrite_sentence",
            sentence=text,
            problems=f"- {', '.join(bad)} does not occur in the abstract",
            papers=format_papers_as_data([paper]),
        )
        fixed = llm.structured([{"role": "user", "content": prompt}], Rewrite)
        usage.add(fixed.usage)
        text = " ".join(strip_citation_marks(fixed.value.text).split())
        if not text or numbers_in(text) - allowed:
            still = sorted(numbers_in(text) - allowed) or bad
            raise UnsupportedTakeawayError(paper.id, ", ".join(still))
    return text, usage


class UnsupportedTakeawayError(ValueError):
    """The LLM's takeaway kept stating numbers the abstract does not contain."""

    def __init__(self, paper_id: str, numbers: str) -> None:
        super().__init__(
            f"the LLM's takeaway for {paper_id} states numbers not in its abstract even after "
            f"one rewrite: {numbers}"
        )


__all__ = [
    "AgentDeps",
    "AgentNodes",
    "UnknownPapersError",
    "UnsupportedTakeawayError",
    "parse_prose_draft",
    "tldr_for",
]
