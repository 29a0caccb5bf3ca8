"""Calibrate and report the offline relevance decision (`agent/relevance.py`) on public data.

    python bench/bench_relevance.py [--data-dir DIR] [--write-model] [--end-to-end N]

Data: SciTLDR-A train (fit) and dev (report), from ../shared/data beside the checkout. Of each
split, 15% of the papers (chosen by a hash of their id) are held out of that split's store. The
questions of a split:

- `tldr`: each stored paper's author TLDR; the paper is the answer (must be cited);
- `tldr2-no-title`: its second TLDR (written by a reviewer) with the title's words removed, a
  paraphrase that cannot lean on the title;
- `absent`: the author TLDR of each held-out paper: in-domain, but its paper is not in the
  store (reported; weighs a tenth of an out-of-domain question when choosing the threshold:
  their best evidence is distributed much like that of answerable questions, because the store
  holds related papers, so weighing them more trades many false abstentions for few);
- `ood`: out-of-domain questions from bench/data/out_of_domain_questions.txt, the even lines
  for fitting and the odd lines for reporting; the right response is to abstain.

The logistic model is fitted on the train split's (question, retrieved paper) pairs, label 1 for
the answer paper; the abstention threshold and the keep rule are chosen on train; every figure
printed for dev was measured on data the fit never saw. A false abstention is a question whose
paper is in the store but not among the papers kept (so the answer cannot cite it); a false
answer is an out-of-domain question that keeps any paper. `--write-model` stores the fitted
model in agent/data/relevance.json. `--end-to-end N` then runs `PaperBrief.ask` on N dev
questions of each kind through the whole agent and counts the same from the answers' citations,
next to the former word-overlap relevance (measured in the same run when `--baseline-ref` names
a git ref whose agent is run from a temporary worktree).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.api import PaperBrief
from agent.relevance import (
    ABSOLUTE_FEATURES,
    FEATURES,
    LogisticModel,
    RelevanceJudge,
    RelevanceModel,
)
from agent.settings import Settings
from bench import bench_abstention as abstention
from bench.bench_abstention import HELD_OUT_PERCENT, KINDS, Question
from store.ingest import ingest_items
from store.models import Paper

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
MODEL_FILE = ROOT / "agent" / "data" / "relevance.json"
RETRIEVE_K = 10
MAX_PAPERS = 8
# Weight of a question whose paper is absent (in-domain) against an out-of-domain one when
# choosing the abstention threshold: related papers may well be in the store.
ABSENT_WEIGHT = 0.1
# Logistic regression's L2 penalty (on standardised features).
RIDGE = 1.0
# Share of answerable questions whose answer paper the keep margin must still keep.
KEEP_RECALL = 0.99


def load_split(split: str, data: Path = DATA) -> tuple[list[Paper], list[Question]]:
    """The split's stored papers and its questions (bench_abstention.load_split), each
    answerable question's gold being its paper's id."""
    records, questions = abstention.load_split(split, data)
    papers = [
        Paper(id=r["id"], title=r["title"], abstract=r["abstract"], source="scitldr")
        for r in records
    ]
    id_of = {r["title"]: r["id"] for r in records}
    for question in questions:
        if question.gold is not None:
            question.gold = id_of[question.gold]
    return papers, questions


def open_store(
    data_dir: Path, papers: Sequence[Paper], provider: str = "minilm"
) -> tuple[PaperBrief, float, int]:
    """A PaperBrief over `papers` (ingested once, then reused): seconds, sentences embedded."""
    pb = PaperBrief(
        data_dir=data_dir, settings=Settings(data_dir=data_dir, embedding={"provider": provider})
    )
    start = time.perf_counter()
    report = ingest_items(
        papers,
        pb.store,
        pb.embedder,
        source="scitldr",
        cache=pb.embedding_cache,
        sentences=pb.sentence_vectors,
    )
    return pb, time.perf_counter() - start, report.sentences_embedded


def judge_for(pb: PaperBrief, model: RelevanceModel) -> RelevanceJudge:
    return RelevanceJudge(
        embed=pb.embedder.embed,
        paper_vectors=pb.store.vectors,
        sentence_vectors=pb.sentence_vectors.for_papers,
        lexical_shares=pb.searcher.lexical_shares,
        model=model,
    )


def neutral_model(embedder: str) -> RelevanceModel:
    """A model whose outputs are unused: `collect` only needs the features."""
    neutral = LogisticModel(
        features=list(FEATURES),
        weights=[0.0] * len(FEATURES),
        bias=0.0,
        mean=[0.0] * len(FEATURES),
        scale=[1.0] * len(FEATURES),
    )
    return RelevanceModel(
        embedder=embedder, evidence=neutral, ranking=neutral, answer_at=0.5, keep_within=1.0
    )


@dataclass
class Candidates:
    question: Question
    ids: list[str]
    rows: np.ndarray  # (len(ids), len(FEATURES))


def collect(pb: PaperBrief, questions: Sequence[Question]) -> list[Candidates]:
    """The retrieved papers of each question and their features."""
    judge = judge_for(pb, neutral_model(pb.embedder.name))
    out = []
    for question in questions:
        papers = [hit.paper for hit in pb.search(question.text, k=RETRIEVE_K)]
        rows, _ = judge.features(question.text, papers)
        matrix = np.array([[row[f] for f in FEATURES] for row in rows], dtype=np.float64)
        out.append(Candidates(question, [p.id for p in papers], matrix))
    return out


def fit_logistic(
    x: np.ndarray, y: np.ndarray, ridge: float = RIDGE, balanced: bool = False
) -> tuple[np.ndarray, float]:
    """L2-penalised logistic regression by Newton's method (bias unpenalised); `balanced`
    weighs both classes equally however many cases each has."""
    sample = np.ones(len(y))
    if balanced:
        positives = max(1.0, float(y.sum()))
        negatives = max(1.0, float(len(y) - y.sum()))
        sample = np.where(y > 0, len(y) / (2 * positives), len(y) / (2 * negatives))
    design = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(design.shape[1])
    penalty = np.eye(design.shape[1]) * ridge
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ beta, -50, 50)))
        gradient = design.T @ (sample * (p - y)) + penalty @ beta
        hessian = design.T @ (design * (sample * p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta[1:], float(beta[0])


def fit_model(
    x: np.ndarray, y: np.ndarray, names: Sequence[str], balanced: bool = False
) -> LogisticModel:
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    weights, bias = fit_logistic((x - mean) / scale, y, balanced=balanced)
    return LogisticModel(
        features=list(names),
        weights=[float(w) for w in weights],
        bias=bias,
        mean=[float(m) for m in mean],
        scale=[float(v) for v in scale],
    )


def columns(names: Sequence[str]) -> list[int]:
    return [FEATURES.index(n) for n in names]


def odds_of(model: LogisticModel, rows: np.ndarray) -> np.ndarray:
    """`LogisticModel.log_odds` of each row, vectorised."""
    if len(rows) == 0:
        return np.zeros(0)
    x = rows[:, columns(model.features)]
    return model.bias + ((x - np.array(model.mean)) / np.array(model.scale)) @ np.array(
        model.weights
    )


def fit(train: Sequence[Candidates], embedder: str) -> RelevanceModel:
    """The ranking model on (question, candidate) pairs, label 1 for the answer paper; the
    evidence model on questions, from the absolute features of each question's top-ranked
    candidate, label 1 when the store holds the question's paper; then the thresholds."""
    pairs = [(c, i) for c in train for i in range(len(c.ids))]
    x = np.array([c.rows[i] for c, i in pairs])
    y = np.array([1.0 if c.ids[i] == c.question.gold else 0.0 for c, i in pairs])
    ranking = fit_model(x, y, FEATURES)
    # Absent-paper questions are left out of this fit: their best evidence looks like that of
    # answerable ones (the store holds related papers), see the module docstring.
    tops = [
        (c, int(np.argmax(odds_of(ranking, c.rows))))
        for c in train
        if c.ids and c.question.kind != "absent"
    ]
    x_top = np.array([c.rows[i][columns(ABSOLUTE_FEATURES)] for c, i in tops])
    y_top = np.array([1.0 if c.question.gold is not None else 0.0 for c, _ in tops])
    evidence = fit_model(x_top, y_top, ABSOLUTE_FEATURES, balanced=True)
    model = RelevanceModel(
        embedder=embedder, evidence=evidence, ranking=ranking, answer_at=0.5, keep_within=50.0
    )
    return choose_thresholds(model, train)


