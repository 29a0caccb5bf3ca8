"""Rendering verified drafts into the public results: markdown with numbered sources.

Owns the citation numbering (sources are numbered in order of first citation, `[n]` in the text
points at entry n of the source list), the offline label, and the `Answer` / `Comparison`
objects the API returns. It never decides what is true: it renders what the verifier kept.

Everything written here from paper text or from the LLM (titles, sentences, table cells, reasons,
removed sentences, the user's query) goes through `agent.markup.escape_markdown`, and links
through `agent.markup.safe_url`: the only Markdown in a result is what this module writes. Table
cells and reasons also lose bracketed numbers (`strip_citation_marks`): the only citation marks
are the `[n]` this module adds for sources it lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from agent.markup import escape_markdown, safe_url
from agent.results import (
    Answer,
    Comparison,
    ComparisonRow,
    Mode,
    Recommendation,
    RemovedSentence,
    Source,
    Usage,
)
from agent.state import ComparisonDraft, Draft
from agent.text import split_sentences
from agent.verify import strip_citation_marks
from store.models import Paper

OFFLINE_LABEL = (
    "_Offline extractive summary: sentences are taken from the paper abstracts; "
    "no language model was used._"
)
NOT_COVERED = "The papers in the store do not cover this question."


def number_sources(cited: Iterable[str], papers: Sequence[Paper]) -> list[Source]:
    """Sources numbered in order of first citation; ids not among `papers` are skipped."""
    by_id = {p.id: p for p in papers}
    sources: list[Source] = []
    for paper_id in dict.fromkeys(cited):
        paper = by_id.get(paper_id)
        if paper is not None:
            sources.append(
                Source(
                    n=len(sources) + 1,
                    paper_id=paper.id,
                    title=paper.title,
                    published=paper.published,
                    url=paper.url,
                )
            )
    return sources


def cite(text: str, cites: Sequence[str], numbers: dict[str, int]) -> str:
    """`"Prophet stops early."` + ids -> `"Prophet stops early [2]."` (mark before the stop)."""
    marks = sorted({numbers[c] for c in cites if c in numbers})
    if not marks:
        return text
    mark = "[" + ", ".join(str(n) for n in marks) + "]"
    stripped = text.rstrip()
    end = len(stripped)
    while end > 0 and stripped[end - 1] in ".!?":
        end -= 1
    return f"{stripped[:end]} {mark}{stripped[end:] or '.'}"


def sources_markdown(sources: Sequence[Source]) -> str:
    if not sources:
        return ""
    lines = ["**Sources**", ""]
    for source in sources:
        url = safe_url(source.url)
        title = escape_markdown(source.title)
        title = f"[{title}]({url})" if url else title
        date = f", {source.published.isoformat()}" if source.published else ""
        lines.append(f"[{source.n}] {title}{date} (`{source.paper_id}`)  ")
    return "\n".join(lines)


def removed_markdown(removed: Sequence[RemovedSentence]) -> str:
    if not removed:
        return ""
    lines = [f"<details><summary>Removed by verification ({len(removed)})</summary>", ""]
    lines += [f"- {escape_markdown(r.sentence)} — {escape_markdown(r.reason)}" for r in removed]
    lines += ["", "</details>"]
    return "\n".join(lines)


def _join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p).strip() + "\n"


# Papers an abstention names as the closest the store has.
CLOSEST = 3


def closest_markdown(retrieved: Sequence[Paper]) -> str:
    """The papers search found closest to an unanswered question, named but not cited: the
    reader sees what the store has nearby and can judge the gap."""
    if not retrieved:
        return ""
    titles = "; ".join(f"*{escape_markdown(p.title)}*" for p in retrieved[:CLOSEST])
    return f"Closest in the store, which do not answer it: {titles}."


def answer_result(
    question: str,
    draft: Draft,
    retrieved: Sequence[Paper],
    mode: Mode,
    usage: Usage,
    removed: Sequence[RemovedSentence],
) -> Answer:
    """The `Answer` for a verified draft; an abstention carries no citations."""
    label = OFFLINE_LABEL if mode == "offline" else ""
    if draft.abstained or not draft.sentences:
        return Answer(
            question=question,
            markdown=_join(
                label, NOT_COVERED, closest_markdown(retrieved), removed_markdown(removed)
            ),
            retrieved=list(retrieved),
            mode=mode,
            usage=usage,
            removed=list(removed),
            abstained=True,
            closest=[p.id for p in retrieved[:CLOSEST]],
        )
    cited = [c for s in draft.sentences for c in s.cites]
    sources = number_sources(cited, retrieved)
    numbers = {s.paper_id: s.n for s in sources}
    prose = " ".join(cite(escape_markdown(s.text), s.cites, numbers) for s in draft.sentences)
    return Answer(
        question=question,
        markdown=_join(label, prose, sources_markdown(sources), removed_markdown(removed)),
        citations=[s.paper_id for s in sources],
        sources=sources,
        retrieved=list(retrieved),
        mode=mode,
        usage=usage,
        removed=list(removed),
    )


def _cell(text: str | None) -> str:
    """A table cell from paper text: one line, no bracketed numbers, escaped (`|` included)."""
    cell = escape_markdown(strip_citation_marks(text)) if text else ""
    return cell or "—"


def _claim(text: str) -> str:
    """A point, reason or sentence in the text: escaped, without bracketed numbers."""
    return escape_markdown(strip_citation_marks(text))


def _training(row: ComparisonRow) -> str:
    if row.needs_training is None:
        return "not stated"
    return "yes" if row.needs_training else "no"


def comparison_result(
    query: str | None,
    draft: ComparisonDraft,
    retrieved: Sequence[Paper],
    mode: Mode,
    usage: Usage,
    removed: Sequence[RemovedSentence],
) -> Comparison:
    """The `Comparison` for a verified comparison draft: table, shared, differences, read-first."""
    label = OFFLINE_LABEL if mode == "offline" else ""
    heading = f"## Comparison: {escape_markdown(query)}" if query else "## Comparison"
    if not draft.rows:
        return Comparison(
            query=query,
            markdown=_join(heading, label, NOT_COVERED, removed_markdown(removed)),
            retrieved=list(retrieved),
            mode=mode,
            usage=usage,
            removed=list(removed),
        )
    order = [r.paper_id for r in draft.rows]
    order += [c for s in draft.sentences for c in s.cites]
    if draft.read_first:
        order.append(draft.read_first)
    sources = number_sources(order, retrieved)
    numbers = {s.paper_id: s.n for s in sources}
    table = [
        "| # | Paper | Method | Problem | Approach | Key result | Needs training | Code |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in draft.rows:
        code_url = safe_url(row.code)
        code = f"[code]({code_url})" if code_url else "—"
        table.append(
            f"| [{numbers[row.paper_id]}] | {_cell(row.title)} | {_cell(row.method)} | "
            f"{_cell(row.problem)} | {_cell(row.approach)} | {_cell(row.key_result)} | "
            f"{_training(row)} | {code} |"
        )
    parts = [heading, label, "\n".join(table)]
    if draft.shared:
        shared = [f"- {point}" for s in draft.shared if (point := _claim(s))]
        parts.append("**What they share**\n\n" + "\n".join(shared))
    if draft.differences:
        differences = [f"- {point}" for d in draft.differences if (point := _claim(d))]
        parts.append("**Where they differ**\n\n" + "\n".join(differences))
    if draft.sentences:
        parts.append(
            " ".join(cite(escape_markdown(s.text), s.cites, numbers) for s in draft.sentences)
        )
    if draft.read_first and draft.read_first in numbers:
        title = escape_markdown(next(s.title for s in sources if s.paper_id == draft.read_first))
        why = _claim(draft.read_first_reason or "")
        reason = f" {why}" if why else ""
        parts.append(f"**Read first:** [{numbers[draft.read_first]}] {title}.{reason}")
    parts += [sources_markdown(sources), removed_markdown(removed)]
    return Comparison(
        query=query,
        markdown=_join(*parts),
        citations=[s.paper_id for s in sources],
        sources=sources,
        retrieved=list(retrieved),
        mode=mode,
        usage=usage,
        removed=list(removed),
        rows=draft.rows,
        shared=draft.shared,
        differences=draft.differences,
        read_first=draft.read_first,
        read_first_reason=draft.read_first_reason,
    )


def answer_from_comparison(question: str, comparison: Comparison) -> Answer:
    """A chat question that asked for a comparison is answered with the comparison."""
    return Answer(
        question=question,
        markdown=comparison.markdown,
        citations=comparison.citations,
        sources=comparison.sources,
        retrieved=comparison.retrieved,
        mode=comparison.mode,
        usage=comparison.usage,
        removed=comparison.removed,
        abstained=not comparison.rows,
    )


def answer_from_recommendations(
    question: str,
    recommendations: Sequence[Recommendation],
    mode: Mode,
    usage: Usage,
    *,
    notice: str | None = None,
    closest: Sequence[Paper] = (),
) -> Answer:
    """A chat question that asked what to read is answered with ranked recommendations. With
    none (no paper's evidence clears the floor for the interest) it abstains: the `notice` line
    of the reading list names the `closest` papers, which are not cited."""
    papers = [r.paper for r in recommendations]
    line = escape_markdown(notice) if notice else ""
    if not recommendations:
        return Answer(
            question=question,
            markdown=_join(line or NOT_COVERED),
            retrieved=list(closest),
            mode=mode,
            usage=usage,
            abstained=True,
            closest=[p.id for p in closest],
        )
    sources = number_sources([p.id for p in papers], papers)
    lines = ["Papers to read, best match first:", ""]
    for n, rec in enumerate(recommendations, start=1):
        title = escape_markdown(rec.paper.title)
        lines.append(f"{n}. **{title}** [{n}] — {_claim(rec.reason)}")
    return Answer(
        question=question,
        markdown=_join("\n".join(lines), line, sources_markdown(sources)),
        citations=[p.id for p in papers],
        sources=sources,
        retrieved=papers,
        mode=mode,
        usage=usage,
    )


def answer_sentences(answer: Answer) -> list[str]:
    """The answer's prose sentence by sentence, without label, source list or audit trail
    (chat streams these in offline mode; tables and lists stay whole)."""
    body = answer.markdown.split("\n\n**Sources**")[0].split("\n\n<details>")[0]
    sentences: list[str] = []
    for block in body.split("\n\n"):
        if not block.strip() or block == OFFLINE_LABEL:
            continue
        if block.startswith(("|", "-", "#", "**")) or "\n" in block:
            sentences.append(block)
        else:
            sentences.extend(split_sentences(block))
    return sentences
