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

With `strip_title_words`, every word of the question that shares a content word with its
paper's title is removed first (the hard reading of known-item search: no title words to match).
With `negatives` (a text file, one out-of-domain question a line, `#` comments; e.g.
`evals/suites/data/out_of_domain.txt`), each is asked as well and `correct_abstention` (the
answer abstains, citing nothing) is reported over them: the other side of false abstention.

Rows go to `known_item.jsonl` (negatives with `gold` empty), the summary to `known_item.json`
and `known_item.md`.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from pydantic import BaseModel, Field
from tqdm import tqdm

from agent import PaperBrief
from evals import metrics
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
NEGATIVE_FIGURES = ("correct_abstention",)


class KnownItemRow(BaseModel):
    question: str
    gold: str = Field(description="Gold paper id; empty for an out-of-domain negative")
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
    negatives: int = Field(default=0, description="Out-of-domain questions asked")
    skipped: int = Field(default=0, description="Questions left empty by stripping title words")
    title_words: str = Field(default="kept", description="kept, or stripped from the questions")
    errors: int = 0
    means: dict[str, float] = Field(default_factory=dict)
    seconds: dict[str, float] = Field(
        default_factory=dict, description="ingest and questions, wall clock (not gated)"
    )
    rows: list[KnownItemRow] = Field(default_factory=list)

    def summary_lines(self) -> list[str]:
        lines = [
            f"known-item ({self.file}, mode {self.mode}): {self.questions} questions "
            f"(author TLDRs, title words {self.title_words}) over {self.papers} papers, "
            f"{self.negatives} out-of-domain questions, {self.errors} errors"
            + (f", {self.skipped} skipped (title words only)" if self.skipped else "")
        ]
        lines += [
            f"  {name:<18} {self.means[name]:.4f}"
            for name in (*FIGURES, *NEGATIVE_FIGURES)
            if name in self.means
        ]
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
    path: str | Path,
    *,
    pb: PaperBrief,
    limit: int | None = None,
    progress: bool = True,
    strip_title_words: bool = False,
    negatives: str | Path | None = None,
) -> KnownItemRun:
    """Every author TLDR of `path` asked of a fresh store holding all its papers.

    The fresh store (`evals.stores.fresh_store`) takes `pb`'s settings, embedder and LLM.
    `limit` asks the first N questions only (all papers are still ingested)."""
    path = Path(path)
    questions = list(known_item_questions(path, limit))
    if not questions:
        raise BenchmarkError(f"{path}: no questions")
    skipped = 0
    if strip_title_words:
        stripped = [(without_title_words(q, title), title) for q, title in questions]
        # A TLDR made of title words (and stopwords) only leaves no question: counted, not asked.
        questions = [(q, title) for q, title in stripped if metrics.content_words(q)]
        skipped = len(stripped) - len(questions)
    negative_questions = read_negatives(negatives) if negatives is not None else []
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
        asked = [(question, ids[title]) for question, title in questions]
        asked += [(question, "") for question in negative_questions]
        rows = [
            _ask(fresh, question, gold)
            for question, gold in tqdm(
                asked, desc="known-item", unit="question", disable=not progress
            )
        ]
        asking_seconds = time.perf_counter() - started
        mode = _mode(rows)
        papers = len(ids)
    means = _means([row for row in rows if row.error is None and row.gold], FIGURES)
    means.update(
        _means([row for row in rows if row.error is None and not row.gold], NEGATIVE_FIGURES)
    )
    return KnownItemRun(
        file=str(path),
        mode=mode,
        papers=papers,
        questions=len(questions),
        negatives=len(negative_questions),
        skipped=skipped,
        title_words="stripped" if strip_title_words else "kept",
        errors=sum(1 for row in rows if row.error),
        means=means,
        seconds={"ingest": ingest_seconds, "questions": asking_seconds},
        rows=rows,
    )


def _means(rows: list[KnownItemRow], names: tuple[str, ...]) -> dict[str, float]:
    if not rows:
        return {}
    return {name: sum(row.scores[name] for row in rows) / len(rows) for name in names}


def without_title_words(question: str, title: str) -> str:
    """The question without the words that share a content word with the title."""
    banned = metrics.content_words(title)
    kept = [word for word in question.split() if not metrics.content_words(word) & banned]
    return " ".join(kept)


def read_negatives(path: str | Path) -> list[str]:
    """Out-of-domain questions: one a line; blank lines and `#` comments skipped."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise BenchmarkError(f"{path}: no such negatives file") from None
    questions = [re.sub(r"\s+", " ", line).strip() for line in lines]
    return [q for q in questions if q and not q.startswith("#")]


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
    if not gold:  # an out-of-domain negative: abstaining is the right answer
        row.scores = {"correct_abstention": float(row.abstained)}
        return row
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
