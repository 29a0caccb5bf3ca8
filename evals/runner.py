"""Runs a suite through the public Python API and leaves a scored run behind.

`run_suite` sends every case (and every follow-up turn of a conversation, on the same thread)
to the `PaperBrief` method of its task, scores the result, and writes the run folder:
`cases.jsonl` (one row per case or turn: input, gold, output, metrics, where it lost points,
error), `aggregate.json` (per-task means: the file a later run's `--baseline` reads),
`timings.json` (latency per row), `report.md` and `report.html`. A case whose method fails, or
does not exist in this build, becomes an error row: it is counted, shown in the reports and
fails the gate, never skipped. `cases.jsonl` and `aggregate.json` of two offline runs of one
suite are byte-identical (latencies and thread ids, which vary, are kept out of them).

Where the run reads its papers:
- a suite that declares a `corpus` gets a fresh store in a temporary directory, holding exactly
  that corpus (and the suite's `settings` overrides), with the given `PaperBrief`'s settings,
  embedder and LLM otherwise;
- a suite without one runs against the given `PaperBrief`'s store, and when that is empty the
  bundled sample corpus is ingested first (what suites written for the sample expect).

The run's mode is a label the API reports, not a guess: every answer, comparison and briefing
says which writer wrote it (`result.mode`), and a result written by another writer than the
run is labelled with is an error row.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from agent import Paper, PaperBrief, load_settings
from evals import gate, metrics, report
from evals.explain import losses
from evals.run import CaseRow, Mode, SuiteRun, rows_of
from evals.scoring import (
    KeyPointJudge,
    Output,
    answer_output,
    briefing_output,
    comparison_output,
    recommend_output,
    score,
    tldr_output,
)
from evals.stores import fresh_store
from evals.suite import Case, CorpusSource, Suite, Turn, apply_settings, load_suite

__all__ = ["CaseRow", "SuiteRun", "rows_of", "run_suite", "write_run"]


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
    set to `mode`. Results the API labels with another writer than `mode` become error rows.
    In llm mode key points without term lists are judged by the configured LLM (`judge`,
    default `evals.judge.llm_judge(pb)`); offline they are judged by embeddings.
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
    if mode == "llm" and pb.chat_llm is None:
        raise ValueError(
            "llm mode needs a configured LLM: set PAPERBRIEF_LLM__BASE_URL and "
            "PAPERBRIEF_LLM__MODEL (or OPENAI_BASE_URL / OPENAI_MODEL / OPENAI_API_KEY)"
        )
    started = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(out_dir) if out_dir else _default_out_dir(pb, loaded.name, started)
    with _store_for(loaded, pb, progress) as (store_pb, store_note):
        rows, judged_by = _run_cases(loaded, store_pb, mode, judge, progress)

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


def _run_cases(
    suite: Suite, pb: PaperBrief, mode: Mode, judge: KeyPointJudge | None, progress: bool
) -> tuple[list[CaseRow], str]:
    """The scored rows, and how key points without terms were judged."""
    owned_judge = None
    if judge is None and mode == "llm":
        from evals.judge import llm_judge

        judge = owned_judge = llm_judge(pb)
    judged_by = (
        "terms, else the LLM judge"
        if judge is not None
        else f"terms, else embedding similarity >= {metrics.KEY_POINT_SIMILARITY}"
    )
    papers = {paper.id: paper for paper in pb.papers()}
    context = _Context(
        pb=pb,
        mode=mode,
        k=suite.k,
        papers=papers,
        titles={_title_key(paper.title): paper.id for paper in papers.values()},
        embed=_embedder(pb),
        judge=judge,
    )
    rows: list[CaseRow] = []
    try:
        for case in tqdm(suite.cases, desc=f"eval {suite.name}", unit="case", disable=not progress):
            rows.extend(_run_case(context, case))
    finally:
        if owned_judge is not None:
            owned_judge.close()
    return rows, judged_by


@contextmanager
def _store_for(suite: Suite, pb: PaperBrief, progress: bool) -> Iterator[tuple[PaperBrief, str]]:
    """The `PaperBrief` the cases run against, and a note saying what it holds."""
    if not suite.corpus:
        if pb.stats().get("papers", 0) == 0:
            pb.ingest_sample()
        yield pb, f"{pb.stats().get('papers', 0)} papers in {pb.data_dir}"
        return
    with fresh_store(pb, apply_settings(pb.settings, suite.settings)) as fresh:
        described = [_ingest(fresh, suite, entry, progress) for entry in suite.corpus]
        count = fresh.stats().get("papers", 0)
        if count == 0:
            raise ValueError(f"suite {suite.name!r}: its corpus gave no papers")
        yield fresh, f"a fresh store of {count} papers from " + "; ".join(described)


def _ingest(pb: PaperBrief, suite: Suite, entry: CorpusSource, progress: bool) -> str:
    """Ingest one corpus entry; a folder is every file in it, in name order."""
    if entry.sample:
        result = pb.ingest_sample()
        return f"the bundled sample ({result.summary()})"
    if entry.url:
        result = pb.ingest(entry.url, fmt=entry.format, page_date=entry.page_date)
        _refuse_rejections(suite, entry.url, result)
        return f"{entry.url} ({result.summary()})"
    assert entry.path is not None  # the model requires exactly one of sample, url, path
    target = (suite.base_dir / entry.path).resolve()
    files = sorted(p for p in target.iterdir() if p.is_file()) if target.is_dir() else [target]
    for file in files:
        # Named relative to the working directory, so a paper's `source` (which outputs show)
        # does not carry the machine's checkout path.
        name = os.path.relpath(file)
        result = pb.ingest(name, fmt=entry.format, page_date=entry.page_date, progress=progress)
        _refuse_rejections(suite, name, result)
    return f"{entry.path} ({len(files)} file{'s' if len(files) != 1 else ''})"


def _refuse_rejections(suite: Suite, source: str, result: Any) -> None:
    # A suite's corpus is fixed data: a rejected record means the suite measures less than
    # it says, so the run stops and names it.
    if result.rejected:
        first = result.rejected[0]
        raise ValueError(
            f"suite {suite.name!r}: {source}: {len(result.rejected)} record(s) rejected, "
            f"first: {first.location}: {first.reason}"
        )


def _baseline_for(path: str | Path, suite: Suite, mode: Mode) -> gate.Aggregate:
    """The baseline aggregate, refused when it measured another suite or mode."""
    found = gate.load_aggregate(path)
    if (found.suite, found.mode) != (suite.name, mode):
        raise ValueError(
            f"{path}: a baseline of suite {found.suite!r} in {found.mode} mode cannot gate "
            f"suite {suite.name!r} in {mode} mode"
        )
    return found


def write_run(run: SuiteRun) -> None:
    run.out_dir.mkdir(parents=True, exist_ok=True)
    with (run.out_dir / "cases.jsonl").open("w", encoding="utf-8") as handle:
        for row in run.rows:
            handle.write(row.model_dump_json(exclude={"latency_s"}) + "\n")
    timings = {f"{row.id}#{row.turn}": round(row.latency_s, 4) for row in run.rows}
    (run.out_dir / "timings.json").write_text(json.dumps(timings, indent=1) + "\n", "utf-8")
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


class _Context:
    """What every case of one run reads: the API, the mode label, the papers, the scorers."""

    def __init__(
        self,
        *,
        pb: PaperBrief,
        mode: Mode,
        k: int,
        papers: dict[str, Paper],
        titles: dict[str, str],
        embed: metrics.Embed,
        judge: KeyPointJudge | None,
    ) -> None:
        self.pb, self.mode, self.k = pb, mode, k
        self.papers, self.titles = papers, titles
        self.embed, self.judge = embed, judge

    def resolve(self, ref: str) -> str:
        if ref in self.papers:
            return ref
        found = self.titles.get(_title_key(ref))
        if found is None:
            raise _CaseFailed(f"{ref!r} is neither a paper id nor an exact title in the store")
        return found

    def method(self, name: str) -> Callable[..., Any]:
        method = getattr(self.pb, name, None)
        if method is None:
            raise _CaseFailed(f"PaperBrief.{name} is not available in this build")
        return method


def _run_case(ctx: _Context, case: Case) -> list[CaseRow]:
    """The case's row, then one row per follow-up turn (on the thread of the first answer)."""
    row = CaseRow(
        id=case.id,
        task=case.task,
        input=case.model_dump(
            mode="json",
            include={"query", "papers", "window", "paper", "k"},
            exclude_defaults=True,
        ),
    )
    thread = _execute_and_score(ctx, case, row, lambda: _execute(ctx, case))
    rows = [row]
    for number, turn in enumerate(case.turns, start=2):
        follow = CaseRow(id=case.id, turn=number, task=case.task, input={"query": turn.query})
        if thread is None:
            follow.error = "the conversation stopped: an earlier turn failed"
            rows.append(follow)
            continue
        thread = _execute_and_score(
            ctx, _turn_case(case, turn), follow, _follow_up(ctx, turn, thread)
        )
        rows.append(follow)
    return rows


