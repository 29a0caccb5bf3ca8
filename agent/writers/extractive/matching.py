"""Question matching: which sentences of an abstract bear on a question, and how much.

A question becomes weighted content stems and word pairs (`parse_question`); an abstract's
sentences are ranked by how much of the question they cover, with related words (the data
files `related_words.txt`, `associated_words.txt`) counting part, acronyms the abstract
defines expanded, and a prior for each sentence's role (`rank_sentences`). The answer and
comparison writers choose their sentences with it; which papers bear on a question and their
evidence come from the calibrated relevance decision instead (`evidence.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass

from agent.state import SentenceRole
from agent.text import content_tokens, data_lines, numbers_in, split_sentences
from agent.writers.extractive.roles import classify_sentence
from agent.writers.extractive.weights import DATA_DIR, Weighting
from store.models import Paper
from store.tokens import stem, tokenize


def _term(word: str) -> str:
    """The term the shared tokenizer makes of one listed word (`chain-of-thought` whole)."""
    terms = tokenize(word)
    return terms[0] if terms else stem(word)


def _related_by_stem() -> dict[str, set[str]]:
    related: dict[str, set[str]] = {}
    for line in data_lines("related_words.txt", DATA_DIR):
        group = {_term(w) for w in line.split()}
        for term in group:
            related.setdefault(term, set()).update(group)
    return related


def _associated_by_stem(related: dict[str, set[str]]) -> dict[str, set[str]]:
    associated: dict[str, set[str]] = {}
    for line in data_lines("associated_words.txt", DATA_DIR):
        word, _, hints = line.partition(":")
        term = _term(word.strip())
        for served in related.get(term, {term}):
            associated.setdefault(served, set()).update(_term(w) for w in hints.split())
    return associated


_RELATED_BY_STEM = _related_by_stem()
_ASSOCIATED_BY_STEM = _associated_by_stem(_RELATED_BY_STEM)


def related_stems(term: str) -> set[str]:
    """Stems that mean the same as `term` in a question (`data/related_words.txt`)."""
    return _RELATED_BY_STEM.get(term, set())


_ROLE_PRIOR: dict[SentenceRole, float] = {
    "contribution": 0.2,
    "method": 0.12,
    "result": 0.16,
    "problem": 0.04,
    "other": 0.0,
}
_ACRONYM = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9]{1,9})\s*\)")


def acronyms_in(text: str) -> dict[str, list[str]]:
    """Acronyms an abstract defines, as stems: "diffusion language models (DLMs)" ->
    {"dlm": ["diffusion", "languag", "model"]}, so a sentence about "DLM decoding" is known
    to be about diffusion language models."""
    found: dict[str, list[str]] = {}
    for match in _ACRONYM.finditer(text):
        acronym = match.group(1)
        letters = [c for c in acronym.rstrip("s") if c.isalpha()]
        # The long form is the words right before the parenthesis, one per letter.
        candidates = re.findall(r"[^\W_]+", text[max(0, match.start() - 160) : match.start()])
        if len(letters) < 2 or len(candidates) < len(letters):
            continue
        long_form = candidates[-len(letters) :]
        if all(w[0].casefold() == c.casefold() for w, c in zip(long_form, letters, strict=True)):
            found[stem(acronym.casefold())] = [stem(w.casefold()) for w in long_form]
    return found


@dataclass
class Question:
    """A question as matching sees it: its content stems and adjacent word pairs, weighted."""

    terms: dict[str, float]  # stem -> weight
    pairs: dict[tuple[str, str], float]  # adjacent words naming one topic -> weight

    @property
    def total(self) -> float:
        return sum(self.terms.values()) + sum(self.pairs.values())


def parse_question(question: str, weights: Weighting | None) -> Question:
    def weight(term: str) -> float:
        # A term the corpus has never seen weighs as much as its rarest term: an unknown
        # word ("sourdough") is exactly what the papers cannot answer.
        return weights.weight(term) if weights is not None else 1.0

    terms: dict[str, float] = {}
    pairs: dict[tuple[str, str], float] = {}
    previous: str | None = None
    for _, token_terms in content_tokens(question, gaps=True):
        if not token_terms:
            previous = None  # a stop word or generic word ends a phrase
            continue
        for term in token_terms:
            terms[term] = weight(term)
        # A hyphenated name pairs with its neighbours by its whole term ("dkv-cach").
        term = token_terms[0]
        if previous is not None:
            pairs[(previous, term)] = (weight(previous) + weight(term)) / 2
        previous = term
    return Question(terms, pairs)


def _stem_sequence(text: str, acronyms: Mapping[str, list[str]]) -> list[str]:
    """Content terms of `text` in order (the shared tokenizer's; generic words kept), a
    defined acronym replaced by its long form."""
    sequence: list[str] = []
    for _, token_terms in content_tokens(text, drop_generic=False):
        for term in token_terms:
            sequence.extend(acronyms.get(term, [term]))
    if _RATIO.search(text):
        sequence.append(_SPEEDUP)  # "3.4x", "22.58times": a measured speed-up or ratio
    return sequence


_RATIO = re.compile(r"\d(?:\.\d+)?\s?(?:x|×|times|-fold)(?![a-z])", re.I)
_SPEEDUP = stem("speedup")


class Matcher:
    """Which of the question's terms and word pairs a text contains."""

    # Two question words count as the same phrase in a text when at most this many content
    # words apart ("diffusion large language models" has "diffusion ... language").
    window = 3

    def __init__(self, sequences: Iterable[list[str]]) -> None:
        self.stems: set[str] = set()
        # Each term's positions per sequence; word pairs are checked on demand, so building a
        # matcher stays linear in the text.
        self._positions: list[dict[str, list[int]]] = []
        for sequence in sequences:
            self.stems.update(sequence)
            positions: dict[str, list[int]] = {}
            for index, term in enumerate(sequence):
                positions.setdefault(term, []).append(index)
            self._positions.append(positions)

    def has_pair(self, pair: tuple[str, str]) -> bool:
        """Whether both words occur within `window` words of each other, either order."""
        a, b = pair
        if a not in self.stems or b not in self.stems:
            return False
        for positions in self._positions:
            pa, pb = positions.get(a), positions.get(b)
            if pa and pb and any(0 < abs(j - i) <= self.window for i in pa for j in pb):
                return True
        return False

    def coverage(self, question: Question, given: Set[str] = frozenset()) -> float:
        """Share of the question's weight this text covers. A related word counts 70%, a
        term in `given` (the paper's title, the context of every sentence) 50%, a hint 35%."""
        if not question.total:
            return 0.0
        covered = 0.0
        for term, weight in question.terms.items():
            if term in self.stems:
                covered += weight
            elif related_stems(term) & self.stems:
                covered += 0.7 * weight
            elif term in given:
                covered += 0.5 * weight
            elif _ASSOCIATED_BY_STEM.get(term, set()) & self.stems:
                covered += 0.35 * weight
        for pair, weight in question.pairs.items():
            if self.has_pair(pair):
                covered += weight
            elif set(pair) <= given:
                covered += 0.5 * weight
        return covered / question.total


@dataclass
class RankedSentence:
    """One abstract sentence as `rank_sentences` scores it."""

    index: int
    text: str
    role: SentenceRole
    overlap: float  # share of the question the sentence covers (title words count half)
    score: float  # overlap with the question's aspect, role prior and title echo


def rank_sentences(question: Question, paper: Paper) -> tuple[list[RankedSentence], Matcher]:
    """The abstract's sentences, best first, and a matcher over the whole paper."""
    acronyms = acronyms_in(paper.abstract)
    sentences = split_sentences(paper.abstract)
    sequences = [_stem_sequence(text, acronyms) for text in sentences]
    title_sequence = _stem_sequence(paper.title, acronyms)
    title_stems = set(title_sequence)
    # The title already places every sentence in the question's topic; what tells the
    # sentences apart is the rest of the question (for "how do they speed up diffusion
    # language models", the speed-up).
    aspect = Question(
        {t: w for t, w in question.terms.items() if t not in title_stems},
        {p: w for p, w in question.pairs.items() if not set(p) <= title_stems},
    )
    if not aspect.terms:
        aspect = question
    scored: list[RankedSentence] = []
    for index, (text, sequence) in enumerate(zip(sentences, sequences, strict=True)):
        role = classify_sentence(text)
        matcher = Matcher([sequence])
        overlap = matcher.coverage(question, title_stems)
        # Sentences that restate the title carry the paper's main point.
        title_share = len(title_stems & set(sequence)) / len(title_stems) if title_stems else 0.0
        score = matcher.coverage(aspect) + 0.15 * overlap + _ROLE_PRIOR[role] + 0.1 * title_share
        if role == "result" and numbers_in(text):
            score += 0.05  # a measured result is what "how much" questions want
        if index == len(sentences) - 1 and re.search(r"https?://|\bcode\b", text, re.I):
            score -= 0.3  # "Our code is available at ..." answers nothing
        scored.append(RankedSentence(index, text, role, overlap, score))
    scored.sort(key=lambda s: (-s.score, s.index))
    return scored, Matcher([title_sequence, *sequences])
