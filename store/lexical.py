"""BM25 (Okapi) over each paper's title and abstract: the lexical half of hybrid search.

Tokens are lower-cased runs of letters and digits, English stop words dropped, and a light
plural stemmer (`models` -> `model`, `studies` -> `study`) so that singular and plural meet. No
heavier stemming: abstracts are full of acronyms and model names (`LLaMA`, `GRPO`, `ViTs`) that
aggressive suffix stripping would conflate. Exact rare terms such as those are what BM25
contributes next to the dense retriever.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from store.models import Paper

_TOKEN = re.compile(r"[^\W_]+")
# Papers tokenised together while the index is built (bounds the token strings in memory).
_BLOCK = 2000

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
    """An in-memory Okapi BM25 index over a fixed list of papers.

    Postings are kept as numpy arrays in compressed sparse row form (one row per term), built
    without a Python object per posting: a 100k-paper index fits in tens of megabytes.
    """

    def __init__(self, papers: Sequence[Paper], k1: float = 1.5, b: float = 0.75) -> None:
        self.ids = [paper.id for paper in papers]
        self.k1 = k1
        self.b = b
        self._vocab: dict[str, int] = {}
        n_docs = len(papers)
        # Tokenise a block of papers, then map each distinct spelling to a term id once: the
        # per-token work stays inside C (regex, dict lookups through map, numpy), and only one
        # block's token strings are alive at a time.
        term_of: dict[str, int] = {}
        blocks: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        raw_lengths = np.zeros(n_docs, dtype=np.int64)
        for first in range(0, n_docs, _BLOCK):
            tokens: list[str] = []
            for doc in range(first, min(n_docs, first + _BLOCK)):
                paper = papers[doc]
                found = _TOKEN.findall(f"{paper.title} {paper.abstract}".casefold())
                tokens.extend(found)
                raw_lengths[doc] = len(found)
            for token in dict.fromkeys(tokens):
                if token not in term_of:
                    term_of[token] = (
                        -1
                        if token in STOPWORDS
                        else self._vocab.setdefault(stem(token), len(self._vocab))
                    )
            blocks.append(
                np.fromiter(map(term_of.__getitem__, tokens), dtype=np.int64, count=len(tokens))
            )
        term_ids = np.concatenate(blocks)
        docs = np.repeat(np.arange(n_docs, dtype=np.int64), raw_lengths)
        kept = term_ids >= 0
        term_ids, docs = term_ids[kept], docs[kept]
        lengths = np.bincount(docs, minlength=n_docs).astype(np.float32)
        n_terms = len(self._vocab)
        keys = term_ids * max(n_docs, 1) + docs
        unique, counts = np.unique(keys, return_counts=True)  # sorted by term, then doc
        posting_terms = unique // max(n_docs, 1)
        self._docs = (unique % max(n_docs, 1)).astype(np.int32)
        self._tfs = counts.astype(np.float32)
        self._indptr = np.searchsorted(posting_terms, np.arange(n_terms + 1))
        df = np.diff(self._indptr).astype(np.float64)
        # The "+1" form of IDF (Lucene's) stays positive for terms in over half the corpus.
        self._idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
        avgdl = float(lengths.mean()) if n_docs else 1.0
        self._norm = k1 * (1.0 - b + b * lengths / max(avgdl, 1e-9))

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for `query` (0 where no query term occurs)."""
        scores = np.zeros(len(self.ids), dtype=np.float32)
        for token in set(tokenize(query)):
            term = self._vocab.get(token)
            if term is None:
                continue
            lo, hi = self._indptr[term], self._indptr[term + 1]
            docs, tfs = self._docs[lo:hi], self._tfs[lo:hi]
            scores[docs] += self._idf[term] * tfs * (self.k1 + 1.0) / (tfs + self._norm[docs])
        return scores

    def max_score(self, query: str) -> float:
        """The most BM25 score any document could get for `query`: the sum over its indexed terms
        of idf * (k1 + 1), the limit of a term's weight as its frequency in a document grows."""
        terms = {self._vocab[t] for t in set(tokenize(query)) if t in self._vocab}
        return float(sum(self._idf[t] for t in terms)) * (self.k1 + 1.0)

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
