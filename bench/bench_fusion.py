"""How dense and BM25 results are fused, chosen on known-item search over public data.

Query sets (each query has exactly one gold paper, or the sample's gold papers):
- SciTLDR-A dev, corpus = the 619 dev papers plus the 1,992 train papers as distractors (titles
  and abstracts). `tldr-author`: each dev paper's author TLDR (`target[0]`) as the query;
  `tldr-second`: its second TLDR (`target[1]`, written by a reader of the paper) where it has
  one; `-notitle`: the same with every word of the paper's title removed from the query, so the
  query cannot lean on the title.
- `sample`: the 80 queries of bench/bench_search_quality.py over the bundled sample.

Every query's candidates (50 per retriever, as in search) are computed once; the fusions are
then applied to the same candidates. Queries are split in halves (alternating): the grid of
`scores` fusion constants (COVERAGE_HALF x dense weight x DENSE_SPAN x RANK_SHARE) is searched
on the tuning half only. The rule: for every set, each of R@1, R@5 and MRR@10, and each of
plain BM25 and RRF, the paired z of the variant against that baseline (sum of the per-query
differences over the root of their sum of squares, i.e. wins minus losses over the root of the
queries that differ); keep the variants whose worst z is highest, and of those the one whose
total margin in queries over the better baseline (summed over sets and metrics) is largest.
A z instead of a raw difference, so that one query of the 40-query sample half does not weigh
as much as eight of a SciTLDR set, and no set is allowed to lean against either baseline. All
sets are then reported on the held-out half for dense only, BM25 only, RRF, plain min-max and
the default in use, with the queries the default wins and loses against BM25 and RRF.

    python bench/bench_fusion.py [--data-dir DIR] [--scitldr-dir ../shared/data]

`--data-dir` keeps the two stores (and their embedding caches) between runs: the first run
embeds about 2,700 abstracts with MiniLM (several minutes), later ones only the queries.
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import re
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_SCITLDR = ROOT.parent / "shared" / "data"
POOL = 50

Metrics = tuple[float, float, float]  # R@1, R@5 (share of gold in the top 5), MRR@10
Constants = tuple[float, float, float]  # COVERAGE_HALF, DENSE_SPAN, RANK_SHARE
# Grid points whose worst z is within this of the best count as tied on it.
Z_TIE = 0.01


def scitldr_records(directory: Path, split: str) -> list[dict[str, Any]]:
    with (directory / f"scitldr_a_{split}.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def without_title_words(query: str, title: str) -> str:
    """`query` with every word of `title` removed (case-insensitive)."""
    banned = {w.casefold() for w in re.findall(r"[^\W_]+", title)}
    kept = [w for w in re.findall(r"\S+", query) if re.sub(r"\W", "", w).casefold() not in banned]
    return " ".join(kept)


def open_store(data_dir: Path, jsonl: list[dict[str, Any]] | None) -> Any:
    from agent.api import PaperBrief
    from agent.settings import Settings

    pb = PaperBrief(data_dir=data_dir, settings=Settings(data_dir=data_dir))
    if jsonl is None:
        pb.ingest_sample()
    else:
        source = data_dir / "corpus.jsonl"
        source.write_text("\n".join(json.dumps(r) for r in jsonl) + "\n", encoding="utf-8")
        report = pb.ingest(source)
        if report.rejected:
            raise SystemExit(f"corpus rejected: {report.rejected[:3]}")
    return pb


def query_sets(
    directory: Path, pb: Any
) -> tuple[dict[str, list[tuple[str, set[str]]]], list[dict[str, Any]]]:
    """The SciTLDR query sets (query, gold ids) over the store `pb`."""
    dev = scitldr_records(directory, "dev")
    by_title = {p.title: p.id for p in pb.papers()}
    sets: dict[str, list[tuple[str, set[str]]]] = {
        "tldr-author": [],
        "tldr-author-notitle": [],
        "tldr-second": [],
        "tldr-second-notitle": [],
    }
    from store.models import normalise_text

    for record in dev:
        gold = {by_title[normalise_text(record["title"])]}
        targets = record["target"]
        sets["tldr-author"].append((targets[0], gold))
        sets["tldr-author-notitle"].append((without_title_words(targets[0], record["title"]), gold))
        if len(targets) > 1:
            sets["tldr-second"].append((targets[1], gold))
            sets["tldr-second-notitle"].append(
                (without_title_words(targets[1], record["title"]), gold)
            )
    return {name: [(q, g) for q, g in queries if q.strip()] for name, queries in sets.items()}, dev


def metrics(ranked: list[str], gold: set[str]) -> Metrics:
    r1 = float(bool(ranked) and ranked[0] in gold)
    r5 = len(gold & set(ranked[:5])) / len(gold)
    mrr = next((1 / rank for rank, pid in enumerate(ranked[:10], 1) if pid in gold), 0.0)
    return r1, r5, mrr


def mean(rows: list[Metrics]) -> Metrics:
    return tuple(statistics.fmean(r[i] for r in rows) for i in range(3))  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="keep the stores here between runs (default: fresh)")
    parser.add_argument("--scitldr-dir", default=str(DEFAULT_SCITLDR))
    parser.add_argument(
        "--reuse-candidates",
        action="store_true",
        help="reuse the candidates a previous run saved in --data-dir (to try other fusions)",
    )
    args = parser.parse_args()

    from bench_search_quality import QUERIES

    from store.config import SearchSettings
    from store.lexical import Filters
    from store.search import COVERAGE_HALF, DENSE_SPAN, RANK_SHARE, Candidates, fuse

    directory = Path(args.scitldr_dir)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.data_dir or tmp)
        corpus = [
            {"title": r["title"], "abstract": " ".join(r["source"])}
            for split in ("dev", "train")
            for r in scitldr_records(directory, split)
        ]
        tldr_pb = open_store(base / "scitldr", corpus)
        sample_pb = open_store(base / "sample", None)
        sets, _ = query_sets(directory, tldr_pb)
        sample_papers = sample_pb.papers()
        sets["sample"] = [
            (q, {p.id for p in sample_papers if any(f.lower() in p.title.lower() for f in frags)})
            for q, frags in QUERIES
        ]
        print(
            f"corpus: {tldr_pb.store.count()} SciTLDR papers (dev + train), "
            f"{len(sample_papers)} sample papers; queries: "
            + ", ".join(f"{name} {len(qs)}" for name, qs in sets.items())
        )

        found: dict[str, list[tuple[Candidates, set[str]]]] = {}
        saved = base / "candidates.pickle"
        if args.reuse_candidates and saved.exists():
            found = pickle.loads(saved.read_bytes())
        for name, queries in sets.items():
            if name in found:
                continue
            pb = sample_pb if name == "sample" else tldr_pb
            found[name] = [
                (pb.searcher.candidates(q, POOL, Filters()), gold) for q, gold in queries
            ]
        saved.write_bytes(pickle.dumps(found))

        default = SearchSettings()
        Ranker = Callable[[Candidates], list[str]]

        def fused(settings: SearchSettings, constants: Constants | None = None) -> Ranker:
            half, span, share = constants or (None, None, None)
            return lambda c: [pid for pid, _ in fuse(c, settings, half, span, share)]

        rankers: dict[str, Ranker] = {
            "dense": lambda c: [pid for pid, _ in c.dense],
            "bm25": lambda c: [pid for pid, _ in c.lexical],
            # The usual forms: equal weights, rrf_k 60.
            "rrf": fused(default.model_copy(update={"fusion": "rrf", "dense_weight": 0.5})),
            "minmax": fused(default.model_copy(update={"fusion": "minmax", "dense_weight": 0.5})),
        }
        grid: dict[tuple[float, float, float, float], Ranker] = {
            (half, weight, span, share): fused(
                default.model_copy(update={"fusion": "scores", "dense_weight": weight}),
                (half, span, share),
            )
            for half in (0.3, 0.4, 0.5)
            for weight in (0.15, 0.2, 0.25, 0.3)
            for span in (0.1, 0.15, 0.2, 0.3, 0.4)
            for share in (0.0, 0.1, 0.2, 0.3)
        }

        names = list(found)
        cache: dict[tuple[str, str], list[Metrics]] = {}

        def rows(key: str, ranker: Ranker, name: str, part: int | None) -> list[Metrics]:
            if (key, name) not in cache:
                cache[key, name] = [metrics(ranker(c), gold) for c, gold in found[name]]
            every = cache[key, name]
            return every if part is None else every[part::2]

        def score(key: str, ranker: Ranker, name: str, part: int | None) -> Metrics:
            return mean(rows(key, ranker, name, part))

        tuning, held = 0, 1
        baselines = ("bm25", "rrf")

        def judged(key: str, ranker: Ranker, part: int) -> tuple[float, float]:
            """(worst paired z, total margin in queries) against BM25 and RRF, over every set
            and metric of `part`."""
            worst, total = math.inf, 0.0
            for name in names:
                mine = rows(key, ranker, name, part)
                for i in range(3):
                    best_base = max(
                        sum(r[i] for r in rows(b, rankers[b], name, part)) for b in baselines
                    )
                    total += sum(r[i] for r in mine) - best_base
                    for b in baselines:
                        diffs = [
                            m[i] - o[i]
                            for m, o in zip(mine, rows(b, rankers[b], name, part), strict=True)
                        ]
                        worst = min(worst, paired_z(diffs))
            return worst, total

        judged_grid = {key: judged(f"grid {key}", ranker, tuning) for key, ranker in grid.items()}
        in_use = (COVERAGE_HALF, default.dense_weight, DENSE_SPAN, RANK_SHARE)
        top_z = max(z for z, _ in judged_grid.values())
        best = max(
            (key for key, (z, _) in judged_grid.items() if z >= top_z - Z_TIE),
            key=lambda key: (judged_grid[key][1], key == in_use),
        )
        print(
            "tuning half: worst paired z against BM25 and RRF over every set and metric "
            "(R@1, R@5, MRR@10), then total margin in queries over the better of the two:"
        )
        ranked = sorted(judged_grid.items(), key=lambda item: (-item[1][0], -item[1][1]))
        for (half, weight, span, share), (z, total) in ranked[:15]:
            mark = "  <- best" if (half, weight, span, share) == best else ""
            print(
                f"  COVERAGE_HALF {half:.2f} dense_weight {weight:.2f} DENSE_SPAN {span:.2f} "
                f"RANK_SHARE {share:.2f}  z {z:+.2f}  margin {total:+.1f}{mark}"
            )
        print(
            f"in use: COVERAGE_HALF {in_use[0]} dense_weight {in_use[1]} DENSE_SPAN {in_use[2]} "
            f"RANK_SHARE {in_use[3]}"
        )

        rankers["default"] = fused(default)
        if best != in_use:
            rankers["best"] = grid[best]
        for label, part in (("held-out half", held), ("all queries", None)):
            print(f"{label}: R@1 / R@5 / MRR@10")
            for name in names:
                cells = "  ".join(
                    f"{key} {'{:.3f}/{:.3f}/{:.3f}'.format(*score(key, r, name, part))}"
                    for key, r in rankers.items()
                )
                n = len(rows("bm25", rankers["bm25"], name, part))
                print(f"  {name:<22} n={n:>4}  {cells}")
            for name in names:
                d = score("default", rankers["default"], name, part)
                for other in ("bm25", "rrf", "dense"):
                    o = score(other, rankers[other], name, part)
                    print(
                        f"  {name:<22} default / {other} (baseline): "
                        + "  ".join(
                            f"{m} {a / b:.3f}x" if b else f"{m} n/a"
                            for m, a, b in zip(("R@1", "R@5", "MRR"), d, o, strict=True)
                        )
                    )
            print(f"{label}: queries the default wins / loses against BM25 and RRF")
            for name in names:
                mine = rows("default", rankers["default"], name, part)
                cells = []
                for other in baselines:
                    theirs = rows(other, rankers[other], name, part)
                    for i, metric in enumerate(("R@1", "R@5", "MRR")):
                        won = sum(m[i] > o[i] for m, o in zip(mine, theirs, strict=True))
                        lost = sum(m[i] < o[i] for m, o in zip(mine, theirs, strict=True))
                        cells.append(f"{metric} {won}/{lost}")
                    cells[-1] += f" vs {other} |"
                print(f"  {name:<22} " + "  ".join(cells))


def paired_z(diffs: list[float]) -> float:
    """Sum of paired differences over the root of their sum of squares: a sign-test z for
    0/1 metrics (wins minus losses over the root of the queries that differ); 0 when no query
    differs."""
    spread = math.sqrt(sum(d * d for d in diffs))
    return sum(diffs) / spread if spread else 0.0


if __name__ == "__main__":
    main()
