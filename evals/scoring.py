"""Turns one task's result into a scored row: what the output is, and its metrics.

Each task's public result (`Answer`, `Comparison`, recommendations, `Briefing`, a TLDR string)
is first reduced to an `Output` (prose, ranked ids, cited ids, cited claims with their
evidence, cost); one scoring function then applies every metric that the case defines, so all
tasks are measured the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field

from agent import Answer, Briefing, Comparison, Paper, Recommendation
from evals import metrics
from evals.suite import Case

# Judges a list of key points against a text: one yes/no per point (an LLM, when configured).
KeyPointJudge = Callable[[str, Sequence[str]], list[bool]]


class Claim(BaseModel):
    """A sentence of the output and the text of the papers it rests on."""

    sentence: str
    cites: list[str] = Field(default_factory=list, description="Paper ids the sentence cites")
    evidence: str = ""


class Output(BaseModel):
    """A task's result reduced to what the metrics read."""

    text: str = Field(description="The prose scored against the reference and key points")
    ranked: list[str] = Field(default_factory=list, description="Returned paper ids, in order")
    relevant: list[str] | None = Field(
        default=None, description="Ids the result reports as judged relevant (None: not reported)"
    )
    cited: list[str] = Field(default_factory=list, description="Cited paper ids, in order")
    claims: list[Claim] = Field(default_factory=list)
    abstained: bool | None = None
    llm_calls: int | None = None
    tokens: int | None = None
    reasons: list[str] = Field(default_factory=list, description="Recommendation reasons")
    theme_sizes: list[int] = Field(
        default_factory=list, description="Papers per theme (not counting the other papers)"
    )
    theme_coverage: list[float] = Field(
        default_factory=list, description="Per theme: share of its papers its summary cites"
    )
    other_papers: int | None = Field(default=None, description="Papers left in no theme")


class Scored(BaseModel):
    metrics: dict[str, float | None] = Field(default_factory=dict)
    unsupported: list[str] = Field(default_factory=list, description="Cited sentences not backed")
    ungrounded_numbers: list[str] = Field(
        default_factory=list, description="Sentences with a number absent from cited abstracts"
    )
    key_points_missed: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------- results -> outputs


def _evidence(paper: Paper) -> str:
    return f"{paper.title}. {paper.abstract}"


def _claims(
    markdown: str, source_ids: dict[int, str], titles: Sequence[str], lookup: dict[str, Paper]
) -> list[Claim]:
    """Sentences of a written result; a sentence without a marker rests on all cited papers."""
    all_cited = [pid for pid in source_ids.values() if pid in lookup]
    claims: list[Claim] = []
    for sentence in metrics.split_sentences(metrics.plain_text(markdown, titles)):
        numbers = metrics.cited_numbers(sentence)
        cites = [source_ids[n] for n in numbers if n in source_ids]
        if numbers and not cites:
            # A marker that names no source: nothing backs it.
            claims.append(Claim(sentence=sentence, cites=[], evidence=""))
            continue
        basis = cites or all_cited
        evidence = " ".join(_evidence(lookup[pid]) for pid in basis if pid in lookup)
        claims.append(Claim(sentence=sentence, cites=cites, evidence=evidence))
    return claims


def written_output(
    result: Answer | Comparison, lookup: dict[str, Paper], abstained: bool | None = None
) -> Output:
    for paper in result.retrieved:
        lookup.setdefault(paper.id, paper)
    titles = [source.title for source in result.sources]
    source_ids = {source.n: source.paper_id for source in result.sources}
    return Output(
        text=metrics.plain_text(result.markdown, titles),
        ranked=[paper.id for paper in result.retrieved],
        relevant=reported_relevant(result),
        cited=list(dict.fromkeys(result.citations)),
        claims=_claims(result.markdown, source_ids, titles, lookup),
        abstained=abstained,
        llm_calls=result.usage.llm_calls,
        tokens=result.usage.prompt_tokens + result.usage.completion_tokens,
    )


def reported_relevant(result: Answer | Comparison) -> list[str] | None:
    """The ids a result says it judged relevant, when its model reports them (`relevant`, as
    ids or papers); None when it does not, and the report then cannot tell search-side losses
    from relevance-side ones."""
    reported = getattr(result, "relevant", None)
    if reported is None:
        return None
    return [item if isinstance(item, str) else item.id for item in reported]


