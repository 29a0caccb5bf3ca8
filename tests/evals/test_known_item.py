"""SciTLDR as a corpus (dated, one paper per title) and the known-item mode over it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from agent.cli import main
from evals.known_item import read_negatives, run_known_item
from evals.scitldr import known_item_questions, write_corpus
from tests.conftest import MakePB

RECORDS = [
    {
        "paper_id": "abc1",
        "title": "Sparse Attention for Long Documents",
        "source": ["We make attention sparse.", "Long documents fit in memory."],
        "target": ["Sparse attention reads long documents.", "A second TLDR."],
    },
    {
        "paper_id": "abc2",
        "title": "Quantized Gradients for Distributed Training",
        "source": ["Gradients are quantized to four bits.", "Communication drops."],
        "target": ["Four-bit gradients cut communication in distributed training."],
    },
    {  # a resubmission: same title, another year's abstract
        "paper_id": "abc3",
        "title": "Sparse Attention for Long Documents",
        "source": ["Attention is made sparse for long inputs."],
        "target": ["Sparse attention again."],
    },
]


@pytest.fixture
def scitldr_file(tmp_path: Path) -> Path:
    path = tmp_path / "scitldr.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in RECORDS), encoding="utf-8")
    return path


def test_the_corpus_has_one_paper_per_title_with_synthetic_dates_and_every_author_tldr(
    scitldr_file: Path, tmp_path: Path
) -> None:
    (written,) = write_corpus(scitldr_file, tmp_path / "corpus")
    rows = [json.loads(line) for line in written.read_text().splitlines()]
    assert [row["title"] for row in rows] == [RECORDS[0]["title"], RECORDS[1]["title"]]
    assert rows[0]["author_tldrs"] == [
        "Sparse attention reads long documents.",
        "Sparse attention again.",
    ]
    assert rows[0]["url"] == "https://openreview.net/forum?id=abc1"
    assert [date.fromisoformat(row["published"]) for row in rows] == [
        date(2019, 1, 7),
        date(2019, 1, 8),
    ]
    # Both readings give one question per SciTLDR record.
    assert len(list(known_item_questions(scitldr_file))) == 3
    assert sorted(known_item_questions(tmp_path / "corpus")) == sorted(
        known_item_questions(scitldr_file)
    )


def test_known_item_asks_every_tldr_of_a_fresh_store(
    make_pb: MakePB, scitldr_file: Path, tmp_path: Path
) -> None:
    pb = make_pb()
    run = run_known_item(scitldr_file, pb=pb, progress=False)
    assert (run.papers, run.questions, run.errors, run.mode) == (2, 3, 0, "offline")
    assert pb.stats()["papers"] == 0  # the caller's store is untouched
    assert set(run.means) >= {"search_recall@1", "search_recall@5", "false_abstention"}
    for row in run.rows:
        assert row.scores["false_abstention"] == float(row.abstained or row.gold not in row.cited)
    folder = run.write(tmp_path / "out")
    summary = json.loads((folder / "known_item.json").read_text())
    assert summary["questions"] == 3 and "seconds" not in summary
    assert "search_recall@5" in (folder / "known_item.md").read_text()


def test_the_cli_runs_the_known_item_mode(
    scitldr_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--data-dir", str(tmp_path / "data"), "eval", "--known-item", str(scitldr_file)]
    assert main([*argv, "--quiet", "--out", str(tmp_path / "ki")]) == 0
    out = capsys.readouterr().out
    assert "3 questions (author TLDRs, title words kept) over 2 papers, 0 out-of-domain" in out
    assert "false_abstention" in out


def test_negatives_are_reported_as_correct_abstention_and_title_words_can_be_stripped(
    make_pb: MakePB, scitldr_file: Path, tmp_path: Path
) -> None:
    negatives = tmp_path / "ood.txt"
    negatives.write_text("# other fields\nHow long should bread proof?\n\nWho built Rome?\n")
    run = run_known_item(
        scitldr_file, pb=make_pb(), progress=False, negatives=negatives, strip_title_words=True
    )
    # "Sparse attention reads long documents." loses every word its title holds; "Sparse
    # attention again." keeps only a stopword, so it is counted as skipped, not asked.
    assert (run.questions, run.skipped, run.negatives, run.title_words) == (2, 1, 2, "stripped")
    assert [row.question for row in run.rows] == [
        "reads",
        "Four-bit cut communication in",
        "How long should bread proof?",
        "Who built Rome?",
    ]
    assert all(row.gold == "" for row in run.rows[2:])
    assert 0.0 <= run.means["correct_abstention"] <= 1.0
    summary = run.summary_lines()[0]
    assert "2 out-of-domain questions" in summary and "1 skipped (title words only)" in summary


def test_the_shipped_negatives_are_fifty_questions() -> None:
    shipped = Path(__file__).resolve().parents[2] / "evals/suites/data/out_of_domain.txt"
    assert len(read_negatives(shipped)) == 50
