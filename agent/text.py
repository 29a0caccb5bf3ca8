"""Plain-text machinery shared by the offline writer, the verifier and the briefing themes.

Owns: sentence splitting tuned to paper abstracts (every sentence is a verbatim slice of its
input, so a quoted sentence can always be found again in the abstract), the writer's view of
words on top of the one shared tokenizer (`store.tokens`: Snowball stems, numbers and
hyphenated names kept whole): which tokens carry content (stop words and generic research
words left out), the figures a text states (`numbers_in`, which the verifier compares), and
term statistics (tf-idf over a set of papers) that find what a set of papers shares and what
sets one paper apart.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from store import tokens
from store.tokens import stem

DATA_DIR = Path(__file__).with_name("data")


def data_lines(name: str, directory: Path = DATA_DIR) -> list[str]:
    """The lines of the data file `directory/name`, stripped; blank lines and lines that start
    with `#` (comments) left out. Word lists are data, edited without touching code."""
    text = (directory / name).read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def word_list(name: str, directory: Path = DATA_DIR) -> frozenset[str]:
    """The words of a data file of one word a line (see `data_lines`)."""
    return frozenset(data_lines(name, directory))


# Words after which a period does not end a sentence. Lower-cased, without the period.
_ABBREVIATIONS = word_list("abbreviations.txt")
# After these, a period ends the sentence only when a typical sentence opener follows
# ("... and so on, etc. We ..."), because "et al. (2020)" and "etc.) and" are the common case.
_SOFT_ABBREVIATIONS = frozenset({"etc", "al"})
# A capitalised word that nearly always opens a sentence; used to resolve ambiguous periods
# after initials and soft abbreviations.
_OPENERS = word_list("sentence_openers.txt")

_TERMINATOR = re.compile(r"[.!?]+[\"'”’)\]]*")
_URLISH = re.compile(r"(?:https?://|www\.|\w\.(?:com|org|io|ai|net|edu)\b|/)", re.I)
_INITIALS = re.compile(r"^(?:[A-Z]|(?:[A-Za-z]\.)+[A-Za-z])$")


def _token_before(text: str, end: int) -> str:
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:end]


def _opens_sentence(rest: str) -> bool:
    """Whether `rest` (text right after a terminator and its space) can start a sentence."""
    if not rest:
        return False
    first = rest[0]
    if first.isupper() or first.isdigit() or first in "\"'“‘`[(":
        return True
    # Lower-case names such as "dKV-Cache", "iNLP" or "dLLMs" start sentences in abstracts.
    return bool(re.match(r"[a-z]{1,2}[A-Z]", rest))


def _first_word(rest: str) -> str:
    match = re.match(r"[\"'“‘(\[]*([^\W\d_]+)", rest)
    return match.group(1).casefold() if match else ""


def _is_boundary(text: str, term_start: int, term_end: int) -> bool:
    """Whether the terminator text[term_start:term_end] ends a sentence."""
    after = text[term_end:]
    glued = bool(after) and not after[0].isspace()
    rest = after.lstrip()
    if not rest:
        return True
    mark = text[term_start]
    before = _token_before(text, term_start)
    if glued:
        # "contributions.First we ...": a period glued to a capitalised word. Only between a
        # real lower-case word and a capitalised word, never inside URLs, file names or
        # versions ("github.com/Foo", "Node.js", "v1.5", "e.g.GPT").
        if mark != "." or _URLISH.search(before) or before.casefold().rstrip(".") in _ABBREVIATIONS:
            return False
        if not re.fullmatch(r"[\w\-]*[a-z]{2}[)\"'”’\]]*", before):
            return False
        return bool(re.match(r"[A-Z][a-z]+\b", rest))
    if not _opens_sentence(rest):
        return False
    if mark != ".":
        return True
    core = before.lstrip("(\"'“‘[").casefold()
    if core in _SOFT_ABBREVIATIONS:
        return _first_word(rest) in _OPENERS and rest[0].isupper()
    if core in _ABBREVIATIONS or core.rstrip(".") in _ABBREVIATIONS:
        return False
    if _INITIALS.match(before.lstrip("(\"'“‘[")):
        # "J. Smith" or "U.S. Army" rather than a sentence that ends in a one-letter name.
        return _first_word(rest) in _OPENERS and rest[0].isupper()
    return True


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of `text`, leading/trailing space excluded."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _TERMINATOR.finditer(text):
        if _is_boundary(text, match.start(), match.end()):
            spans.append((start, match.end()))
            start = match.end()
    spans.append((start, len(text)))
    result = []
    for begin, end in spans:
        while begin < end and text[begin].isspace():
            begin += 1
        while end > begin and text[end - 1].isspace():
            end -= 1
        if begin < end:
            result.append((begin, end))
    return result


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, each a verbatim slice of it.

    Robust to what abstracts contain: abbreviations ("e.g.", "i.e.", "et al.", "Fig. 2"),
    decimals and versions ("3.4x", "v1.5"), URLs, and a missing space after a period
    ("contributions.First").
    """
    return [text[begin:end] for begin, end in sentence_spans(text)]


