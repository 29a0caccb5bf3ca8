"""Suites that bring their corpus: a fresh store per run, conversations, false abstentions,
where each case lost points, byte-identical reruns and the diff of two runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import main
from evals import SuiteRun, run_suite
from evals.diff import diff_runs
from tests.conftest import MakePB

PAPERS_JSONL = [
    {
        "title": "Sparse Attention for Long Documents",
        "abstract": "We make attention sparse so that transformers read long documents with "
        "far less memory. Sparse attention keeps local windows and a few global tokens.",
        "published": "2024-03-04",
    },
    {
        "title": "Contrastive Pretraining of Protein Encoders",
        "abstract": "Protein encoders are pretrained contrastively on pairs of related protein "
        "sequences. The encoders improve structure prediction.",
        "published": "2024-03-05",
    },
]
PAPERS_CSV = (
    "title,abstract,published\n"
    '"Curriculum Learning for Robot Grasping","Robots learn grasping with a curriculum that '
    'starts from easy objects. Grasping success rises on cluttered tables.",2024-03-06\n'
    '"Quantized Gradients for Distributed Training","Gradients are quantized to four bits to '
    'cut communication in distributed training. Training speed doubles.",2024-03-07\n'
)
SUITE = """
name: corpus-mini
corpus:
  - {path: corpus, format: null}
cases:
  - id: ask-long-documents
    task: ask
    query: How does sparse attention let transformers read long documents with less memory?
    gold: [Sparse Attention for Long Documents]
    key_points:
      - {point: Memory is reduced., any: [memory]}
      - {point: Mentions zebras., all: [zebra]}
    turns:
      - query: Which paper teaches robots grasping with a curriculum?
        gold: [Curriculum Learning for Robot Grasping]
  - id: ask-wrong-gold
    task: ask
    query: How are protein encoders pretrained contrastively?
    gold: [Quantized Gradients for Distributed Training]
  - id: ask-bread
    task: ask
    query: How long should sourdough bread proof before baking?
    expect_no_citations: true
  - id: compare-training
    task: compare
    papers:
      - Quantized Gradients for Distributed Training
      - Curriculum Learning for Robot Grasping
    gold:
      - Quantized Gradients for Distributed Training
      - Curriculum Learning for Robot Grasping