@dataclass
class Scored:
    """A question's candidates under a model: evidence probabilities and ranking log-odds."""

    candidates: Candidates
    evidence: np.ndarray
    ranking: np.ndarray


def score(model: RelevanceModel, data: Sequence[Candidates]) -> list[Scored]:
    return [
        Scored(
            c,
            1.0 / (1.0 + np.exp(-odds_of(model.evidence, c.rows))),
            odds_of(model.ranking, c.rows),
        )
        for c in data
    ]


def kept_ids(model: RelevanceModel, s: Scored) -> list[str]:
    """The candidates `agent.relevance.decide` keeps, in ranking order."""
    if not len(s.ranking):
        return []
    best = s.ranking.max()
    order = np.argsort(-s.ranking, kind="stable")
    kept = [
        s.candidates.ids[i]
        for i in order
        if s.evidence[i] >= model.answer_at and best - s.ranking[i] <= model.keep_within
    ]
    return kept[:MAX_PAPERS]


def choose_thresholds(model: RelevanceModel, data: Sequence[Candidates]) -> RelevanceModel:
    """`answer_at`: the evidence level minimising the false abstention rate + the false answer
    rate on `data` (the answer rate of questions whose paper is absent weighted ABSENT_WEIGHT).
    `keep_within`: the KEEP_RECALL quantile of how far the answer paper's ranking log-odds
    trail the best candidate's, over answerable questions whose paper clears `answer_at`."""
    scored = score(model, data)
    best = np.array([s.evidence.max() if len(s.evidence) else 0.0 for s in scored])
    kinds = np.array([c.question.kind for c in data])
    answerable = np.array([c.question.gold is not None for c in data])
    grid = np.linspace(0.01, 0.99, 197)
    costs = [
        float(
            np.mean(best[answerable] < t)
            + np.mean(best[kinds == "ood"] >= t)
            + ABSENT_WEIGHT * np.mean(best[kinds == "absent"] >= t)
        )
        for t in grid
    ]
    # The middle of the thresholds that do (nearly) as well as the best: the widest margin on
    # both sides, rather than an edge fitted to the last out-of-domain question.
    near_best = grid[np.array(costs) <= min(costs) + 0.002]
    answer_at = float(np.median(near_best))
    gaps = []
    for s in scored:
        gold = s.candidates.question.gold
        if gold in s.candidates.ids:
            i = s.candidates.ids.index(gold)
            if s.evidence[i] >= answer_at:
                gaps.append(float(s.ranking.max() - s.ranking[i]))
    within = float(np.quantile(np.array(gaps), KEEP_RECALL)) if gaps else 1.0
    return model.model_copy(update={"answer_at": answer_at, "keep_within": round(within, 4)})


