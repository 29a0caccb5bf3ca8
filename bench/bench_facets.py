"""Facet extraction on real abstracts: how often each facet is found, and whether any
extracted phrase is cut mid-clause or is not an extract of its abstract.

Runs over SciTLDR-A dev (619 real abstracts, ../shared/data beside the checkout), which the
patterns were not written on (they were written on the bundled sample and checked on train).

    .venv/bin/python bench/bench_facets.py [--show N]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from agent.facets import ends_mid_clause, facets_of, is_extract
from store.models import Paper

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def load(split: str) -> list[Paper]:
    path = DATA / f"scitldr_a_{split}.jsonl"
    if not path.exists():
        path = Path("/work/shared/data") / f"scitldr_a_{split}.jsonl"
    papers = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        papers.append(
            Paper(
                id=str(row["paper_id"]),
                title=row.get("title") or "untitled",
                abstract=" ".join(row["source"]),
                source=str(path),
            )
        )
    return papers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="dev")
    parser.add_argument("--show", type=int, default=0, help="print N random papers' facets")
    args = parser.parse_args()
    papers = load(args.split)
    found = {"name": 0, "mechanism": 0, "task": 0, "training": 0, "headline": 0}
    cut = 0
    not_extract = 0
    phrases = 0
    for paper in papers:
        f = facets_of(paper)
        source = f"{paper.title}. {paper.abstract}"
        for key, value in (
            ("name", f.name),
            ("mechanism", f.mechanism),
            ("task", f.task),
            ("headline", f.headline.phrase if f.headline else None),
        ):
            if value:
                found[key] += 1
                phrases += 1
                cut += ends_mid_clause(value)
                not_extract += not is_extract(value, source)
        found["training"] += f.training is not None
    n = len(papers)
    print(f"SciTLDR-A {args.split}: {n} abstracts")
    for key, count in found.items():
        print(f"  {key:10s} found in {count / n:6.1%}")
    print(f"  phrases cut mid-clause: {cut}/{phrases}; not an extract: {not_extract}/{phrases}")
    rng = random.Random(0)
    for paper in rng.sample(papers, min(args.show, n)):
        f = facets_of(paper)
        print(f"\n## {paper.title}\n  name={f.name!r} acronym={f.acronym!r} kind={f.kind}")
        print(f"  task={f.task!r}\n  mechanism={f.mechanism!r}\n  training={f.training}")
        if f.headline:
            h = f.headline
            print(
                f"  headline={h.figure!r}: {h.phrase!r} vs={h.compared_with!r} on={h.benchmark!r}"
            )


if __name__ == "__main__":
    main()
