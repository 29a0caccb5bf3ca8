"""Reading recommendations: which papers match an interest, how they rank, and why.

Owns `PaperBrief.reading_list` / `PaperBrief.recommend`, the briefing's top picks and the
chat's answer to "what should I read about X?".

Which papers may be recommended: for each interest, the relevance evidence of
`agent/relevance.py` (the evidence model over paper cosine, best and second sentence cosines
and BM25 share: `RelevanceJudge.assess`) for the candidates nearest to it. A paper is
recommended for an interest only when its evidence clears a floor: `RecommendSettings.
min_evidence`, by default the floor fitted for the embedder by `bench/bench_interests.py`
(`agent/data/interests.json`: interests are short phrases, so their floor is fitted on phrases,
SciTLDR-A train, and reported on dev; see BENCHMARKS.md). An interest no candidate clears it
for gets no picks: the result names it in one line with the papers that came closest
(`ReadingList.notice`, `.closest`) instead of recommending unrelated papers. Liked papers are a
source of picks of their own, without a floor, as they were.

How the recommendable papers rank: a paper's score is a weighted sum of three components, each
in [0, 1]:

- relevance: the paper's highest cosine similarity to any of the reader's interests, rescaled
  over the candidates so the closest paper scores 1 and the median candidate (or, below five
  candidates, a similarity of 0) scores 0; with liked papers, the mean of that and the paper's
  mean similarity to the liked papers, rescaled the same way (only the liked part when no
  interest is given). Raw cosines of a sentence embedder sit in a narrow band (0.3-0.7 on the
  sample), which let recency and upvotes outvote topic: the rescaling keeps the weights'
  meaning, with a whole unit of relevance between the best and an ordinary match;
- recency: 0.5 ** (age in days / `recency_half_life_days`), age counted back from "today"
  (by default the newest paper's date among the candidates, so results are reproducible);
- popularity: log1p(upvotes) / log1p(most upvotes among the candidates); 0 when unknown.

The weights are `RecommendSettings.relevance_weight`, `recency_weight` and `popularity_weight`,
normalised to sum to 1. Reasons are one sentence built from facts only: the matched interest,
the abstract's own contribution sentence, upvotes and publication date.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from importlib import resources

import numpy as np
from pydantic import BaseModel, Field

from agent.errors import UnknownLikedPapersError
from agent.facets import facets_of
from agent.relevance import PaperRelevance, RelevanceJudge, RelevanceModel, model_for
from agent.results import InterestMatch, ReadingList, Recommendation
from agent.settings import RecommendSettings
from agent.themes import unique_phrase
from agent.verify import strip_citation_marks
from agent.writers.extractive import main_point, shorten
from agent.writers.extractive.contrast import describe
from agent.writers.extractive.phrasing import listing
from store.chroma import PaperStore
from store.models import Paper

log = logging.getLogger(__name__)

# Share of relevance that comes from liked papers when interests are given too.
LIKED_SHARE = 0.5


@dataclass(frozen=True)
class ScoredPaper:
    """A candidate's score and the components it is made of."""

    paper: Paper
    score: float
    relevance: float
    recency: float
    popularity: float
    interest: int | None  # index of the interest it matches best, None without interests
    interest_similarity: float
    liked: int | None  # index of the most similar liked paper, None without liked papers
    liked_similarity: float


def normalised_weights(settings: RecommendSettings) -> tuple[float, float, float]:
    """(relevance, recency, popularity) weights scaled to sum to 1."""
    raw = (settings.relevance_weight, settings.recency_weight, settings.popularity_weight)
    total = sum(raw)
    if total <= 0:
        raise ValueError("recommend weights are all zero: set at least one of them above 0")
    relevance, recency, popularity = (w / total for w in raw)
    return relevance, recency, popularity


def recency_score(published: date | None, today: date, half_life_days: float) -> float:
    """1 for a paper published `today`, halving every `half_life_days`; 0 when undated.
    A date after `today` counts as today."""
    if published is None:
        return 0.0
    age = max(0, (today - published).days)
    return float(0.5 ** (age / half_life_days))


