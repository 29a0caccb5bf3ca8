"""Typed state of the agent graph and the structured outputs its nodes produce.

The offline writer and the LLM writer both produce these drafts, and the verifier checks them,
so that one verification and one rendering path serve both modes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from pydantic import BaseModel, Field

# typing_extensions' TypedDict: pydantic (and so LangGraph Studio's input and output schemas)
# cannot build a schema from typing.TypedDict before Python 3.12.
from typing_extensions import TypedDict

from agent.results import (
    Answer,
    Comparison,
    ComparisonRow,
    Recommendation,
    RemovedSentence,
    Usage,
)
from store.models import Paper

SentenceRole = Literal["problem", "contribution", "method", "result", "other"]


class EvidenceSentence(BaseModel):
    text: str = Field(description="A sentence copied verbatim from the abstract")
    role: SentenceRole = "other"
    relevance: float = Field(default=0.0, description="How strongly it bears on the question")


class Evidence(BaseModel):
    """What one paper's abstract contributes to the question."""

    paper_id: str
    sentences: list[EvidenceSentence] = Field(default_factory=list)
    bears_on_question: bool = True


class DraftSentence(BaseModel):
    text: str = Field(description="One sentence of the written result, without citation marks")
    cites: list[str] = Field(default_factory=list, description="Ids of the papers it rests on")


class Draft(BaseModel):
    sentences: list[DraftSentence] = Field(default_factory=list)
    abstained: bool = Field(default=False, description="The papers do not cover the question")


class ComparisonDraft(BaseModel):
    rows: list[ComparisonRow] = Field(default_factory=list)
    shared: list[str] = Field(default_factory=list)
    differences: list[str] = Field(default_factory=list)
    read_first: str | None = None
    read_first_reason: str | None = None
    sentences: list[DraftSentence] = Field(
        default_factory=list, description="The written comparison, sentence by sentence"
    )


# --- The graph state -------------------------------------------------------------------------

Route = Literal["answer", "compare", "recommend", "out_of_scope"]
Request = Literal["ask", "compare"]


class Turn(BaseModel):
    """One finished exchange of a chat thread, as follow-ups read it (derived from the
    thread's `messages` by `agent.conversation.turns`)."""

    question: str
    answer: str = Field(description="The answer's prose as plain text, without the sources")
    cited: list[str] = Field(default_factory=list, description="Paper ids the answer cited")


def _collect(left: list[Any], right: list[Any] | None) -> list[Any]:
    """Fan-in reducer for parallel branches; `None` starts a new turn with an empty list."""
    if right is None:
        return []
    return [*left, *right]


def _add_usage(left: Usage, right: Usage | None) -> Usage:
    """Sums the LLM usage of every node; `None` starts a new turn at zero."""
    if right is None:
        return Usage()
    total = left.model_copy()
    total.add(right)
    return total


class EvidenceTask(TypedDict):
    """What one parallel `extract_evidence` branch receives through `Send`."""

    question: str
    paper: Paper
    stream: bool


class AgentState(TypedDict, total=False):
    """The graph's state. `messages` is the thread's conversation, in LangGraph's convention
    (chat clients send a `HumanMessage`; each answer is an `AIMessage` carrying its sources as
    data, see `agent/conversation.py`); it persists across a thread's turns. The rest is per
    turn and `receive_request` resets it, because a checkpointed thread keeps every channel;
    `result` is the turn's typed `Answer` or `Comparison`."""

    messages: Annotated[list[AnyMessage], add_messages]
    request: Request
    question: str
    paper_ids: list[str]
    stream: bool
    route: Route
    queries: list[str]
    retrieved: list[Paper]
    relevant: list[Paper]
    evidence: Annotated[list[Evidence], _collect]
    draft: Draft | None
    comparison: ComparisonDraft | None
    recommendations: list[Recommendation]
    recommend_notice: str | None
    removed: list[RemovedSentence]
    usage: Annotated[Usage, _add_usage]
    result: Answer | Comparison | None
