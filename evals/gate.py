"""Aggregation of scored rows per task, and the regression gate against a saved baseline.

The aggregate file (`aggregate.json` of a run) is what a baseline is: per task, the number of
cases and errors and each metric's mean over the cases where it applies. The gate fails when a
metric's mean drops by more than the suite's tolerance for it (rises, for the metrics in
`LOWER_IS_BETTER` such as `false_abstention`), or when more cases error than before (a task
whose cases fail loses its metrics, so errors are what the gate counts there).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field

# Cost figures: lower is better and they vary with the server, so they are reported, not gated.
# Theme sizes and the share of other papers describe a week's shape: neither direction is a
# regression in itself (the cap is enforced by the briefing, and tested).
NOT_GATED = frozenset(
    {"llm_calls", "tokens", "theme_size_mean", "theme_size_max", "other_papers_share"}
)
# Metrics where a rise, not a drop, is the regression.
LOWER_IS_BETTER = frozenset({"false_abstention", "cut_mid_clause"})
# Float noise is not a regression.
_EPSILON = 1e-9


class MetricSummary(BaseModel):
    mean: float
    n: int = Field(description="Cases the metric applied to")


class TaskSummary(BaseModel):
    cases: int = 0
    errors: int = 0
    metrics: dict[str, MetricSummary] = Field(default_factory=dict)


class Aggregate(BaseModel):
    suite: str
    mode: str
    k: int
    tasks: dict[str, TaskSummary] = Field(default_factory=dict)


class Regression(BaseModel):
    task: str
    metric: str
    baseline: float
    current: float
    tolerance: float

    def __str__(self) -> str:
        if self.metric == "errors":
            return (
                f"{self.task}: errors rose from {self.baseline:.0f} to {self.current:.0f} "
                f"(tolerance {self.tolerance:.0f})"
            )
        drop = self.baseline - self.current
        verb = "rose" if self.metric in LOWER_IS_BETTER else "dropped"
        return (
            f"{self.task}: {self.metric} {verb} by {abs(drop):.4f} "
            f"({self.baseline:.4f} -> {self.current:.4f}, tolerance {self.tolerance:.4f})"
        )


class ScoredCase(BaseModel):
    """The part of a scored row that aggregation reads."""

    task: str
    metrics: dict[str, float | None] = Field(default_factory=dict)
    error: str | None = None


def aggregate(suite: str, mode: str, k: int, rows: Iterable[ScoredCase]) -> Aggregate:
    result = Aggregate(suite=suite, mode=mode, k=k)
    values: dict[str, dict[str, list[float]]] = {}
    for row in rows:
        summary = result.tasks.setdefault(row.task, TaskSummary())
        summary.cases += 1
        if row.error:
            summary.errors += 1
            continue
        per_metric = values.setdefault(row.task, {})
        for name, value in row.metrics.items():
            if value is not None:
                per_metric.setdefault(name, []).append(value)
    for task, per_metric in values.items():
        result.tasks[task].metrics = {
            name: MetricSummary(mean=sum(vals) / len(vals), n=len(vals))
            for name, vals in sorted(per_metric.items())
        }
    return result


def load_aggregate(path: str | Path) -> Aggregate:
    path = Path(path)
    try:
        return Aggregate.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such baseline file") from None
    except (json.JSONDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: not an aggregate file of an eval run: {exc}") from None


def compare(
    current: Aggregate, baseline: Aggregate, tolerances: dict[str, float]
) -> list[Regression]:
    """Every metric of every task that dropped by more than its tolerance."""

    def tolerance(metric: str) -> float:
        return tolerances.get(metric, tolerances.get("default", 0.0))

    regressions: list[Regression] = []
    for task, base in sorted(baseline.tasks.items()):
        now = current.tasks.get(task, TaskSummary())
        allowed_errors = tolerances.get("errors", 0.0)
        if now.errors - base.errors > allowed_errors:
            regressions.append(
                Regression(
                    task=task,
                    metric="errors",
                    baseline=base.errors,
                    current=now.errors,
                    tolerance=allowed_errors,
                )
            )
        for metric, summary in base.metrics.items():
            if metric in NOT_GATED:
                continue
            found = now.metrics.get(metric)
            # A metric no case applies to any more (say, no sentence states a number) is not
            # a drop; cases that fail are caught by the error count above.
            if found is None:
                continue
            allowed = tolerance(metric)
            worse = summary.mean - found.mean
            if metric in LOWER_IS_BETTER:
                worse = -worse
            if worse > allowed + _EPSILON:
                regressions.append(
                    Regression(
                        task=task,
                        metric=metric,
                        baseline=summary.mean,
                        current=found.mean,
                        tolerance=allowed,
                    )
                )
    return regressions
