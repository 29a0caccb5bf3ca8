"""Which retrieved papers bear on a question, which of their sentences answer it, and when to
abstain: one calibrated decision from retrieval evidence.

Owns the offline relevance decision used by answers, comparisons, follow-ups and
recommendations. For a question and the papers search retrieved, each paper gets features that
any retrieval system has, none of them a word list:

- `paper_cosine`: cosine of the question's and the paper's embeddings (title + abstract);
- `sentence_cosine`, `second_sentence_cosine`: the best and second-best cosine of the question
  with one of the abstract's sentences (embedded once at ingest, `store/sentences.py`): a paper
  that answers the question has a sentence that says so;
- `lexical_share`: the paper's BM25 score as a share of the most any paper could score for the
  question (`Searcher.lexical_shares`): how much of the question's rare words it contains;
- `paper_gap`, `sentence_gap`: how far the paper is behind the best candidate on those two
  cosines (0 for the best): relevance is also relative to what the store has;
- `rank`: log of the paper's position in the retrieved list.

Two logistic models (`RelevanceModel`, fitted weights in `agent/data/relevance.json`) turn them
into the decision:

- the evidence model: from a paper's absolute features alone, the probability that the store
  answers the question with it. A paper bears on the question only when this reaches
  `answer_at`; when no paper's does, the agent abstains and names the papers that came closest;
- the ranking model: from all the features, the log-odds that the paper is the one the question
  is about. Of the papers that clear `answer_at`, those whose log-odds trail the best
  candidate's by at most `keep_within` are kept, best first: a question about one paper keeps
  that paper, a broad question on which several papers are alike keeps them all.

Both models and the two thresholds were fitted by `bench/bench_relevance.py` on SciTLDR-A train
(each paper's TLDR, and the TLDR without the title's words, as questions whose paper is known;
150 out-of-domain questions as questions the store cannot answer; TLDRs of papers held out of
the store as in-domain questions it lacks) and are reported on SciTLDR-A dev with the other 150
out-of-domain questions: see BENCHMARKS.md.

The weights are specific to the embedder they were fitted with (cosines of two models live on
different scales). `model_for(embedder_name)` returns the model fitted for that embedder when
the data file has one (the bundled MiniLM embedder has), else the MiniLM model: a documented
approximation for other embedders until `bench/bench_relevance.py --write-model` is run with
them, which adds their own.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
from pydantic import BaseModel, Field

from store.models import Paper
from store.sentences import PaperSentences

FEATURES: tuple[str, ...] = (
    "paper_cosine",
    "sentence_cosine",
    "second_sentence_cosine",
    "lexical_share",
    "paper_gap",
    "sentence_gap",
    "rank",
)
# What a paper's own evidence says, whatever else was retrieved: the answerability model's inputs.
ABSOLUTE_FEATURES: tuple[str, ...] = FEATURES[:4]


class LogisticModel(BaseModel):
    """A logistic model over named, standardised features."""

    features: list[str]
    weights: list[float]
    bias: float
    mean: list[float]
    scale: list[float]

    def log_odds(self, features: dict[str, float]) -> float:
        total = self.bias
        for name, weight, mean, scale in zip(
            self.features, self.weights, self.mean, self.scale, strict=True
        ):
            total += weight * (features[name] - mean) / scale
        return total


class RelevanceModel(BaseModel):
    """The fitted models and thresholds of the relevance decision (see the module docstring)."""

    embedder: str = Field(description="The embedder whose cosines the models were fitted on")
    evidence: LogisticModel = Field(
        description="P(the store answers the question) from one paper's absolute features"
    )
    ranking: LogisticModel = Field(
        description="P(a paper is the question's answer paper), relative features included"
    )
    answer_at: float = Field(description="Evidence probability a paper needs to bear on it")
    keep_within: float = Field(description="Ranking log-odds a kept paper may trail the best by")
    fitted_on: str = ""


def probability(log_odds: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, log_odds))))


MODEL_FILE = "data/relevance.json"


@lru_cache(maxsize=1)
def fitted_models() -> dict[str, RelevanceModel]:
    """The models fitted by bench/bench_relevance.py, by embedder name (package data)."""
    text = resources.files("agent").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    raw = json.loads(text)
    return {name: RelevanceModel.model_validate(model) for name, model in raw.items()}


def model_for(embedder_name: str) -> RelevanceModel:
    """The model fitted for this embedder, else the first in the file (the bundled default
    embedder's)."""
    models = fitted_models()
    return models.get(embedder_name) or next(iter(models.values()))


@dataclass(frozen=True)
class SentenceMatch:
    """One abstract sentence and its cosine with the question."""

    index: int
    text: str
    cosine: float


@dataclass(frozen=True)
class PaperRelevance:
    """The evidence that one paper bears on the question."""

    paper: Paper
    features: dict[str, float]
    evidence: float  # probability that this paper's evidence answers the question
    log_odds: float  # ranking log-odds: is this the paper the question is about
    sentences: list[SentenceMatch]  # best first


@dataclass(frozen=True)
class Assessment:
    """The relevance decision for one question over the retrieved papers."""

    question: str
    ranked: list[PaperRelevance]  # every candidate, most probable first
    bearing: list[PaperRelevance]  # the ones that bear on the question, most probable first
    model: RelevanceModel = field(repr=False)

    @property
    def abstain(self) -> bool:
        return not self.bearing

    @property
    def closest(self) -> list[PaperRelevance]:
        """The candidates that came closest, for an abstention to name (at most three)."""
        return self.ranked[:3]

    def by_id(self) -> dict[str, PaperRelevance]:
        return {r.paper.id: r for r in self.ranked}


@dataclass
class RelevanceJudge:
    """Computes the evidence and applies the model. Every input is injected: the question
    embedder, the papers' stored vectors, their sentence vectors and the BM25 shares."""

    embed: Callable[[Sequence[str]], np.ndarray]
    paper_vectors: Callable[[list[str]], np.ndarray]
    sentence_vectors: Callable[[Sequence[Paper]], list[PaperSentences]]
    lexical_shares: Callable[[str, list[str]], dict[str, float]]
    model: RelevanceModel
    _question_vectors: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def question_vector(self, question: str) -> np.ndarray:
        """The question's embedding; the few most recent are kept (grading, then each paper's
        evidence, ask about the same question)."""
        vector = self._question_vectors.get(question)
        if vector is None:
            vector = np.asarray(self.embed([question])[0], dtype=np.float32)
            if len(self._question_vectors) >= 32:
                self._question_vectors.pop(next(iter(self._question_vectors)))
            self._question_vectors[question] = vector
        return vector

    def features(
        self, question: str, papers: Sequence[Paper], queries: Sequence[str] = ()
    ) -> tuple[list[dict[str, float]], list[list[SentenceMatch]]]:
        """Each paper's feature values and its sentences ranked by cosine with the question.

        `papers` are in retrieval order; when they merge the results of several search
        `queries` round-robin (as the graph does), position p stands for rank p // len(queries)
        in the search that found it, which is what `rank` was calibrated on. Each row also has
        `query_lexical_share`, the best BM25 share over the question and those queries."""
        if not papers:
            return [], []
        ids = [p.id for p in papers]
        query = self.question_vector(question)
        paper_cos = np.asarray(self.paper_vectors(ids), dtype=np.float32) @ query
        shares = self.lexical_shares(question, ids)
        query_shares = [self.lexical_shares(q, ids) for q in queries if q != question]
        matches: list[list[SentenceMatch]] = []
        best_sentence: list[float] = []
        second_sentence: list[float] = []
        for entry in self.sentence_vectors(papers):
            cosines = entry.vectors @ query if len(entry.sentences) else np.zeros(0)
            order = sorted(range(len(cosines)), key=lambda i: (-float(cosines[i]), i))
            ranked = [SentenceMatch(i, entry.sentences[i], float(cosines[i])) for i in order]
            matches.append(ranked)
            best_sentence.append(ranked[0].cosine if ranked else 0.0)
            second_sentence.append(ranked[1].cosine if len(ranked) > 1 else best_sentence[-1])
        top_paper = float(paper_cos.max())
        top_sentence = max(best_sentence)
        rows = []
        for index, pid in enumerate(ids):
            rows.append(
                {
                    "paper_cosine": float(paper_cos[index]),
                    "sentence_cosine": best_sentence[index],
                    "second_sentence_cosine": second_sentence[index],
                    "lexical_share": float(shares.get(pid, 0.0)),
                    "paper_gap": top_paper - float(paper_cos[index]),
                    "sentence_gap": top_sentence - best_sentence[index],
                    "rank": math.log(index // max(1, len(queries)) + 1),
                    "query_lexical_share": max(
                        [float(shares.get(pid, 0.0))]
                        + [float(more.get(pid, 0.0)) for more in query_shares]
                    ),
                }
            )
        return rows, matches

    def assess(
        self,
        question: str,
        papers: Sequence[Paper],
        max_papers: int = 8,
        queries: Sequence[str] = (),
        *,
        whole_topic: bool = False,
    ) -> Assessment:
        """Score `papers` (in retrieval order, the results of the search `queries` merged) for
        `question` and decide which bear on it. The evidence model sees the question's own BM25
        share (an expansion query must not make an unanswerable question look answerable); the
        ranking model the best share over the queries the agent searched with, so a paper found
        by the expansion ("accelerate" for "speed up") is ranked on the words it matched."""
        rows, matches = self.features(question, papers, queries)
        scored = [
            PaperRelevance(
                paper,
                row,
                probability(self.model.evidence.log_odds(row)),
                self.model.ranking.log_odds({**row, "lexical_share": row["query_lexical_share"]}),
                sentences,
            )
            for paper, row, sentences in zip(papers, rows, matches, strict=True)
        ]
        ranked = sorted(scored, key=lambda r: -r.log_odds)
        bearing = decide(ranked, self.model, max_papers, whole_topic=whole_topic)
        return Assessment(question, ranked, bearing, self.model)


def decide(
    ranked: Sequence[PaperRelevance],
    model: RelevanceModel,
    max_papers: int,
    *,
    whole_topic: bool = False,
) -> list[PaperRelevance]:
    """The papers that bear on the question, in ranking order; empty to abstain.

    A paper bears on the question when its own evidence clears `answer_at` and its ranking
    log-odds trail the best candidate's by at most `keep_within`. With `whole_topic` (a
    comparison asks for the papers on a topic, not the one that answers a question; the margin
    was calibrated on questions about one paper) the margin does not apply.
    """
    if not ranked:
        return []
    best = max(r.log_odds for r in ranked)
    margin = math.inf if whole_topic else model.keep_within
    kept = [r for r in ranked if r.evidence >= model.answer_at and best - r.log_odds <= margin]
    return kept[:max_papers]
