"""Verification of written drafts against the abstracts they cite.

Both writers (offline and LLM) hand their drafts to this module before anything reaches the
reader. Two checks per sentence: every citation points to a paper the agent retrieved, and every
number in the sentence occurs in (the title or abstract of) a paper it cites. A sentence that
fails is repaired once — a citation outside the retrieved set is dropped when another citation
still supports the sentence; in LLM mode a sentence with an unsupported number gets one rewrite
call — and otherwise removed. Every removal is recorded with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from agent.results import RemovedSentence
from agent.state import ComparisonDraft, DraftSentence
from agent.text import numbers_in
from store.models import Paper

#  A rewriter gets the failing sentence and the reasons it failed, and returns the corrected
#  sentence (or None to give up). In LLM mode it is one LLM call; offline there is none.
Rewriter = Callable[[DraftSentence, list[str]], DraftSentence | None]

_CITATION_MARK = re.compile(r"\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]")


def strip_citation_marks(text: str) -> str:
    """`"Prophet skips steps [2, 3]."` -> `"Prophet skips steps."`: marks are not claims."""
    return _CITATION_MARK.sub("", text).strip()


def _supported_numbers(cites: Iterable[str], papers: Mapping[str, Paper]) -> set[str]:
    found: set[str] = set()
    for paper_id in cites:
        paper = papers.get(paper_id)
        if paper is not None:
            found |= set(numbers_in(f"{paper.title}. {paper.abstract}"))
    return found


def unsupported_numbers(text: str, cites: Iterable[str], papers: Mapping[str, Paper]) -> list[str]:
    """Numbers in `text` that occur in none of the cited papers' titles and abstracts."""
    supported = _supported_numbers(cites, papers)
    return [n for n in numbers_in(strip_citation_marks(text)) if n not in supported]


def sentence_problems(sentence: DraftSentence, papers: Mapping[str, Paper]) -> list[str]:
    """Why a sentence fails verification against the retrieved `papers`; empty when it passes."""
    problems: list[str] = []
    unknown = [c for c in sentence.cites if c not in papers]
    if unknown:
        problems.append(f"cites {', '.join(unknown)}, not among the retrieved papers")
    numbers = unsupported_numbers(sentence.text, sentence.cites, papers)
    if numbers and not sentence.cites:
        problems.append(f"states {', '.join(numbers)} without citing a paper")
    elif numbers:
        problems.append(f"{', '.join(numbers)} does not occur in the cited abstract")
    return problems


def _drop_unknown_citations(sentence: DraftSentence, papers: Mapping[str, Paper]) -> DraftSentence:
    known = [c for c in sentence.cites if c in papers]
    if known and len(known) < len(sentence.cites):
        return DraftSentence(text=sentence.text, cites=known)
    return sentence


@dataclass
class Verified:
    """The sentences that passed (possibly repaired), and what was removed and why."""

    sentences: list[DraftSentence] = field(default_factory=list)
    removed: list[RemovedSentence] = field(default_factory=list)
    rewrites: int = 0


def verify_sentences(
    sentences: Iterable[DraftSentence],
    papers: Mapping[str, Paper],
    rewrite: Rewriter | None = None,
) -> Verified:
    """Checks each sentence against `papers` (id -> retrieved paper), repairing or removing."""
    result = Verified()
    for original in sentences:
        sentence = DraftSentence(
            text=strip_citation_marks(original.text), cites=list(dict.fromkeys(original.cites))
        )
        if not sentence.text:
            continue
        sentence = _drop_unknown_citations(sentence, papers)
        problems = sentence_problems(sentence, papers)
        if not problems:
            result.sentences.append(sentence)
            continue
        # A sentence whose every citation is outside the retrieved set has nothing to be
        # rewritten against: only a wrong number with a real source in hand is worth a rewrite.
        has_source = any(c in papers for c in sentence.cites)
        if rewrite is not None and has_source:
            result.rewrites += 1
            fixed = rewrite(sentence, problems)
            if fixed is not None and strip_citation_marks(fixed.text):
                fixed = _drop_unknown_citations(
                    DraftSentence(text=strip_citation_marks(fixed.text), cites=fixed.cites), papers
                )
                if not sentence_problems(fixed, papers):
                    result.sentences.append(fixed)
                    continue
                problems = [*problems, "the rewrite still failed"]
        result.removed.append(
            RemovedSentence(sentence=_with_marks(original), reason="; ".join(problems))
        )
    return result


def _with_marks(sentence: DraftSentence) -> str:
    if not sentence.cites:
        return sentence.text
    return f"{strip_citation_marks(sentence.text)} [{', '.join(sentence.cites)}]"


def verify_comparison(
    draft: ComparisonDraft,
    papers: Mapping[str, Paper],
    rewrite: Rewriter | None = None,
) -> tuple[ComparisonDraft, list[RemovedSentence]]:
    """Checks a comparison: rows must be compared papers and their numbers must be theirs;
    shared points and differences may only use numbers from the compared abstracts."""
    removed: list[RemovedSentence] = []
    rows = []
    for row in draft.rows:
        if row.paper_id not in papers:
            removed.append(
                RemovedSentence(
                    sentence=f"{row.title}: {row.key_result}",
                    reason=f"row for {row.paper_id}, not among the compared papers",
                )
            )
            continue
        fixed = row.model_copy()
        for name in ("problem", "approach", "key_result"):
            # A bracketed number copied from an abstract ("proves P=NP [999]") is no citation.
            value = strip_citation_marks(getattr(fixed, name))
            setattr(fixed, name, value)
            bad = unsupported_numbers(value, [row.paper_id], papers)
            if bad:
                removed.append(
                    RemovedSentence(
                        sentence=value,
                        reason=f"{name} of {row.paper_id}: {', '.join(bad)} "
                        "does not occur in its abstract",
                    )
                )
                setattr(fixed, name, "")
        rows.append(fixed)

    def _points(points: list[str], label: str) -> list[str]:
        kept = []
        for point in points:
            bad = unsupported_numbers(point, papers.keys(), papers)
            if bad:
                removed.append(
                    RemovedSentence(
                        sentence=point,
                        reason=f"{label}: {', '.join(bad)} occurs in none of the abstracts",
                    )
                )
            else:
                kept.append(strip_citation_marks(point))
        return kept

    read_first, reason = draft.read_first, draft.read_first_reason
    if read_first is not None and read_first not in papers:
        removed.append(
            RemovedSentence(
                sentence=f"Read {read_first} first. {reason or ''}".strip(),
                reason=f"{read_first} is not among the compared papers",
            )
        )
        read_first, reason = None, None
    reason = strip_citation_marks(reason) if reason else reason
    if reason and unsupported_numbers(reason, [read_first] if read_first else [], papers):
        removed.append(
            RemovedSentence(
                sentence=reason, reason="the reason to read it first states a number it lacks"
            )
        )
        reason = None
    verified = verify_sentences(draft.sentences, papers, rewrite)
    removed.extend(verified.removed)
    return (
        ComparisonDraft(
            rows=rows,
            shared=_points(draft.shared, "shared"),
            differences=_points(draft.differences, "difference"),
            read_first=read_first,
            read_first_reason=reason,
            sentences=verified.sentences,
        ),
        removed,
    )