def _follow_up(
    ctx: _Context, turn: Turn, thread: str
) -> Callable[[], tuple[Output, Any, str | None]]:
    return lambda: _ask(ctx, turn.query, thread)


def _turn_case(case: Case, turn: Turn) -> Case:
    return Case(
        id=case.id,
        task="ask",
        query=turn.query,
        gold=turn.gold,
        reference=turn.reference,
        key_points=turn.key_points,
        expect_no_citations=turn.expect_no_citations,
    )


def _execute_and_score(
    ctx: _Context,
    case: Case,
    row: CaseRow,
    execute: Callable[[], tuple[Output, Any, str | None]],
) -> str | None:
    """Run and score one question into `row`; returns the thread id a follow-up continues."""
    started = time.perf_counter()
    try:
        gold = [ctx.resolve(ref) for ref in case.gold]
        row.gold = gold
        output, raw, thread = execute()
        row.latency_s = time.perf_counter() - started
        _check_label(ctx.mode, raw)
        scored = score(case, output, gold, ctx.k, ctx.embed, ctx.judge)
    except Exception as exc:  # a failing case is a scored error row, never a crash
        row.latency_s = time.perf_counter() - started
        row.error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, _CaseFailed) else str(exc)
        return None
    row.output = raw
    row.mode = raw.get("mode") if isinstance(raw, dict) else None
    row.text = output.text
    row.ranked = output.ranked
    row.relevant = output.relevant
    row.cited = output.cited
    row.metrics = scored.metrics
    row.unsupported = scored.unsupported
    row.ungrounded_numbers = scored.ungrounded_numbers
    row.key_points_missed = scored.key_points_missed
    row.losses = losses(case, output, gold, scored, ctx.papers)
    return thread


