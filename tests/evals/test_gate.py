"""The regression gate: a drop beyond tolerance fails, a drop within it passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.gate import Aggregate, ScoredCase, aggregate, compare, load_aggregate


def rows(recall: list[float | None], errors: int = 0) -> list[ScoredCase]:
    scored = [ScoredCase(task="ask", metrics={"retrieved_recall": value}) for value in recall]
    return scored + [ScoredCase(task="ask", error="boom") for _ in range(errors)]


def test_aggregate_means_only_the_cases_a_metric_applies_to() -> None:
    result = aggregate("s", "offline", 5, rows([1.0, 0.5, None], errors=1))
    ask = result.tasks["ask"]
    assert (ask.cases, ask.errors) == (4, 1)
    assert ask.metrics["retrieved_recall"].mean == pytest.approx(0.75)
    assert ask.metrics["retrieved_recall"].n == 2


def test_a_drop_beyond_tolerance_fails_and_names_task_metric_and_size() -> None:
    baseline = aggregate("s", "offline", 5, rows([1.0, 1.0]))
    current = aggregate("s", "offline", 5, rows([1.0, 0.8]))  # mean 0.9: a drop of 0.1
    regressions = compare(current, baseline, {"default": 0.05})
    assert len(regressions) == 1
    message = str(regressions[0])
    assert "ask: retrieved_recall dropped by 0.1000" in message
    assert "1.0000 -> 0.9000" in message


def test_a_drop_within_tolerance_or_a_rise_passes() -> None:
    baseline = aggregate("s", "offline", 5, rows([1.0, 1.0]))
    assert compare(aggregate("s", "offline", 5, rows([1.0, 0.8])), baseline, {"default": 0.1}) == []
    assert compare(baseline, aggregate("s", "offline", 5, rows([0.5])), {}) == []
    # Per-metric tolerance beats the default.
    lenient = {"default": 0.0, "retrieved_recall": 0.2}
    assert compare(aggregate("s", "offline", 5, rows([1.0, 0.8])), baseline, lenient) == []


def test_new_errors_fail_and_a_metric_that_no_longer_applies_does_not() -> None:
    baseline = aggregate("s", "offline", 5, rows([1.0]))
    broken = aggregate("s", "offline", 5, rows([], errors=1))
    messages = [str(regression) for regression in compare(broken, baseline, {"default": 1.0})]
    assert messages == ["ask: errors rose from 0 to 1 (tolerance 0)"]
    not_applicable = aggregate("s", "offline", 5, rows([None]))
    assert compare(not_applicable, baseline, {}) == []


def test_cost_metrics_are_reported_not_gated() -> None:
    cheap = [ScoredCase(task="ask", metrics={"llm_calls": 1.0, "tokens": 100.0})]
    costly = [ScoredCase(task="ask", metrics={"llm_calls": 9.0, "tokens": 9000.0})]
    assert compare(aggregate("s", "llm", 5, costly), aggregate("s", "llm", 5, cheap), {}) == []
    assert compare(aggregate("s", "llm", 5, cheap), aggregate("s", "llm", 5, costly), {}) == []


def test_baseline_files_round_trip_and_bad_ones_are_named(tmp_path: Path) -> None:
    path = tmp_path / "aggregate.json"
    original = aggregate("s", "offline", 5, rows([0.25]))
    path.write_text(original.model_dump_json(), encoding="utf-8")
    assert load_aggregate(path) == original
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"aggregate\.json: not an aggregate file"):
        load_aggregate(path)
    with pytest.raises(ValueError, match="no such baseline file"):
        load_aggregate(tmp_path / "missing.json")
    assert isinstance(original, Aggregate)


def test_false_abstention_regresses_when_it_rises_not_when_it_falls() -> None:
    def run(values: list[float]) -> Aggregate:
        scored = [ScoredCase(task="ask", metrics={"false_abstention": v}) for v in values]
        return aggregate("s", "offline", 5, scored)

    fewer, more = run([0.0, 0.0]), run([0.0, 1.0])
    (regression,) = compare(more, fewer, {"default": 0.01})
    assert "ask: false_abstention rose by 0.5000 (0.0000 -> 0.5000" in str(regression)
    assert compare(fewer, more, {"default": 0.01}) == []