# The writer's stop words: the shared tokenizer's (`store.tokens.STOPWORDS`, which BM25 also
# drops) plus function words BM25 keeps (its idf already discounts them, and changing the index
# terms would set stored indexes apart from new ones) but phrases and question matching skip:
# "however", "across", "two" (`data/stopwords.txt`).
STOPWORDS = tokens.STOPWORDS | word_list("stopwords.txt")
_EXTRA_STOP_STEMS = frozenset(stem(w) for w in STOPWORDS - tokens.STOPWORDS)

# Words that every abstract uses: they say nothing about what a paper is about, so term
# statistics and question matching ignore them.
GENERIC_WORDS = word_list("generic_words.txt")
_GENERIC_STEMS = frozenset(stem(w) for w in GENERIC_WORDS)
# Endings that make an inflected form of a generic word ("improving", "studies"). Snowball
# stems conflate more than inflections ("coding" and "code", "experience" and "experiment"),
# so a word is generic by its stem only when it is the stem plus one of these.
_INFLECTIONS = ("s", "es", "ed", "d", "ing", "ly", "e", "ies", "ied")


def is_generic(word: str, term: str | None = None) -> bool:
    """Whether `word` (lower case, as written) is a generic research word or an inflection of
    one; `term` is its stem when the caller has it."""
    if word in GENERIC_WORDS:
        return True
    term = stem(word) if term is None else term
    return term in _GENERIC_STEMS and word[len(term) :] in _INFLECTIONS and word.startswith(term)


def is_stop(word: str, term: str | None = None) -> bool:
    """Whether `word` (lower case, as written) is a stop word the writer skips."""
    return word in STOPWORDS or (term is not None and term in _EXTRA_STOP_STEMS)


def content_tokens(
    text: str, *, drop_generic: bool = True, gaps: bool = False
) -> list[tuple[str, list[str]]]:
    """The tokens of `text` that carry content, each as written with its terms (the shared
    tokenizer's `store.tokens.token_terms`): stop words, integers of one digit ("3 papers")
    and, by default, generic research words left out. A hyphenated name keeps its whole term
    and its parts' (`dkv-cach`, `dkv`, `cach`); a figure its number terms (`12.5%`, `12.5`).
    With `gaps`, a left-out token stays in place with no terms, so adjacency can be read."""
    kept: list[tuple[str, list[str]]] = []
    for token, terms in tokens.token_terms(text):
        skip = (
            not terms
            or is_stop(token, terms[0])
            or (token.isdigit() and len(token) == 1)
            or (drop_generic and is_generic(token, terms[0]))
        )
        if not skip:
            kept.append((token, terms))
        elif gaps:
            kept.append((token, []))
    return kept


def content_words(text: str) -> list[str]:
    """The content words of `text` as written (lower case; hyphenated names and figures whole),
    in text order; generic research words kept."""
    return [token for token, _ in content_tokens(text, drop_generic=False)]


def content_stems(text: str, *, drop_generic: bool = True) -> list[str]:
    """The terms of the content words of `text` in order (`content_tokens`)."""
    return [term for _, terms in content_tokens(text, drop_generic=drop_generic) for term in terms]


def numbers_in(text: str) -> set[str]:
    """The figures `text` states, normalised by the shared tokenizer so that the same figure
    written two ways compares equal: `97%`, `3.4x`, `8.5-10.5%`, `2.0x`, `8b`.

    Thousands separators dropped ("1,024" -> "1024"), "×"/"X" -> "x", "percent"/" %" -> "%",
    dashes in ranges -> "-", size suffixes lower-cased ("8B" -> "8b"). A range yields the range
    and both ends, each with the range's unit. Digits inside names ("GSM8K", "Qwen2.5") are not
    numbers; a number joined by a hyphen is ("LLaDA-8B" -> "8b"). Decimal places are kept as
    written: "2.0x" and "2x" are different tokens. A figure with a unit does not also count
    as the bare number ("97%" states 97%, not 97), so a changed unit is a changed figure.
    """
    return set(_figures(text))