def popularity_scores(papers: Sequence[Paper]) -> list[float]:
    """log1p(upvotes) / log1p(the most upvotes among `papers`); 0 when unknown or all zero."""
    top = max((p.upvotes or 0 for p in papers), default=0)
    if top <= 0:
        return [0.0] * len(papers)
    return [math.log1p(max(0, p.upvotes or 0)) / math.log1p(top) for p in papers]


# Below this many candidates the median is no meaningful "ordinary match".
_MIN_FOR_MEDIAN = 5


def rescaled(similarities: np.ndarray) -> np.ndarray:
    """Similarities mapped to [0, 1]: the highest to 1, the median candidate's (or 0 for
    fewer than five candidates) and anything below it to 0."""
    values = np.asarray(similarities, dtype=np.float64)
    if values.size == 0:
        return values
    top = float(values.max())
    floor = float(np.median(values)) if values.size >= _MIN_FOR_MEDIAN else 0.0
    if top <= floor:
        return np.where(values >= top, 1.0, 0.0) if top > 0 else np.zeros_like(values)
    return np.clip((values - floor) / (top - floor), 0.0, 1.0)


def score_papers(
    papers: Sequence[Paper],
    paper_vectors: np.ndarray,
    interest_vectors: np.ndarray,
    liked_vectors: np.ndarray | None,
    today: date,
    settings: RecommendSettings,
) -> list[ScoredPaper]:
    """Every candidate scored as the module docstring says, best first (ties by id).

    Vectors are L2-normalised rows (as every `Embedder` returns them): `paper_vectors` one per
    paper, `interest_vectors` one per interest (may have no rows when `liked_vectors` has
    some), `liked_vectors` one per liked paper or None.
    """
    if len(papers) != len(paper_vectors):
        raise ValueError(f"{len(papers)} papers but {len(paper_vectors)} vectors")
    has_liked = liked_vectors is not None and len(liked_vectors) > 0
    if len(interest_vectors) == 0 and not has_liked:
        raise ValueError("no interests and no liked papers: nothing to rank by")
    if not papers:
        return []
    w_relevance, w_recency, w_popularity = normalised_weights(settings)
    vectors = np.asarray(paper_vectors, dtype=np.float32)
    n = len(papers)
    interest_best = np.full(n, -1, dtype=int)
    interest_sim = np.zeros(n, dtype=np.float32)
    if len(interest_vectors):
        similarities = vectors @ np.asarray(interest_vectors, dtype=np.float32).T
        interest_best = similarities.argmax(axis=1)
        interest_sim = similarities.max(axis=1)
    liked_best = np.full(n, -1, dtype=int)
    liked_mean = np.zeros(n, dtype=np.float32)
    liked_max = np.zeros(n, dtype=np.float32)
    if has_liked:
        assert liked_vectors is not None
        liked_similarities = vectors @ np.asarray(liked_vectors, dtype=np.float32).T
        liked_best = liked_similarities.argmax(axis=1)
        liked_mean = liked_similarities.mean(axis=1)
        liked_max = liked_similarities.max(axis=1)
    popularity = popularity_scores(papers)
    interest_relevance = rescaled(interest_sim) if len(interest_vectors) else interest_sim
    liked_relevance = rescaled(liked_mean) if has_liked else liked_mean
    scored = []
    for i, paper in enumerate(papers):
        from_interests = float(interest_relevance[i])
        from_liked = float(liked_relevance[i])
        if has_liked and len(interest_vectors):
            relevance = (1 - LIKED_SHARE) * from_interests + LIKED_SHARE * from_liked
        elif has_liked:
            relevance = from_liked
        else:
            relevance = from_interests
        recency = recency_score(paper.published, today, settings.recency_half_life_days)
        score = w_relevance * relevance + w_recency * recency + w_popularity * popularity[i]
        scored.append(
            ScoredPaper(
                paper=paper,
                score=score,
                relevance=relevance,
                recency=recency,
                popularity=popularity[i],
                interest=int(interest_best[i]) if len(interest_vectors) else None,
                interest_similarity=float(interest_sim[i]),
                liked=int(liked_best[i]) if has_liked else None,
                liked_similarity=float(liked_max[i]),
            )
        )
    scored.sort(key=lambda s: (-s.score, s.paper.id))
    return scored


