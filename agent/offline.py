"""The offline extractive writer: answers, comparisons and takeaways without an LLM.

Owns everything paperbrief writes when no LLM is configured. It is deterministic and
extractive: every claim is a sentence (or a shortened sentence) copied from the abstract it
cites. The only other text is connective template text ("Three papers address this
question."), which names counts, titles and shared terms of the cited papers and states no
finding of its own. Numbers are never rewritten; the verifier checks them all the same.

Public functions: `classify_sentence`, `extract_evidence`, `write_answer`, `write_comparison`,
`tldr`; the pieces they are built from (`strip_lead_in`, `shorten`, `main_point`,
`needs_training`, `code_url`, `is_survey`, `short_title`, `count_words`); and
`is_extract_of`, which checks that a text is made of pieces of an abstract, in order.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from functools import lru_cache

from agent.results import ComparisonRow
from agent.state import (
    ComparisonDraft,
    Draft,
    DraftSentence,
    Evidence,
    EvidenceSentence,
    SentenceRole,
)
from agent.text import (
    GENERIC_WORDS,
    STOPWORDS,
    TermStats,
    content_stems,
    numbers_in,
    split_sentences,
    stem,
    words,
)
from store.models import Paper

# ---------------------------------------------------------------------------------------------
# Sentence roles

_RESULT_CUES = re.compile(
    r"\b(?:experiments?|evaluations?|results|empirical(?:ly)?|benchmarks?)\b[^.]{0,80}?"
    r"\b(?:shows?|demonstrates?|indicates?|reveals?|confirms?|suggests?|validates?)\b"
    r"|\boutperform\w*|\bachiev\w+|\bsurpass\w*|\bimprov\w+ (?:\w+ ){0,4}by\b|\bspeed-?ups?\b"
    r"|\bstate-of-the-art\b|\bsota\b|\breduc\w+ (?:\w+ ){0,6}by\b|\baccelerat\w+ (?:\w+ ){0,4}by\b"
    r"|\bup to\b|\b(?:we|our) (?:show|find|observe|demonstrate)\b|\bsubstantially\b"
    r"|\bconsistently\b|\bcompetitive\b|\bgains?\b|\bcompared (?:to|with)\b",
    re.I,
)
_CONTRIBUTION_CUES = re.compile(
    r"\b(?:we|this (?:paper|work|study|article|survey)|our (?:paper|work))\s+"
    r"(?:\w+ ){0,2}?(?:propose|introduce|present|develop|design|build|offer|release|contribute"
    r"|formulate|put forward|provide|describe|establish|highlight|leverage|survey|review"
    r"|investigate|explore|study|examine|identify|analy[sz]e|construct|curate|create|unveil)\w*"
    r"|\bwe call\b|\bdubbed\b|\bnamed\b|\bcalled\b|\b(?:is|are) proposed\b",
    re.I,
)
_METHOD_CUES = re.compile(
    r"\b(?:our|the proposed|this) (?:method|approach|framework|model|system|algorithm"
    r"|technique|pipeline|design|architecture)\b|\bspecifically\b|\bconsists? of\b"
    r"|\bby (?:\w+ing)\b|\b(?:we|it) (?:use|employ|adopt|apply|train|fine-tune|combine"
    r"|incorporate|integrate|exploit|utili[sz]e|decompose|enable|replace|first|then)\w*"
    r"|\bleverag\w+|\bwhich (?:first|then)\b|\bcomprises?\b",
    re.I,
)
_PROBLEM_CUES = re.compile(
    r"\bhowever\b|\bremains? (?:\w+ )?(?:challenging|difficult|unclear|open|limited|unexplored)"
    r"|\bchalleng\w+|\blimit(?:ed|ation|ations|s)\b|\bsuffer\w*|\bbottleneck\w*|\bstruggl\w+"
    r"|\black\w*\b|\bcostly\b|\bexpensive\b|\bslow\w*\b|\bdespite\b|\balthough\b|\bhinder\w*"
    r"|\bfail\w*|\bissues?\b|\bproblem\b|\bconstrained\b|\binefficien\w+|\bunderexplored\b",
    re.I,
)
_NUMERIC_CLAIM = re.compile(r"\d(?:\.\d+)?\s?(?:%|x\b|×|-fold|times\b)|\bpoints?\b", re.I)


def _role_scores(text: str) -> dict[SentenceRole, float]:
    numeric = bool(_NUMERIC_CLAIM.search(text))
    return {
        "result": len(_RESULT_CUES.findall(text)) + (1.5 if numeric else 0.0),
        "contribution": 2.0 * len(_CONTRIBUTION_CUES.findall(text)),
        "method": 0.8 * len(_METHOD_CUES.findall(text)),
        "problem": 0.9 * len(_PROBLEM_CUES.findall(text)),
    }


def classify_sentence(text: str) -> SentenceRole:
    """The rhetorical role of an abstract sentence, from cue phrases.

    problem ("however", "remains challenging", "suffers from"), contribution ("we propose",
    "we introduce", "this paper presents"), method ("our method", "specifically", "we use"),
    result ("experiments show", "outperforms", "achieves", numbers with % or x), else other.
    A stated contribution beats a method cue; a measured result beats both.
    """
    scores = _role_scores(text)
    if scores["result"] >= 2.0 or (scores["result"] >= 1.0 and scores["contribution"] == 0):
        return "result"
    if scores["contribution"] > 0:
        return "contribution"
    if scores["method"] > 0 and scores["method"] >= scores["problem"]:
        return "method"
    if scores["problem"] > 0:
        return "problem"
    return "other"


# ---------------------------------------------------------------------------------------------
# Extractive helpers


_LEAD_IN = re.compile(
    r"^(?:"
    r"in (?:this|the present|our) (?:paper|work|study|article|letter|report|survey|note"
    r"|position paper|technical report)"
    r"|here|to this end|to that end|in response|in this context|in particular|specifically"
    r"|first|second|third|lastly|first of all|next|then|also"
    r"|however|moreover|furthermore|additionally|in addition|finally|overall|thus|therefore"
    r"|consequently|notably|importantly|as a result|in contrast|instead|accordingly|hence"
    r"|for example|for instance|in summary|to summari[sz]e|concretely"
    r"|(?:to [a-z]+|building (?:on|upon)|motivated by|inspired by|based on|given|towards?"
    r"|guided by|driven by|in light of|against this backdrop|with this insight)"
    r" (?:[\w'’-]+ ){0,7}?[\w'’-]+"
    r"),\s+",
    re.I,
)
_WE = re.compile(r"^(?:we|our|this|these|it|they)\b", re.I)


def strip_lead_in(sentence: str) -> str:
    """`"In this work, we introduce X."` -> `"We introduce X."`.

    Drops a leading connective or framing phrase ("In this paper,", "However,", "To address
    these issues,", "Building on this observation,") when what remains is still a complete
    sentence of the abstract; only the first letter's case changes. Otherwise returns the
    sentence unchanged.
    """
    match = _LEAD_IN.match(sentence)
    if not match:
        return sentence
    rest = sentence[match.end() :]
    # "However, on GSM8K ..." stays: only strip when a subject follows, or for plain
    # connectives whose removal leaves a clause that stands on its own.
    if len(rest.split()) < 4 or not (rest[:1].isalpha()):
        return sentence
    # An adverbial clause ("To improve efficiency,") may carry the sentence's purpose; drop it
    # only when the main clause has its own subject ("we propose ...").
    clause = re.match(
        r"(?:to |building|motivated|inspired|based|given|toward|guided|driven|in light"
        r"|against|with this)",
        match.group(0),
        re.I,
    )
    if clause and not _WE.match(rest):
        return sentence
    return rest[0].upper() + rest[1:]


def extract_pieces(text: str, source: str) -> int | None:
    """How many verbatim pieces of `source`, in order, `text` is made of; None if it is not.

    Matching is on words, ignoring case (a stripped lead-in capitalises the first word) and
    punctuation (shortening ends a cut sentence with a period).
    """
    source_words = _match_words(source)
    text_words = _match_words(text)
    if not text_words:
        return None
    haystack = " " + " ".join(source_words) + " "
    pieces = 0
    position = 0
    start = 0
    while start < len(text_words):
        best_end, best_hit = start, -1
        low, high = start + 1, len(text_words)
        # The longest run of text words that occurs in the source after `position`.
        while low <= high:
            middle = (low + high) // 2
            hit = haystack.find(" " + " ".join(text_words[start:middle]) + " ", position)
            if hit >= 0:
                best_end, best_hit = middle, hit
                low = middle + 1
            else:
                high = middle - 1
        if best_hit < 0:
            return None
        position = best_hit + len(" ".join(text_words[start:best_end])) + 1
        start = best_end
        pieces += 1
    return pieces


def _match_words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.casefold())


def is_extract_of(text: str, source: str, max_pieces: int = 4) -> bool:
    """Whether `text` is copied from `source`: one verbatim slice, or a shortening made of at
    most `max_pieces` verbatim pieces in their original order."""
    pieces = extract_pieces(text, source)
    return pieces is not None and pieces <= max_pieces


# Trailing clauses that elaborate rather than state the main claim; cutting them keeps a
# sentence's subject, verb and object.
_TRAILING_CLAUSE = re.compile(
    r",\s+(?:which|while|whereas|thereby|thus|enabling|allowing|making|leading|resulting"
    r"|providing|yielding|offering|achieving|requiring|paving|opening|highlighting"
    r"|demonstrating|showing|suggesting|indicating|revealing|outperforming|surpassing"
    r"|and thus|and thereby|as well as|especially|particularly|including|such as|where"
    r"|without|with|by|in order to|so that|i\.e\.|e\.g\.)\b[^,;]*$",
    re.I,
)
_ENUMERATOR = re.compile(r"\(\s*(?:\d{1,2}|[ivx]{1,4}|[a-h])\s*\)")
_LIST_AFTER_COLON = re.compile(r":\s+(?:\(?(?:1|i|a)\)|first\b)", re.I)
# Only a parenthetical set off by a space: "d(M)LLMs" is a name, "(DLMs)" an aside.
_PARENTHETICAL = re.compile(r"\s+\((?:[^()]|\([^()]*\))*\)")


def shorten(sentence: str, *, max_words: int | None = None, keep_numbers: bool = True) -> str:
    """A shorter, still faithful version of an abstract sentence: lead-in, an enumerated list
    after a colon, parentheticals and trailing elaborating clauses removed, so only words of
    the sentence remain, in order.

    With `keep_numbers` a cut that would drop a number is not made, so a key result keeps its
    figures. `max_words` cuts trailing clauses only while the sentence is longer than that.
    """
    text = strip_lead_in(sentence.strip())
    # List markers such as "(1)" or "(ii)" are not figures worth keeping.
    kept = numbers_in(_ENUMERATOR.sub(" ", text)) if keep_numbers else set()

    def allowed(candidate: str) -> bool:
        return len(candidate.split()) >= 5 and kept <= numbers_in(candidate)

    # "... two components: (1) a module that ..., (2) ..." -- the list is detail.
    listing = _LIST_AFTER_COLON.search(text)
    if listing and allowed(text[: listing.start()]):
        text = text[: listing.start()] + "."
    without_parens = _PARENTHETICAL.sub("", text)
    without_parens = re.sub(r"\s+([,.;:])", r"\1", without_parens)
    if allowed(without_parens):
        text = without_parens
    body = text.rstrip()
    end = body[-1] if body and body[-1] in ".!?" else "."
    body = body.rstrip(".!?").rstrip()
    while max_words is None or len(body.split()) > max_words:
        match = _TRAILING_CLAUSE.search(body)
        if not match or not allowed(body[: match.start()]):
            break
        body = body[: match.start()].rstrip()
    if body.endswith(";") or body.endswith(","):
        body = body[:-1]
    return body + end


# ---------------------------------------------------------------------------------------------
# Evidence


# Words that ask the same thing in different terms: a question about speed matches an
# abstract that says "accelerate" or "3.4x". Each group is one meaning; a word in a group
# counts 70% of the question word it stands in for.
_RELATED = [
    {"speed", "fast", "faster", "accelerate", "speedup", "latency", "throughput", "quick"},
    {"cost", "cheap", "budget", "expensive", "affordable"},
    {"memory", "cache", "footprint"},
    {"accuracy", "accurate", "correct", "precision"},
    {"llm", "language"},
    {"agent", "agentic", "autonomous"},
    {"retrieval", "retrieve", "rag", "search"},
    {"graph", "gnn"},
    {"reasoning", "reason", "chain-of-thought", "cot", "think", "thought"},
    {"image", "vision", "visual"},
    {"recommendation", "recommender", "recommend"},
    {"robot", "robotic", "embodied", "manipulation"},
]
# Words that only hint at a question word (a sentence about "fewer steps" or "efficiency"
# may be about speed): 35% of its weight.
_ASSOCIATED = {
    "speed": {"step", "slow", "efficiency", "efficient", "overhead", "parallel", "wall-clock"},
    "cost": {"computation", "compute", "overhead", "efficiency", "efficient", "resource"},
    "memory": {"efficiency", "efficient", "compression", "quantization"},
    "accuracy": {"performance", "quality", "score", "benchmark"},
}
_RELATED_BY_STEM: dict[str, set[str]] = {}
for _group in _RELATED:
    for _stem in {stem(w) for w in _group}:
        _RELATED_BY_STEM.setdefault(_stem, set()).update(stem(w) for w in _group)
_ASSOCIATED_BY_STEM: dict[str, set[str]] = {}
for _word, _hints in _ASSOCIATED.items():
    for _stem in _RELATED_BY_STEM.get(stem(_word), {stem(_word)}):
        _ASSOCIATED_BY_STEM.setdefault(_stem, set()).update(stem(w) for w in _hints)

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
class _Question:
    terms: dict[str, float]  # stem -> weight
    pairs: dict[tuple[str, str], float]  # adjacent words naming one topic -> weight

    @property
    def total(self) -> float:
        return sum(self.terms.values()) + sum(self.pairs.values())


def _question(question: str, stats: TermStats | None) -> _Question:
    def weight(term: str) -> float:
        # A term the corpus has never seen weighs as much as its rarest term: an unknown
        # word ("sourdough") is exactly what the papers cannot answer.
        return stats.weight(term) if stats is not None else 1.0

    terms: dict[str, float] = {}
    pairs: dict[tuple[str, str], float] = {}
    previous: str | None = None
    for token in words(question):
        if token in STOPWORDS or token in GENERIC_WORDS or token.isdigit() or len(token) < 2:
            previous = None
            continue
        term = stem(token)
        if term in _GENERIC_STEMS:
            previous = None
            continue
        terms[term] = weight(term)
        if previous is not None:
            pairs[(previous, term)] = (weight(previous) + weight(term)) / 2
        previous = term
    return _Question(terms, pairs)


_GENERIC_STEMS = frozenset(stem(w) for w in GENERIC_WORDS)


def _stem_sequence(text: str, acronyms: Mapping[str, list[str]]) -> list[str]:
    """Content stems of `text` in order, a defined acronym replaced by its long form."""
    sequence: list[str] = []
    for token in words(text):
        if token in STOPWORDS or token.isdigit():
            continue
        term = stem(token)
        sequence.extend(acronyms.get(term, [term]))
    if _RATIO.search(text):
        sequence.append(_SPEEDUP)  # "3.4x", "22.58times": a measured speed-up or ratio
    return sequence


_RATIO = re.compile(r"\d(?:\.\d+)?\s?(?:x|×|times|-fold)(?![a-z])", re.I)
_SPEEDUP = stem("speedup")


class _Matcher:
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

    def coverage(self, question: _Question, given: Set[str] = frozenset()) -> float:
        """Share of the question's weight this text covers. A related word counts 70%, a
        term in `given` (the paper's title, the context of every sentence) 50%, a hint 35%."""
        if not question.total:
            return 0.0
        covered = 0.0
        for term, weight in question.terms.items():
            if term in self.stems:
                covered += weight
            elif _RELATED_BY_STEM.get(term, set()) & self.stems:
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

    def has_any_pair(self, question: _Question) -> bool:
        return any(self.has_pair(p) for p in question.pairs)


# A paper bears on a question when its title and abstract cover this share of the question's
# weight and name the multi-word topic the question names, if it names one ("diffusion ...
# language"); or when the embedding similarity vouches for it and the words partly match.
_BEARS_COVERAGE = 0.5
_BEARS_SIMILARITY = 0.45
_BEARS_COVERAGE_WITH_SIMILARITY = 0.3


def extract_evidence(
    question: str,
    paper: Paper,
    max_sentences: int = 3,
    *,
    stats: TermStats | None = None,
    similarity: float | None = None,
) -> Evidence:
    """The sentences of `paper`'s abstract that bear on `question`, most relevant first.

    Sentences are copied verbatim. Each is scored by the question's words it contains
    (stemmed, idf-weighted when `stats` over the corpus is given, acronyms the abstract
    defines expanded) plus a prior for its role: contributions, results and methods are what
    a reader asks about. `similarity` (the embedding cosine of question and paper, when the
    caller has it) can vouch for a paper whose words only partly match. `bears_on_question`
    is False when the abstract does not relate to the question (its best sentences are still
    returned). Without `stats`, word weights come from `background_stats()`.
    """
    parsed = _question(question, stats if stats is not None else background_stats())
    ranked, paper_match = _rank_sentences(parsed, paper)
    if parsed.terms:
        coverage = paper_match.coverage(parsed)
        names_topic = not parsed.pairs or paper_match.has_any_pair(parsed)
        bears = (coverage >= _BEARS_COVERAGE and names_topic) or (
            similarity is not None
            and similarity >= _BEARS_SIMILARITY
            and coverage >= _BEARS_COVERAGE_WITH_SIMILARITY
        )
    else:
        # A question with no topic words ("What do these papers do?") is about the papers.
        bears = True
    chosen = [
        EvidenceSentence(text=s.text, role=s.role, relevance=round(s.overlap, 4))
        for s in ranked[:max_sentences]
    ]
    return Evidence(paper_id=paper.id, sentences=chosen, bears_on_question=bears)


@lru_cache(maxsize=1)
def background_stats() -> TermStats | None:
    """Term statistics of the bundled sample page (84 recent ML abstracts): how common a
    word is in paper abstracts, for callers that have no statistics of their own corpus. A
    word it has never seen weighs most ("sourdough" is exactly what papers cannot answer).
    None when the sample is not installed: every word then weighs the same."""
    from store.sources import SourceError, load_source, sample_corpus_path

    try:
        papers = [p for p in load_source(str(sample_corpus_path())) if isinstance(p, Paper)]
    except (SourceError, OSError):
        return None
    return TermStats([f"{p.title}. {p.abstract}" for p in papers]) if papers else None


@dataclass
class _Scored:
    index: int
    text: str
    role: SentenceRole
    overlap: float  # share of the question the sentence covers (title words count half)
    score: float  # overlap with the question's aspect, role prior and title echo


def _rank_sentences(question: _Question, paper: Paper) -> tuple[list[_Scored], _Matcher]:
    """The abstract's sentences, best first, and a matcher over the whole paper."""
    acronyms = acronyms_in(paper.abstract)
    sentences = split_sentences(paper.abstract)
    sequences = [_stem_sequence(text, acronyms) for text in sentences]
    title_sequence = _stem_sequence(paper.title, acronyms)
    title_stems = set(title_sequence)
    # The title already places every sentence in the question's topic; what tells the
    # sentences apart is the rest of the question (for "how do they speed up diffusion
    # language models", the speed-up).
    aspect = _Question(
        {t: w for t, w in question.terms.items() if t not in title_stems},
        {p: w for p, w in question.pairs.items() if not set(p) <= title_stems},
    )
    if not aspect.terms:
        aspect = question
    scored: list[_Scored] = []
    for index, (text, sequence) in enumerate(zip(sentences, sequences, strict=True)):
        role = classify_sentence(text)
        matcher = _Matcher([sequence])
        overlap = matcher.coverage(question, title_stems)
        # Sentences that restate the title carry the paper's main point.
        title_share = len(title_stems & set(sequence)) / len(title_stems) if title_stems else 0.0
        score = matcher.coverage(aspect) + 0.15 * overlap + _ROLE_PRIOR[role] + 0.1 * title_share
        if role == "result" and numbers_in(text):
            score += 0.05  # a measured result is what "how much" questions want
        if index == len(sentences) - 1 and re.search(r"https?://|\bcode\b", text, re.I):
            score -= 0.3  # "Our code is available at ..." answers nothing
        scored.append(_Scored(index, text, role, overlap, score))
    scored.sort(key=lambda s: (-s.score, s.index))
    return scored, _Matcher([title_sequence, *sequences])


# ---------------------------------------------------------------------------------------------
# Answers

_COUNT_WORDS = (
    "No",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
)


def count_words(n: int) -> str:
    """A count as a word ("Three"), so template text carries no digit for the verifier to
    mistake for a claim; "Many" above twelve."""
    return _COUNT_WORDS[n] if 0 <= n < len(_COUNT_WORDS) else "Many"


def short_title(paper: Paper) -> str:
    """The name a paper goes by: "dKV-Cache" for "dKV-Cache: The Cache for ...", else the
    whole title."""
    head, sep, _ = paper.title.partition(":")
    if sep and 0 < len(head.split()) <= 4:
        return head.strip()
    return paper.title


def _evidence_strength(evidence: Evidence) -> float:
    relevances = sorted((s.relevance for s in evidence.sentences), reverse=True)
    return sum(r * (0.5**i) for i, r in enumerate(relevances[:3]))


def _key_result(paper: Paper, question: _Question, exclude: Set[str]) -> str | None:
    """The paper's headline result for the question: a result sentence, one with figures
    first, then the best match."""
    ranked, _ = _rank_sentences(question, paper)
    results = [s for s in ranked if s.role == "result" and s.text not in exclude]
    if not results:
        return None
    return max(
        results, key=lambda s: (s.score + (0.6 if _NUMERIC_CLAIM.search(s.text) else 0.0), -s.index)
    ).text


def _main_point(paper: Paper, question: _Question) -> str | None:
    """The contribution or method sentence that best matches the question, else the best
    matching sentence."""
    ranked, _ = _rank_sentences(question, paper)
    for sentence in ranked:
        # A rhetorical question ("Should we ...?") states no contribution.
        if sentence.role in ("contribution", "method") and not sentence.text.endswith("?"):
            return sentence.text
    return ranked[0].text if ranked else None


def main_point(paper: Paper, question: str = "") -> str | None:
    """The abstract's contribution sentence that best matches `question` (else its best
    method sentence, else its best sentence), verbatim."""
    ranked, _ = _rank_sentences(_question(question, None), paper)
    for role in ("contribution", "method"):
        for sentence in ranked:
            if sentence.role == role:
                return sentence.text
    return ranked[0].text if ranked else None


def _themes(papers: Sequence[Paper], exclude: Set[str]) -> list[tuple[str, list[str]]]:
    """Groups of papers whose titles share a term the question did not already name:
    (term as written, paper ids), each paper in at most one group, at most two groups."""
    if len(papers) < 3:
        return []
    stats = TermStats([p.title for p in papers])
    groups: list[tuple[str, list[str]]] = []
    taken: set[str] = set()
    candidates = sorted(
        (t for t, c in stats.df.items() if 2 <= c < len(papers)),
        key=lambda t: (-stats.df[t] - (0.5 if " " in t else 0.0), t),
    )
    for term in candidates:
        parts = set(term.replace("-", " ").split())
        if " " not in term and len(term) < 4:
            continue  # "ai", "llm": too broad to name what papers share
        if parts & exclude or any(_RELATED_BY_STEM.get(p, set()) & exclude for p in parts):
            continue
        members = [
            p.id
            for p, terms in zip(papers, stats.doc_terms, strict=True)
            if term in terms and p.id not in taken
        ]
        if len(members) < 2:
            continue
        groups.append((stats.surface(term), members))
        taken.update(members)
        if len(groups) == 2:
            break
    return groups


# Answer sentences longer than this lose their trailing elaborations (never a number).
_ANSWER_WORDS = 35


def write_answer(
    question: str,
    evidence: list[Evidence],
    papers: Mapping[str, Paper],
    max_papers: int = 6,
) -> Draft:
    """An extractive answer: a template overview, then per paper (most relevant first) its
    most relevant contribution or method sentence and its key result, each citing that paper.

    Papers that share a theme the question did not name are introduced together. Only
    papers in `papers` are cited. `abstained` with no sentences when no evidence bears on
    the question.
    """
    bearing = [e for e in evidence if e.bears_on_question and e.sentences and e.paper_id in papers]
    if not bearing:
        return Draft(abstained=True)
    bearing.sort(key=lambda e: -_evidence_strength(e))
    bearing = bearing[:max_papers]
    ids = [e.paper_id for e in bearing]
    n = len(bearing)
    if n == 1:
        overview = "One of the papers addresses this question."
    else:
        overview = (
            f"{count_words(n)} of the papers address this question; "
            "they are summarised below, most relevant first."
        )
    sentences = [DraftSentence(text=overview, cites=ids)]

    # Common words weigh less than rare ones when choosing each paper's sentences.
    parsed = _question(question, background_stats())
    question_terms = set(parsed.terms)
    ordered = [papers[i] for i in ids]
    themes = _themes(ordered, question_terms)
    intro: dict[str, DraftSentence] = {}
    for term, members in themes:
        names = [short_title(papers[i]) for i in members]
        listed = ", ".join(names[:-1]) + f" and {names[-1]}"
        intro[members[0]] = DraftSentence(
            text=f"{listed} share a focus on {term}.", cites=list(members)
        )
    # Papers keep their relevance order; a theme's members follow its strongest member.
    final: list[str] = []
    for paper_id in ids:
        if paper_id in final:
            continue
        group = next((m for _, m in themes if paper_id in m), [paper_id])
        final.extend(g for g in group if g not in final)

    for paper_id in final:
        if paper_id in intro:
            sentences.append(intro[paper_id])
        paper = papers[paper_id]
        used: set[str] = set()
        main = _main_point(paper, parsed)
        if main is not None:
            used.add(main)
            sentences.append(
                DraftSentence(text=shorten(main, max_words=_ANSWER_WORDS), cites=[paper_id])
            )
        result = _key_result(paper, parsed, used)
        if result is not None:
            sentences.append(
                DraftSentence(text=shorten(result, max_words=_ANSWER_WORDS), cites=[paper_id])
            )
    return Draft(sentences=sentences)


# ---------------------------------------------------------------------------------------------
# Comparisons

_TRAINING_FREE = re.compile(
    r"\btraining[- ]free\b|\btuning[- ]free\b|\bwithout (?:any |additional |extra |further "
    r"|the need for |requiring |re-?)?(?:re-?)?(?:training|fine-?tuning|finetuning)\b"
    r"|\b(?:requires?|requiring|needs?|needing|with) no (?:additional |extra |further |re-?)?"
    r"(?:training|fine-?tuning|finetuning)\b|\bplug-and-play\b|\bno (?:additional |extra )?"
    r"(?:training|fine-?tuning) (?:is )?(?:required|needed)\b|\boff-the-shelf\b",
    re.I,
)
_NEEDS_TRAINING = re.compile(
    r"\bwe (?:\w+ )?(?:train|fine-?tune|finetune|pre-?train|distill|post-train)\w*"
    r"|\b(?:is|are) (?:then )?(?:trained|fine-?tuned|finetuned)\b|\btrains? (?:a|an|the)\b"
    r"|\bfine-?tuning (?:on|with|of)\b|\breinforcement learning\b|\bsupervised fine-?tuning\b"
    r"|\btraining (?:recipe|objective|framework|strategy|pipeline|procedure)\b",
    re.I,
)
_SURVEY = re.compile(
    r"\bsurvey\b|\b(?:systematic|literature|comprehensive) review\b|\bwe review\b|\boverview of\b",
    re.I,
)
_CODE_URL = re.compile(r"https?://(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co)/[^\s)\]]+")


def needs_training(paper: Paper) -> bool | None:
    """False when the abstract says the method is training-free ("training-free", "without
    additional training", "requires no fine-tuning"), True when it trains or fine-tunes
    ("we train", "fine-tune", reinforcement learning), None when it does not say or is a
    survey. An explicit "training-free" wins: such papers often mention fine-tuned baselines."""
    text = f"{paper.title}. {paper.abstract}"
    if _SURVEY.search(paper.title):
        return None
    if _TRAINING_FREE.search(text):
        return False
    if _NEEDS_TRAINING.search(text):
        return True
    return None


def code_url(paper: Paper) -> str | None:
    """The paper's code repository: its first code link, else a repository URL its abstract
    gives ("Our code is available at https://github.com/...")."""
    if paper.code_urls:
        return paper.code_urls[0]
    match = _CODE_URL.search(paper.abstract)
    return match.group(0).rstrip(".,;") if match else None


def is_survey(paper: Paper) -> bool:
    return bool(_SURVEY.search(paper.title) or _SURVEY.search(paper.abstract.split(". ")[0]))


def _problem(paper: Paper, exclude: str | None = None) -> str:
    """The problem the paper tackles: its first problem sentence before the contribution,
    else its opening sentence."""
    sentences = [s for s in split_sentences(paper.abstract) if s != exclude]
    if not sentences:
        return paper.abstract
    # The problem is stated before the contribution, if at all.
    for text in sentences:
        role = classify_sentence(text)
        if role == "problem":
            return text
        if role == "contribution":
            break
    return sentences[0]


def _row(paper: Paper, question: _Question, cell_words: int) -> ComparisonRow:
    approach = _main_point(paper, question) or _problem(paper)
    problem = _problem(paper, exclude=approach)
    result = _key_result(paper, question, {problem, approach})
    return ComparisonRow(
        paper_id=paper.id,
        title=paper.title,
        problem=shorten(problem, max_words=cell_words),
        approach=shorten(approach, max_words=cell_words),
        key_result=shorten(result, max_words=cell_words) if result else "",
        needs_training=needs_training(paper),
        code=code_url(paper),
    )


def _read_first(papers: Sequence[Paper], stats: TermStats) -> tuple[str | None, str | None]:
    """Which paper to read first, and why, from facts about the papers: a survey when the set
    has one, else the paper whose abstract shares most with the others, upvotes breaking ties."""
    if not papers:
        return None, None
    surveys = [p for p in papers if is_survey(p)]
    if len(surveys) == 1 and len(papers) > 1:
        survey = surveys[0]
        return survey.id, (
            f"It is the only survey among these {count_words(len(papers)).lower()} papers, "
            "so it covers the area rather than a single method."
        )
    candidates = surveys or list(papers)
    if len(candidates) == 1:
        return candidates[0].id, "It is the only paper in the set."
    centrality = dict(zip([p.id for p in papers], stats.centrality(), strict=True))
    top_votes = max((p.upvotes or 0) for p in candidates)

    def merit(p: Paper) -> tuple[float, int]:
        votes = math.log1p(p.upvotes or 0) / math.log1p(top_votes) if top_votes else 0.0
        return (centrality[p.id] + 0.1 * votes, p.upvotes or 0)

    best = max(candidates, key=merit)
    reasons = []
    if centrality[best.id] >= max(centrality[p.id] for p in candidates):
        reasons.append("its abstract shares the most terms with the other papers")
    if best.upvotes and best.upvotes >= top_votes:
        reasons.append(f"it has the most upvotes in the set ({best.upvotes})")
    elif best.upvotes:
        reasons.append(f"it has {best.upvotes} upvotes")
    if surveys:
        reasons.insert(0, "it is a survey")
    text = " and ".join(reasons) if reasons else "it is the closest match"
    return best.id, text[0].upper() + text[1:] + "."


def write_comparison(
    query: str | None,
    papers: list[Paper],
    evidence: list[Evidence] | None = None,
    *,
    cell_words: int = 30,
) -> ComparisonDraft:
    """A comparison of `papers`: one row each (problem, approach, key result with its
    numbers, whether it needs training, code link), the terms they share, the terms that set
    each apart, which to read first and why, and a written comparison.

    Every cell and sentence is extracted from the paper it describes (cells shortened to
    about `cell_words` words, never losing a number); `query` steers which approach and
    result sentences are chosen. `evidence`, when given, decides which papers are worth
    comparing: papers whose evidence does not bear on the query are left out, unless that
    would leave none.
    """
    if evidence:
        off_topic = {e.paper_id for e in evidence if not e.bears_on_question}
        kept = [p for p in papers if p.id not in off_topic]
        papers = kept or papers
    if not papers:
        return ComparisonDraft()
    stats = TermStats([f"{p.title}. {p.abstract}" for p in papers])
    question = _question(query or "", stats)
    rows = [_row(p, question, cell_words) for p in papers]
    n = len(papers)
    shared = stats.shared_terms(k=6, min_docs=max(2, math.ceil(n / 2))) if n > 1 else []
    if n > 2 and not shared:
        shared = stats.shared_terms(k=6, min_docs=2)
    differences = []
    for index, paper in enumerate(papers):
        terms = stats.distinguishing_terms(index, k=4)
        if terms:
            differences.append(f"{short_title(paper)}: {', '.join(terms)}")
    read_first, reason = _read_first(papers, stats)

    ids = [p.id for p in papers]
    sentences: list[DraftSentence] = []
    if n > 1:
        if shared:
            opener = f"These {count_words(n).lower()} papers share {_listing(shared[:4])}."
        else:
            opener = f"These {count_words(n).lower()} papers have few terms in common."
        sentences.append(DraftSentence(text=opener, cites=ids))
    for paper, row in zip(papers, rows, strict=True):
        sentences.append(DraftSentence(text=row.approach, cites=[paper.id]))
        if row.key_result:
            sentences.append(DraftSentence(text=row.key_result, cites=[paper.id]))
    sentences.extend(_training_sentences(papers, rows))
    if read_first is not None and reason is not None and n > 1:
        first = next(p for p in papers if p.id == read_first)
        sentences.append(
            DraftSentence(
                text=f"Read {short_title(first)} first: {reason[:1].lower()}{reason[1:]}",
                cites=[read_first],
            )
        )
    return ComparisonDraft(
        rows=rows,
        shared=shared,
        differences=differences,
        read_first=read_first,
        read_first_reason=reason,
        sentences=sentences,
    )


def _training_sentences(
    papers: Sequence[Paper], rows: Sequence[ComparisonRow]
) -> list[DraftSentence]:
    """Which papers say they need no training and which train, when the set is mixed."""
    free = [p for p, r in zip(papers, rows, strict=True) if r.needs_training is False]
    trained = [p for p, r in zip(papers, rows, strict=True) if r.needs_training is True]
    if len(papers) < 2 or not (free and trained):
        return []
    free_names = _listing([short_title(p) for p in free])
    trained_names = _listing([short_title(p) for p in trained])
    need = "needs" if len(free) == 1 else "need"
    train = "trains or fine-tunes" if len(trained) == 1 else "train or fine-tune"
    text = (
        f"By their abstracts, {free_names} {need} no additional training, "
        f"while {trained_names} {train} a model."
    )
    return [DraftSentence(text=text, cites=[p.id for p in [*free, *trained]])]


def _listing(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"


# ---------------------------------------------------------------------------------------------
# One-sentence takeaways


# The takeaway sentence is the one with the highest linear score over these features. The
# weights come from a ridge regression (lambda 20) predicting, for each sentence of the
# SciTLDR-A dev abstracts, the ROUGE-1 F1 of its shortened form against the author's TLDR;
# 2-fold cross-validation on dev gives 38.0 against 38.0 when fit on all of it, so they
# are not fitted to noise. Title overlap (as recall and as precision), echo of the rest of
# the abstract, "in this paper" / "we propose" cues and moderate length matter most.
_TLDR_WEIGHTS = {
    "title_recall": 0.099,
    "title_precision": 0.093,
    "title_bigrams": 0.022,
    "centrality": 0.059,
    "echo": 0.078,
    "contribution": 0.024,
    "method": -0.001,
    "result": 0.002,
    "problem": -0.011,
    "position": -0.034,
    "first": -0.013,
    "last": -0.003,
    "second": -0.022,
    "length": 0.034,
    "too_short": -0.05,
    "too_long": -0.016,
    "we": 0.018,
    "we_subject": 0.019,
    "propose": 0.031,
    "show": -0.001,
    "code": -0.019,
    "this_paper": 0.051,
    "digit": -0.015,
}
_WE_SUBJECT = re.compile(r"^(?:[^,]{0,100},\s*)?we\b", re.I)
_PROPOSE = re.compile(r"\b(?:propose|introduce|present)\w*", re.I)
_SHOW = re.compile(r"\b(?:show|demonstrate|find)\w*", re.I)
_CODE_NOTE = re.compile(r"https?://|\bcode\b|\bavailable\b", re.I)
_THIS_PAPER = re.compile(r"\b(?:this paper|this work|in this paper|here)\b", re.I)


def _bigrams(sequence: list[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(sequence))


def _tldr_candidates(paper: Paper) -> list[tuple[float, str, str]]:
    """(score, sentence, shortened sentence) for every sentence of the abstract."""
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
        score = sum(_TLDR_WEIGHTS[name] * float(value) for name, value in features.items())
        candidates.append((score, text, short))
    return candidates


_TLDR_WORDS = 30


def tldr(paper: Paper) -> str:
    """A one-sentence takeaway: the abstract's main-claim sentence, shortened.

    The sentence is chosen by how much of the title it restates, how much of the rest of the
    abstract it echoes, its role and cues ("in this paper", "we propose") and its length (see
    `_TLDR_WEIGHTS`); then its lead-in, parentheticals, an enumerated list after a colon and
    trailing elaborating clauses are cut (`shorten`), so every word of the takeaway is the
    abstract's own, in order. 38.0 ROUGE-1 F1 on SciTLDR-A dev (bench/bench_tldr.py).
    """
    candidates = _tldr_candidates(paper)
    # A question ("... how can we best use offline data?") is not a takeaway.
    candidates = [c for c in candidates if not c[1].endswith("?")] or candidates
    if not candidates:
        return paper.title
    best = max(candidates, key=lambda item: item[0])
    return best[2]
