"""Runs a suite through the public Python API and leaves a scored run behind.

`run_suite` sends every case to the `PaperBrief` method of its task, scores the result, and
writes the run folder: `cases.jsonl` (one row per case: input, gold, output, metrics, error),
`aggregate.json` (per-task means: the file a later run's `--baseline` reads), `report.md` and
`report.html`. A case whose method fails, or does not exist in this build, becomes an error row:
it is counted, shown in the reports and fails the gate, never skipped.

The suite runs against the data dir of the given `PaperBrief`; when its store is empty the
bundled sample corpus is ingested first (`pb.ingest_sample()`), which is what the bundled suite
is written for.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field
from tqdm import tqdm

from agent import Paper, PaperBrief, load_settings
from evals import gate, metrics, report
from evals.scoring import (
    KeyPointJudge,
    Output,
    answer_output,
    briefing_output,
    recommend_output,
    score,
    tldr_output,
    written_output,
)
from evals.suite import Case, Suite, load_suite

Mode = Literal["offline", "llm"]


class CaseRow(gate.ScoredCase):
    """One scored row of `cases.jsonl`."""

    id: str
    input: dict[str, Any] = Field(default_factory=dict)
    gold: list[str] = Field(default_factory=list, description="Gold paper ids (resolved)")
    text: str = ""
    ranked: list[str] = Field(default_factory=list)
    cited: list[str] = Field(default_factory=list)
    output: Any = None
    latency_s: float = 0.0
    unsupported: list[str] = Field(default_factory=list)
    ungrounded_numbers: list[str] = Field(default_factory=list)
    key_points_missed: list[str] = Field(default_factory=list)


class SuiteRun(BaseModel):
    suite: Suite
    mode: Mode
    rows: list[CaseRow]
    aggregate: gate.Aggregate
    regressions: list[gate.Regression] = Field(default_factory=list)
    baseline: str | None = None
    baseline_aggregate: gate.Aggregate | None = None
    key_points_judged_by: str = ""
    store: str = Field(default="", description="What the run read: paper count and data dir")
    out_dir: Path
    started: str

    @property
    def passed(self) -> bool:
        return not self.regressions


def run_suite(
    suite: str | Path | Suite,
    *,
    pb: PaperBrief | None = None,
    mode: Mode = "offline",
    out_dir: str | Path | None = None,
    baseline: str | Path | None = None,
    judge: KeyPointJudge | None = None,
    progress: bool = True,
) -> SuiteRun:
    """Run every case of `suite`, write the run folder, compare with `baseline` if given.

    Without `pb`, a `PaperBrief` is built from the environment's settings with the LLM mode
    forced to `mode`; a given `pb` must already write in that mode (checked, ValueError). In
    llm mode key points without term lists are judged by the configured LLM (`judge`, default
    `evals.judge.llm_judge(pb)`); offline they are judged by embeddings.
    """
    loaded = suite if isinstance(suite, Suite) else load_suite(suite)
    baseline_aggregate = _baseline_for(baseline, loaded, mode) if baseline else None
    if pb is None:
        settings = load_settings()
        settings.llm.mode = mode
        with PaperBrief(settings=settings) as owned:
            return run_suite(
                loaded,
                pb=owned,
                mode=mode,
                out_dir=out_dir,
                baseline=baseline,
                judge=judge,
                progress=progress,
            )
    _check_mode(pb, mode)
    judged_by = f"terms, else embedding similarity >= {metrics.KEY_POINT_SIMILARITY}"
    owned_judge = None
    if judge is None and mode == "llm":
        from evals.judge import llm_judge

        judge = owned_judge = llm_judge(pb)
    if judge is not None:
        judged_by = "terms, else the LLM judge"
    if pb.stats().get("papers", 0) == 0:
        pb.ingest_sample()
    store_note = f"{pb.stats().get('papers', 0)} papers in {pb.data_dir}"
    started = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(out_dir) if out_dir else _default_out_dir(pb, loaded.name, started)

    papers = {paper.id: paper for paper in pb.papers()}
    titles = {_title_key(paper.title): paper.id for paper in papers.values()}
    embed = _embedder(pb)
    rows: list[CaseRow] = []
    try:
        for case in tqdm(
            loaded.cases, desc=f"eval {loaded.name}", unit="case", disable=not progress
        ):
            rows.append(_run_case(pb, case, loaded.k, papers, titles, embed, judge))
    finally:
        if owned_judge is not None:
            owned_judge.close()

    aggregate = gate.aggregate(loaded.name, mode, loaded.k, rows)
    regressions = (
        gate.compare(aggregate, baseline_aggregate, loaded.tolerances) if baseline_aggregate else []
    )
    run = SuiteRun(
        suite=loaded,
        mode=mode,
        rows=rows,
        aggregate=aggregate,
        regressions=regressions,
        baseline=str(baseline) if baseline else None,
        baseline_aggregate=baseline_aggregate,
        key_points_judged_by=judged_by,
        store=store_note,
        out_dir=folder,
        started=started,
    )
    write_run(run)
    return run


def _baseline_for(path: str | Path, suite: Suite, mode: Mode) -> gate.Aggregate:
    """The baseline aggregate, refused when it measured another suite or mode."""
    found = gate.load_aggregate(path)
    if (found.suite, found.mode) != (suite.name, mode):
        raise ValueError(
            f"{path}: a baseline of suite {found.suite!r} in {found.mode} mode cannot gate "
            f"suite {suite.name!r} in {mode} mode"
        )
    return found


def _check_mode(pb: PaperBrief, mode: Mode) -> None:
    """The run's label must match what the API will really do, or the figures mislead."""
    # An injected LLM is used unless the settings force offline (see agent/graph.py).
    uses_llm = pb.settings.llm.mode != "offline" and (pb.llm is not None or pb.settings.llm.use_llm)
    if mode == "llm" and not (pb.llm is not None or pb.settings.llm.configured):
        raise ValueError(
            "llm mode needs a configured LLM: set PAPERBRIEF_LLM__BASE_URL and "
            "PAPERBRIEF_LLM__MODEL (or OPENAI_BASE_URL / OPENAI_MODEL / OPENAI_API_KEY)"
        )
    if (mode == "llm") != uses_llm:
        raise ValueError(
            f"the run is labelled {mode!r} but this PaperBrief writes in "
            f"{'llm' if uses_llm else 'offline'} mode (settings.llm.mode="
            f"{pb.settings.llm.mode!r}); build it with the matching mode"
        )