_WE_OPENING = re.compile(r"^(?:We|Our)\b")


def contribution_sentence(paper: Paper, interest: str = "") -> str:
    """What the paper contributes, as one complete sentence: its facets when the abstract
    names a mechanism ("Prophet is a training-free fast decoding paradigm that enables early
    commit decoding and reduces the number of decoding steps by up to 3.4x."), else its
    contribution sentence most related to `interest`, shortened at clause boundaries only
    ("We propose X" read as "The authors propose X")."""
    # A bracketed number copied from the abstract ("see [999]") is no citation of ours.
    described = describe(paper, unnamed="It")  # the title is shown next to the reason
    if described and len(described[0].split()) <= 45:
        return strip_citation_marks(described[0])
    sentence = main_point(paper, interest) or paper.title
    phrase = shorten(sentence, max_words=30).rstrip(".!?")
    match = _WE_OPENING.match(phrase)
    if match:
        replacement = "The authors" if match.group(0) == "We" else "Their"
        phrase = replacement + phrase[match.end() :]
    return strip_citation_marks(phrase[:1].upper() + phrase[1:] + ".")


def upvote_standing(paper: Paper, pool: Sequence[Paper]) -> str | None:
    """ "52 upvotes (the most of 84 papers)" / "35 upvotes (#8 of 52 papers)"; None without
    upvotes."""
    if paper.upvotes is None:
        return None
    votes = f"{paper.upvotes} upvote{'s' if paper.upvotes != 1 else ''}"
    voted = sorted((p.upvotes or 0 for p in pool if p.upvotes is not None), reverse=True)
    if len(voted) < 2 or paper.upvotes <= 0:
        return votes
    rank = voted.index(paper.upvotes) + 1 if paper.upvotes in voted else None
    if rank is None:
        return votes
    place = "the most" if rank == 1 else f"#{rank}"
    return f"{votes} ({place} of {len(pool)} papers)"


def what_is_new(paper: Paper, pool: Sequence[Paper]) -> str | None:
    """ "it is the only one of these papers on early commit decoding", from a phrase of its
    title or abstract that no other paper of `pool` uses; None when it has none."""
    if len(pool) < 2:
        return None
    facets = facets_of(paper)
    phrase = unique_phrase(paper, pool, also=[facets.mechanism] if facets.mechanism else [])
    if phrase and facets.name and phrase.casefold() in facets.name.casefold():
        return None  # its own name is new by definition: that says nothing
    return f"it is the only one of these papers on {phrase}" if phrase else None


def reason_for(
    paper: Paper,
    interests: Sequence[str],
    scored: ScoredPaper,
    *,
    today: date | None = None,
    liked_titles: Sequence[str] = (),
    today_is_newest: bool = True,
    pool: Sequence[Paper] = (),
) -> str:
    """Why a reader should read `paper`: the interest (or liked paper) it matches in words,
    what it contributes (`contribution_sentence`), and what sets it apart among the
    candidates `pool`: what is new about it, its standing in upvotes, its date.

    e.g. 'Matches your interest in "diffusion language models". Prophet is a training-free
    fast decoding paradigm that enables early commit decoding and reduces the number of
    decoding steps by up to 3.4x. Picked because it is the only one of these papers on early
    commit decoding and has 52 upvotes (#3 of 84 papers). Published 2025-08-27, 3 days
    before the newest paper.'
    """
    if scored.interest is not None and 0 <= scored.interest < len(interests):
        interest = interests[scored.interest]
        opening = f'Matches your interest in "{interest}"'
        if scored.liked is not None and 0 <= scored.liked < len(liked_titles):
            opening += f' and resembles "{liked_titles[scored.liked]}", which you liked'
    elif scored.liked is not None and 0 <= scored.liked < len(liked_titles):
        interest = liked_titles[scored.liked]
        opening = f'Resembles "{interest}", which you liked'
    else:
        interest = paper.title
        opening = "Recommended"
    standing = upvote_standing(paper, pool) if pool else None
    if standing is None and paper.upvotes is not None:
        standing = f"{paper.upvotes} upvote{'s' if paper.upvotes != 1 else ''}"
    because = []
    new = what_is_new(paper, pool) if pool else None
    if new:
        because.append(new)
    if standing:
        because.append(("it " if not because else "") + f"has {standing}")
    closing = f"Picked because {' and '.join(because)}." if because else ""
    if paper.published is not None:
        when = f"Published {paper.published.isoformat()}"
        if today is not None:
            days = (today - paper.published).days
            anchor = "the newest paper" if today_is_newest else "today"
            if days > 0:
                when += f", {days} day{'s' if days != 1 else ''} before {anchor}"
            elif days == 0 and today_is_newest:
                when += ", among the newest papers"
        closing = f"{closing} {when}.".strip()
    parts = (f"{opening}.", contribution_sentence(paper, interest), closing)
    return " ".join(part for part in parts if part)