def _check_label(mode: Mode, raw: Any) -> None:
    """The run's mode must be the writer the API says wrote the result, or the figures mislead."""
    label = raw.get("mode") if isinstance(raw, dict) else None
    if label is not None and label != mode:
        raise _CaseFailed(
            f"the result was written by the {label} writer but the run is labelled {mode}; "
            f"run the suite with --mode {label}, or configure the API for {mode}"
        )


def _ask(ctx: _Context, question: str | None, thread: str | None) -> tuple[Output, Any, str | None]:
    answer = ctx.method("ask")(question, thread_id=thread)
    # The thread id is random per run: it stays out of the recorded output.
    dumped = answer.model_dump(mode="json", exclude={"thread_id"})
    return answer_output(answer, dict(ctx.papers)), dumped, answer.thread_id


def _execute(ctx: _Context, case: Case) -> tuple[Output, Any, str | None]:
    lookup = dict(ctx.papers)
    if case.task == "ask":
        return _ask(ctx, case.query, None)
    if case.task == "compare":
        ids = [ctx.resolve(ref) for ref in case.papers] or None
        comparison = ctx.method("compare")(query=case.query, paper_ids=ids)
        return comparison_output(comparison, lookup), comparison.model_dump(mode="json"), None
    if case.task == "recommend":
        recommendations = ctx.method("recommend")(case.query, k=case.k)
        dumped = [rec.model_dump(mode="json") for rec in recommendations]
        return recommend_output(recommendations), dumped, None
    if case.task == "brief":
        assert case.window is not None  # the suite model requires it for this task
        briefing = ctx.method("briefing")(case.window.start, case.window.end)
        dumped = briefing.model_dump(mode="json", exclude={"html", "text"})
        return briefing_output(briefing, lookup), dumped, None
    assert case.paper is not None  # the suite model requires it for this task
    paper = ctx.papers[ctx.resolve(case.paper)]
    tldr = ctx.method("tldr")(paper)
    return tldr_output(tldr, paper), tldr, None
