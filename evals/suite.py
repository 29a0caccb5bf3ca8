"""Eval suites: the YAML file of cases, its typed model and its loader.

A suite is a list of cases (one task each, its input, the gold papers and optional reference
note and key points) plus the tolerances the regression gate allows per metric. A bad suite is
rejected with one message per problem, naming the file, the case id and the field.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Task = Literal["ask", "compare", "recommend", "brief", "tldr"]
TASKS: tuple[Task, ...] = ("ask", "compare", "recommend", "brief", "tldr")


class SuiteError(ValueError):
    """A suite file that cannot be used; the message names file, case and field."""


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class KeyPoint(BaseModel):
    """A statement the output should make; `all`/`any` term lists decide coverage when given."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    text: str = Field(min_length=1)
    all_terms: list[str] = Field(default_factory=list, alias="all")
    any_terms: list[str] = Field(default_factory=list, alias="any")

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        # A bare string in the YAML is a key point judged by similarity alone.
        return {"text": value} if isinstance(value, str) else value

    @property
    def has_terms(self) -> bool:
        return bool(self.all_terms or self.any_terms)


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    task: Task
    query: str | None = Field(default=None, description="Question, topic or interests")
    papers: list[str] = Field(
        default_factory=list, description="compare: ids or exact titles to compare"
    )
    window: Window | None = Field(default=None, description="brief: the week to brief")
    paper: str | None = Field(default=None, description="tldr: the paper, by id or exact title")
    k: int = Field(default=5, ge=1, description="recommend: how many papers to ask for")
    gold: list[str] = Field(default_factory=list, description="Ids or exact titles")
    reference: str | None = None
    key_points: list[KeyPoint] = Field(default_factory=list)
    expect_no_citations: bool = False
    exact_set: bool = False

    @model_validator(mode="after")
    def _input_for_task(self) -> Case:
        if self.task in ("ask", "recommend") and not self.query:
            raise ValueError(f"task {self.task!r} needs `query`")
        if self.task == "compare" and not (self.query or self.papers):
            raise ValueError("task 'compare' needs `query` or `papers`")
        if self.task == "brief" and self.window is None:
            raise ValueError("task 'brief' needs `window: {start, end}`")
        if self.task == "tldr" and not self.paper:
            raise ValueError("task 'tldr' needs `paper` (an id or exact title)")
        if self.exact_set and self.task != "brief":
            raise ValueError("`exact_set` applies only to task 'brief'")
        if self.expect_no_citations and self.gold:
            raise ValueError("`expect_no_citations` cases cannot list `gold` papers")
        return self


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    k: int = Field(default=5, ge=1, description="Cut-off of recall@k, precision@k and nDCG@k")
    tolerances: dict[str, float] = Field(
        default_factory=dict,
        description="Largest allowed drop per metric name; `default` applies to the rest",
    )
    cases: list[Case] = Field(min_length=1)

    @field_validator("tolerances")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        for metric, tolerance in value.items():
            if tolerance < 0:
                raise ValueError(f"tolerance of {metric!r} is negative")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> Suite:
        seen: set[str] = set()
        for case in self.cases:
            if case.id in seen:
                raise ValueError(f"case id {case.id!r} appears twice")
            seen.add(case.id)
        return self

    def tolerance(self, metric: str) -> float:
        return self.tolerances.get(metric, self.tolerances.get("default", 0.0))


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file; raises `SuiteError` naming file, case id and field."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SuiteError(f"{path}: no such suite file") from exc
    except yaml.YAMLError as exc:
        raise SuiteError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise SuiteError(f"{path}: a suite is a mapping with `name` and `cases`")
    raw.setdefault("name", path.name.split(".")[0])
    try:
        return Suite.model_validate(raw)
    except ValidationError as exc:
        raise SuiteError(_describe(path, raw, exc)) from None


def _describe(path: Path, raw: dict[str, Any], exc: ValidationError) -> str:
    listed = raw.get("cases")
    cases: list[Any] = listed if isinstance(listed, list) else []
    lines = [f"{path}: {exc.error_count()} problem(s)"]
    for error in exc.errors():
        loc = list(error["loc"])
        where = "suite"
        if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
            index = loc[1]
            case = cases[index] if index < len(cases) else None
            case_id = case.get("id") if isinstance(case, dict) else None
            where = f"case {case_id!r}" if case_id else f"case #{index + 1}"
            loc = loc[2:]
        field = ".".join(str(part) for part in loc) or "(case)"
        lines.append(f"{path}: {where}: field {field}: {error['msg']}")
    return "\n".join(lines)
