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
`scores` fusion constants (COVERAGE_HALF x dense weight) is searched on the tuning half, and
the rule is to keep the variant whose worst margin over the better of plain BM25 and RRF
(across every set and each of R@1, R@5 and MRR@10) is highest. All sets are then reported on
the held-out half, for dense only, BM25 only, RRF, plain min-max and the default in use.

    python bench/bench_fusion.py [--data-dir DIR] [--scitldr-dir ../shared/data]

`--data-dir` keeps the two stores (and their embedding caches) between runs: the first run
embeds about 2,700 abstracts with MiniLM (several minutes), later ones only the queries.
"""

from __future__ import annotations

import argparse
import json
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
    from store.search import COVERAGE_HALF, Candidates, fuse

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

        def fused(settings: SearchSettings, half: float | None = None) -> Ranker:
            return lambda c: [pid for pid, _ in fuse(c, settings, half)]

        rankers: dict[str, Ranker] = {
            "dense": lambda c: [pid for pid, _ in c.dense],
            "bm25": lambda c: [pid for pid, _ in c.lexical],
            # The usual forms: equal weights, rrf_k 60.
            "rrf": fused(default.model_copy(update={"fusion": "rrf", "dense_weight": 0.5})),
            "minmax": fused(default.model_copy(update={"fusion": "minmax", "dense_weight": 0.5})),
        }
        grid = {
            (half, weight): fused(
                default.model_copy(update={"fusion": "scores", "dense_weight": weight}), half
            )
            for half in (0.2, 0.3, 0.4, 0.5, 0.6)
            for weight in (0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
        }

        def score(ranker: Ranker, name: str, part: int | None) -> Metrics:
            rows = [
                metrics(ranker(c), gold)
                for i, (c, gold) in enumerate(found[name])
                if part is None or i % 2 == part
            ]
            return mean(rows)

        tuning, held = 0, 1
        names = list(found)
        base = {
            name: max(
                score(rankers["bm25"], name, tuning)[2], score(rankers["rrf"], name, tuning)[2]
            )
            for name in names
        }
        margins = {
            key: min(score(ranker, name, tuning)[2] - base[name] for name in names)
            for key, ranker in grid.items()
        }
        in_use = (COVERAGE_HALF, default.dense_weight)
        best = max(margins, key=lambda key: (margins[key], key == in_use))
        print(
            "tuning half: worst margin over max(BM25, RRF) across sets and metrics "
            "(R@1, R@5, MRR@10), scores fusion:"
        )
        for (half, weight), margin in sorted(margins.items()):
            mark = "  <- best" if (half, weight) == best else ""
            print(f"  COVERAGE_HALF {half:.2f} dense_weight {weight:.2f}  {margin:+.4f}{mark}")
        print(f"in use: COVERAGE_HALF {in_use[0]} dense_weight {in_use[1]}")

        rankers["default"] = fused(default)
        if best != in_use:
            rankers["best"] = grid[best]
        for label, part in (("held-out half", held), ("all queries", None)):
            print(f"{label}: R@1 / R@5 / MRR@10")
            for name in names:
                cells = "  ".join(
                    f"{key} {'{:.3f}/{:.3f}/{:.3f}'.format(*score(r, name, part))}"
                    for key, r in rankers.items()
                )
                n = len(found[name]) if part is None else len(found[name][part::2])
                print(f"  {name:<22} n={n:>4}  {cells}")
            for name in names:
                d = score(rankers["default"], name, part)
                for other in ("bm25", "rrf", "dense"):
                    o = score(rankers[other], name, part)
                    print(
                        f"  {name:<22} default / {other} (baseline): "
                        + "  ".join(
                            f"{m} {a / b:.3f}x" if b else f"{m} n/a"
                            for m, a, b in zip(("R@1", "R@5", "MRR"), d, o, strict=True)
                        )
                    )


if __name__ == "__main__":
    main()
