"""Plain-text machinery shared by the offline writer, the verifier and the briefing themes.

Owns: sentence splitting tuned to paper abstracts (every sentence is a verbatim slice of its
input, so a quoted sentence can always be found again in the abstract), word tokenising,
stopwords, a light stemmer, the normalised numeric tokens the verifier compares
(`numbers_in`), and term statistics (tf-idf over a set of papers) that find what a set of
papers shares and what sets one paper apart.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

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


STOPWORDS = word_list("stopwords.txt")

# Words that every abstract uses: they say nothing about what a paper is about, so term
# statistics and question matching ignore them.
GENERIC_WORDS = word_list("generic_words.txt")

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters and digits; hyphens and punctuation separate)."""
    return [w.replace("’", "'").split("'")[0] for w in _WORD.findall(text.casefold())]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix-stripping stemmer: conflates plurals, -ing, -ed, -ly, -ation forms.

    Deliberately conservative: it only needs "decoding"/"decode"/"decoded" and
    "models"/"modeling" to meet, not linguistic roots.
    """
    w = word.casefold()
    if len(w) <= 3 or not w.isalpha():
        return w
    for suffix, replacement, min_stem in (
        ("ational", "ate", 3),
        ("ization", "ize", 3),
        ("isation", "ize", 3),
        ("ations", "ate", 3),
        ("ation", "ate", 3),
        ("ities", "ity", 3),
        ("nesses", "", 3),
        ("ness", "", 3),
        ("ments", "", 4),
        ("ment", "", 4),
        ("ingly", "", 3),
        ("edly", "", 3),
        ("ies", "y", 2),
        ("ied", "y", 2),
        ("sses", "ss", 2),
        ("ing", "", 3),
        ("ed", "", 3),
        ("ly", "", 4),
        ("es", "e", 3),
        ("s", "", 3),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= min_stem:
            if suffix == "s" and w.endswith(("ss", "us", "is")):
                continue
            if suffix == "ed" and w.endswith("eed"):
                continue  # "speed", "need" are not past tenses
            w = w[: len(w) - len(suffix)] + replacement
            if suffix in ("ing", "ed") and len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # "stopping" -> "stop"
            break
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]  # "decode" meets "decod(ing)"
    if len(w) > 4 and w.endswith("ize"):
        w = w[:-3]
    return w


def content_words(text: str) -> list[str]:
    """Word tokens without stopwords or bare numbers, in text order."""
    return [w for w in words(text) if w not in STOPWORDS and not w.isdigit() and len(w) > 1]


def content_stems(text: str, *, drop_generic: bool = True) -> list[str]:
    """Stems of the content words of `text`; generic research words dropped by default."""
    return [
        stem(w)
        for w in content_words(text)
        if not (drop_generic and (w in GENERIC_WORDS or stem(w) in _GENERIC_STEMS))
    ]


_GENERIC_STEMS = frozenset(stem(w) for w in GENERIC_WORDS)

# Numbers: optional sign, digits with optional thousands separators, optional decimal part,
# an optional range to a second number, then an optional unit suffix. A number glued to the
# end of a word ("GSM8K", "Qwen2.5") is part of a name and is not a numeric claim.
_NUMBER = re.compile(
    r"(?<![\w.])[+\-−]?"
    r"(?P<a>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?:-|–|—|to)\s?(?P<b>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?))?"
    r"(?P<unit>\s?%|\s?percent\b|\s?[x×X](?![A-Za-z])|[kKmMbBtT](?![A-Za-z]))?"
)


def _unit(raw: str | None) -> str:
    if not raw:
        return ""
    raw = raw.strip().casefold()
    if raw in ("%", "percent"):
        return "%"
    if raw in ("x", "×"):
        return "x"
    return raw


def numbers_in(text: str) -> set[str]:
    """The normalised numeric tokens of `text`: `97%`, `3.4x`, `8.5-10.5%`, `2.0x`, `8b`.

    Normalised so that the same figure written two ways compares equal: thousands separators
    dropped ("1,024" -> "1024"), "×"/"X" -> "x", "percent"/" %" -> "%", dashes in ranges -> "-",
    size suffixes lower-cased ("8B" -> "8b"). A range yields the range and both ends, each
    with the range's unit. Digits inside names ("GSM8K", "Qwen2.5") are not numbers. Decimal
    places are kept as written: "2.0x" and "2x" are different tokens.
    """
    found: set[str] = set()
    for match in _NUMBER.finditer(text):
        a = match.group("a").replace(",", "")
        b = match.group("b")
        unit = _unit(match.group("unit"))
        if b is None:
            found.add(a + unit)
            continue
        b = b.replace(",", "")
        found.update({f"{a}-{b}{unit}", a + unit, b + unit})
    return found


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
            tokens = [
                w
                for w in re.findall(r"[^\W_]+(?:-[^\W_]+)*", sentence.casefold())
                if not w.isdigit()
            ]
            previous: tuple[str, str] | None = None
            for token in tokens:
                parts = token.split("-")
                if token in STOPWORDS or all(p in STOPWORDS or p.isdigit() for p in parts):
                    previous = None
                    continue
                generic = token in GENERIC_WORDS or stem(token) in _GENERIC_STEMS
                term = "-".join(stem(p) for p in parts)
                if not generic and len(token) > 1:
                    terms[term] += 1
                    self._surface.setdefault(term, Counter())[token] += 1
                if previous is not None and not generic and previous[0] not in _GENERIC_STEMS:
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