_REQUEST = re.compile(
    r"^(?:(?:so|ok|okay|and|please|now)[, ]+)*"
    r"(?:what|which)\s+(?:papers?\s+)?(?:should|could|can|do you recommend|would you recommend)"
    r"(?:\s+i)?\s+(?:read|look at|start with)(?:\s+(?:first|next))?\s+(?:about|on|for|regarding)\s+"
    r"|^(?:please\s+)?(?:recommend|suggest)(?:\s+(?:me|some))*(?:\s+(?:papers?|reading))?"
    r"\s+(?:about|on|for|regarding)\s+"
    r"|^(?:papers?|reading)\s+(?:about|on|for|regarding)\s+",
    re.I,
)


def interest_topic(interest: str) -> str:
    """The topic of a reading request: "What should I read about graph neural networks?" ->
    "graph neural networks"; a plain interest is returned as is (trimmed)."""
    text = interest.strip()
    match = _REQUEST.match(text)
    if match and match.end() < len(text):
        text = text[match.end() :].rstrip(" ?.!")
    return text


# Candidates per interest whose relevance evidence is computed: the nearest by cosine (the
# evidence model leans on the cosines, so the paper with the best evidence is among them), or k
# when more picks are asked for.
EVIDENCE_POOL = 50
# Papers a notice names as the closest to an interest no candidate matches.
CLOSEST = 3
FLOOR_FILE = "data/interests.json"


class InterestFloor(BaseModel):
    """The evidence a paper needs to be recommended for an interest, fitted for one embedder by
    bench/bench_interests.py (interests are short phrases, not questions: their own floor)."""

    embedder: str
    floor: float = Field(ge=0, le=1)
    fitted_on: str = ""
    evidence_model: str = Field(
        default="",
        description="Fingerprint of the relevance evidence model the floor was fitted against "
        "(`evidence_fingerprint`): a refit of agent/data/relevance.json calls for a new floor",
    )


@lru_cache(maxsize=1)
def fitted_floors() -> dict[str, InterestFloor]:
    """The floors fitted by bench/bench_interests.py, by embedder name (package data)."""
    text = resources.files("agent").joinpath(FLOOR_FILE).read_text(encoding="utf-8")
    return {name: InterestFloor.model_validate(raw) for name, raw in json.loads(text).items()}


@lru_cache(maxsize=8)
def floor_for(embedder_name: str) -> InterestFloor:
    """The floor fitted for this embedder, else the first in the file (the bundled default
    embedder's), as `agent.relevance.model_for` chooses its model. Logs a warning (once) when
    the relevance model was refitted since the floor was."""
    floors = fitted_floors()
    floor = floors.get(embedder_name) or next(iter(floors.values()))
    current = evidence_fingerprint(model_for(embedder_name))
    if floor.evidence_model and floor.evidence_model != current:
        log.warning(
            "the recommendation floor for %s was fitted against another relevance model (%s, "
            "now %s): re-run bench/bench_interests.py --write-floor",
            floor.embedder,
            floor.evidence_model,
            current,
        )
    return floor


