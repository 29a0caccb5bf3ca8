"""Recommendation scoring and reasons (agent/recommend.py) and `PaperBrief.recommend`."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from agent.api import PaperBrief
from agent.recommend import (
    UnknownLikedPapersError,
    floor_for,
    interest_topic,
    normalised_weights,
    reason_for,
    recency_score,
    score_papers,
)
from agent.settings import RecommendSettings
from store.models import Paper
from tests.conftest import MakePB

TODAY = date(2025, 11, 6)


def paper(pid: str, title: str, days_old: int | None, upvotes: int | None) -> Paper:
    return Paper(
        id=pid,
        title=title,
        abstract=f"We propose {title}, a method that works. Experiments show gains of 12%.",
        published=None if days_old is None else TODAY - timedelta(days=days_old),
        upvotes=upvotes,
        source="test",
    )


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


# Three axes stand for three topics: graphs, diffusion, agents.
GRAPHS, DIFFUSION, AGENTS = unit(1, 0, 0), unit(0, 1, 0), unit(0, 0, 1)
CANDIDATES = [
    paper("graph-old", "GraphNet", days_old=60, upvotes=3),
    paper("diffusion-new", "FastDiff", days_old=0, upvotes=1),
    paper("agents-popular", "AgentHub", days_old=30, upvotes=90),
]
VECTORS = np.stack([unit(1, 0.1, 0), unit(0.1, 1, 0), unit(0, 0.1, 1)])


def ranked_ids(settings: RecommendSettings, interests: np.ndarray, liked=None) -> list[str]:
    scored = score_papers(CANDIDATES, VECTORS, interests, liked, TODAY, settings)
    return [s.paper.id for s in scored]


def test_the_matching_paper_ranks_first_for_an_interest() -> None:
    settings = RecommendSettings()
    assert ranked_ids(settings, GRAPHS[None, :])[0] == "graph-old"
    assert ranked_ids(settings, AGENTS[None, :])[0] == "agents-popular"


def test_weights_change_the_order_as_documented() -> None:
    interests = GRAPHS[None, :]
    only_recency = RecommendSettings(relevance_weight=0, recency_weight=1, popularity_weight=0)
    assert ranked_ids(only_recency, interests) == ["diffusion-new", "agents-popular", "graph-old"]
    only_votes = RecommendSettings(relevance_weight=0, recency_weight=0, popularity_weight=1)
    assert ranked_ids(only_votes, interests)[0] == "agents-popular"


def test_weights_are_normalised_so_scores_stay_in_unit_range() -> None:
    doubled = RecommendSettings(relevance_weight=1.2, recency_weight=0.5, popularity_weight=0.3)
    assert normalised_weights(doubled) == pytest.approx((0.6, 0.25, 0.15))
    for s in score_papers(CANDIDATES, VECTORS, GRAPHS[None, :], None, TODAY, doubled):
        assert 0.0 <= s.score <= 1.0
        parts = 0.6 * s.relevance + 0.25 * s.recency + 0.15 * s.popularity
        assert s.score == pytest.approx(parts)
    with pytest.raises(ValueError, match="all zero"):
        normalised_weights(
            RecommendSettings(relevance_weight=0, recency_weight=0, popularity_weight=0)
        )


def test_recency_halves_every_half_life_and_popularity_is_log_scaled() -> None:
    assert recency_score(TODAY, TODAY, 14) == 1.0
    assert recency_score(TODAY - timedelta(days=14), TODAY, 14) == pytest.approx(0.5)
    assert recency_score(None, TODAY, 14) == 0.0
    scored = {
        s.paper.id: s
        for s in score_papers(
            CANDIDATES, VECTORS, GRAPHS[None, :], None, TODAY, RecommendSettings()
        )
    }
    assert scored["agents-popular"].popularity == 1.0
    assert scored["graph-old"].popularity == pytest.approx(np.log1p(3) / np.log1p(90))


def test_liked_papers_pull_similar_papers_up() -> None:
    settings = RecommendSettings(relevance_weight=1, recency_weight=0, popularity_weight=0)
    both = np.stack([GRAPHS, AGENTS])
    without = score_papers(CANDIDATES, VECTORS, both, None, TODAY, settings)
    liked_agents = AGENTS[None, :]
    with_liked = score_papers(CANDIDATES, VECTORS, both, liked_agents, TODAY, settings)
    rank = {s.paper.id: i for i, s in enumerate(with_liked)}
    assert rank["agents-popular"] == 0
    before = {s.paper.id: s.relevance for s in without}
    after = {s.paper.id: s.relevance for s in with_liked}
    assert after["agents-popular"] >= before["agents-popular"]
    assert after["graph-old"] < before["graph-old"]


def test_reason_names_the_matched_interest_and_only_known_facts() -> None:
    interests = ["graph learning", "AI agents"]
    scored = score_papers(
        CANDIDATES, VECTORS, np.stack([GRAPHS, AGENTS]), None, TODAY, RecommendSettings()
    )
    by_id = {s.paper.id: s for s in scored}
    reason = reason_for(
        CANDIDATES[2], interests, by_id["agents-popular"], today=TODAY, pool=CANDIDATES
    )
    assert reason.startswith('Matches your interest in "AI agents".')
    # What it contributes, from its abstract, and why it was picked: its standing in upvotes.
    assert "AgentHub is a method that works." in reason
    assert "90 upvotes (the most of 3 papers)" in reason
    assert "30 days before the newest paper" in reason
    assert "similar" not in reason
    undated = paper("undated", "NoDate", days_old=None, upvotes=None)
    plain = score_papers(
        [undated], GRAPHS[None, :], GRAPHS[None, :], None, TODAY, RecommendSettings()
    )
    text = reason_for(undated, ["graph learning"], plain[0], today=TODAY)
    assert "upvote" not in text and "published" not in text


@pytest.mark.parametrize(
    ("request_text", "topic"),
    [
        ("What should I read about graph neural networks?", "graph neural networks"),
        ("Which papers should I read first on diffusion LMs?", "diffusion LMs"),
        ("recommend me papers on agents", "agents"),
        ("graph learning", "graph learning"),
        ("What is new?", "What is new?"),
    ],
)
def test_a_reading_request_is_reduced_to_its_topic(request_text: str, topic: str) -> None:
    assert interest_topic(request_text) == topic


@pytest.mark.slow
def test_recommend_on_the_sample_ranks_a_matching_paper_first(sample_pb: PaperBrief) -> None:
    picks = sample_pb.recommend("What should I read about recommender systems?", k=3)
    # The sample has two papers on recommender systems: a third pick would be unrelated.
    assert 1 <= len(picks) <= 3
    assert all("Recommender Systems" in p.paper.title for p in picks)
    assert picks[0].reason.startswith('Matches your interest in "recommender systems"')
    assert [p.score for p in picks] == sorted((p.score for p in picks), reverse=True)


@pytest.mark.slow
def test_recommend_with_liked_papers(sample_pb: PaperBrief) -> None:
    papers = sample_pb.papers()
    survey = next(p for p in papers if p.title.startswith("A Survey of AI Agent Protocols"))
    picks = sample_pb.recommend("machine learning", k=5, liked=[survey.id])
    assert survey.id not in {p.paper.id for p in picks}  # never recommended back
    assert any("gent" in p.paper.title for p in picks[:3])
    assert any(f'"{survey.title}", which you liked' in p.reason for p in picks)


@pytest.mark.slow
def test_recommend_names_unknown_liked_papers(sample_pb: PaperBrief) -> None:
    with pytest.raises(UnknownLikedPapersError, match="no-such-paper"):
        sample_pb.recommend("agents", liked=["no-such-paper"])


@pytest.mark.slow
def test_recommend_is_reproducible_and_respects_the_date_window(sample_pb: PaperBrief) -> None:
    first = sample_pb.recommend(["diffusion language models"], k=4, since="2025-05-01")
    again = sample_pb.recommend(["diffusion language models"], k=4, since="2025-05-01")
    assert [p.paper.id for p in first] == [p.paper.id for p in again]
    assert all(p.paper.published and p.paper.published >= date(2025, 5, 1) for p in first)


def _floor(pb: PaperBrief) -> float:
    return floor_for(pb.embedder.name).floor


@pytest.mark.slow
def test_an_out_of_domain_interest_gets_no_picks_and_a_line_naming_the_closest(
    sample_pb: PaperBrief,
) -> None:
    reading = sample_pb.reading_list("coral reef bleaching", k=5)
    assert reading.picks == [] and reading.abstained
    assert reading.unmatched == ["coral reef bleaching"]
    assert reading.notice is not None and "\n" not in reading.notice
    assert reading.notice.startswith(
        'No paper in the store matches your interest in "coral reef bleaching"; closest, '
        "not recommended: "
    )
    titles = {p.id: p.title for p in sample_pb.papers()}
    assert len(reading.closest) == 3
    for paper_id in reading.closest:
        assert f'"{titles[paper_id]}"' in reading.notice
    assert sample_pb.recommend("coral reef bleaching") == []
    # Within a period, the line says which papers it looked at.
    dated = sample_pb.reading_list(["sourdough bread baking"], since="2025-05-01")
    assert dated.notice is not None
    assert dated.notice.startswith("No paper published since 2025-05-01 matches")


@pytest.mark.slow
def test_an_in_domain_interest_gets_papers_with_reasons_and_evidence(
    sample_pb: PaperBrief,
) -> None:
    reading = sample_pb.reading_list("diffusion language models", k=5)
    assert len(reading.picks) == 5 and reading.notice is None and reading.unmatched == []
    assert reading.interests[0].matching >= 5
    for pick in reading.picks:
        assert "diffusion" in pick.paper.title.lower()
        assert pick.reason.startswith('Matches your interest in "diffusion language models".')
        assert pick.interest == "diffusion language models"
        assert pick.evidence is not None and pick.evidence >= _floor(sample_pb)
    assert [p.score for p in reading.picks] == sorted(
        (p.score for p in reading.picks), reverse=True
    )


@pytest.mark.slow
def test_mixed_interests_name_the_unmatched_one_and_pick_for_the_others(
    sample_pb: PaperBrief,
) -> None:
    reading = sample_pb.reading_list(["coral reef bleaching", "graph neural networks"], k=4)
    assert reading.picks and not reading.abstained
    assert {p.interest for p in reading.picks} == {"graph neural networks"}
    assert all("graph" in (p.paper.title + p.paper.abstract).lower() for p in reading.picks)
    assert reading.unmatched == ["coral reef bleaching"]
    assert [m.matching > 0 for m in reading.interests] == [False, True]
    assert reading.closest == []  # there are picks: nothing to point at instead
    assert reading.notice is not None
    assert reading.notice.startswith(
        'No paper in the store matches your interest in "coral reef bleaching" (closest, '
        "not recommended: "
    )
    assert reading.notice.endswith("; the picks are for your other interests.")


@pytest.mark.slow
def test_the_floor_is_a_setting(make_pb: MakePB) -> None:
    """`recommend.min_evidence` replaces the calibrated floor: at 0 every paper qualifies,
    as before the floor existed."""
    pb = make_pb(recommend={"min_evidence": 0.0})
    pb.ingest_sample()
    reading = pb.reading_list("coral reef bleaching", k=3)
    assert len(reading.picks) == 3 and reading.notice is None