def write_run(run: SuiteRun) -> None:
    run.out_dir.mkdir(parents=True, exist_ok=True)
    with (run.out_dir / "cases.jsonl").open("w", encoding="utf-8") as handle:
        for row in run.rows:
            handle.write(row.model_dump_json() + "\n")
    (run.out_dir / "aggregate.json").write_text(
        run.aggregate.model_dump_json(indent=2) + "\n", encoding="utf-8"
    )
    (run.out_dir / "report.md").write_text(report.markdown_report(run), encoding="utf-8")
    (run.out_dir / "report.html").write_text(report.html_report(run), encoding="utf-8")


def _default_out_dir(pb: PaperBrief, suite: str, started: str) -> Path:
    return Path(pb.settings.data_dir) / "evals" / f"{suite}-{started}"


def _title_key(title: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", title.casefold()))


def _embedder(pb: PaperBrief) -> metrics.Embed:
    """`pb.embedder`, memoised per text for the run: support checks embed the same abstract
    sentences again and again, and embedding is most of a run's scoring time."""
    vectors: dict[str, np.ndarray] = {}

    def embed(texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(text for text in texts if text not in vectors))
        if missing:
            vectors.update(zip(missing, pb.embedder.embed(missing), strict=True))
        return np.stack([vectors[text] for text in texts])

    return embed


class _CaseFailed(Exception):
    """The case could not be run; the message says why."""


def _resolve(ref: str, papers: dict[str, Paper], titles: dict[str, str]) -> str:
    if ref in papers:
        return ref
    found = titles.get(_title_key(ref))
    if found is None:
        raise _CaseFailed(f"{ref!r} is neither a paper id nor an exact title in the store")
    return found


def _method(pb: PaperBrief, name: str) -> Callable[..., Any]:
    method = getattr(pb, name, None)
    if method is None:
        raise _CaseFailed(f"PaperBrief.{name} is not available in this build")
    return method


def _run_case(
    pb: PaperBrief,
    case: Case,
    k: int,
    papers: dict[str, Paper],
    titles: dict[str, str],
    embed: metrics.Embed,
    judge: KeyPointJudge | None,
) -> CaseRow:
    row = CaseRow(
        id=case.id,
        task=case.task,
        input=case.model_dump(
            mode="json",
            include={"query", "papers", "window", "paper", "k"},
            exclude_defaults=True,
        ),
    )
    started = time.perf_counter()
    try:
        gold = [_resolve(ref, papers, titles) for ref in case.gold]
        row.gold = gold
        output, raw = _execute(pb, case, papers, titles)
        row.latency_s = time.perf_counter() - started
        scored = score(case, output, gold, k, embed, judge)
    except Exception as exc:  # a failing case is a scored error row, never a crash
        row.latency_s = time.perf_counter() - started
        row.error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, _CaseFailed) else str(exc)
        return row
    row.output = raw
    row.text = output.text
    row.ranked = output.ranked
    row.cited = output.cited
    row.metrics = scored.metrics
    row.unsupported = scored.unsupported
    row.ungrounded_numbers = scored.ungrounded_numbers
    row.key_points_missed = scored.key_points_missed
    return row


def _execute(
    pb: PaperBrief, case: Case, papers: dict[str, Paper], titles: dict[str, str]
) -> tuple[Output, Any]:
    lookup = dict(papers)
    if case.task == "ask":
        answer = _method(pb, "ask")(case.query)
        return answer_output(answer, lookup), answer.model_dump(mode="json")
    if case.task == "compare":
        ids = [_resolve(ref, papers, titles) for ref in case.papers] or None
        comparison = _method(pb, "compare")(query=case.query, paper_ids=ids)
        return written_output(comparison, lookup), comparison.model_dump(mode="json")
    if case.task == "recommend":
        recommendations = _method(pb, "recommend")(case.query, k=case.k)
        return recommend_output(recommendations), [
            rec.model_dump(mode="json") for rec in recommendations
        ]
    if case.task == "brief":
        assert case.window is not None  # the suite model requires it for this task
        briefing = _method(pb, "briefing")(case.window.start, case.window.end)
        dumped = briefing.model_dump(mode="json", exclude={"html", "text"})
        return briefing_output(briefing, lookup), dumped
    assert case.paper is not None  # the suite model requires it for this task
    paper = papers[_resolve(case.paper, papers, titles)]
    tldr = _method(pb, "tldr")(paper)
    return tldr_output(tldr, paper), tldr


def rows_of(path: str | Path) -> Sequence[CaseRow]:
    """The rows of a run's `cases.jsonl`, for reading a run back."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [CaseRow.model_validate(json.loads(line)) for line in lines if line.strip()]
