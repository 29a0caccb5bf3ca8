"""The LLM writer's reply schemas: the typed replies the model is asked for.

Kept apart from the graph state (`agent/state.py`): these are what the model returns, the state
is what the graph keeps. Papers are cited by their number in the delimited data (`[n]`);
`agent.writers.llm.citations` maps numbers back to paper ids.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.state import EvidenceSentence, Route


class RouteDecision(BaseModel):
    """What kind of request a question is (the LLM router's structured reply)."""

    route: Route
    reason: str = Field(default="", description="One short clause explaining the choice")


class QueryPlan(BaseModel):
    """Search queries for a question (the LLM planner's structured reply)."""

    queries: list[str] = Field(description="One to three short keyword search queries")


class Grades(BaseModel):
    """Which numbered papers bear on the question (the LLM grader's structured reply)."""

    relevant: list[int] = Field(description="Numbers of the papers that bear on the question")


class PaperEvidence(BaseModel):
    """What one abstract says about the question (the LLM evidence reply)."""

    bears_on_question: bool
    sentences: list[EvidenceSentence] = Field(default_factory=list)


class NumberedSentence(BaseModel):
    text: str = Field(description="One sentence, without citation marks")
    sources: list[int] = Field(default_factory=list, description="Numbers of the papers cited")


class NumberedDraft(BaseModel):
    """The LLM writer's answer: sentences citing papers by their number in the data."""

    sentences: list[NumberedSentence] = Field(default_factory=list)
    abstained: bool = Field(default=False, description="True when the papers do not answer it")


class NumberedRow(BaseModel):
    source: int = Field(description="The paper's number in the data")
    problem: str
    approach: str
    key_result: str = Field(description="The headline result with its numbers, as stated")
    needs_training: bool | None = Field(
        default=None, description="False for training-free methods, None when not stated"
    )


class NumberedComparison(BaseModel):
    """The LLM writer's comparison, citing papers by their number in the data."""

    rows: list[NumberedRow] = Field(default_factory=list)
    shared: list[str] = Field(default_factory=list, description="What the papers share")
    differences: list[str] = Field(default_factory=list, description="Where they differ")
    read_first: int | None = Field(default=None, description="Number of the paper to read first")
    read_first_reason: str | None = None
    sentences: list[NumberedSentence] = Field(default_factory=list)


class Rewrite(BaseModel):
    """The verifier's one rewrite of a sentence that failed a check."""

    text: str = Field(description="The corrected sentence, or empty to drop it")
    sources: list[int] = Field(default_factory=list)
