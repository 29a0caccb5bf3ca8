"""The public SciTLDR suite: complete for every task, its gold papers in its corpus, its
paraphrases free of their gold titles' words, its weekly briefings exact."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from evals import load_suite
from evals.metrics import content_words
from evals.suite import TASKS

SUITES = Path(__file__).resolve().parents[2] / "evals" / "suites"
SUITE = load_suite(SUITES / "scitldr.yaml")
PAPERS = [
    json.loads(line)
    for path in sorted((SUITES / "data" / "scitldr_a_dev").glob("*.jsonl"))
    for line in path.read_text(encoding="utf-8").splitlines()
]


def test_every_task_has_thirty_cases_and_out_of_domain_questions_are_asked() -> None:
    for task in TASKS:
        assert sum(case.task == task for case in SUITE.cases) >= 30, task
    for task in ("ask", "compare"):
        out_of_domain = [c for c in SUITE.cases if c.task == task and c.expect_no_citations]
        assert len(out_of_domain) >= 5, task
    assert any(case.turns for case in SUITE.cases)
    assert [entry.path for entry in SUITE.corpus] == ["data/scitldr_a_dev"]


def test_the_corpus_is_sciltdr_dev_with_every_author_tldr() -> None:
    assert len(PAPERS) == 616
    assert sum(len(paper["author_tldrs"]) for paper in PAPERS) == 619
    assert len({paper["title"] for paper in PAPERS}) == 616


def test_every_named_paper_is_in_the_corpus() -> None:
    titles = {paper["title"] for paper in PAPERS}
    named = [
        (case.id, ref)
        for case in SUITE.cases
        for ref in [
            *case.gold,
            *case.papers,
            *([case.paper] if case.paper else []),
            *(ref for turn in case.turns for ref in turn.gold),
        ]
    ]
    assert [item for item in named if item[1] not in titles] == []


def test_paraphrased_questions_share_no_content_word_with_their_gold_titles() -> None:
    paraphrases = [case for case in SUITE.cases if "-para-" in case.id]
    assert len(paraphrases) >= 20
    for case in paraphrases:
        assert case.query is not None
        shared = content_words(case.query) & set().union(*map(content_words, case.gold))
        assert not shared, (case.id, shared)


def test_each_briefing_case_holds_exactly_the_papers_of_its_week() -> None:
    briefs = [case for case in SUITE.cases if case.task == "brief"]
    assert sum(len(case.gold) for case in briefs) == len(PAPERS)
    for case in briefs:
        assert case.window is not None and case.exact_set
        week = {
            paper["title"]
            for paper in PAPERS
            if case.window.start <= date.fromisoformat(paper["published"]) <= case.window.end
        }
        assert week == set(case.gold), case.id
