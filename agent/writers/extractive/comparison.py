"""Extractive comparisons: a row per paper (problem, approach, key result, whether it needs
training, code), the terms the papers share and those that set each apart, which to read first
and why, and a written comparison made of the papers' own sentences.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from agent.results import ComparisonRow
from agent.state import ComparisonDraft, DraftSentence, Evidence
from agent.text import TermStats, split_sentences
from agent.writers.extractive.matching import Question, parse_question
from agent.writers.extractive.phrasing import count_words, listing, short_title
from agent.writers.extractive.roles import classify_sentence
from agent.writers.extractive.shorten import shorten
from agent.writers.extractive.takeaway import key_result, main_point
from store.models import Paper

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


def _row(paper: Paper, question: Question, cell_words: int) -> ComparisonRow:
    approach = main_point(paper, question) or _problem(paper)
    problem = _problem(paper, exclude=approach)
    result = key_result(paper, question, {problem, approach})
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
    question = parse_question(query or "", stats)
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
            opener = f"These {count_words(n).lower()} papers share {listing(shared[:4])}."
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
    free_names = listing([short_title(p) for p in free])
    trained_names = listing([short_title(p) for p in trained])
    need = "needs" if len(free) == 1 else "need"
    train = "trains or fine-tunes" if len(trained) == 1 else "train or fine-tune"
    text = (
        f"By their abstracts, {free_names} {need} no additional training, "
        f"while {trained_names} {train} a model."
    )
    return [DraftSentence(text=text, cites=[p.id for p in [*free, *trained]])]
