"""The deterministic metrics: retrieval, reference overlap, key points and grounding.

Pure functions over strings, id lists and an `embed` callable (texts -> L2-normalised rows), so
each is testable on hand-made inputs. The thresholds that turn a similarity into a yes/no are
module constants, documented where they are defined and printed in every report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

import numpy as np

Embed = Callable[[list[str]], np.ndarray]

# A key point without term lists counts as covered when some sentence of the output has at
# least this cosine similarity to it. Calibrated on the bundled MiniLM model over sample-corpus
# sentences: paraphrases of one claim scored 0.47-0.61, a sentence on the same topic making a
# different claim about 0.41, unrelated sentences below 0.2. Key points that hinge on a number
# or a name should carry `all:`/`any:` terms instead.
KEY_POINT_SIMILARITY = 0.5
# A cited sentence is supported by its cited abstracts when at least this share of its content
# words occurs in them (extractive sentences score near 1, invented claims far lower) ...
LEXICAL_SUPPORT = 0.5
# ... or, failing that, when its cosine similarity to the closest sentence of a cited abstract
# reaches this value. MiniLM scores a contradiction ("needs retraining" against "requires no
# additional training": 0.41) about as high as a faithful paraphrase (0.47-0.5), so the
# embedding fallback only rescues near-verbatim restatements.
EMBEDDING_SUPPORT = 0.7

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
ROUGE_STEMMING = True


@cache
def _scorer() -> Any:
    # Imported on first use: rouge-score pulls in nltk, half a second the CLI need not pay.
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=ROUGE_STEMMING)


_STOPWORDS = frozenset(
    re.split(
        r"\s+",
        """a about above after again against all also an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having here how i if in into is it its itself just more most no nor not
    now of off on once only or other our out over own same she should so some such than that the
    their them then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your via using used use based
    paper work propose proposed present show shows new""",
    )
)
_WORD = re.compile(r"[a-z0-9]+")
_CITATION = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# A number not glued to a preceding word or digit group ("GSM8K" holds no number, "8B" does).
_NUMBER = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:,\d{3})*(?:\.\d+)?)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\[(\"'])")


# ---------------------------------------------------------------- retrieval


def recall_at_k(ranked: Sequence[str], gold: Iterable[str], k: int) -> float | None:
    """Share of gold ids among the first k; None when there is no gold."""
    gold_set = set(gold)
    if not gold_set:
        return None
    return len(gold_set & set(ranked[:k])) / len(gold_set)


def precision_at_k(ranked: Sequence[str], gold: Iterable[str], k: int) -> float | None:
    """Share of the first k (or fewer, when fewer were returned) that are gold; None when
    nothing was returned or there is no gold."""
    gold_set = set(gold)
    top = list(ranked[:k])
    if not gold_set or not top:
        return None
    return sum(1 for item in top if item in gold_set) / len(top)


def ndcg_at_k(ranked: Sequence[str], gold: Iterable[str], k: int) -> float | None:
    """Binary-relevance nDCG@k: DCG = sum over gold hits of 1/log2(rank+1)."""
    gold_set = set(gold)
    if not gold_set:
        return None
    dcg = sum(1.0 / math.log2(rank + 2) for rank, item in enumerate(ranked[:k]) if item in gold_set)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(k, len(gold_set))))
    return dcg / ideal


# ---------------------------------------------------------------- overlap


def rouge_f1(prediction: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2/L F1 with Porter stemming (rouge-score's `use_stemmer=True`)."""
    scores = _scorer().score(reference, prediction)
    return {name: scores[name].fmeasure for name in ROUGE_TYPES}


def best_rouge_f1(prediction: str, references: Sequence[str]) -> dict[str, float]:
    """Per ROUGE type, the best F1 over several references (SciTLDR's multi-target scoring)."""
    best = dict.fromkeys(ROUGE_TYPES, 0.0)
    for reference in references:
        for name, value in rouge_f1(prediction, reference).items():
            best[name] = max(best[name], value)
    return best


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b) / norm) if norm else 0.0


def embedding_similarity(embed: Embed, text: str, reference: str) -> float:
    vectors = embed([text, reference])
    return cosine(vectors[0], vectors[1])


# ---------------------------------------------------------------- text


