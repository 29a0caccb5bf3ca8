"""Typed state of the agent graph and the structured outputs its nodes produce.

The offline writer and the LLM writer both produce these drafts, and the verifier checks them,
so that one verification and one rendering path serve both modes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agent.results import ComparisonRow

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
