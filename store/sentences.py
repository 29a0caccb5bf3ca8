"""Sentence vectors: every abstract's sentences embedded once and cached by content hash.

Owns the sentence-level half of the relevance evidence: which sentence of an abstract is closest
to a question is what tells a paper that answers it from one that shares its topic. Ingest calls
`SentenceVectors.ensure` on the papers it writes, so the sentences are embedded once, next to
the paper's own vector; at question time `for_papers` reads them back from the same SQLite
embedding cache (`store/embed_cache.py`). A sentence's key is the hash of its text, so a
re-ingested abstract whose sentences did not change embeds nothing, and the same sentence in two
papers is embedded once. A store ingested before sentences were embedded (or written by another
process) is filled in lazily, the first time its papers are read.

The sentence splitter is injected (the agent passes `agent.text.split_sentences`): `store/`
never imports `agent/`, and the sentences embedded are exactly the sentences the writer quotes.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from store.embeddings import Embedder
from store.models import Paper, normalise_text

SentenceSplitter = Callable[[str], list[str]]

# Keys of sentence vectors in the embedding cache; a paper's key is a bare hex digest, so the
# two never meet.
_KEY_PREFIX = "sentence:"
# Papers whose sentence vectors are kept in memory between questions (about 12 KB each).
_MEMORY_PAPERS = 4096


class VectorCache(Protocol):
    """What sentence vectors need of the embedding cache (`store.embed_cache.EmbeddingCache`)."""

    def get_many(self, embedder_name: str, hashes: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put_many(self, embedder_name: str, vectors: dict[str, np.ndarray]) -> None: ...


def sentence_key(text: str) -> str:
    """The cache key of one sentence's vector: a hash of its normalised text."""
    digest = hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()
    return _KEY_PREFIX + digest


@dataclass(frozen=True)
class PaperSentences:
    """One abstract's sentences, in order, and their vectors (row i is sentence i)."""

    paper_id: str
    sentences: tuple[str, ...]
    vectors: np.ndarray  # (len(sentences), dim) float32, L2-normalised


class SentenceVectors:
    """Sentence vectors of papers, from the embedding cache, embedding what it lacks."""

    def __init__(self, cache: VectorCache, embedder: Embedder, split: SentenceSplitter) -> None:
        self.cache = cache
        self.embedder = embedder
        self.split = split
        self._memory: OrderedDict[str, PaperSentences] = OrderedDict()

    def sentences_of(self, paper: Paper) -> list[str]:
        return [s for s in self.split(paper.abstract) if s.strip()]

    def ensure(self, papers: Sequence[Paper]) -> int:
        """Embed and cache the sentences of `papers` not cached yet; returns how many were."""
        keys = {sentence_key(s): s for paper in papers for s in self.sentences_of(paper)}
        if not keys:
            return 0
        cached = self.cache.get_many(self.embedder.name, list(keys))
        missing = [key for key in keys if key not in cached]
        if missing:
            self._embed([keys[key] for key in missing], missing)
        return len(missing)

    def for_papers(self, papers: Sequence[Paper]) -> list[PaperSentences]:
        """Each paper's sentences with their vectors, in the order of `papers`."""
        result: dict[str, PaperSentences] = {}
        wanted: list[tuple[Paper, list[str], list[str]]] = []
        for paper in papers:
            known = self._memory.get(_memory_key(paper))
            if known is not None:
                self._memory.move_to_end(_memory_key(paper))
                result[_memory_key(paper)] = known
                continue
            sentences = self.sentences_of(paper)
            wanted.append((paper, sentences, [sentence_key(s) for s in sentences]))
        if wanted:
            all_keys = list(dict.fromkeys(k for _, _, keys in wanted for k in keys))
            vectors = self.cache.get_many(self.embedder.name, all_keys) if all_keys else {}
            missing = [k for k in all_keys if k not in vectors]
            if missing:
                text_of = {
                    k: s
                    for _, sentences, keys in wanted
                    for s, k in zip(sentences, keys, strict=True)
                }
                vectors.update(self._embed([text_of[k] for k in missing], missing))
            for paper, sentences, keys in wanted:
                matrix = (
                    np.stack([vectors[k] for k in keys]).astype(np.float32)
                    if keys
                    else np.zeros((0, self.embedder.dim), dtype=np.float32)
                )
                entry = PaperSentences(paper.id, tuple(sentences), matrix)
                result[_memory_key(paper)] = entry
                self._remember(_memory_key(paper), entry)
        return [result[_memory_key(paper)] for paper in papers]

    def _embed(self, texts: list[str], keys: list[str]) -> dict[str, np.ndarray]:
        fresh = np.asarray(self.embedder.embed(texts), dtype=np.float32)
        if fresh.shape != (len(texts), self.embedder.dim):
            raise ValueError(
                f"embedder {self.embedder.name!r} returned shape {fresh.shape} for {len(texts)} "
                f"sentences, expected ({len(texts)}, {self.embedder.dim})"
            )
        new = dict(zip(keys, fresh, strict=True))
        self.cache.put_many(self.embedder.name, new)
        return new

    def _remember(self, key: str, entry: PaperSentences) -> None:
        self._memory[key] = entry
        self._memory.move_to_end(key)
        while len(self._memory) > _MEMORY_PAPERS:
            self._memory.popitem(last=False)


def _memory_key(paper: Paper) -> str:
    return f"{paper.id}:{paper.content_hash}"