def plain_text(markdown: str, drop_titles: Iterable[str] = ()) -> str:
    """The prose of a Markdown result: no source list, no labels, no notes, no markup; one
    line per paragraph, table cell or list item.

    Dropped: collapsed `<details>` blocks; source-list entries (a line that starts with `[n]`
    and names a source, or starts with a source title, as headings naming a paper do); headings
    and table cells of fewer than three words (column names, `yes`, `not stated`, `[1]`); lines
    wholly in italics (notes about how the text was made, not claims). Scoring them would
    reward layout, boilerplate and copied titles. Titles named inside prose are kept.
    """
    titles = [title.casefold() for title in drop_titles if title]
    # Collapsed <details> blocks hold audit material (e.g. sentences a verifier removed), not
    # the text a reader is given; other HTML tags are markup.
    markdown = re.sub(r"<details\b.*?</details>", "\n", markdown, flags=re.DOTALL | re.IGNORECASE)
    markdown = re.sub(r"<[^>\n]+>", " ", markdown)
    lines: list[str] = []
    for raw in markdown.splitlines():
        stripped = raw.strip()
        is_row = stripped.startswith("|")
        # An escaped pipe (`\|`) inside a cell is text, not a cell boundary.
        pieces = _CELL_BOUNDARY.split(stripped.strip("|")) if is_row else [stripped]
        is_label_place = is_row or stripped.startswith("#")
        for piece in pieces:
            line = _clean(piece)
            if not line or _is_note(line) or _is_source_entry(line, titles):
                continue
            if is_label_place and len(re.findall(r"[A-Za-z]{2,}", line)) < 3:
                continue
            lines.append(line.replace("**", "").replace("__", "").replace("`", "").strip())
    return "\n".join(line for line in lines if line)


def _clean(piece: str) -> str:
    line = piece.strip()
    if set(line) <= set("-:= "):
        return ""
    line = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", line)  # links keep their text
    line = re.sub(r"https?://\S+", "", line)
    line = re.sub(r"^(#+|[-*+>]|\d+\.)\s+", "", line).strip()
    # Backslash escapes are markup: the reader sees `C^\infty`, not `C^\\infty`, and a title
    # must read as the title for the source list to be recognised.
    line = _ESCAPED.sub(r"\1", line)
    bare = line.replace("**", "").replace("__", "").strip()
    return "" if bare.casefold().rstrip(":") in _SOURCE_HEADINGS else line


_SOURCE_HEADINGS = frozenset({"sources", "references", "papers"})
# CommonMark: a backslash before ASCII punctuation escapes it.
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_CELL_BOUNDARY = re.compile(r"(?<!\\)\|")


def _is_note(line: str) -> bool:
    return len(line) > 2 and (
        (line[0] == line[-1] == "_" and not line.startswith("__"))
        or (line[0] == line[-1] == "*" and not line.startswith("**"))
    )


def _is_source_entry(line: str, titles: Sequence[str]) -> bool:
    folded = line.casefold()
    if re.match(r"^\[\d+\]", folded):
        return any(title in folded for title in titles)
    # A heading or list entry naming a paper: the title and at most a few words of metadata
    # (date, id, upvotes); prose that merely begins with a short title goes on much longer.
    return any(
        folded.startswith(title) and len(_WORD.findall(folded[len(title) :])) <= 10
        for title in titles
    )


def split_sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for line in text.splitlines():
        sentences.extend(part.strip() for part in _SENTENCE_END.split(line) if part.strip())
    return sentences


def cited_numbers(sentence: str) -> list[int]:
    """The source numbers a sentence cites: `[1]`, `[2, 3]`, `[1][4]`."""
    numbers: list[int] = []
    for group in _CITATION.findall(sentence):
        numbers.extend(int(part) for part in re.split(r"[,;]", group))
    return numbers


def without_citations(sentence: str) -> str:
    """The sentence with its `[n]` markers (and the space before them) removed."""
    return re.sub(r"\s*" + _CITATION.pattern, "", sentence).strip()


def numbers_in(text: str) -> set[str]:
    """Numbers as written, thousands separators removed (`1,000` -> `1000`)."""
    return {match.replace(",", "") for match in _NUMBER.findall(text)}


def content_words(text: str) -> set[str]:
    words = _WORD.findall(text.casefold())
    return {_stem(word) for word in words if len(word) > 2 and word not in _STOPWORDS}