def evidence_fingerprint(model: RelevanceModel) -> str:
    """A short hash of the evidence model's weights: which model a floor was fitted against."""
    text = model.evidence.model_dump_json()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def interest_evidence(
    judge: RelevanceJudge,
    interest: str,
    pool: Sequence[Paper],
    pool_vectors: np.ndarray,
    n: int = EVIDENCE_POOL,
) -> list[PaperRelevance]:
    """The relevance evidence (`RelevanceJudge.assess`) that each of the `n` candidates nearest
    to `interest` bears on it, most probable first; candidates further away are not assessed
    (they cannot clear a floor the nearest do not). `pool_vectors` are the pool's stored
    vectors, one row per paper."""
    if not pool:
        return []
    cosines = np.asarray(pool_vectors, dtype=np.float32) @ judge.question_vector(interest)
    order = sorted(range(len(pool)), key=lambda i: (-float(cosines[i]), pool[i].id))[:n]
    nearest = [pool[i] for i in order]
    assessment = judge.assess(interest, nearest, max_papers=len(nearest), whole_topic=True)
    return sorted(assessment.ranked, key=lambda r: (-r.evidence, r.paper.id))


def period_scope(since: date | None, until: date | None) -> str:
    """Where a notice says no paper matched: "in the store", or the papers' period."""
    if since is not None and until is not None:
        return f"published from {since.isoformat()} to {until.isoformat()}"
    if since is not None:
        return f"published since {since.isoformat()}"
    if until is not None:
        return f"published until {until.isoformat()}"
    return "in the store"


def _quoted_titles(papers: Sequence[Paper]) -> str:
    return "; ".join(f'"{p.title}"' for p in papers)


def _interests_phrase(interests: Sequence[str]) -> str:
    quoted = [f'"{i}"' for i in interests]
    return f"your interest{'s' if len(quoted) > 1 else ''} in {listing(quoted, 'or')}"


def unmatched_notice(
    unmatched: Sequence[str],
    closest: dict[str, list[Paper]],
    *,
    has_picks: bool,
    scope: str = "in the store",
    picks_from: str | None = None,
) -> str | None:
    """One plain-text line: which interests no paper matches and the papers closest to them.

    e.g. 'No paper in the store matches your interest in "coral reef bleaching"; closest, not
    recommended: "A"; "B"; "C".' With picks for other interests, each unmatched interest names
    its own closest papers and the line says what the picks are for: the other interests, or
    `picks_from` (the liked papers) when no interest matched."""
    if not unmatched:
        return None
    if has_picks:
        parts = [
            f'"{interest}"'
            + (
                f" (closest, not recommended: {_quoted_titles(closest[interest])})"
                if closest.get(interest)
                else ""
            )
            for interest in unmatched
        ]
        plural = "s" if len(parts) > 1 else ""
        source = f"resemble {picks_from}" if picks_from else "are for your other interests"
        listed = listing(parts, "or")
        return f"No paper {scope} matches your interest{plural} in {listed}; the picks {source}."
    seen: dict[str, Paper] = {}
    for interest in unmatched:
        for paper in closest.get(interest, []):
            seen.setdefault(paper.id, paper)
    line = f"No paper {scope} matches {_interests_phrase(unmatched)}"
    nearest = list(seen.values())[:CLOSEST]
    if nearest:
        line += f"; closest, not recommended: {_quoted_titles(nearest)}"
    return line + "."


