"""BM25 (Okapi) over each paper's title and abstract: the lexical half of hybrid search.

Tokens are lower-cased runs of letters and digits, English stop words dropped, and a light
plural stemmer (`models` -> `model`, `studies` -> `study`) so that singular and plural meet. No
heavier stemming: abstracts are full of acronyms and model names (`LLaMA`, `GRPO`, `ViTs`) that
aggressive suffix stripping would conflate. Exact rare terms such as those are what BM25
contributes next to the dense retriever.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from store.models import Paper

_TOKEN = re.compile(r"[^\W_]+")

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very via was we
    were what when where which while who whom why will with would you your yours yourself
    yourselves us using use used based paper propose proposed show shows
    """.split()  # noqa: SIM905 - a word list reads better as prose
)


def stem(token: str) -> str:
    """Light plural stemming only; leaves short tokens and `-ss`/`-us`/`-is` words alone."""
    if len(token) <= 3 or not token.endswith("s"):
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith(("ss", "us", "is")):
        return token
    return token[:-1]


def tokenize(text: str) -> list[str]:
    """The index terms of `text`: lower case, stop words dropped, plurals folded."""
    return [stem(tok) for tok in _TOKEN.findall(text.casefold()) if tok not in STOPWORDS]


class BM25Index:
    """An in-memory Okapi BM25 index over a fixed list of papers."""

    def __init__(self, papers: Sequence[Paper], k1: float = 1.5, b: float = 0.75) -> None:
        self.ids = [paper.id for paper in papers]
        self.k1 = k1
        self.b = b
        postings: dict[str, list[tuple[int, int]]] = {}
        lengths = np.zeros(len(papers), dtype=np.float32)
        for doc, paper in enumerate(papers):
            terms = tokenize(f"{paper.title} {paper.abstract}")
            lengths[doc] = len(terms)
            for term, tf in Counter(terms).items():
                postings.setdefault(term, []).append((doc, tf))
        self._lengths = lengths
        avgdl = float(lengths.mean()) if len(papers) else 1.0
        self._norm = k1 * (1.0 - b + b * lengths / max(avgdl, 1e-9))
        n = len(papers)
        self._postings: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
        for term, rows in postings.items():
            docs = np.fromiter((doc for doc, _ in rows), dtype=np.int64, count=len(rows))
            tfs = np.fromiter((tf for _, tf in rows), dtype=np.float32, count=len(rows))
            df = len(rows)
            # The "+1" form of IDF (Lucene's) stays positive for terms in over half the corpus.
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            self._postings[term] = (docs, tfs, idf)

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for `query` (0 where no query term occurs)."""
        scores = np.zeros(len(self.ids), dtype=np.float32)
        for term in set(tokenize(query)):
            entry = self._postings.get(term)
            if entry is None:
                continue
            docs, tfs, idf = entry
            scores[docs] += idf * tfs * (self.k1 + 1.0) / (tfs + self._norm[docs])
        return scores

    def top(self, query: str, n: int, allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The n best (id, score) for `query` among documents where `allowed` is True.

        Only documents that share at least one term with the query are returned.
        """
        scores = self.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        matching = np.flatnonzero(scores > 0)
        if len(matching) == 0 or n <= 0:
            return []
        if len(matching) > n:
            part = np.argpartition(-scores[matching], n - 1)[:n]
            matching = matching[part]
        # Ties broken by position so results are stable across runs.
        order = sorted(matching.tolist(), key=lambda doc: (-float(scores[doc]), doc))
        return [(self.ids[doc], float(scores[doc])) for doc in order]