def _stem(word: str) -> str:
    # Enough folding for support checks: plural and -ing/-ed forms of one word match.
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def term_present(term: str, text: str) -> bool:
    """Case-insensitive match at a word start (`agent` matches `agents`, not `reagent`)."""
    return re.search(r"(?<![\w])" + re.escape(term.casefold()), text.casefold()) is not None


def covered_by_terms(text: str, all_terms: Sequence[str], any_terms: Sequence[str]) -> bool:
    if not all(term_present(term, text) for term in all_terms):
        return False
    return not any_terms or any(term_present(term, text) for term in any_terms)


def covered_by_similarity(
    embed: Embed, point: str, sentences: Sequence[str], threshold: float = KEY_POINT_SIMILARITY
) -> bool:
    if not sentences:
        return False
    vectors = embed([point, *sentences])
    return max(cosine(vectors[0], row) for row in vectors[1:]) >= threshold


# ---------------------------------------------------------------- grounding


def lexical_support(sentence: str, evidence: str) -> float:
    """Share of the sentence's content words that occur in the evidence (1.0 if it has none)."""
    words = content_words(without_citations(sentence))
    if not words:
        return 1.0
    return len(words & content_words(evidence)) / len(words)


def is_supported(
    sentence: str,
    evidence: str,
    embed: Embed | None = None,
    lexical_threshold: float = LEXICAL_SUPPORT,
    embedding_threshold: float = EMBEDDING_SUPPORT,
) -> bool:
    if lexical_support(sentence, evidence) >= lexical_threshold:
        return True
    evidence_sentences = split_sentences(evidence)
    if embed is None or not evidence_sentences:
        return False
    vectors = embed([without_citations(sentence), *evidence_sentences])
    return max(cosine(vectors[0], row) for row in vectors[1:]) >= embedding_threshold


def numbers_grounded(sentence: str, evidence: str) -> bool | None:
    """True when every number in the sentence occurs in the evidence; None if it has none."""
    numbers = numbers_in(without_citations(sentence))
    if not numbers:
        return None
    return numbers <= numbers_in(evidence)


# Words a sentence cannot end on: one that does was cut mid-clause ("..., revealing that.").
_DANGLING = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "for",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "into",
        "onto",
        "over",
        "under",
        "than",
        "as",
        "and",
        "or",
        "but",
        "nor",
        "that",
        "which",
        "who",
        "whom",
        "whose",
        "where",
        "when",
        "while",
        "whereas",
        "because",
        "since",
        "although",
        "though",
        "if",
        "whether",
        "via",
        "through",
        "across",
        "between",
        "among",
        "against",
        "per",
        "toward",
        "towards",
        "upon",
        "within",
        "without",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "can",
        "could",
        "may",
        "might",
        "must",
        "shall",
        "should",
        "will",
        "would",
        "its",
        "their",
        "our",
        "his",
        "her",
        "this",
        "these",
        "those",
        "such",
        "both",
        "either",
        "neither",
        "each",
        "every",
        "very",
        "more",
        "most",
        "less",
        "least",
        "so",
        "not",
        "no",
        "including",
        "namely",
        "like",
    ]
)


def cut_mid_clause(sentence: str) -> bool:
    """Whether a sentence stops mid-clause: it ends on a word no clause ends on ("that",
    "the", "of") or on a comma, colon or dash (citation marks and end punctuation aside)."""
    body = without_citations(sentence).rstrip().rstrip(".!?…").rstrip()
    if not body:
        return False
    if body[-1] in ",:;-–(":
        return True
    last = re.findall(r"[^\W_]+", body.rsplit(None, 1)[-1].casefold())
    return bool(last) and last[-1] in _DANGLING


def names_interest(reason: str, interest: str) -> bool:
    """Whether a recommendation's reason names the reader's interest in words: at least half
    of the interest's content words (stemmed) occur in it."""
    wanted = {_stem(w) for w in content_words(interest)}
    if not wanted:
        return True
    found = {_stem(w) for w in content_words(reason)}
    return len(wanted & found) * 2 >= len(wanted)


def share(flags: Iterable[bool]) -> float | None:
    values = list(flags)
    return sum(values) / len(values) if values else None
