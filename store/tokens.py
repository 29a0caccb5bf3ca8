"""The one tokenizer of paperbrief: the terms BM25 indexes and every lexical comparison uses.

Owner of how text becomes terms. BM25 (`store.lexical`) indexes `tokenize(title + abstract)`
and looks up `tokenize(query)`; code that compares a question's words with an abstract's
(relevance, evidence, the extractive writer in `agent/`) should call the same functions so that
what search matches and what the writer credits are the same terms. `agent/` may import this
module; `store/` never imports `agent/`.

What a term is:

- Words are lower-cased (casefolded) runs of letters and digits, stemmed with the Snowball
  English stemmer (PyStemmer): `decoding`, `decoded` and `decode` meet. Acronym plurals with
  no vowel (`LLMs`, `GNNs`), which Snowball leaves alone, lose their `s`. English stop words
  (plus a few words every abstract uses: "propose", "paper", "show") are dropped.
- Numbers stay whole: `12.5%`, `3.4x` (also written `3.4×`, `3.4 x`), `1,024` -> `1024`,
  `12.5 percent` -> `12.5%`. A range stays one term and also yields its ends with the range's
  unit: `2-10x` -> `2-10x`, `2x`, `10x`. A number with a unit also yields the bare number
  (`12.5%` -> `12.5`), so "12.5 points" still meets "12.5%".
- Hyphenated and dotted names stay one term, their parts stemmed (`dKV-Cache` -> `dkv-cach`,
  `LASP-2` -> `lasp-2`, `Qwen2.5` -> `qwen2.5`), and their parts are emitted too (`dkv`, `cach`;
  `lasp`, `2`) so that "LASP 2" or "KV cache" still match.

Terms are plain strings without white space, made only of letters, digits and `.`, `-`, `%`:
an index may store them space-joined and split on white space again (`store.lexical` does).
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

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

_STEMMER = Stemmer.Stemmer("english")
_VOWEL = re.compile(r"[aeiouy]")

# Normalisations applied before splitting, so one figure written several ways is one term.
# Each starts with the digit it follows (a leading class is much faster to scan for than a
# look-behind) and puts it back in the replacement.
_THOUSANDS = re.compile(r"(\d),(?=\d{3}(?!\d))")
_PERCENT = re.compile(r"(\d)\s?(?:%|percent\b|per cent\b)")
_TIMES = re.compile(r"(\d)(?:\s?[×✕]| x(?![\w.]))")
_RANGE_DASH = re.compile(r"(\d)\s?[–—]\s?(?=\d)")
# A token: letters/digits, joined by inner hyphens or dots, optionally ending in `%`.
_TOKEN = re.compile(r"[^\W_]+(?:[.\-][^\W_]+)*%?")
_PART = re.compile(r"[^\W_]+")
_DIGIT = re.compile(r"\d")
# A number token: a number or a range of two, with an optional unit (%, x, or a size suffix).
_NUMBER = re.compile(
    r"(?P<a>\d+(?:\.\d+)?)(?:-(?P<b>\d+(?:\.\d+)?))?(?P<unit>%|x|[kmbt])?",
)


@lru_cache(maxsize=131072)
def stem(word: str) -> str:
    """The Snowball English stem of one lower-case word; words with digits are kept as they are,
    and a vowel-less acronym loses a plural `s` (`llms` -> `llm`)."""
    word = word.casefold()
    if not word.isalpha():
        return word
    if len(word) > 3 and word.endswith("s") and not _VOWEL.search(word[:-1]):
        return word[:-1]
    return str(_STEMMER.stemWord(word))


def normalise(text: str) -> str:
    """`text` casefolded, with numbers written one way: `1,024` -> `1024`, `12.5 percent` ->
    `12.5%`, `3.4×` -> `3.4x`, `2–10` -> `2-10`."""
    text = _THOUSANDS.sub(r"\1", text.casefold())
    if "%" in text or "per" in text:
        text = _PERCENT.sub(r"\1%", text)
    if "×" in text or "✕" in text or " x" in text:
        text = _TIMES.sub(r"\1x", text)
    if "–" in text or "—" in text:
        text = _RANGE_DASH.sub(r"\1-", text)
    return text


def number_terms(token: str, *, bare: bool = True) -> list[str] | None:
    """The terms of a number token (`2-10x` -> `2-10x`, `2x`, `10x`, `2`, `10`); None when
    `token` is not a number. `bare=False` leaves out the unit-less forms of a number that has
    a unit (`12.5%` -> `12.5%` only): what a text states, for checking a figure is quoted."""
    match = _NUMBER.fullmatch(token)
    if match is None:
        return None
    a, b, unit = match.group("a"), match.group("b"), match.group("unit") or ""
    terms = [token]
    if b is not None:
        terms += [a + unit, b + unit]
    if unit and bare:
        terms += [a] if b is None else [a, b]
    return terms


def _word_terms(token: str) -> list[str]:
    """The terms of one non-number token: its stem, or for a compound (`dkv-cache`) the
    compound of stemmed parts and each content part."""
    token = token.rstrip("%")
    parts = _PART.findall(token)
    if len(parts) == 1:
        word = parts[0]
        if word in STOPWORDS or (len(word) == 1 and not word.isdigit()):
            return []
        return [stem(word)]
    compound = re.sub(r"[^\W_]+", lambda m: stem(m.group()), token)
    return [compound] + [
        stem(part) for part in parts if part not in STOPWORDS and (len(part) > 1 or part.isdigit())
    ]


def _terms_of(token: str) -> list[str]:
    """The terms of one token of `normalise`d text (none for a stop word)."""
    if token.isalpha():
        return [stem(token)] if len(token) > 1 and token not in STOPWORDS else []
    number = number_terms(token) if token[0].isdigit() else None
    return number if number is not None else _word_terms(token)


def token_terms(text: str) -> list[tuple[str, list[str]]]:
    """Each token of `text` in reading order, as written (casefolded, numbers normalised), with
    its terms; a stop word has none. `tokenize` is these terms in a row; callers that need the
    written form beside the term (a phrase to show, a word list to check) use this."""
    return [(token, _terms_of(token)) for token in _TOKEN.findall(normalise(text))]


def numbers(text: str) -> list[str]:
    """The figures `text` states, normalised as `tokenize` writes them, in reading order:
    number tokens (`97%`, `3.4x`, `8.5-10.5%`, `1024`, `8b`) and numbers joined to a word by a
    hyphen (`LLaDA-8B` states `8b`, `top-2` states `2`). Digits inside a word or a dotted name
    (`GSM8K`, `Qwen2.5`) are not figures."""
    if not _DIGIT.search(text):
        return []
    found: list[str] = []
    for token in _TOKEN.findall(normalise(text)):
        if token.isalpha() or not _DIGIT.search(token):
            continue
        if token[0].isdigit() and _NUMBER.fullmatch(token):
            found.append(token)
            continue
        found.extend(
            piece
            for piece in token.split("-")[1:]
            if piece[:1].isdigit() and _NUMBER.fullmatch(piece)
        )
    return found


def tokenize(text: str) -> list[str]:
    """The terms of `text` in reading order (repeats kept: BM25 counts them)."""
    terms: list[str] = []
    for token in _TOKEN.findall(normalise(text)):
        if token.isalpha():  # most tokens: a plain word
            if len(token) > 1 and token not in STOPWORDS:
                terms.append(stem(token))
            continue
        terms.extend(_terms_of(token))
    return terms


def term_set(text: str) -> set[str]:
    """The distinct terms of `text` (what a query contributes to BM25)."""
    return set(tokenize(text))
