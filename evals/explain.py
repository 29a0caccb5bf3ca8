"""Why a case lost points, stage by stage, so that a regression points at the stage behind it.

Stages in pipeline order (see `evals.run.LOSS_STAGES`): a gold paper search never returned (for
recommendations, only while the list has places not held by gold papers); one returned but not
judged relevant, or judged relevant but not cited by the writer (told apart only when the result
reports which papers it judged relevant: otherwise `retrieved_not_cited`); an abstention
on a case with gold papers, or citations on one expecting an abstention; key points whose terms
are absent, or that the judge found missing; citing sentences their abstracts do not back.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent import Paper
from evals import metrics
from evals.scoring import Output, Scored
from evals.suite import Case


def losses(
    case: Case, output: Output, gold: Sequence[str], scored: Scored, papers: dict[str, Paper]
) -> dict[str, list[str]]:
    """Stage -> what the case lost there (paper titles, key points with their missing terms)."""

    def name(pid: str) -> str:
        paper = papers.get(pid)
        return paper.title if paper is not None else pid

    found: dict[str, list[str]] = {}
    cited_task = case.task in ("ask", "compare", "brief")
    if gold and case.task != "tldr" and not _full(case, output, gold):
        retrieved = set(output.ranked)
        relevant = set(output.relevant) if output.relevant is not None else None
        cited = set(output.cited)
        for pid in gold:
            if pid not in retrieved:
                found.setdefault("gold_not_retrieved", []).append(name(pid))
            elif not cited_task or pid in cited:
                continue
            elif relevant is None:
                found.setdefault("retrieved_not_cited", []).append(name(pid))
            elif pid not in relevant:
                found.setdefault("retrieved_not_judged_relevant", []).append(name(pid))
            else:
                found.setdefault("relevant_not_cited", []).append(name(pid))
    if scored.metrics.get("false_abstention") == 1.0:
        found["false_abstention"] = [
            "abstained" if output.abstained else "cited none of the gold papers"
        ]
    if scored.metrics.get("correct_abstention") == 0.0:
        found["answered_out_of_scope"] = [name(pid) for pid in output.cited] or ["answered"]
    missed = set(scored.key_points_missed)
    for point in case.key_points:
        if point.text not in missed:
            continue
        if point.has_terms:
            absent = [t for t in point.all_terms if not metrics.term_present(t, output.text)]
            if point.any_terms and not any(
                metrics.term_present(t, output.text) for t in point.any_terms
            ):
                absent.append("one of " + ", ".join(point.any_terms))
            found.setdefault("key_point_terms_missing", []).append(
                f"{point.text} (missing: {'; '.join(absent)})"
            )
        else:
            found.setdefault("key_points_missed", []).append(point.text)
    if scored.unsupported:
        found["unsupported_sentences"] = list(scored.unsupported)
    return found


def _full(case: Case, output: Output, gold: Sequence[str]) -> bool:
    """A recommendation list with no room for more gold papers lost nothing to search: its
    `k` places all hold gold papers, however many more the case lists."""
    if case.task != "recommend":
        return False
    hits = len(set(output.ranked) & set(gold))
    return hits >= min(len(gold), case.k)
