"""Citations as the LLM writes them: numbers of papers in the delimited data (`[n]`), mapped
back to paper ids, and a streamed prose answer parsed into the draft the verifier checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from agent.state import Draft, DraftSentence
from agent.text import split_sentences
from agent.verify import strip_citation_marks
from agent.writers.llm.schemas import NumberedSentence
from store.models import Paper


def cites_from_numbers(numbers: Iterable[int], papers: Sequence[Paper]) -> list[str]:
    """Source numbers as shown in the delimited data -> paper ids; an out-of-range number is
    kept as `[n]` so the verifier sees (and reports) a citation of no retrieved paper."""
    cites = []
    for n in numbers:
        cites.append(papers[n - 1].id if 1 <= n <= len(papers) else f"[{n}]")
    return list(dict.fromkeys(cites))


def numbered(sentences: Iterable[NumberedSentence], papers: Sequence[Paper]) -> list[DraftSentence]:
    return [
        DraftSentence(text=s.text, cites=cites_from_numbers(s.sources, papers)) for s in sentences
    ]


_MARKS = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")


def parse_prose_draft(text: str, papers: Sequence[Paper]) -> Draft:
    """A streamed prose answer with `[n]` marks -> the draft the verifier checks."""
    body = text.strip()
    if not body or body.upper().startswith("NOT COVERED"):
        return Draft(abstained=True)
    sentences = []
    for sentence in split_sentences(body):
        numbers = [int(n) for group in _MARKS.findall(sentence) for n in re.split(r"[,;]", group)]
        clean = strip_citation_marks(sentence)
        if clean:
            sentences.append(DraftSentence(text=clean, cites=cites_from_numbers(numbers, papers)))
    return Draft(sentences=sentences)
