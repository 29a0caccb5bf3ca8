"""Calibrate and report the offline relevance decision (`agent/relevance.py`) on public data.

    python bench/bench_relevance.py [--data-dir DIR] [--scitldr DIR] [--reuse-features]
        [--write-model [--force]] [--embedder NAME] [--cost]

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
  for fitting and the odd lines for reporting; the right response is to abstain;
- `pair`, `triple`: composed questions with two or three answer papers (`compose`: the TLDRs
  of a stored paper and of one or two of its nearest stored papers, joined), because the
  judges' questions often have several gold papers and score the precision of those cited.

The logistic models are fitted on the train split's (question, retrieved paper) pairs, label 1
for an answer paper; `answer_at` and `keep_within` are chosen together on train to maximise
`utility` (not falsely abstaining plus the F1 of the cited papers, per kind of answerable
question, plus correct abstentions); every figure printed for dev was measured on data the fit
never saw. A false abstention is a question none of whose answer papers is among the first
CITED papers kept (so the answer cannot cite one); a false answer is an out-of-domain question
that keeps any paper. The shipped model is reported on the same features in the same run: a
figure measured with another search is no baseline (the refit of session 2 looked equal to the
shipped model's figures from the former search, and was worse than the shipped model on the
current one). `--write-model` stores the refit in agent/data/relevance.json only when it is
not worse than the shipped model on dev (`worse_than`; `--force` overrides).
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
    fitted_models,
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
# Papers an answer cites at most (agent/writers/extractive/answer.py): what the judges score.
CITED = 6
# Composed questions per split (see `compose`): two-paper and three-paper ones.
COMPOSED = {"train": (500, 250), "dev": (200, 100)}
# Of a paper's nearest stored neighbours (paper cosine), the ones a composed question pairs it with.
NEIGHBOURS = 5
# Every kind of question, in report order.
ALL_KINDS = [*KINDS[:3], "pair", "triple", *KINDS[3:]]


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


def compose(
    split: str, pb: PaperBrief, questions: Sequence[Question], seed: int = 10
) -> list[Question]:
    """Questions with two or three answer papers, built from SciTLDR-A's known items.

    A known-item question (one TLDR, one paper) cannot teach which of several related papers
    to keep; the judges' questions often have several gold papers and score the precision of
    the ones cited. A composed question joins the author TLDRs of a stored paper and of one or
    two of its NEIGHBOURS nearest stored papers (by paper cosine: papers on the same topic, as a
    question with several answers has), so its answer papers are exactly those two or three and
    the other retrieved papers, however close in topic, are not. Every other composed question
    has the papers' title words removed (a paraphrase that cannot lean on titles). The anchors
    and neighbours are drawn with a fixed seed; nothing is chosen by looking at the results."""
    tldr = {q.gold: q.text for q in questions if q.kind == "tldr" and q.gold is not None}
    ids = sorted(tldr)
    if len(ids) <= NEIGHBOURS:
        return []
    titles = {p.id: p.title for p in pb.store.get(ids)}
    vectors = np.asarray(pb.store.vectors(ids), dtype=np.float64)
    similar = vectors @ vectors.T
    np.fill_diagonal(similar, -np.inf)
    rng = np.random.default_rng(seed)
    out: list[Question] = []
    for kind, size, count in (("pair", 2, COMPOSED[split][0]), ("triple", 3, COMPOSED[split][1])):
        for n, anchor in enumerate(rng.choice(len(ids), size=count, replace=False)):
            near = np.argsort(-similar[anchor])[:NEIGHBOURS]
            chosen = [ids[anchor], *(ids[i] for i in rng.choice(near, size - 1, replace=False))]
            parts = [tldr[pid] for pid in chosen]
            if n % 2:
                words = " ".join(titles[pid] for pid in chosen)
                parts = [abstention.without_title_words(part, words) for part in parts]
            text = " ".join(part.strip().rstrip(".") + "." for part in parts if part.strip())
            out.append(Question(text, kind, chosen[0], tuple(chosen[1:])))
    return out


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


def features(
    pb: PaperBrief, questions: Sequence[Question], saved: Path, reuse: bool
) -> list[Candidates]:
    """`collect`, saved to `saved`; with `reuse`, read back from it while the questions, the
    features and the store's size are the same (the key cannot see a change to search: do
    not reuse across one)."""
    key = (FEATURES, [q.text for q in questions], pb.store.count())
    if reuse and saved.exists():
        stored_key, candidates = pickle.loads(saved.read_bytes())
        if stored_key == key:
            print(f"  features reused from {saved}")
            return list(candidates)
    start = time.perf_counter()
    candidates = collect(pb, questions)
    print(f"  features of {len(questions)} questions in {time.perf_counter() - start:.1f} s")
    saved.write_bytes(pickle.dumps((key, candidates)))
    return candidates


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
    """The ranking model on (question, candidate) pairs, label 1 for an answer paper; the
    evidence model on questions, from the absolute features of each question's top-ranked
    candidate, label 1 when the store holds the question's papers; then the thresholds."""
    pairs = [(c, i) for c in train for i in range(len(c.ids))]
    x = np.array([c.rows[i] for c, i in pairs])
    y = np.array([1.0 if c.ids[i] in c.question.golds else 0.0 for c, i in pairs])
    ranking = fit_model(x, y, FEATURES)
    # Absent-paper questions are left out of this fit: their best evidence looks like that of
    # answerable ones (the store holds related papers), see the module docstring.
    tops = [
        (c, int(np.argmax(odds_of(ranking, c.rows))))
        for c in train
        if c.ids and c.question.kind != "absent"
    ]
    x_top = np.array([c.rows[i][columns(ABSOLUTE_FEATURES)] for c, i in tops])
    y_top = np.array([1.0 if c.question.golds else 0.0 for c, _ in tops])
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


