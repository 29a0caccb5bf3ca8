"""The records of a suite run: its scored rows and the run itself, and how to read them back.

Kept apart from the runner so that readers of a run (the reports, the run diff) depend on the
records alone, not on the code that produced them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from evals import gate
from evals.suite import Suite

Mode = Literal["offline", "llm"]

# Where a case lost points, in pipeline order: the first stage listed is where to look first.
LOSS_STAGES = (
    "gold_not_retrieved",
    "retrieved_not_judged_relevant",
    "relevant_not_cited",
    "retrieved_not_cited",
    "false_abstention",
    "answered_out_of_scope",
    "key_point_terms_missing",
    "key_points_missed",
    "unsupported_sentences",
)
LOSS_MEANING = {
    "gold_not_retrieved": "a gold paper is not among the papers the agent retrieved (search)",
    "retrieved_not_judged_relevant": "retrieved, but the agent did not judge it relevant "
    "(relevance grading; only when the result reports its relevant papers)",
    "relevant_not_cited": "retrieved and judged relevant but not cited (writer)",
    "retrieved_not_cited": "retrieved but not cited, where the result does not report which "
    "papers it judged relevant (relevance grading, abstention or the writer)",
    "false_abstention": "the case has gold papers but the output abstained or cites none of them",
    "answered_out_of_scope": "the case expects an abstention but the output cites papers",
    "key_point_terms_missing": "a key point's `all:`/`any:` terms are absent from the output",
    "key_points_missed": "a key point without terms judged not covered (embeddings or LLM judge)",
    "unsupported_sentences": "citing sentences not backed by their cited abstracts",
}


class CaseRow(gate.ScoredCase):
    """One scored row of `cases.jsonl`: a case, or one follow-up turn of a conversation."""

    id: str
    turn: int = Field(default=1, description="1 for the opening question, 2.. for follow-ups")
    input: dict[str, Any] = Field(default_factory=dict)
    gold: list[str] = Field(default_factory=list, description="Gold paper ids (resolved)")
    mode: str | None = Field(default=None, description="The writer the result reports")
    text: str = ""
    ranked: list[str] = Field(default_factory=list)
    relevant: list[str] | None = Field(
        default=None, description="Ids the result reports as judged relevant, when it does"
    )
    cited: list[str] = Field(default_factory=list)
    output: Any = None
    latency_s: float = 0.0
    unsupported: list[str] = Field(default_factory=list)
    ungrounded_numbers: list[str] = Field(default_factory=list)
    key_points_missed: list[str] = Field(default_factory=list)
    losses: dict[str, list[str]] = Field(
        default_factory=dict, description="Stage (LOSS_STAGES) -> what was lost there"
    )


class SuiteRun(BaseModel):
    suite: Suite
    mode: Mode
    rows: list[CaseRow]
    aggregate: gate.Aggregate
    regressions: list[gate.Regression] = Field(default_factory=list)
    baseline: str | None = None
    baseline_aggregate: gate.Aggregate | None = None
    key_points_judged_by: str = ""
    store: str = Field(default="", description="What the run read: corpus or data dir, papers")
    out_dir: Path
    started: str

    @property
    def passed(self) -> bool:
        return not self.regressions


def rows_of(path: str | Path) -> Sequence[CaseRow]:
    """The rows of a run's `cases.jsonl`, for reading a run back."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [CaseRow.model_validate(json.loads(line)) for line in lines if line.strip()]
