"""Takeaways: a paper's main point, its key result, and its one-sentence takeaway (`tldr`).

`main_point` is the one picker of the sentence that states what a paper does: answers,
comparison rows and recommendation reasons use it. `tldr` scores every sentence with weights
fitted on SciTLDR-A (`data/takeaway_weights.json`, see `_TLDR_WEIGHTS`) and shortens the best.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Set

from agent.text import content_stems, split_sentences
from agent.writers.extractive.matching import Question, parse_question, rank_sentences
from agent.writers.extractive.roles import NUMERIC_CLAIM, classify_sentence
from agent.writers.extractive.shorten import shorten
from agent.writers.extractive.weights import DATA_DIR
from store.models import Paper


def key_result(paper: Paper, question: Question, exclude: Set[str] = frozenset()) -> str | None:
    """The paper's headline result for the question: a result sentence, one with figures
    first, then the best match; None when the abstract states no result."""
    ranked, _ = rank_sentences(question, paper)
    results = [s for s in ranked if s.role == "result" and s.text not in exclude]
    if not results:
        return None
    return max(
        results, key=lambda s: (s.score + (0.6 if NUMERIC_CLAIM.search(s.text) else 0.0), -s.index)
    ).text


def main_point(paper: Paper, question: Question | str = "") -> str | None:
    """The contribution or method sentence that best matches the question (a string is
    matched word for word, every word weighing the same), else the best matching sentence;
    verbatim. The one picker of a paper's main point: answers, comparison rows and
    recommendation reasons all use it."""
    if isinstance(question, str):
        question = parse_question(question, None)
    ranked, _ = rank_sentences(question, paper)
    for sentence in ranked:
        # A rhetorical question ("Should we ...?") states no contribution.
        if sentence.role in ("contribution", "method") and not sentence.text.endswith("?"):
            return sentence.text
    return ranked[0].text if ranked else None


# The takeaway sentence is the one with the highest linear score over these features. The
# weights come from a ridge regression (lambda 20) predicting, for each sentence of the
# SciTLDR-A train abstracts, the ROUGE-1 F1 of its shortened form against the author's TLDR
# (`bench/fit_takeaway.py`); on dev, never fitted on, the takeaways score 38.1 ROUGE-1 F1
# (the former weights, fitted on dev itself, 38.2). Title overlap (as recall and as
# precision), centrality, moderate length and "in this paper" / "we propose" cues matter most.
_TLDR_WEIGHTS: dict[str, float] = json.loads(
    (DATA_DIR / "takeaway_weights.json").read_text(encoding="utf-8")
)
_WE_SUBJECT = re.compile(r"^(?:[^,]{0,100},\s*)?we\b", re.I)
_PROPOSE = re.compile(r"\b(?:propose|introduce|present)\w*", re.I)
_SHOW = re.compile(r"\b(?:show|demonstrate|find)\w*", re.I)
_CODE_NOTE = re.compile(r"https?://|\bcode\b|\bavailable\b", re.I)
_THIS_PAPER = re.compile(r"\b(?:this paper|this work|in this paper|here)\b", re.I)


def _bigrams(sequence: list[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(sequence))


def sentence_features(paper: Paper) -> list[tuple[dict[str, float], str, str]]:
    """(features, sentence, shortened sentence) for every sentence of the abstract: what the
    takeaway score weighs (`_TLDR_WEIGHTS`), and what `bench/fit_takeaway.py` fits them on."""
    sentences = split_sentences(paper.abstract)
    title_sequence = content_stems(paper.title, drop_generic=False)
    title, title_pairs = set(title_sequence), _bigrams(title_sequence)
    sequences = [content_stems(s, drop_generic=False) for s in sentences]
    sets = [set(q) for q in sequences]
    document_frequency = Counter(t for group in sets for t in group)
    last = len(sentences) - 1
    candidates = []
    for index, (text, terms, sequence) in enumerate(zip(sentences, sets, sequences, strict=True)):
        short = shorten(text, max_words=_TLDR_WORDS, keep_numbers=False)
        words_short = len(short.split())
        rest = Counter(t for j, group in enumerate(sets) if j != index for t in group)
        norm = math.sqrt(len(terms)) * math.sqrt(sum(v * v for v in rest.values()))
        role = classify_sentence(text)
        features = {
            "title_recall": len(title & terms) / len(title) if title else 0.0,
            "title_precision": len(title & terms) / (len(terms) + 2),
            "title_bigrams": len(title_pairs & _bigrams(sequence)) / (len(title_pairs) + 1),
            "centrality": sum(rest[t] for t in terms) / norm if norm else 0.0,
            "echo": sum(1 for t in terms if document_frequency[t] > 1) / (len(terms) + 2),
            "contribution": role == "contribution",
            "method": role == "method",
            "result": role == "result",
            "problem": role == "problem",
            "position": index / max(1, last),
            "first": index == 0,
            "last": index == last and last > 0,
            "second": index == 1,
            "length": min(words_short, 60) / 60,
            "too_short": words_short < 8,
            "too_long": words_short > 35,
            "we": bool(re.search(r"\bwe\b", text, re.I)),
            "we_subject": bool(_WE_SUBJECT.match(text)),
            "propose": bool(_PROPOSE.search(text)),
            "show": bool(_SHOW.search(text)),
            "code": bool(_CODE_NOTE.search(text)),
            "this_paper": bool(_THIS_PAPER.search(text)),
            "digit": bool(re.search(r"\d", text)),
        }
        candidates.append(({name: float(value) for name, value in features.items()}, text, short))
    return candidates


def _tldr_candidates(paper: Paper) -> list[tuple[float, str, str]]:
    """(score, sentence, shortened sentence) for every sentence of the abstract."""
    return [
        (sum(_TLDR_WEIGHTS[name] * value for name, value in features.items()), text, short)
        for features, text, short in sentence_features(paper)
    ]


_TLDR_WORDS = 30


def tldr(paper: Paper) -> str:
    """A one-sentence takeaway: the abstract's main-claim sentence, shortened.

    The sentence is chosen by how much of the title it restates, how much of the rest of the
    abstract it echoes, its role and cues ("in this paper", "we propose") and its length (see
    `_TLDR_WEIGHTS`); then its lead-in, parentheticals, an enumerated list after a colon and
    trailing elaborating clauses are cut (`shorten`), so every word of the takeaway is the
    abstract's own, in order. 38.1 ROUGE-1 F1 on SciTLDR-A dev (bench/bench_tldr.py), with
    weights fitted on train (bench/fit_takeaway.py).
    """
    candidates = _tldr_candidates(paper)
    # A question ("... how can we best use offline data?") is not a takeaway.
    candidates = [c for c in candidates if not c[1].endswith("?")] or candidates
    if not candidates:
        return paper.title
    best = max(candidates, key=lambda item: item[0])
    return best[2]
