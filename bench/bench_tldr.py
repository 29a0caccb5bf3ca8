"""One-sentence takeaways (`agent.writers.extractive.tldr`) against SciTLDR-A dev, offline.

Prints ROUGE-1/2/L F1 (Porter stemming, mean over papers) of the author's TLDR (`target[0]`)
against: paperbrief's tldr, the lead sentence, and a quick title-overlap sentence pick, all in
one run.

    python bench/bench_tldr.py [path/to/scitldr_a_dev.jsonl]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from rouge_score import rouge_scorer

from agent.text import content_stems, split_sentences
from agent.writers.extractive import tldr
from store.models import Paper

# The shared data folder sits beside the repository checkout (../shared), here and in CI.
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "scitldr_a_dev.jsonl"


def load(path: Path) -> list[tuple[Paper, str]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            abstract = " ".join(record["source"])
            title = record.get("title") or record["source"][0]
            paper = Paper(id=record["paper_id"], title=title, abstract=abstract, source=str(path))
            rows.append((paper, record["target"][0]))
    return rows


def lead(paper: Paper) -> str:
    return split_sentences(paper.abstract)[0]


def title_overlap(paper: Paper) -> str:
    title = set(content_stems(paper.title, drop_generic=False))
    sentences = split_sentences(paper.abstract)
    return max(sentences, key=lambda s: len(title & set(content_stems(s, drop_generic=False))))


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA
    rows = load(path)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    systems: dict[str, Callable[[Paper], str]] = {
        "paperbrief tldr": tldr,
        "lead sentence": lead,
        "title-overlap pick": title_overlap,
    }
    print(f"{path.name}, n={len(rows)} papers, reference = author TLDR (target[0])")
    print(f"{'system':<22}{'R-1':>7}{'R-2':>7}{'R-L':>7}{'words':>7}")
    for name, system in systems.items():
        totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
        length = 0
        for paper, reference in rows:
            summary = system(paper)
            length += len(summary.split())
            scores = scorer.score(reference, summary)
            for key in totals:
                totals[key] += scores[key].fmeasure
        n = len(rows)
        print(
            f"{name:<22}{100 * totals['rouge1'] / n:>7.1f}{100 * totals['rouge2'] / n:>7.1f}"
            f"{100 * totals['rougeL'] / n:>7.1f}{length / n:>7.1f}"
        )


if __name__ == "__main__":
    main()
