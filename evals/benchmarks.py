"""Standard benchmark adapters: the project measured on data nobody here wrote.

- SciTLDR (JSON Lines: `source` = abstract sentences, `target` = reference TLDRs, `target[0]`
  the author's): `pb.tldr` of each abstract, scored with ROUGE against the first target and
  against the best-matching target.
- Multi-XScience (the release's JSON list, or JSON Lines; `ref_abstract` maps each cite id to
  `{abstract, mid}`; the Hugging Face copy's columnar `{abstract: [...], cite_N: [...]}` is read
  too): the cited abstracts are ingested into a fresh `PaperBrief` in a temporary directory,
  `pb.compare(paper_ids=...)` writes the comparison, and it is scored with ROUGE against the
  `related_work` paragraph (its `@cite_N` markers removed: no system can produce them).

Every run scores a lead baseline on the same cases (SciTLDR: the abstract's first sentence;
Multi-XScience: the first sentence of each cited abstract) and prints every figure with the
number of cases, the stemming flag and the aggregation beside it.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from tqdm import tqdm

from agent import Paper, PaperBrief, Settings, load_settings
from evals import metrics

Benchmark = Literal["scitldr", "multixscience"]
AGGREGATION = "per-case F1, then mean"


class BenchmarkError(ValueError):
    """A benchmark file that cannot be read; the message names the file and the record."""


class BenchmarkRow(BaseModel):
    id: str
    system: str = ""
    lead: str = ""
    scores: dict[str, float] = Field(
        default_factory=dict, description="e.g. system.first.rouge1, lead.best.rougeL"
    )
    error: str | None = None


class BenchmarkRun(BaseModel):
    benchmark: Benchmark
    file: str
    mode: str
    cases: int = Field(description="Cases scored (errors excluded)")
    errors: int = 0
    skipped: int = Field(default=0, description="Records without enough usable input")
    stemming: bool = metrics.ROUGE_STEMMING
    aggregation: str = AGGREGATION
    means: dict[str, float] = Field(default_factory=dict)
    rows: list[BenchmarkRow] = Field(default_factory=list)

    def summary_lines(self) -> list[str]:
        """One line per figure: system beside lead, with n, stemming and aggregation."""
        stem = "on" if self.stemming else "off"
        head = (
            f"{self.benchmark} ({self.file}, mode {self.mode}): n={self.cases} cases, "
            f"{self.errors} errors, {self.skipped} skipped"
        )
        lines = [head]
        # The author's TLDR first, then the best of all references (SciTLDR's two readings).
        order = {"first": 0, "best": 1}
        references = sorted(
            {key.split(".")[1] for key in self.means}, key=lambda r: order.get(r, 2)
        )
        for reference in references:
            for rouge in metrics.ROUGE_TYPES:
                system = self.means.get(f"system.{reference}.{rouge}")
                lead = self.means.get(f"lead.{reference}.{rouge}")
                if system is None or lead is None:
                    continue
                lines.append(
                    f"  {rouge:<6} vs {reference} reference: paperbrief {system:.4f} | "
                    f"lead baseline {lead:.4f}  (n={self.cases}, stemming {stem}, "
                    f"{self.aggregation})"
                )
        return lines

    def write(self, out_dir: str | Path) -> Path:
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{self.benchmark}.jsonl").open("w", encoding="utf-8") as handle:
            for row in self.rows:
                handle.write(row.model_dump_json() + "\n")
        summary = self.model_dump(mode="json", exclude={"rows"})
        (folder / f"{self.benchmark}.json").write_text(
            json.dumps(summary, indent=2) + "\n", encoding="utf-8"
        )
        report = [f"# Benchmark: {self.benchmark}", "", "```", *self.summary_lines(), "```", ""]
        (folder / f"{self.benchmark}.md").write_text("\n".join(report), encoding="utf-8")
        return folder


def _means(rows: list[BenchmarkRow]) -> dict[str, float]:
    totals: dict[str, list[float]] = {}
    for row in rows:
        if row.error is None:
            for key, value in row.scores.items():
                totals.setdefault(key, []).append(value)
    return {key: sum(values) / len(values) for key, values in sorted(totals.items())}


def _finish(
    benchmark: Benchmark, path: Path, mode: str, rows: list[BenchmarkRow], skipped: int
) -> BenchmarkRun:
    errors = sum(1 for row in rows if row.error)
    return BenchmarkRun(
        benchmark=benchmark,
        file=str(path),
        mode=mode,
        cases=len(rows) - errors,
        errors=errors,
        skipped=skipped,
        means=_means(rows),
        rows=rows,
    )


def _offline_pb(mode: str, settings: Settings | None, data_dir: Path | None = None) -> PaperBrief:
    settings = (settings or load_settings()).model_copy(deep=True)
    settings.llm.mode = "llm" if mode == "llm" else "offline"
    if data_dir is not None:
        settings.data_dir = data_dir
    return PaperBrief(settings=settings)


# ---------------------------------------------------------------- SciTLDR


def read_scitldr(path: str | Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if limit is not None and number > limit:
                return
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BenchmarkError(f"{path}: line {number}: invalid JSON: {exc.msg}") from None
            source, target = record.get("source"), record.get("target")
            if not isinstance(source, list) or not source:
                raise BenchmarkError(f"{path}: line {number}: `source` must be a list of sentences")
            if not isinstance(target, list) or not target:
                raise BenchmarkError(f"{path}: line {number}: `target` must be a list of TLDRs")
            record.setdefault("paper_id", f"line-{number}")
            yield record


def run_scitldr(
    path: str | Path,
    *,
    pb: PaperBrief | None = None,
    limit: int | None = None,
    mode: str = "offline",
    progress: bool = True,
) -> BenchmarkRun:
    """`pb.tldr` on each SciTLDR abstract, beside the first-sentence baseline."""
    path = Path(path)
    pb = pb if pb is not None else _offline_pb(mode, None)
    records = list(read_scitldr(path, limit))
    rows: list[BenchmarkRow] = []
    for record in tqdm(records, desc="scitldr", unit="paper", disable=not progress):
        sentences = [str(sentence) for sentence in record["source"]]
        targets = [str(target) for target in record["target"]]
        row = BenchmarkRow(id=str(record["paper_id"]), lead=sentences[0])
        paper = Paper(
            id=str(record["paper_id"]),
            title=str(record.get("title") or record["paper_id"]),
            abstract=" ".join(sentences),
            source=str(path),
        )
        try:
            row.system = pb.tldr(paper)
        except Exception as exc:  # a failing case is an error row, counted and reported
            row.error = f"{type(exc).__name__}: {exc}"
            rows.append(row)
            continue
        for who, text in (("system", row.system), ("lead", row.lead)):
            for name, value in metrics.rouge_f1(text, targets[0]).items():
                row.scores[f"{who}.first.{name}"] = value
            for name, value in metrics.best_rouge_f1(text, targets).items():
                row.scores[f"{who}.best.{name}"] = value
        rows.append(row)
    return _finish("scitldr", path, mode, rows, skipped=0)


# ---------------------------------------------------------------- Multi-XScience


class XScienceRecord(BaseModel):
    id: str
    references: dict[str, str] = Field(description="cite id -> abstract (non-empty only)")
    related_work: str


_CITE_MARK = re.compile(r"@cite_?\w*")


def _references(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ValueError("`ref_abstract` must be an object")
    pairs: Iterable[tuple[Any, Any]]
    if isinstance(raw.get("abstract"), list):
        # The Hugging Face copy stores the references column-wise.
        cites = raw.get("cite_N") or [f"@cite_{i}" for i in range(len(raw["abstract"]))]
        pairs = zip(cites, raw["abstract"], strict=False)
    else:
        pairs = (
            (cite, entry.get("abstract") if isinstance(entry, dict) else None)
            for cite, entry in raw.items()
        )
    return {str(cite): str(text).strip() for cite, text in pairs if text and str(text).strip()}


def read_multixscience(path: str | Path, limit: int | None = None) -> list[XScienceRecord]:
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        loaded = json.loads(text)
        raw_records = loaded if isinstance(loaded, list) else [loaded]
    except json.JSONDecodeError:
        raw_records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                raw_records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise BenchmarkError(f"{path}: line {number}: invalid JSON: {exc.msg}") from None
    records: list[XScienceRecord] = []
    for index, raw in enumerate(raw_records, start=1):
        if limit is not None and len(records) >= limit:
            break
        if not isinstance(raw, dict):
            raise BenchmarkError(f"{path}: record {index}: expected an object")
        try:
            references = _references(raw.get("ref_abstract"))
        except ValueError as exc:
            raise BenchmarkError(f"{path}: record {index}: {exc}") from None
        related = raw.get("related_work")
        if not isinstance(related, str) or not related.strip():
            raise BenchmarkError(f"{path}: record {index}: `related_work` is missing or empty")
        records.append(
            XScienceRecord(
                id=str(raw.get("aid") or f"record-{index}"),
                references=references,
                related_work=related,
            )
        )
    return records


def _reference_titles(record: XScienceRecord, taken: dict[str, str]) -> dict[str, str]:
    """cite id -> a title for each reference: the opening words of its abstract.

    The dataset carries no titles. A synthetic one ("Reference 3 of 1234.5678") would hand the
    writer the same words for every paper, which then read as shared terms; opening words are
    the paper's own. A clash with another abstract gets the cite id appended, keeping ids
    (hashes of titles) apart.
    """
    titles: dict[str, str] = {}
    for cite, abstract in record.references.items():
        title = " ".join(abstract.split()[:_TITLE_WORDS]).rstrip(".,;:")
        if taken.get(title, abstract) != abstract:
            title = f"{title} ({cite.lstrip('@')}, {record.id})"
        taken[title] = abstract
        titles[cite] = title
    return titles


_TITLE_WORDS = 10


def run_multixscience(
    path: str | Path,
    *,
    limit: int | None = None,
    mode: str = "offline",
    settings: Settings | None = None,
    progress: bool = True,
) -> BenchmarkRun:
    """`pb.compare` of each record's cited abstracts against its related-work paragraph."""
    path = Path(path)
    records = read_multixscience(path, limit)
    usable = [record for record in records if len(record.references) >= 2]
    with tempfile.TemporaryDirectory(prefix="paperbrief-multixscience-") as tmp:
        corpus = Path(tmp) / "references.jsonl"
        taken: dict[str, str] = {}
        titles_of = {record.id: _reference_titles(record, taken) for record in usable}
        with corpus.open("w", encoding="utf-8") as handle:
            for title, abstract in taken.items():
                handle.write(json.dumps({"title": title, "abstract": abstract}) + "\n")
        with _offline_pb(mode, settings, Path(tmp) / "data") as pb:
            report = pb.ingest(corpus, fmt="jsonl")
            if report.rejected:
                raise BenchmarkError(f"{path}: references rejected: {report.rejected[0]}")
            rows = _compare_records(pb, usable, titles_of, progress)
    return _finish("multixscience", path, mode, rows, skipped=len(records) - len(usable))


def _compare_records(
    pb: PaperBrief,
    records: list[XScienceRecord],
    titles_of: dict[str, dict[str, str]],
    progress: bool,
) -> list[BenchmarkRow]:
    ids = {paper.title: paper.id for paper in pb.papers()}
    rows: list[BenchmarkRow] = []
    for record in tqdm(records, desc="multixscience", unit="record", disable=not progress):
        titles = list(titles_of[record.id].values())
        reference = _CITE_MARK.sub("", record.related_work)
        lead = " ".join(
            (metrics.split_sentences(abstract) or [abstract])[0]
            for abstract in record.references.values()
        )
        row = BenchmarkRow(id=record.id, lead=lead)
        try:
            comparison = pb.compare(paper_ids=[ids[title] for title in titles])
        except Exception as exc:  # a failing case is an error row, counted and reported
            row.error = f"{type(exc).__name__}: {exc}"
            rows.append(row)
            continue
        row.system = metrics.plain_text(comparison.markdown, titles)
        for who, text in (("system", row.system), ("lead", row.lead)):
            for name, value in metrics.rouge_f1(text, reference).items():
                row.scores[f"{who}.related_work.{name}"] = value
        rows.append(row)
    return rows