def answer_output(answer: Answer, lookup: dict[str, Paper]) -> Output:
    return written_output(answer, lookup, abstained=answer.abstained or not answer.citations)


def comparison_output(comparison: Comparison, lookup: dict[str, Paper]) -> Output:
    # A comparison that compares nothing cites nothing: that is its abstention.
    abstained = bool(getattr(comparison, "abstained", False)) or not comparison.citations
    return written_output(comparison, lookup, abstained=abstained)


def recommend_output(recommendations: Sequence[Recommendation]) -> Output:
    return Output(
        text="\n".join(f"{rec.paper.title}: {rec.reason}" for rec in recommendations),
        ranked=[rec.paper.id for rec in recommendations],
        reasons=[rec.reason for rec in recommendations],
    )


def briefing_output(briefing: Briefing, lookup: dict[str, Paper]) -> Output:
    ranked: list[str] = []
    cited: list[str] = []
    claims: list[Claim] = []
    sizes: list[int] = []
    coverage: list[float] = []
    other = 0
    for theme in briefing.themes:
        for paper in theme.papers:
            lookup.setdefault(paper.id, paper)
            ranked.append(paper.id)
        summary = written_output(theme.summary, lookup)
        cited.extend(summary.cited)
        claims.extend(summary.claims)
        if getattr(theme, "other", False):
            other += len(theme.papers)
            continue
        sizes.append(len(theme.papers))
        members = {paper.id for paper in theme.papers}
        coverage.append(len(members & set(summary.cited)) / len(members) if members else 0.0)
    titles = [paper.title for theme in briefing.themes for paper in theme.papers]
    return Output(
        text=metrics.plain_text(briefing.markdown, titles),
        ranked=list(dict.fromkeys(ranked)),
        cited=list(dict.fromkeys(cited)),
        claims=claims,
        llm_calls=briefing.usage.llm_calls,
        tokens=briefing.usage.prompt_tokens + briefing.usage.completion_tokens,
        theme_sizes=sizes,
        theme_coverage=coverage,
        other_papers=other,
    )


def tldr_output(tldr: str, paper: Paper) -> Output:
    # A TLDR speaks for its one paper: every sentence is checked against that abstract.
    return Output(
        text=tldr,
        ranked=[paper.id],
        cited=[paper.id],
        claims=[
            Claim(sentence=sentence, cites=[paper.id], evidence=_evidence(paper))
            for sentence in metrics.split_sentences(tldr)
        ],
    )


# ---------------------------------------------------------------- scoring


def score(
    case: Case,
    output: Output,
    gold: Sequence[str],
    k: int,
    embed: metrics.Embed,
    judge: KeyPointJudge | None = None,
) -> Scored:
    """Every metric the case defines; a metric that does not apply is left out."""
    values: dict[str, float | None] = {}
    scored = Scored()
    if gold and case.task != "tldr":
        # A briefing's papers are a set, not a ranking: measure all of them.
        cutoff = max(len(output.ranked), 1) if case.task == "brief" else k
        values["retrieved_recall"] = metrics.recall_at_k(output.ranked, gold, cutoff)
        values["retrieved_precision"] = metrics.precision_at_k(output.ranked, gold, cutoff)
        values["retrieved_ndcg"] = metrics.ndcg_at_k(output.ranked, gold, cutoff)
        if case.task != "recommend":
            values["cited_recall"] = metrics.recall_at_k(output.cited, gold, len(output.cited))
            values["cited_precision"] = metrics.precision_at_k(
                output.cited, gold, len(output.cited)
            )
            values["cited_ndcg"] = metrics.ndcg_at_k(output.cited, gold, k)
    if case.exact_set:
        values["exact_set"] = float(set(output.ranked) == set(gold))
    if case.reference:
        values.update(metrics.rouge_f1(output.text, case.reference))
        values["embedding_similarity"] = metrics.embedding_similarity(
            embed, output.text, case.reference
        )
    if case.key_points:
        covered = key_points_covered(case, output.text, embed, judge)
        values["key_point_coverage"] = metrics.share(covered)
        scored.key_points_missed = [
            point.text for point, hit in zip(case.key_points, covered, strict=True) if not hit
        ]
    if case.task in ("ask", "compare"):
        _abstention(case, output, gold, values)
    if case.task in ("ask", "compare", "brief"):
        retrieved = set(output.ranked)
        values["citation_grounding"] = metrics.share(pid in retrieved for pid in output.cited)
    _grounding(output, embed, values, scored)
    _writing(case, output, values)
    values["llm_calls"] = None if output.llm_calls is None else float(output.llm_calls)
    values["tokens"] = None if output.tokens is None else float(output.tokens)
    scored.metrics = values
    return scored