def reading_list(
    candidates: Sequence[Paper],
    interests: Sequence[str] | str,
    *,
    judge: RelevanceJudge,
    store: PaperStore,
    settings: RecommendSettings,
    floor: float,
    k: int = 5,
    liked: Sequence[str] | None = None,
    today: date | None = None,
    scope: str = "in the store",
) -> ReadingList:
    """The top `k` of `candidates` for a reader with these `interests` and `liked` paper ids.

    With interests, a candidate is recommended only for an interest its relevance evidence
    (`interest_evidence`) clears `floor` for; an interest no candidate clears it for is named in
    the result's `notice` with the papers that came closest, and gets no picks. Ranking among
    the recommendable candidates is `score_papers`'. Liked papers are never recommended back;
    with liked papers, a candidate is also recommendable for resembling them (with liked
    papers only, every candidate is, as no floor applies to them). `today` defaults to the newest
    publication date among the candidates. Raises `UnknownLikedPapersError` naming liked ids
    not in `store`.
    """
    wanted = [interests] if isinstance(interests, str) else list(interests)
    wanted = list(dict.fromkeys(interest_topic(w) for w in wanted if w and w.strip()))
    liked_ids = list(dict.fromkeys(liked or []))
    if not wanted and not liked_ids:
        raise ValueError("recommend needs at least one interest or liked paper")
    liked_papers: list[Paper] = []
    if liked_ids:
        found = {p.id: p for p in store.get(liked_ids)}
        missing = [i for i in liked_ids if i not in found]
        if missing:
            raise UnknownLikedPapersError(
                f"liked paper id{'s' if len(missing) > 1 else ''} not in the store: "
                + ", ".join(missing)
            )
        liked_papers = [found[i] for i in liked_ids]
    pool = [p for p in candidates if p.id not in set(liked_ids)]
    if k <= 0 or not pool:
        return ReadingList(interests=[InterestMatch(interest=w, matching=0) for w in wanted])
    dated = [p.published for p in pool if p.published is not None]
    today_is_newest = today is None
    reference = today if today is not None else (max(dated) if dated else date.today())
    pool_vectors = store.vectors([p.id for p in pool])
    interest_vectors = (
        np.stack([judge.question_vector(w) for w in wanted])
        if wanted
        else np.zeros((0, pool_vectors.shape[1]), dtype=np.float32)
    )
    liked_vectors = store.vectors([p.id for p in liked_papers]) if liked_papers else None
    scored = score_papers(pool, pool_vectors, interest_vectors, liked_vectors, reference, settings)
    # Per interest: the assessed candidates, best evidence first, and those clearing the floor.
    assessed = [
        interest_evidence(judge, w, pool, pool_vectors, max(EVIDENCE_POOL, k)) for w in wanted
    ]
    clearing = [{r.paper.id: r.evidence for r in a if r.evidence >= floor} for a in assessed]
    recommendable: list[tuple[ScoredPaper, float | None]] = []
    for s in scored:
        if not wanted:
            recommendable.append((s, None))
            continue
        cleared = [
            (clearing[i][s.paper.id], i) for i in range(len(wanted)) if s.paper.id in clearing[i]
        ]
        if cleared:
            evidence, best = max(cleared, key=lambda c: (c[0], -c[1]))
            recommendable.append((replace(s, interest=best), evidence))
        elif liked_papers:  # recommended for resembling a liked paper, as without interests
            recommendable.append((replace(s, interest=None), None))
    titles = [p.title for p in liked_papers]
    picks = [
        Recommendation(
            paper=s.paper,
            score=round(s.score, 6),
            reason=reason_for(
                s.paper,
                wanted,
                s,
                today=reference,
                liked_titles=titles,
                today_is_newest=today_is_newest,
                pool=pool,
            ),
            relevance=round(s.relevance, 6),
            recency=round(s.recency, 6),
            popularity=round(s.popularity, 6),
            interest=wanted[s.interest] if s.interest is not None and wanted else None,
            evidence=round(evidence, 6) if evidence is not None else None,
        )
        for s, evidence in recommendable[:k]
    ]
    closest = {
        w: [r.paper for r in a[:CLOSEST]]
        for w, a, c in zip(wanted, assessed, clearing, strict=True)
        if not c
    }
    matches = [
        InterestMatch(interest=w, matching=len(c), closest=[p.id for p in closest.get(w, [])])
        for w, c in zip(wanted, clearing, strict=True)
    ]
    unmatched = [m.interest for m in matches if not m.matching]
    overall: list[str] = []
    if not picks:
        for w in unmatched:
            overall.extend(p.id for p in closest[w] if p.id not in overall)
    return ReadingList(
        picks=picks,
        interests=matches,
        unmatched=unmatched,
        closest=overall[:CLOSEST],
        notice=unmatched_notice(
            unmatched,
            closest,
            has_picks=bool(picks),
            scope=scope,
            picks_from="the papers you liked" if len(unmatched) == len(wanted) else None,
        ),
    )
