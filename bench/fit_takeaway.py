"""Fit the takeaway weights (`agent/writers/extractive/data/takeaway_weights.json`) on
SciTLDR-A train and report them on dev, against the weights in use, in one run.

For every sentence of every train abstract, the target is the ROUGE-1 F1 (Porter stemming) of
its shortened form against the author's TLDR (`target[0]`); a ridge regression (lambda 20,
unpenalised intercept) over the sentence's features (`takeaway.sentence_features`) predicts
it, and the takeaway is the sentence with the highest prediction. Dev is never fitted on: it
only reports ROUGE-1/2/L of the chosen takeaways, for the weights in use and the fitted ones.

    python bench/fit_takeaway.py [--data DIR] [--write]

`--write` replaces the weights file with the fitted weights.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from rouge_score import rouge_scorer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.writers.extractive import takeaway
from agent.writers.extractive.weights import DATA_DIR
from bench.bench_tldr import load
from store.models import Paper

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LAMBDA = 20.0


def fit(rows: list[tuple[Paper, str]], names: list[str]) -> dict[str, float]:
    scorer = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)
    features, targets = [], []
    for paper, reference in rows:
        for values, _text, short in takeaway.sentence_features(paper):
            features.append([values[name] for name in names])
            targets.append(scorer.score(reference, short)["rouge1"].fmeasure)
    x = np.asarray(features)
    y = np.asarray(targets)
    # Unpenalised intercept: centre, solve, and the intercept (which ranks nothing) is dropped.
    x_centred = x - x.mean(axis=0)
    y_centred = y - y.mean()
    gram = x_centred.T @ x_centred + LAMBDA * np.eye(len(names))
    weights = np.linalg.solve(gram, x_centred.T @ y_centred)
    print(f"fitted on {len(rows)} papers, {len(y)} sentences")
    return {name: round(float(w), 3) for name, w in zip(names, weights, strict=True)}


def report(rows: list[tuple[Paper, str]], weights: dict[str, float]) -> tuple[float, ...]:
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    saved = dict(takeaway._TLDR_WEIGHTS)
    takeaway._TLDR_WEIGHTS.update(weights)
    try:
        totals = np.zeros(3)
        for paper, reference in rows:
            scores = scorer.score(reference, takeaway.tldr(paper))
            totals += [scores[k].fmeasure for k in ("rouge1", "rouge2", "rougeL")]
    finally:
        takeaway._TLDR_WEIGHTS.update(saved)
    return tuple(100 * totals / len(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="SciTLDR-A folder")
    parser.add_argument("--write", action="store_true", help="write the fitted weights")
    args = parser.parse_args()
    train = load(args.data / "scitldr_a_train.jsonl")
    dev = load(args.data / "scitldr_a_dev.jsonl")
    in_use = dict(takeaway._TLDR_WEIGHTS)
    fitted = fit(train, list(in_use))
    print(f"SciTLDR-A dev (not fitted on), n={len(dev)}: ROUGE-1/2/L F1 of the takeaway")
    for name, weights in (("weights in use", in_use), ("fitted on train", fitted)):
        r1, r2, rl = report(dev, weights)
        print(f"  {name:<16}{r1:>6.1f}{r2:>6.1f}{rl:>6.1f}")
    r1, r2, rl = report(train, fitted)
    print(f"SciTLDR-A train (fitted on), fitted weights: {r1:.1f} / {r2:.1f} / {rl:.1f}")
    print(json.dumps(fitted, indent=2))
    if args.write:
        path = DATA_DIR / "takeaway_weights.json"
        path.write_text(json.dumps(fitted, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
