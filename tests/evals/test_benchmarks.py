"""Benchmark adapters on tiny files in the real formats, with the lead baseline beside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent import Settings
from evals.benchmarks import (
    BenchmarkError,
    read_multixscience,
    run_multixscience,
    run_scitldr,
)
from tests.conftest import MakePB

SCITLDR = [
    {
        "paper_id": "p1",
        "title": "Adaptive loss scaling",
        "source": [
            "We propose adaptive loss scaling for mixed precision training.",
            "It removes a hyperparameter and speeds up convergence.",
        ],
        "target": [
            "We propose adaptive loss scaling for mixed precision training.",
            "Layer-wise loss scales remove tuning.",
        ],
    },
    {
        "paper_id": "p2",
        "title": "Graph pooling",
        "source": ["Graph pooling is hard.", "We introduce a differentiable pooling layer."],
        "target": ["A differentiable pooling layer for graphs.", "Graph pooling is hard."],
    },
]


def test_scitldr_scores_the_system_beside_the_lead_sentence(
    make_pb: MakePB, tmp_path: Path
) -> None:
    path = tmp_path / "dev.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in SCITLDR))
    run = run_scitldr(path, pb=make_pb(), progress=False)
    assert (run.cases, run.errors) == (2, 0)
    first, second = run.rows
    assert first.lead == SCITLDR[0]["source"][0] and first.system
    # Paper 1's lead sentence is its first target word for word: F1 = 1 on both references.
    assert first.scores["lead.first.rouge1"] == 1.0
    assert first.scores["lead.best.rougeL"] == 1.0
    # Paper 2's lead is the second target, not the first: best target 1.0, first target lower.
    assert second.scores["lead.best.rouge1"] == 1.0
    assert second.scores["lead.first.rouge1"] < 1.0
    assert run.means["lead.best.rouge1"] == 1.0
    lines = run.summary_lines()
    assert any(
        "rouge1" in line and "paperbrief" in line and "lead baseline" in line for line in lines
    )
    assert all("n=2" in line and "stemming on" in line for line in lines[1:])
    assert all("per-case F1, then mean" in line for line in lines[1:])
    folder = run.write(tmp_path / "out")
    assert len((folder / "scitldr.jsonl").read_text().splitlines()) == 2
    assert json.loads((folder / "scitldr.json").read_text())["cases"] == 2


def test_scitldr_limit_and_bad_records(make_pb: MakePB, tmp_path: Path) -> None:
    path = tmp_path / "dev.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in SCITLDR))
    assert run_scitldr(path, pb=make_pb(), limit=1, progress=False).cases == 1
    path.write_text(json.dumps({"source": "not a list", "target": ["x"]}) + "\n")
    with pytest.raises(BenchmarkError, match=r"dev\.jsonl: line 1: `source` must be a list"):
        run_scitldr(path, pb=make_pb(), progress=False)


XSCIENCE = [
    {
        "aid": "1234.5678",
        "mid": "1",
        "abstract": "Our paper.",
        "ref_abstract": {
            "@cite_1": {"mid": "11", "abstract": "Alpha method works well. It is simple."},
            "@cite_2": {"mid": "12", "abstract": "Beta method fails often. It is complex."},
        },
        "related_work": "Alpha method works well @cite_1 . Beta method fails often @cite_2 .",
    },
    {
        "aid": "2222.0000",
        "mid": "2",
        "abstract": "Another paper.",
        "ref_abstract": {
            "@cite_3": {"mid": "13", "abstract": "Gamma only."},
            "@cite_4": {"mid": "14", "abstract": ""},
        },
        "related_work": "Gamma @cite_3 .",
    },
]


def test_multixscience_compares_cited_abstracts_against_related_work(tmp_path: Path) -> None:
    path = tmp_path / "test.json"
    path.write_text(json.dumps(XSCIENCE))
    settings = Settings(data_dir=tmp_path / "unused", embedding={"provider": "hash"})
    run = run_multixscience(path, settings=settings, progress=False)
    # The second record has one usable reference (the other abstract is empty): skipped.
    assert (run.cases, run.skipped, run.errors) == (1, 1, 0)
    (row,) = run.rows
    assert row.system, row
    # The lead baseline is each cited abstract's first sentence, which is the related work
    # once its @cite markers are gone: F1 = 1.
    assert row.lead == "Alpha method works well. Beta method fails often."
    assert row.scores["lead.related_work.rouge1"] == 1.0
    assert 0.0 < row.scores["system.related_work.rouge1"] <= 1.0
    assert any("vs related_work reference" in line for line in run.summary_lines())


def test_multixscience_reads_the_columnar_copy_and_names_bad_records(tmp_path: Path) -> None:
    columnar = dict(XSCIENCE[0])
    columnar["ref_abstract"] = {
        "abstract": ["Alpha method works well.", "", "Beta method fails often."],
        "cite_N": ["@cite_1", "@cite_9", "@cite_2"],
        "mid": ["11", "19", "12"],
    }
    path = tmp_path / "hf.jsonl"
    path.write_text(json.dumps(columnar) + "\n")
    (record,) = read_multixscience(path)
    assert record.references == {
        "@cite_1": "Alpha method works well.",
        "@cite_2": "Beta method fails often.",
    }
    path.write_text(json.dumps({"ref_abstract": {}, "related_work": ""}) + "\n")
    with pytest.raises(BenchmarkError, match="record 1: `related_work` is missing or empty"):
        read_multixscience(path)