"""


@pytest.fixture
def corpus_suite(tmp_path: Path) -> Path:
    folder = tmp_path / "suite"
    (folder / "corpus").mkdir(parents=True)
    lines = "".join(json.dumps(paper) + "\n" for paper in PAPERS_JSONL)
    (folder / "corpus" / "a.jsonl").write_text(lines, encoding="utf-8")
    (folder / "corpus" / "b.csv").write_text(PAPERS_CSV, encoding="utf-8")
    path = folder / "corpus-mini.yaml"
    path.write_text(SUITE, encoding="utf-8")
    return path


def run(make_pb: MakePB, suite: Path, out: Path) -> SuiteRun:
    pb = make_pb()
    return run_suite(suite, pb=pb, out_dir=out, progress=False)


def test_a_suite_with_a_corpus_of_several_files_runs_in_a_fresh_store(
    make_pb: MakePB, corpus_suite: Path, tmp_path: Path
) -> None:
    pb = make_pb()
    result = run_suite(corpus_suite, pb=pb, out_dir=tmp_path / "run", progress=False)
    assert result.store.startswith("a fresh store of 4 papers from corpus (2 files)")
    # The given store is left as it was: the corpus went into a store of its own.
    assert pb.stats()["papers"] == 0
    assert [(row.id, row.turn) for row in result.rows] == [
        ("ask-long-documents", 1),
        ("ask-long-documents", 2),
        ("ask-wrong-gold", 1),
        ("ask-bread", 1),
        ("compare-training", 1),
    ]
    assert all(row.error is None for row in result.rows), [row.error for row in result.rows]
    opening, follow_up, wrong, bread, compare = result.rows
    # The follow-up is judged on its own gold paper, on the same thread.
    assert follow_up.input == {"query": "Which paper teaches robots grasping with a curriculum?"}
    assert follow_up.metrics["false_abstention"] == 0.0
    assert follow_up.cited == follow_up.gold
    assert opening.metrics["false_abstention"] == 0.0
    # A key point named `point` is judged, and the report says which term is missing.
    assert opening.losses["key_point_terms_missing"] == ["Mentions zebras. (missing: zebra)"]
    # Gold papers cited nowhere: a false abstention, and the stage the gold paper was lost at.
    assert wrong.metrics["false_abstention"] == 1.0
    # Results report which papers relevance grading kept, so the stage is search, grading or
    # the writer, never the undivided "retrieved, not cited".
    assert wrong.relevant is not None
    assert set(wrong.losses) & {
        "gold_not_retrieved",
        "retrieved_not_judged_relevant",
        "relevant_not_cited",
    }
    assert "retrieved_not_cited" not in wrong.losses
    assert bread.metrics["correct_abstention"] == 1.0 and "false_abstention" not in bread.metrics
    assert compare.metrics["false_abstention"] == 0.0
    ask = result.aggregate.tasks["ask"]
    assert ask.metrics["false_abstention"].mean == pytest.approx(1 / 3)
    assert ask.metrics["false_abstention"].n == 3
    report = (tmp_path / "run" / "report.md").read_text()
    assert (
        "Abstention: false abstention 0.333 of 3 cases with gold papers; "
        "correct abstention 1.000 of 1 out-of-scope cases." in report
    )
    assert "## Where cases lost points" in report
    assert "ask-long-documents (turn 2)" in report


def test_two_runs_write_byte_identical_rows_and_their_diff_is_empty(
    make_pb: MakePB, corpus_suite: Path, tmp_path: Path
) -> None:
    first = run(make_pb, corpus_suite, tmp_path / "a")
    second = run(make_pb, corpus_suite, tmp_path / "b")
    for name in ("cases.jsonl", "aggregate.json"):
        assert (first.out_dir / name).read_bytes() == (second.out_dir / name).read_bytes(), name
    diff = diff_runs(first.out_dir, second.out_dir)
    assert "| (all) | no metric changed |" in diff and "No case changed." in diff


def test_the_diff_names_the_metric_and_the_stage_that_moved(
    make_pb: MakePB, corpus_suite: Path, tmp_path: Path
) -> None:
    before = run(make_pb, corpus_suite, tmp_path / "a")
    # Simulate a regression in run B: the opening question no longer cites its gold paper.
    rows = (before.out_dir / "cases.jsonl").read_text().splitlines()
    first = json.loads(rows[0])
    first["metrics"]["false_abstention"] = 1.0
    first["losses"]["retrieved_not_cited"] = ["Sparse Attention for Long Documents"]
    after = tmp_path / "b"
    after.mkdir()
    (after / "cases.jsonl").write_text("\n".join([json.dumps(first), *rows[1:]]) + "\n")
    aggregate = json.loads((before.out_dir / "aggregate.json").read_text())
    aggregate["tasks"]["ask"]["metrics"]["false_abstention"]["mean"] = 2 / 3
    (after / "aggregate.json").write_text(json.dumps(aggregate))
    diff = diff_runs(before.out_dir, after)
    assert "| ask | false_abstention | 0.333 | 0.667 | +0.333 | WORSE |" in diff
    assert "### ask-long-documents" in diff
    assert "- false_abstention: 0.000 -> 1.000 WORSE" in diff
    assert "- now loses at retrieved_not_cited: Sparse Attention for Long Documents" in diff


def test_the_cli_evaluates_a_corpus_suite_and_reports_false_abstentions(
    corpus_suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The real default embedder: the CLI builds its PaperBrief from the settings.
    argv = ["--data-dir", str(tmp_path / "data"), "eval", str(corpus_suite), "--quiet"]
    code = main([*argv, "--out", str(tmp_path / "run")])
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0, captured.err
    assert "store: a fresh store of 4 papers" in out
    assert "ask: false abstentions 0.333 (n=3); correct abstentions 1.000 (n=1)" in out
    assert main(["eval", "--diff", str(tmp_path / "run"), str(tmp_path / "nothing")]) == 2
    assert "not a run folder" in capsys.readouterr().err