def report(name: str, model: RelevanceModel, data: Sequence[Candidates]) -> dict[str, float]:
    """False abstention, false answers and kept-set figures per question kind."""
    print(f"{name}:")
    figures: dict[str, float] = {}
    scored = score(model, data)
    for kind in [k for k in KINDS if any(c.question.kind == k for c in data)]:
        group = [s for s in scored if s.candidates.question.kind == kind]
        kept = [kept_ids(model, s) for s in group]
        answered = float(np.mean([bool(k) for k in kept]))
        if group[0].candidates.question.gold is not None:
            golds = [s.candidates.question.gold for s in group]
            retrieved = np.mean([g in s.candidates.ids for g, s in zip(golds, group, strict=True)])
            false_abstention = np.mean([g not in k for g, k in zip(golds, kept, strict=True)])
            first = np.mean([bool(k) and k[0] == g for g, k in zip(golds, kept, strict=True)])
            precision = np.mean([(g in k) / len(k) for g, k in zip(golds, kept, strict=True) if k])
            size = np.mean([len(k) for k in kept if k])
            print(
                f"  {kind:<15} n={len(group):4d}  false abstention {false_abstention:.3f}  "
                f"(paper in top {RETRIEVE_K}: {retrieved:.3f}, abstained {1 - answered:.3f}, "
                f"paper kept first {first:.3f}, papers kept {size:.2f}, precision {precision:.3f})"
            )
            figures[f"{kind}.false_abstention"] = float(false_abstention)
        else:
            print(f"  {kind:<15} n={len(group):4d}  correct abstention {1 - answered:.3f}")
            figures[f"{kind}.correct_abstention"] = float(1 - answered)
    return figures


def _disk_bytes(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())