def _writing(case: Case, output: Output, values: dict[str, float | None]) -> None:
    """How the output reads: sentences cut mid-clause; for a briefing, theme sizes and the
    share of each theme's papers its summary covers; for recommendations, reasons that name
    the interest they match."""
    sentences = [claim.sentence for claim in output.claims]
    if sentences:
        values["cut_mid_clause"] = metrics.share(metrics.cut_mid_clause(s) for s in sentences)
    if case.task == "brief" and output.theme_sizes:
        values["theme_summary_coverage"] = sum(output.theme_coverage) / len(output.theme_coverage)
        values["theme_size_mean"] = sum(output.theme_sizes) / len(output.theme_sizes)
        values["theme_size_max"] = float(max(output.theme_sizes))
        total = sum(output.theme_sizes) + (output.other_papers or 0)
        values["other_papers_share"] = (output.other_papers or 0) / total if total else None
    if case.task == "recommend" and output.reasons and case.query:
        values["reasons_name_interest"] = metrics.share(
            metrics.names_interest(reason, case.query) for reason in output.reasons
        )


def _abstention(
    case: Case, output: Output, gold: Sequence[str], values: dict[str, float | None]
) -> None:
    """Abstention figures of ask and compare. `abstention_correct` over every case;
    `correct_abstention` over cases expecting one (out of scope); `false_abstention` over cases
    with gold papers: 1 when the output abstained or cites none of the gold papers."""
    abstained = bool(output.abstained)
    if case.task == "ask" or case.expect_no_citations:
        values["abstention_correct"] = float(abstained == case.expect_no_citations)
    if case.expect_no_citations:
        values["correct_abstention"] = float(abstained)
    if gold:
        values["false_abstention"] = float(abstained or not set(gold) & set(output.cited))


def _grounding(
    output: Output, embed: metrics.Embed, values: dict[str, float | None], scored: Scored
) -> None:
    number_flags: list[bool] = []
    support_flags: list[bool] = []
    for claim in output.claims:
        grounded = metrics.numbers_grounded(claim.sentence, claim.evidence)
        if grounded is not None:
            number_flags.append(grounded)
            if not grounded:
                scored.ungrounded_numbers.append(claim.sentence)
        # Only sentences that cite (or carry a marker naming no source) claim support.
        if claim.cites or metrics.cited_numbers(claim.sentence):
            supported = bool(claim.evidence) and metrics.is_supported(
                claim.sentence, claim.evidence, embed
            )
            support_flags.append(supported)
            if not supported:
                scored.unsupported.append(claim.sentence)
    if output.claims:
        values["number_grounding"] = metrics.share(number_flags)
        values["supported_sentences"] = metrics.share(support_flags)


def key_points_covered(
    case: Case, text: str, embed: metrics.Embed, judge: KeyPointJudge | None
) -> list[bool]:
    """Terms decide where given; the rest go to the judge when there is one, else embeddings."""
    covered: list[bool | None] = []
    for point in case.key_points:
        if point.has_terms:
            covered.append(metrics.covered_by_terms(text, point.all_terms, point.any_terms))
        else:
            covered.append(None)
    open_points = [p.text for p, hit in zip(case.key_points, covered, strict=True) if hit is None]
    if open_points:
        if judge is not None:
            verdicts = iter(judge(text, open_points))
        else:
            sentences = metrics.split_sentences(text)
            verdicts = iter(
                metrics.covered_by_similarity(embed, point, sentences) for point in open_points
            )
        covered = [next(verdicts) if hit is None else hit for hit in covered]
    return [bool(hit) for hit in covered]
