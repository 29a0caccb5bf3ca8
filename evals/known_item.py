"""Known-item mode: each paper's TLDR as the question, that paper as the one right answer.

`run_known_item` ingests the papers of a SciTLDR file (or of a converted corpus, see
`evals.scitldr`) into a fresh store in a temporary directory, then for every author TLDR:
`pb.search(tldr, k=5)` and `pb.ask(tldr)`. Reported over all questions:

- `search_recall@1`, `search_recall@5`: the paper is the first / among the first five hits of
  the default search;
- `answer_recall@1`, `answer_recall@5`: the same over the papers the answer retrieved;
- `answer_cites_gold`: the answer cites the paper;
- `false_abstention`: the answer abstains or does not cite the paper, although it is in the
  store and the question is its own TLDR (lower is better);
- `abstained`: the answer abstains outright (part of the above).

Rows go to `known_item.jsonl`, the summary to `known_item.json` and `known_item.md`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from pydantic import BaseModel, Field
from tqdm import tqdm

from agent import PaperBrief
from evals.benchmarks import BenchmarkError
from evals.scitldr import corpus_records, known_item_questions
from evals.stores import fresh_store

FIGURES = (
    "search_recall@1",
    "search_recall@5",
    "answer_recall@1",
    "answer_recall@5",
    "answer_cites_gold",
    "false_abstention",
    "abstained",
)


class KnownItemRow(BaseModel):
    question: str
    gold: str = Field(description="Gold paper id")
    search: list[str] = Field(default_factory=list, description="Top 5 search hits")
    retrieved: list[str] = Field(default_factory=list, description="Papers the answer retrieved")
    cited: list[str] = Field(default_factory=list)
    abstained: bool = False
    mode: str | None = Field(default=None, description="The writer the answer reports")
    scores: dict[str, float] = Field(default_factory=dict)
    error: str | None = None


class KnownItemRun(BaseModel):
    file: str
    mode: str
    papers: int = Field(description="Papers in the fresh store")
    questions: int
    errors: int = 0
    means: dict[str, float] = Field(default_factory=dict)
    seconds: dict[str, float] = Field(
        default_factory=dict, description="ingest and questions, wall clock (not gated)"
    )
    rows: list[KnownItemRow] = Field(default_factory=list)

    def summary_lines(self) -> list[str]:
        lines = [
            f"known-item ({self.file}, mode {self.mode}): {self.questions} questions "
            f"(author TLDRs) over {self.papers} papers, {self.errors} errors"
        ]
        lines += [f"  {name:<18} {self.means[name]:.4f}" for name in FIGURES if name in self.means]
        if self.seconds:
            timing = ", ".join(f"{name} {value:.1f} s" for name, value in self.seconds.items())
            lines.append(f"  time: {timing}")
        return lines

    def write(self, out_dir: str | Path) -> Path:
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "known_item.jsonl").open("w", encoding="utf-8") as handle:
            for row in self.rows:
                handle.write(row.model_dump_json() + "\n")
        summary = self.model_dump(mode="json", exclude={"rows", "seconds"})
        (folder / "known_item.json").write_text(
            json.dumps(summary, indent=2) + "\n", encoding="utf-8"
        )
        report = ["# Known-item run", "", "```", *self.summary_lines(), "```", ""]
        (folder / "known_item.md").write_text("\n".join(report), encoding="utf-8")
        return folder


def run_known_item(
    path: str | Path, *, pb: PaperBrief, limit: int | None = None, progress: bool = True
) -> KnownItemRun:
    """Every author TLDR of `path` asked of a fresh store holding all its papers.

    The fresh store (`evals.stores.fresh_store`) takes `pb`'s settings, embedder and LLM.
    `limit` asks the first N questions only (all papers are still ingested)."""
    path = Path(path)
    questions = list(known_item_questions(path, limit))
    if not questions:
        raise BenchmarkError(f"{path}: no questions")
    records = _records(path)
    with fresh_store(pb) as fresh:
        corpus = fresh.data_dir / "known-item-corpus.jsonl"
        corpus.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        started = time.perf_counter()
        report = fresh.ingest(corpus, fmt="jsonl", progress=progress)
        ingest_seconds = time.perf_counter() - started
        if report.rejected:
            first = report.rejected[0]
            raise BenchmarkError(f"{path}: {first.location}: {first.reason}")
        ids = {paper.title: paper.id for paper in fresh.papers()}
        started = time.perf_counter()
        rows = [
            _ask(fresh, question, ids[title])
            for question, title in tqdm(
                questions, desc="known-item", unit="question", disable=not progress
            )
        ]
        asking_seconds = time.perf_counter() - started
        mode = _mode(rows)
        papers = len(ids)
    scored = [row for row in rows if row.error is None]
    means = (
        {name: sum(row.scores[name] for row in scored) / len(scored) for name in FIGURES}
        if scored
        else {}
    )
    return KnownItemRun(
        file=str(path),
        mode=mode,
        papers=papers,
        questions=len(rows),
        errors=len(rows) - len(scored),
        means=means,
        seconds={"ingest": ingest_seconds, "questions": asking_seconds},
        rows=rows,
    )


def _records(path: Path) -> list[dict[str, object]]:
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    raw = [json.loads(line) for f in files for line in f.read_text("utf-8").splitlines() if line]
    if raw and "source" in raw[0]:
        raw = corpus_records(raw)
    return [{"title": r["title"], "abstract": r["abstract"]} for r in raw]


def _mode(rows: list[KnownItemRow]) -> str:
    """The writer(s) the answers report having been written by."""
    return "+".join(sorted({row.mode for row in rows if row.mode})) or "unknown"


def _ask(pb: PaperBrief, question: str, gold: str) -> KnownItemRow:
    row = KnownItemRow(question=question, gold=gold)
    try:
        row.search = [hit.paper.id for hit in pb.search(question, k=5)]
        answer = pb.ask(question)
    except Exception as exc:  # a failing question is an error row, counted and reported
        row.error = f"{type(exc).__name__}: {exc}"
        return row
    row.mode = answer.mode
    row.retrieved = [paper.id for paper in answer.retrieved]
    row.cited = list(answer.citations)
    row.abstained = answer.abstained or not answer.citations
    cites_gold = gold in row.cited
    row.scores = {
        "search_recall@1": float(row.search[:1] == [gold]),
        "search_recall@5": float(gold in row.search[:5]),
        "answer_recall@1": float(row.retrieved[:1] == [gold]),
        "answer_recall@5": float(gold in row.retrieved[:5]),
        "answer_cites_gold": float(cites_gold),
        "false_abstention": float(row.abstained or not cites_gold),
        "abstained": float(row.abstained),
    }
    return row