def ingest_cost(scratch: Path) -> None:
    """What embedding sentences at ingest costs: the bundled sample ingested into two fresh
    stores, without (the baseline) and with sentence vectors, in this run."""
    from store.sources import SAMPLE_PAGE_DATE, load_source, sample_corpus_path

    items = list(load_source(str(sample_corpus_path()), fmt="hf-page", page_date=SAMPLE_PAGE_DATE))
    figures = {}
    for label, with_sentences in (("papers only (baseline)", False), ("with sentences", True)):
        directory = scratch / label.split()[0]
        pb = PaperBrief(data_dir=directory, settings=Settings(data_dir=directory))
        pb.embedder.embed(["warm up"])  # model load is not ingest
        start = time.perf_counter()
        report = ingest_items(
            items,
            pb.store,
            pb.embedder,
            source="sample",
            cache=pb.embedding_cache,
            sentences=pb.sentence_vectors if with_sentences else None,
        )
        seconds = time.perf_counter() - start
        pb.close()
        cache_bytes = (directory / "embeddings.sqlite").stat().st_size
        figures[label] = (seconds, _disk_bytes(directory), cache_bytes, report)
        print(
            f"  {label:<24} {seconds:6.1f} s  {report.embedded} papers + "
            f"{report.sentences_embedded} sentences embedded  data dir "
            f"{_disk_bytes(directory) / 1e6:5.1f} MB (embedding cache {cache_bytes / 1e6:4.1f} MB)"
        )
    base, more = figures["papers only (baseline)"], figures["with sentences"]
    print(
        f"  ingest time with sentences / baseline: {more[0] / base[0]:.2f}x; "
        f"data dir {more[1] / base[1]:.2f}x"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/paperbrief-bench-relevance"))
    parser.add_argument("--write-model", action="store_true")
    parser.add_argument(
        "--scitldr", type=Path, default=DATA, help="folder of scitldr_a_{train,dev}.jsonl"
    )
    parser.add_argument(
        "--reuse-features",
        action="store_true",
        help="reuse the features a previous run saved in the data dir (same questions, store)",
    )
    parser.add_argument(
        "--embedder",
        default="minilm",
        help="embedding provider to fit for (minilm, the default; hash; openai as configured)",
    )
    parser.add_argument("--cost", action="store_true", help="only measure the ingest cost")
    args = parser.parse_args()
    if args.cost:
        import tempfile

        print("ingest cost of sentence vectors, the bundled sample (84 papers):")
        with tempfile.TemporaryDirectory(prefix="bench-relevance-") as scratch:
            ingest_cost(Path(scratch))
        return 0
    splits = {}
    for split in ("train", "dev"):
        papers, questions = load_split(split, args.scitldr)
        pb, seconds, sentences = open_store(args.data_dir / split, papers, args.embedder)
        print(
            f"{split}: {len(papers)} papers in the store ({seconds:.1f} s to ingest, {sentences} "
            f"sentences embedded this run), {len(questions)} questions"
        )
        saved = args.data_dir / f"features-{split}.pickle"
        key = (FEATURES, [q.text for q in questions], pb.store.count())
        if args.reuse_features and saved.exists():
            stored_key, candidates = pickle.loads(saved.read_bytes())
            if stored_key == key:
                splits[split] = candidates
                print(f"  features reused from {saved}")
                continue
        start = time.perf_counter()
        splits[split] = collect(pb, questions)
        elapsed = time.perf_counter() - start
        print(f"  features of {len(questions)} questions in {elapsed:.1f} s")
        saved.write_bytes(pickle.dumps((key, splits[split])))
    model = fit(splits["train"], pb.embedder.name)
    for label, part in (("evidence", model.evidence), ("ranking", model.ranking)):
        print(f"{label} model weights (standardised features), bias {part.bias:+.3f}:")
        for feature, weight in zip(part.features, part.weights, strict=True):
            print(f"  {feature:<24} {weight:+.3f}")
    print(
        f"  a paper bears on the question at evidence >= {model.answer_at:.3f}, ranking "
        f"within {model.keep_within:.2f} log-odds of the best"
    )
    report("SciTLDR-A train (fit: thresholds chosen here)", model, splits["train"])
    report("SciTLDR-A dev (report: not fitted on)", model, splits["dev"])
    if args.write_model:
        model = model.model_copy(
            update={
                "fitted_on": "SciTLDR-A train (bench/bench_relevance.py), "
                f"{HELD_OUT_PERCENT}% held out of the store, even lines of "
                "bench/data/out_of_domain_questions.txt"
            }
        )
        MODEL_FILE.parent.mkdir(parents=True, exist_ok=True)
        models = json.loads(MODEL_FILE.read_text(encoding="utf-8")) if MODEL_FILE.exists() else {}
        models[model.embedder] = model.model_dump(mode="json")
        MODEL_FILE.write_text(json.dumps(models, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