@dataclass
class Table:
    """Each question's candidates in ranking order, padded to RETRIEVE_K columns, so a pair of
    thresholds is scored over all questions at once."""

    evidence: np.ndarray  # (questions, RETRIEVE_K), -1 where there is no candidate
    gap: np.ndarray  # ranking log-odds behind the question's best candidate
    gold: np.ndarray  # the candidate is an answer paper
    golds: np.ndarray  # (questions,) answer papers of the question (0: the store cannot answer)
    kinds: np.ndarray  # (questions,) question kinds


def table(scored: Sequence[Scored]) -> Table:
    shape = (len(scored), RETRIEVE_K)
    evidence, gap, gold = np.full(shape, -1.0), np.full(shape, np.inf), np.zeros(shape, bool)
    for row, s in enumerate(scored):
        order = np.argsort(-s.ranking, kind="stable")[:RETRIEVE_K]
        if not len(order):
            continue
        evidence[row, : len(order)] = s.evidence[order]
        gap[row, : len(order)] = s.ranking.max() - s.ranking[order]
        golds = s.candidates.question.golds
        gold[row, : len(order)] = [s.candidates.ids[i] in golds for i in order]
    return Table(
        evidence,
        gap,
        gold,
        np.array([len(s.candidates.question.golds) for s in scored]),
        np.array([s.candidates.question.kind for s in scored]),
    )


