"""Word weights: how much a question word counts when matching it against abstracts.

A word common in paper abstracts ("model", "language") says less about what a question asks
than a rare one ("speculative", "sourdough"). The weight is the word's idf over a reference set
of abstracts; a word the reference has never seen weighs as much as its rarest word, since an
unknown word is exactly what the papers may not answer. The bundled table
(`data/word_weights.tsv`) is the idf over the bundled sample page (`store/data/`, 84 recent ML
abstracts); `WordWeights.from_texts` builds one from any other set of abstracts, and
`python -m agent.writers.extractive.weights` rewrites the bundled table.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from agent.text import content_stems, data_lines

DATA_DIR = Path(__file__).with_name("data")
BUNDLED = DATA_DIR / "word_weights.tsv"
_UNSEEN = "(unseen)"


class Weighting(Protocol):
    """Anything that weighs a term: `WordWeights`, or `agent.text.TermStats` of a paper set."""

    def weight(self, term: str) -> float: ...


@dataclass(frozen=True)
class WordWeights:
    """Single-term weights, keyed by the shared tokenizer's terms (`store.tokens`: Snowball
    stems, hyphenated names and figures whole)."""

    idf: Mapping[str, float]
    unseen: float

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.unseen)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> WordWeights:
        """The idf of every term a question can weigh (`agent.text.content_stems`: words,
        hyphenated names and their parts, figures) over `texts`, one text per paper
        (title. abstract); the same smoothed idf as `TermStats`."""
        documents = [set(content_stems(text, drop_generic=False)) for text in texts]
        df = Counter(term for terms in documents for term in terms)
        n = len(documents)
        idf = {term: math.log((1 + n) / (1 + count)) + 1.0 for term, count in df.items()}
        return cls(idf=idf, unseen=math.log((1 + n) / 2) + 1.0 if n else 1.0)

    def to_tsv(self) -> str:
        lines = [f"{term}\t{weight!r}" for term, weight in sorted(self.idf.items())]
        header = (
            "# Word weights (idf over the bundled sample page); written by\n"
            "# `python -m agent.writers.extractive.weights`. One `term<TAB>weight` a line.\n"
        )
        return header + f"{_UNSEEN}\t{self.unseen!r}\n" + "\n".join(lines) + "\n"

    @classmethod
    def from_tsv(cls, path: Path) -> WordWeights:
        idf: dict[str, float] = {}
        for number, line in enumerate(data_lines(path.name, path.parent), start=1):
            term, sep, value = line.partition("\t")
            try:
                idf[term] = float(value)
            except ValueError:
                sep = ""
            if not sep:
                raise ValueError(f"{path}: data line {number}: expected `term<TAB>weight`")
        unseen = idf.pop(_UNSEEN, max(idf.values(), default=1.0))
        return cls(idf=idf, unseen=unseen)


@lru_cache(maxsize=1)
def bundled_word_weights() -> WordWeights:
    """The bundled table: word weights over the sample page's abstracts."""
    return WordWeights.from_tsv(BUNDLED)


def main() -> int:
    """Rewrite the bundled table from the bundled sample page."""
    from store.models import Paper
    from store.sources import load_source, sample_corpus_path

    papers = [p for p in load_source(str(sample_corpus_path())) if isinstance(p, Paper)]
    weights = WordWeights.from_texts(f"{p.title}. {p.abstract}" for p in papers)
    BUNDLED.write_text(weights.to_tsv(), encoding="utf-8")
    print(f"wrote {len(weights.idf)} word weights to {BUNDLED}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