@lru_cache(maxsize=4096)
def _figures(text: str) -> frozenset[str]:
    # Cached: the verifier asks for the same abstracts' figures for every sentence it checks.
    found: set[str] = set()
    for number in tokens.numbers(text):
        found.update(tokens.number_terms(number, bare=False) or (number,))
    return frozenset(found)


@dataclass
class TermStats:
    """tf-idf statistics of unigram and bigram terms over a set of texts (usually abstracts).

    Terms are stems of content words (stopwords and generic research words removed); bigrams
    are adjacent content words within one sentence. `surface(term)` gives the most common
    written form so results read as words ("kv cache", not "kv cach").
    """

    texts: Sequence[str]
    doc_terms: list[Counter[str]] = field(init=False)
    df: Counter[str] = field(init=False)
    idf: dict[str, float] = field(init=False)
    _surface: dict[str, Counter[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._surface = {}
        self.doc_terms = [self._terms(text) for text in self.texts]
        self.df = Counter(t for terms in self.doc_terms for t in terms)
        n = len(self.doc_terms)
        self.idf = {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in self.df.items()}

    def _terms(self, text: str) -> Counter[str]:
        terms: Counter[str] = Counter()
        for sentence in split_sentences(text):
            previous: tuple[str, str] | None = None
            for token, token_terms in tokens.token_terms(sentence):
                # Figures and stop words are no topic; they also break a bigram.
                if not token_terms or token[0].isdigit() or is_stop(token, token_terms[0]):
                    previous = None
                    continue
                term = token_terms[0]  # a hyphenated name as one term: "dkv-cach"
                generic = is_generic(token, term)
                if not generic:
                    terms[term] += 1
                    self._surface.setdefault(term, Counter())[token] += 1
                if previous is not None and not generic:
                    bigram = f"{previous[0]} {term}"
                    terms[bigram] += 1
                    self._surface.setdefault(bigram, Counter())[f"{previous[1]} {token}"] += 1
                previous = None if generic else (term, token)
        return terms

    def surface(self, term: str) -> str:
        forms = self._surface.get(term)
        return forms.most_common(1)[0][0] if forms else term

    def weight(self, term: str) -> float:
        return self.idf.get(term, max(self.idf.values(), default=1.0))

    def vector(self, index: int) -> dict[str, float]:
        """The tf-idf vector of text `index` (log-scaled term frequency), L2-normalised."""
        raw = {t: (1 + math.log(c)) * self.weight(t) for t, c in self.doc_terms[index].items()}
        norm = math.sqrt(sum(v * v for v in raw.values())) or 1.0
        return {t: v / norm for t, v in raw.items()}

    def centrality(self) -> list[float]:
        """Mean tf-idf cosine of each text to the others (0 for a single text)."""
        n = len(self.doc_terms)
        if n < 2:
            return [0.0] * n
        vectors = [self.vector(i) for i in range(n)]
        return [
            sum(
                sum(v * vectors[j].get(t, 0.0) for t, v in vectors[i].items())
                for j in range(n)
                if j != i
            )
            / (n - 1)
            for i in range(n)
        ]

    def shared_terms(self, k: int = 6, min_docs: int = 2) -> list[str]:
        """Terms used by at least `min_docs` of the texts, most widely shared first.

        Among equally shared terms the rarer ones (higher idf) come first,
        and a bigram hides the unigrams it contains, so the list reads as distinct topics.
        """
        candidates = [t for t, c in self.df.items() if c >= min_docs]
        candidates.sort(key=lambda t: (-self.df[t], -self.weight(t) * (1.5 if " " in t else 1)))
        return self._distinct(candidates, k)

    def distinguishing_terms(self, index: int, k: int = 4) -> list[str]:
        """Terms that set text `index` apart: frequent in it, absent from the other texts."""
        terms = self.doc_terms[index]
        candidates = [t for t in terms if self.df[t] == 1 or len(self.doc_terms) == 1]
        candidates.sort(
            key=lambda t: -(1 + math.log(terms[t])) * self.weight(t) * (1.3 if " " in t else 1)
        )
        return self._distinct(candidates, k)

    def _distinct(self, ranked: Iterable[str], k: int) -> list[str]:
        chosen: list[str] = []
        for term in ranked:
            parts = set(term.split(" "))
            if any(len(p) < 2 for p in parts):
                continue  # fragments of names such as "d(M)LLMs"
            if any(parts & set(c.split(" ")) for c in chosen):
                continue
            chosen.append(term)
            if len(chosen) == k:
                break
        return [self.surface(t) for t in chosen]
