"""End to end: a mini suite through the real API on the sample store, and the gate on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent import PaperBrief
from agent.cli import main
from evals import SuiteRun, load_aggregate, run_suite

MINI = """
name: mini
k: 5
tolerances: {default: 0.01}
cases:
  - id: ask-prophet
    task: ask
    query: How does Prophet speed up decoding of diffusion language models?
    gold: [Diffusion Language Models Know the Answer Before Decoding]
    reference: >
      Prophet commits early once the top two candidates are far apart, which cuts the decoding
      steps of diffusion language models by up to 3.4 times without training.
    key_points:
      - text: Early commit decoding.
        any: [early]
  - id: ask-sourdough
    task: ask
    query: How long should sourdough bread proof before baking?
    expect_no_citations: true
  - id: tldr-medusa
    task: tldr
    paper: "Medusa: Simple LLM Inference Acceleration Framework with Multiple Decoding Heads"
    gold: ["Medusa: Simple LLM Inference Acceleration Framework with Multiple Decoding Heads"]
    reference: Extra decoding heads predict several tokens at once, speeding up inference.
"""


@pytest.fixture(scope="module")
def mini_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("suite") / "mini.yaml"
    path.write_text(MINI, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def mini_run(
    sample_pb: PaperBrief, mini_suite: Path, tmp_path_factory: pytest.TempPathFactory
) -> SuiteRun:
    """The mini suite run once on the sample store (read-only for the tests below)."""
    out = tmp_path_factory.mktemp("mini-run")
    return run_suite(mini_suite, pb=sample_pb, out_dir=out, progress=False)


def test_a_run_writes_scored_rows_and_both_reports(mini_run: SuiteRun) -> None:
    folder = mini_run.out_dir
    rows = [json.loads(line) for line in (folder / "cases.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows] == ["ask-prophet", "ask-sourdough", "tldr-medusa"]
    assert all(row["error"] is None for row in rows), [row["error"] for row in rows]
    prophet, sourdough, medusa = mini_run.rows
    # The one gold paper is found, cited and grounded.
    assert prophet.metrics["retrieved_recall"] == 1.0
    assert prophet.metrics["cited_recall"] == 1.0
    assert prophet.metrics["citation_grounding"] == 1.0
    assert prophet.output["markdown"] and prophet.text
    # Nothing in the corpus is about bread: the right behaviour is to abstain.
    assert sourdough.metrics["abstention_correct"] == 1.0
    assert sourdough.cited == []
    assert medusa.text and 0.0 < (medusa.metrics["rouge1"] or 0.0) <= 1.0
    aggregate = load_aggregate(folder / "aggregate.json")
    assert aggregate.tasks["ask"].cases == 2
    assert aggregate.tasks["ask"].metrics["abstention_correct"].n == 2
    markdown = (folder / "report.md").read_text()
    assert "### ask (2 cases, 0 errors" in markdown and "stemming on" in markdown
    html = (folder / "report.html").read_text()
    assert html.count("<svg") == 2 and "ask: mean per metric" in html
    # Self-contained: no scripts, no remote assets.
    assert "<script" not in html
    assert "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_a_rerun_is_identical_and_passes_its_own_baseline(
    sample_pb: PaperBrief, mini_suite: Path, mini_run: SuiteRun, tmp_path: Path
) -> None:
    baseline = mini_run.out_dir / "aggregate.json"
    again = run_suite(mini_suite, pb=sample_pb, out_dir=tmp_path, baseline=baseline, progress=False)
    assert again.passed, [str(r) for r in again.regressions]
    # Offline runs are deterministic: the aggregates are identical, not merely close.
    assert (tmp_path / "aggregate.json").read_text() == baseline.read_text()
    assert "PASS against" in (tmp_path / "report.md").read_text()
    # The HTML charts mark each metric's baseline value.
    assert "<title>baseline: " in (tmp_path / "report.html").read_text()


def test_the_cli_exits_non_zero_naming_the_metric_that_dropped(
    sample_pb: PaperBrief,
    mini_suite: Path,
    mini_run: SuiteRun,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    better = mini_run.aggregate.model_copy(deep=True)
    better.tasks["tldr"].metrics["rouge1"].mean += 0.2
    baseline = tmp_path / "better.json"
    baseline.write_text(better.model_dump_json(), encoding="utf-8")
    out = tmp_path / "run"
    argv = ["--data-dir", str(sample_pb.data_dir), "eval", str(mini_suite), "--quiet"]
    code = main([*argv, "--out", str(out), "--baseline", str(baseline)])
    assert code == 1
    assert "tldr: rouge1 dropped by 0.2000" in capsys.readouterr().err
    assert "FAIL against" in (out / "report.md").read_text()


def test_a_baseline_of_another_suite_is_refused(
    sample_pb: PaperBrief, mini_run: SuiteRun, tmp_path: Path
) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("name: other\ncases:\n- {id: a, task: ask, query: q}\n")
    with pytest.raises(ValueError, match="a baseline of suite 'mini' in offline mode cannot"):
        run_suite(other, pb=sample_pb, baseline=mini_run.out_dir / "aggregate.json")


def test_an_unknown_gold_title_is_an_error_row_not_a_skip(
    sample_pb: PaperBrief, tmp_path: Path
) -> None:
    suite = tmp_path / "bad.yaml"
    suite.write_text(
        "name: bad\ncases:\n- {id: x, task: ask, query: q, gold: [No Such Paper Title]}\n"
    )
    run = run_suite(suite, pb=sample_pb, out_dir=tmp_path / "run", progress=False)
    assert run.rows[0].error == (
        "'No Such Paper Title' is neither a paper id nor an exact title in the store"
    )
    assert run.aggregate.tasks["ask"].errors == 1
    assert "ERROR: 'No Such Paper Title'" in (tmp_path / "run" / "report.md").read_text()