def outcomes(t: Table, answer_at: float, keep_within: float) -> dict[str, np.ndarray]:
    """Per question under the decision (`agent.relevance.decide`, then the writer's CITED):
    papers cited, answer papers among them, false abstention, precision, recall."""
    keep = (t.evidence >= answer_at) & (t.gap <= keep_within)
    keep &= np.cumsum(keep, axis=1) <= CITED
    cited = keep.sum(axis=1)
    hits = (keep & t.gold).sum(axis=1)
    precision = np.where(cited > 0, hits / np.maximum(cited, 1), 0.0)
    recall = hits / np.maximum(t.golds, 1)
    f1 = np.where(hits > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-9), 0.0)
    return {
        "cited": cited,
        "false_abstention": (hits == 0).astype(float),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def utility(t: Table, answer_at: float, keep_within: float) -> float:
    """What the thresholds are chosen to maximise: per answerable kind of question (one-paper
    TLDRs, the same without title words, composed two- and three-paper questions, each kind
    weighing the same), the share not falsely abstained on plus the F1 of the papers cited
    against the answer papers (precision and recall alike: citing every loosely related paper
    costs, so does missing an answer paper); plus the out-of-domain questions' correct
    abstention rate and ABSENT_WEIGHT times the absent-paper questions'."""
    o = outcomes(t, answer_at, keep_within)
    total = 0.0
    answerable = [k for k in np.unique(t.kinds) if (t.golds[t.kinds == k] > 0).all()]
    for kind in answerable:
        mask = t.kinds == kind
        total += (1 - o["false_abstention"][mask].mean() + o["f1"][mask].mean()) / len(answerable)
    for kind, weight in (("ood", 1.0), ("absent", ABSENT_WEIGHT)):
        mask = t.kinds == kind
        if mask.any():
            total += weight * float((o["cited"][mask] == 0).mean())
    return total


ANSWER_GRID = np.round(np.arange(0.30, 0.951, 0.01), 3)
KEEP_GRID = np.round(np.arange(0.0, 10.01, 0.25), 2)


def choose_thresholds(model: RelevanceModel, data: Sequence[Candidates]) -> RelevanceModel:
    """`answer_at` and `keep_within` maximising `utility` on `data` (a grid over both). Of the
    pairs within 0.002 of the best, the median of each: the widest margin on both sides rather
    than an edge fitted to the last few questions."""
    t = table(score(model, data))
    values = np.array([[utility(t, a, w) for w in KEEP_GRID] for a in ANSWER_GRID])
    near = np.argwhere(values >= values.max() - 0.002)
    answer_at = float(np.median(ANSWER_GRID[near[:, 0]]))
    keep_within = float(np.median(KEEP_GRID[near[:, 1]]))
    return model.model_copy(update={"answer_at": answer_at, "keep_within": keep_within})


def report(name: str, model: RelevanceModel, data: Sequence[Candidates]) -> dict[str, float]:
    """False abstention, correct abstention and the cited papers' precision and recall per
    question kind (cited: the first CITED papers kept, as the answer cites)."""
    print(f"{name}:")
    figures: dict[str, float] = {}
    t = table(score(model, data))
    o = outcomes(t, model.answer_at, model.keep_within)
    for kind in [k for k in ALL_KINDS if (t.kinds == k).any()]:
        mask = t.kinds == kind
        answered = o["cited"][mask] > 0
        if (t.golds[mask] > 0).all():
            retrieved = t.gold[mask].any(axis=1).mean()
            values = {
                "false_abstention": o["false_abstention"][mask].mean(),
                "precision": o["precision"][mask][answered].mean() if answered.any() else 0.0,
                "recall": o["recall"][mask].mean(),
            }
            print(
                f"  {kind:<15} n={mask.sum():4d}  false abstention "
                f"{values['false_abstention']:.3f}  cited precision {values['precision']:.3f}  "
                f"recall {values['recall']:.3f}  (an answer paper in top {RETRIEVE_K}: "
                f"{retrieved:.3f}, abstained {1 - answered.mean():.3f}, papers cited "
                f"{o['cited'][mask][answered].mean():.2f})"
            )
            figures.update({f"{kind}.{key}": float(v) for key, v in values.items()})
        else:
            print(f"  {kind:<15} n={mask.sum():4d}  correct abstention {1 - answered.mean():.3f}")
            figures[f"{kind}.correct_abstention"] = float(1 - answered.mean())
    return figures


# Differences between two models' dev figures that are noise rather than a change (about one
# standard error of a rate near 0.05-0.3 over the 100-500 questions of a kind).
NOISE = 0.01


def worse_than(refit: dict[str, float], shipped: dict[str, float]) -> list[str]:
    """Why the refit should not replace the shipped model, from their dev figures (`report`):
    more false abstention or less recall than the shipped model on any kind of question beyond
    NOISE, fewer correct abstentions, or no better cited precision on average. Empty: ship it.
    A decision-level figure measured with another search is no baseline: both models are
    compared on the same features, in the same run."""
    problems = []
    for key, old in shipped.items():
        new = refit[key]
        if key.endswith(".false_abstention") and new > old + NOISE:
            problems.append(f"{key} {old:.3f} -> {new:.3f}")
        if key.endswith((".recall", ".correct_abstention")) and new < old - NOISE:
            problems.append(f"{key} {old:.3f} -> {new:.3f}")
    precision = [k for k in shipped if k.endswith(".precision")]
    old_p = float(np.mean([shipped[k] for k in precision])) if precision else 0.0
    new_p = float(np.mean([refit[k] for k in precision])) if precision else 0.0
    if new_p <= old_p:
        problems.append(f"mean cited precision {old_p:.3f} -> {new_p:.3f} (not better)")
    return problems


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
    parser.add_argument(
        "--force",
        action="store_true",
        help="--write-model even when the refit is worse than the shipped model on dev",
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
        composed = compose(split, pb, questions)
        print(f"  {len(composed)} composed questions with two or three answer papers")
        splits[split] = []
        for part, group in (("", questions), ("-composed", composed)):
            saved = args.data_dir / f"features-{split}{part}.pickle"
            splits[split] += features(pb, group, saved, args.reuse_features)
        pb.close()
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
    figures = report("SciTLDR-A dev (report: not fitted on)", model, splits["dev"])
    shipped = fitted_models().get(model.embedder)
    problems: list[str] = []
    if shipped is not None:
        print(
            f"the model in {MODEL_FILE.relative_to(ROOT)} (the baseline), evidence >= "
            f"{shipped.answer_at:.3f}, within {shipped.keep_within:.2f} log-odds, same features:"
        )
        baseline = report("SciTLDR-A dev, shipped model", shipped, splits["dev"])
        problems = worse_than(figures, baseline)
        for problem in problems:
            print(f"  refit worse than the shipped model: {problem}")
    if args.write_model and problems and not args.force:
        print("not written (--force writes it anyway)")
    elif args.write_model:
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
