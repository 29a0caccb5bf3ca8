"""The LLM writer's reply schemas: the typed replies the model is asked for.

Kept apart from the graph state (`agent/state.py`): these are what the model returns, the state
is what the graph keeps. Papers are cited by their number in the delimited data (`[n]`);
`agent.writers.llm.citations` maps numbers back to paper ids.

Every free-text field has a `maxLength` and every list a `maxItems`, sized to what the field
needs (a route's reason is a clause, a sentence about two, a takeaway one): servers that
constrain decoding by the schema enforce them, and the client sizes each call's max_tokens from
them (`agent.llm.reply_token_bound`). They are given as schema hints (`json_schema_extra`),
not validation limits, so a reply a little over one is still used rather than repaired. Fields
left without one get the defaults of `agent.llm.bounded_schema`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from agent.state import EvidenceSentence, Route


def most(chars: int) -> dict[str, Any]:
    """A text field's bound, for `json_schema_extra`."""
    return {"maxLength": chars}


def at_most(items: int) -> dict[str, Any]:
    """A list's bound, for `json_schema_extra`."""
    return {"maxItems": items}


CLAUSE = 160
SENTENCE = 300


class RouteDecision(BaseModel):
    """What kind of request a question is (the LLM router's structured reply)."""

    route: Route
    reason: str = Field(
        default="",
        description="One short clause explaining the choice",
        json_schema_extra=most(CLAUSE),
    )


class QueryPlan(BaseModel):
    """Search queries for a question (the LLM planner's structured reply)."""

    queries: list[Annotated[str, Field(json_schema_extra=most(100))]] = Field(
        description="One to three short keyword search queries", json_schema_extra=at_most(3)
    )


class Grades(BaseModel):
    """Which numbered papers bear on the question (the LLM grader's structured reply)."""

    relevant: list[int] = Field(
        description="Numbers of the papers that bear on the question",
        json_schema_extra=at_most(20),
    )


class PaperEvidence(BaseModel):
    """What one abstract says about the question (the LLM evidence reply)."""

    bears_on_question: bool
    sentences: list[EvidenceSentence] = Field(default_factory=list, json_schema_extra=at_most(4))


class NumberedSentence(BaseModel):
    text: str = Field(
        description="One sentence, without citation marks", json_schema_extra=most(SENTENCE)
    )
    sources: list[int] = Field(
        default_factory=list,
        description="Numbers of the papers cited",
        json_schema_extra=at_most(6),
    )


class NumberedDraft(BaseModel):
    """The LLM writer's answer: sentences citing papers by their number in the data."""

    sentences: list[NumberedSentence] = Field(default_factory=list, json_schema_extra=at_most(8))
    abstained: bool = Field(default=False, description="True when the papers do not answer it")


class NumberedRow(BaseModel):
    source: int = Field(description="The paper's number in the data")
    problem: str = Field(json_schema_extra=most(CLAUSE))
    approach: str = Field(json_schema_extra=most(CLAUSE))
    key_result: str = Field(
        description="The headline result with its numbers, as stated",
        json_schema_extra=most(CLAUSE),
    )
    needs_training: bool | None = Field(
        default=None, description="False for training-free methods, None when not stated"
    )


class NumberedComparison(BaseModel):
    """The LLM writer's comparison, citing papers by their number in the data."""

    rows: list[NumberedRow] = Field(default_factory=list, json_schema_extra=at_most(8))
    shared: list[Annotated[str, Field(json_schema_extra=most(CLAUSE))]] = Field(
        default_factory=list, description="What the papers share", json_schema_extra=at_most(3)
    )
    differences: list[Annotated[str, Field(json_schema_extra=most(CLAUSE))]] = Field(
        default_factory=list, description="Where they differ", json_schema_extra=at_most(3)
    )
    read_first: int | None = Field(default=None, description="Number of the paper to read first")
    read_first_reason: str | None = Field(default=None, json_schema_extra=most(CLAUSE))
    sentences: list[NumberedSentence] = Field(default_factory=list, json_schema_extra=at_most(4))


class Rewrite(BaseModel):
    """The verifier's one rewrite of a sentence that failed a check."""

    text: str = Field(
        description="The corrected sentence, or empty to drop it", json_schema_extra=most(SENTENCE)
    )
    sources: list[int] = Field(default_factory=list, json_schema_extra=at_most(6))


class ThemeName(BaseModel):
    """A name for a theme of papers (the LLM writer's name_theme reply)."""

    name: str = Field(
        description="Two to seven words naming what the papers share", json_schema_extra=most(80)
    )


class Takeaway(BaseModel):
    """A paper's one-sentence takeaway (the LLM writer's tldr reply)."""

    sentence: str = Field(
        description="What the paper does and its headline result, in one sentence",
        json_schema_extra=most(240),
    )
