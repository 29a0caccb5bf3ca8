"""Suite files: the bundled suite is complete, and a bad suite names file, case and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import PaperBrief
from evals import SuiteError, load_suite
from evals.suite import TASKS

SAMPLE = Path(__file__).resolve().parents[2] / "evals" / "suites" / "sample.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_suite_covers_every_task_and_out_of_corpus_questions() -> None:
    suite = load_suite(SAMPLE)
    assert len(suite.cases) >= 20
    assert {case.task for case in suite.cases} == set(TASKS)
    assert sum(case.expect_no_citations for case in suite.cases) >= 2
    assert all(case.gold or case.expect_no_citations for case in suite.cases)
    assert any(case.exact_set for case in suite.cases if case.task == "brief")


def test_a_valid_suite_parses_key_points_in_both_forms(tmp_path: Path) -> None:
    suite = load_suite(
        write(
            tmp_path,
            """
name: mini
tolerances: {default: 0.05, rougeL: 0.1}
cases:
  - id: a
    task: ask
    query: what?
    gold: [Some Title]
    key_points:
      - Plain statement judged by similarity.
      - text: Termed statement
        all: [cache]
        any: [key, value]
""",
        )
    )
    plain, termed = suite.cases[0].key_points
    assert not plain.has_terms
    assert termed.all_terms == ["cache"] and termed.any_terms == ["key", "value"]
    assert suite.tolerance("rougeL") == 0.1
    assert suite.tolerance("rouge1") == 0.05


@pytest.mark.parametrize(
    ("case_yaml", "expected"),
    [
        ("- {id: q1, task: ask}", "case 'q1': field (case): Value error, task 'ask' needs `query`"),
        (
            "- {id: b1, task: brief, window: {start: 2025-10-08, end: 2025-10-01}}",
            "case 'b1': field window",
        ),
        ("- {id: t1, task: tldr, paper: X, colour: red}", "case 't1': field colour"),
        ("- {id: s1, task: summarise, query: x}", "case 's1': field task"),
        ("- {id: c1, task: ask, query: x, exact_set: true}", "`exact_set` applies only"),
        ("- {task: ask}", "case #1: field id"),
        (
            "- {id: k1, task: ask, query: x, key_points: [{point: P, colour: red}]}",
            "case 'k1': field key_points.0.colour",
        ),
        (
            "- {id: k2, task: ask, query: x, key_points: [{point: P, text: T}]}",
            "case 'k2': field key_points.0: Value error, give the key point as `text` or `point`",
        ),
        (
            "- {id: f1, task: compare, query: x, turns: [{query: y}]}",
            "follow-up `turns` apply only to task 'ask'",
        ),
        (
            "- {id: f2, task: ask, query: x, turns: [{query: y, gold: [A], tone: dry}]}",
            "case 'f2': field turns.0.tone",
        ),
    ],
)
def test_a_bad_case_is_named_with_its_field(tmp_path: Path, case_yaml: str, expected: str) -> None:
    path = write(tmp_path, f"name: bad\ncases:\n{case_yaml}\n")
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    message = str(caught.value)
    assert str(path) in message
    assert expected in message


def test_a_key_point_may_be_named_point_as_suites_written_elsewhere_do(tmp_path: Path) -> None:
    suite = load_suite(
        write(
            tmp_path,
            "name: p\ncases:\n- {id: a, task: ask, query: q, key_points: "
            "[{point: Caches keys., any: [cache]}, {text: Plain.}]}\n",
        )
    )
    first, second = suite.cases[0].key_points
    assert (first.text, first.any_terms, second.text) == ("Caches keys.", ["cache"], "Plain.")


def test_a_suite_declares_its_corpus_and_settings_checked_at_load(tmp_path: Path) -> None:
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "a.jsonl").write_text("")
    ok = write(
        tmp_path,
        "name: c\ncorpus:\n- {path: papers, format: jsonl}\n- sample: true\n"
        "- {url: 'https://example.org/p.txt', format: hf-page, page_date: 2025-11-06}\n"
        "settings: {recommend: {recency_weight: 0}}\n"
        "cases:\n- {id: a, task: ask, query: q}\n",
    )
    suite = load_suite(ok)
    assert [entry.path for entry in suite.corpus] == ["papers", None, None]
    assert suite.base_dir == tmp_path
    bad = [
        ("corpus: [{path: nowhere}]", "field corpus.0.path: no such file or folder: nowhere"),
        ("corpus: [{path: papers, url: 'https://x.org'}]", "exactly one of `path`, `url`"),
        (
            "corpus: [{sample: true}]\nsettings: {recommend: {recency_wieght: 0}}",
            "recommend.recency_wieght: no such setting",
        ),
        ("settings: {recommend: {recency_weight: 0}}", "`settings` apply to the fresh store"),
    ]
    for head, expected in bad:
        path = write(tmp_path, f"name: c\n{head}\ncases:\n- {{id: a, task: ask, query: q}}\n")
        with pytest.raises(SuiteError) as caught:
            load_suite(path)
        assert str(path) in str(caught.value)
        assert expected in str(caught.value), str(caught.value)


def test_duplicate_ids_and_broken_yaml_are_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: dup\ncases:\n- {id: x, task: ask, query: a}\n- {id: x, task: ask, query: b}\n",
    )
    with pytest.raises(SuiteError, match="appears twice"):
        load_suite(path)
    with pytest.raises(SuiteError, match="not valid YAML"):
        load_suite(write(tmp_path, "cases: [unclosed"))
    with pytest.raises(SuiteError, match="no such suite file"):
        load_suite(tmp_path / "missing.yaml")


def test_every_gold_paper_of_the_bundled_suite_is_in_the_sample(sample_pb: PaperBrief) -> None:
    papers = sample_pb.papers()
    known = {paper.id for paper in papers} | {paper.title for paper in papers}
    suite = load_suite(SAMPLE)
    missing = [
        (case.id, ref)
        for case in suite.cases
        for ref in [*case.gold, *case.papers, *([case.paper] if case.paper else [])]
        if ref not in known
    ]
    assert missing == []
    # A briefing with `exact_set` lists exactly the papers published in its window.
    for case in suite.cases:
        if case.exact_set and case.window is not None:
            window = sample_pb.papers(case.window.start, case.window.end)
            assert {paper.title for paper in window} == set(case.gold), case.id
