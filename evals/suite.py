"""Eval suites: the YAML file of cases, its typed model and its loader.

A suite is a list of cases (one task each, its input, the gold papers and optional reference
note and key points; an ask case may continue with follow-up `turns` on the same
thread) plus the tolerances the regression gate allows per metric, and optionally the corpus it
is written for (files, folders or URLs with their formats, ingested into a fresh store for each
run). A bad suite is rejected with one message per problem, naming the file, the case id and
the field.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from agent import Settings

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
    """A statement the output should make; `all`/`any` term lists decide coverage when given.

    The statement is `text` or, as suites written elsewhere name it, `point` (not both).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    text: str = Field(min_length=1)
    all_terms: list[str] = Field(default_factory=list, alias="all")
    any_terms: list[str] = Field(default_factory=list, alias="any")

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        # A bare string in the YAML is a key point judged by similarity alone.
        if isinstance(value, str):
            return {"text": value}
        if isinstance(value, dict) and "point" in value:
            if "text" in value:
                raise ValueError("give the key point as `text` or `point`, not both")
            value = {("text" if key == "point" else key): item for key, item in value.items()}
        return value

    @property
    def has_terms(self) -> bool:
        return bool(self.all_terms or self.any_terms)


class Turn(BaseModel):
    """A follow-up question on the thread of the case before it, judged on its own gold."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, description="The follow-up question")
    gold: list[str] = Field(default_factory=list, description="Ids or exact titles")
    reference: str | None = None
    key_points: list[KeyPoint] = Field(default_factory=list)
    expect_no_citations: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Turn:
        if self.expect_no_citations and self.gold:
            raise ValueError("`expect_no_citations` turns cannot list `gold` papers")
        return self


class CorpusSource(BaseModel):
    """One part of a suite's corpus: a file, a folder of files, a URL, or the bundled sample.

    A relative `path` is read from the suite file's folder. `format` is one of the store's
    source formats (detected per file when left out); `page_date` dates an `hf-page` copy.
    """

    model_config = ConfigDict(extra="forbid")

    path: str | None = None
    url: str | None = None
    sample: bool = Field(default=False, description="The bundled sample corpus")
    format: str | None = None
    page_date: date | None = None

    @model_validator(mode="after")
    def _one_source(self) -> CorpusSource:
        given = [name for name in ("path", "url") if getattr(self, name)]
        if self.sample:
            given.append("sample")
        if len(given) != 1:
            raise ValueError("a corpus entry names exactly one of `path`, `url` or `sample: true`")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url {self.url!r} is not an http(s) URL")
        if self.sample and (self.format or self.page_date):
            raise ValueError("the bundled sample has its own format and page date")
        return self


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
    turns: list[Turn] = Field(
        default_factory=list, description="ask: follow-up questions on the same thread"
    )

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
        if self.turns and self.task != "ask":
            # The API keeps threads for questions only (`ask(question, thread_id)`).
            raise ValueError("follow-up `turns` apply only to task 'ask'")
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
    corpus: list[CorpusSource] = Field(
        default_factory=list,
        description="What the suite is written for, ingested into a fresh store for each run; "
        "without it the suite runs against the given store (the sample when that is empty)",
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Nested settings overrides for the run's fresh store (needs `corpus`)",
    )
    cases: list[Case] = Field(min_length=1)
    # The folder relative corpus paths are read from: the suite file's folder when loaded.
    _base_dir: Path = PrivateAttr(default_factory=Path)

    @property
    def base_dir(self) -> Path:
        return self._base_dir

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
        if self.settings and not self.corpus:
            raise ValueError("`settings` apply to the fresh store of a suite with a `corpus`")
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
        suite = Suite.model_validate(raw)
    except ValidationError as exc:
        raise SuiteError(_describe(path, raw, exc)) from None
    suite._base_dir = path.resolve().parent
    problems = [
        f"{path}: suite: field settings: {problem}" for problem in settings_problems(suite.settings)
    ]
    missing = [
        f"{path}: suite: field corpus.{index}.path: no such file or folder: {entry.path}"
        for index, entry in enumerate(suite.corpus)
        if entry.path and not (suite.base_dir / entry.path).exists()
    ]
    if problems or missing:
        raise SuiteError(
            "\n".join([f"{path}: {len(problems) + len(missing)} problem(s)", *problems, *missing])
        )
    return suite


def apply_settings(settings: Settings, overrides: dict[str, Any]) -> Settings:
    """A copy of `settings` with nested `overrides` (`{"recommend": {"recency_weight": 0}}`)
    applied and validated; raises ValueError naming the first bad field."""
    updated = settings.model_copy(deep=True)
    for section_name, values in overrides.items():
        section = getattr(updated, section_name, None)
        if not isinstance(section, BaseModel) or section_name not in type(updated).model_fields:
            raise ValueError(f"{section_name}: not a settings section")
        if not isinstance(values, dict):
            raise ValueError(f"{section_name}: expected a mapping of setting -> value")
        unknown = sorted(set(values) - set(type(section).model_fields))
        if unknown:
            raise ValueError(f"{section_name}.{unknown[0]}: no such setting")
        try:
            replaced = type(section).model_validate({**section.model_dump(), **values})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ValueError(f"{section_name}.{where}: {first['msg']}") from None
        setattr(updated, section_name, replaced)
    return updated


def settings_problems(overrides: dict[str, Any]) -> list[str]:
    try:
        apply_settings(Settings.model_construct(), overrides)
    except ValueError as exc:
        return [str(exc)]
    return []


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
