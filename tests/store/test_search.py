"""Search: hybrid ranking on the real sample, filters, diversity, BM25, and the reading API."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from agent.api import PaperBrief, PaperNotFoundError
from store.chroma import where_filter
from store.config import SearchSettings
from store.lexical import K1, B, LexicalIndex
from store.models import Paper
from store.search import SEARCH_MODES, Searcher
from store.tokens import tokenize
from tests.conftest import MakePB


def paper_titled(pb: PaperBrief, fragment: str) -> Paper:
    matches = [p for p in pb.papers() if fragment.lower() in p.title.lower()]
    assert len(matches) == 1, f"{fragment!r} matches {len(matches)} sample papers"
    return matches[0]


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("extra decoding heads that predict several future tokens", "Medusa"),
        ("lightweight security for low-power IoT networks", "Predictive-CSM"),
        ("LLMs communicating through their caches instead of text", "Cache-to-Cache"),
        ("sequence parallelism for linear attention models", "LASP-2"),
        ("do chat models obey the system message", "SysBench"),
    ],
)
def test_hybrid_search_ranks_the_paper_asked_for_first(
    sample_pb: PaperBrief, query: str, title: str
) -> None:
    hits = sample_pb.search(query, k=5)

    assert hits[0].paper == paper_titled(sample_pb, title)
    assert len(hits) == 5
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize(
    ("query", "title"),
    [
        (
            "whether old habits like weight decay and noisy small-step optimisation still matter "
            "once networks become enormous, and tricks that win small but lose big",
            "Rethinking Conventional Wisdom",
        ),
        (
            "chatbots pick their own notation, such as programs or formulas, instead of plain "
            "English when thinking and when talking to each other, saving length",
            "Beyond Natural Language",
        ),
    ],
)
def test_hybrid_search_finds_a_paraphrased_paper_that_bm25_misses(
    sample_pb: PaperBrief, query: str, title: str
) -> None:
    wanted = paper_titled(sample_pb, title)
    searcher = sample_pb.searcher
    per_query_scaled = Searcher(
        searcher.store, searcher.embedder, SearchSettings(fusion="minmax")
    ).search(query, k=5)

    hits = sample_pb.search(query, k=5)

    # BM25's best match only shares incidental words with the query: min-max scaled to 1.0 it
    # outvoted the dense winner; scaled down because it reaches little of the query's
    # attainable score, it does not.
    assert searcher.search(query, k=1, mode="lexical")[0].paper != wanted
    assert per_query_scaled[0].paper != wanted
    assert hits[0].paper == wanted


def test_hybrid_hits_say_where_each_retriever_ranked_them(sample_pb: PaperBrief) -> None:
    hits = sample_pb.search("key-value cache for diffusion language models", k=10)

    assert all(h.dense_rank is not None or h.lexical_rank is not None for h in hits)
    assert any(h.dense_rank is not None and h.lexical_rank is not None for h in hits)


@pytest.mark.parametrize("mode", SEARCH_MODES)
def test_filters_hold_for_every_hit_in_every_mode(sample_pb: PaperBrief, mode: str) -> None:
    since, until = date(2025, 5, 1), date(2025, 10, 31)

    dated = sample_pb.searcher.search(
        "language models",
        k=50,
        since=since,
        until=until,
        mode=mode,  # type: ignore[arg-type]
    )
    voted = sample_pb.searcher.search(
        "language models",
        k=50,
        min_upvotes=2,
        mode=mode,  # type: ignore[arg-type]
    )
    coded = sample_pb.searcher.search(
        "language models",
        k=50,
        has_code=True,
        mode=mode,  # type: ignore[arg-type]
    )

    assert dated and voted and coded
    assert all(h.paper.published and since <= h.paper.published <= until for h in dated)
    assert all(h.paper.upvotes is not None and h.paper.upvotes >= 2 for h in voted)
    assert all(h.paper.has_code for h in coded)
    in_range = [p for p in sample_pb.papers(since, until)]
    assert len(dated) <= len(in_range) < len(sample_pb.papers())


def test_a_filter_nothing_passes_gives_no_hits(sample_pb: PaperBrief) -> None:
    assert sample_pb.search("diffusion", since="2030-01-01") == []
    assert sample_pb.search("diffusion", min_upvotes=10**6) == []


def test_bad_search_arguments_are_clear_errors(sample_pb: PaperBrief) -> None:
    with pytest.raises(ValueError, match="empty"):
        sample_pb.search("   ")
    with pytest.raises(ValueError, match="k must be from 1 to 100"):
        sample_pb.search("diffusion", k=0)
    with pytest.raises(ValueError, match=r"since \(2025-11-01\) is after until"):
        sample_pb.search("diffusion", since="2025-11-01", until="2025-10-01")
    with pytest.raises(ValueError, match="since: '11/01/2025' is not a date"):
        sample_pb.search("diffusion", since="11/01/2025")


def near_duplicates(tmp_path: Path) -> Path:
    records = [
        {
            "arxiv_id": f"2511.1000{n}",
            "title": f"Caching for diffusion language models, variant {n}",
            "abstract": "We cache keys and values to speed up diffusion language model decoding.",
        }
        for n in range(3)
    ] + [
        {
            "arxiv_id": "2511.20000",
            "title": "Diffusion language models for code",
            "abstract": "Diffusion language models write code by denoising whole programs.",
        },
        {
            "arxiv_id": "2511.30000",
            "title": "Caching in web servers",
            "abstract": "We cache pages to speed up web servers.",
        },
    ]
    path = tmp_path / "dups.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_diverse_search_does_not_fill_the_top_with_near_duplicates(
    make_pb: MakePB, tmp_path: Path
) -> None:
    pb = make_pb(search={"mmr_lambda": 0.5})
    pb.ingest(near_duplicates(tmp_path))
    query = "caching for diffusion language models"

    plain = [h.paper.id for h in pb.search(query, k=3)]
    diverse = [h.paper.id for h in pb.search(query, k=3, diverse=True)]

    assert all(pid.startswith("2511.1000") for pid in plain)
    # The second pick is the related paper that is not a copy of the first.
    assert diverse[0] == plain[0]
    assert diverse[1] == "2511.20000"
    assert len(set(diverse)) == 3


def test_new_papers_are_searchable_right_after_ingest(make_pb: MakePB, tmp_path: Path) -> None:
    pb = make_pb()
    pb.ingest(near_duplicates(tmp_path))
    assert pb.search("zebrafish", k=3, mode="lexical") == []
    later = tmp_path / "later.jsonl"
    later.write_text(
        json.dumps({"title": "Zebrafish fins", "abstract": "Zebrafish regrow their fins."}) + "\n"
    )

    pb.ingest(later)

    assert pb.search("zebrafish", k=3, mode="lexical")[0].paper.title == "Zebrafish fins"
    assert pb.search("zebrafish regrow fins", k=1)[0].paper.title == "Zebrafish fins"


def bm25_index(tmp_path: Path, texts: list[tuple[str, str]]) -> LexicalIndex:
    index = LexicalIndex(tmp_path / "lexical")
    papers = [
        Paper(id=f"p{n}", title=title, abstract=abstract, source="test")
        for n, (title, abstract) in enumerate(texts)
    ]
    index.upsert(papers, written=1, vectors=np.zeros((len(papers), 4), dtype=np.float32))
    return index


def test_bm25_prefers_the_rare_exact_term_and_ignores_non_matching_papers(
    tmp_path: Path,
) -> None:
    index = bm25_index(
        tmp_path,
        [
            ("Language models", "Language models model language well."),
            ("GRPO for reasoning", "We train language models with GRPO."),
            ("Vision", "Images and pixels."),
        ],
    )

    assert index.top("GRPO language models", 10)[0][0] == "p1"
    assert {pid for pid, _ in index.top("language", 10)} == {"p0", "p1"}
    assert index.top("zebra", 10) == []


def test_papers_are_listed_by_date_within_the_bounds(sample_pb: PaperBrief) -> None:
    everything = sample_pb.papers()
    window = sample_pb.papers(since="2025-05-01", until=date(2025, 5, 31))

    dated = [p.published for p in everything if p.published is not None]
    assert dated == sorted(dated)
    assert window and all(p.published and p.published.month == 5 for p in window)
    assert len(window) == sum(1 for d in dated if date(2025, 5, 1) <= d <= date(2025, 5, 31))


def test_paper_by_id_and_an_unknown_id(sample_pb: PaperBrief) -> None:
    medusa = paper_titled(sample_pb, "Medusa")

    assert sample_pb.paper(medusa.id) == medusa
    with pytest.raises(PaperNotFoundError, match="no paper with id 'nope'") as caught:
        sample_pb.paper("nope")
    assert isinstance(caught.value, KeyError)


def test_stats_describe_the_store(sample_pb: PaperBrief) -> None:
    stats = sample_pb.stats()

    assert stats["papers"] == len(sample_pb.papers()) == sample_pb.store.count()
    assert stats["with_code"] == sum(p.has_code for p in sample_pb.papers())
    assert stats["embedder"] == sample_pb.embedder.name and stats["dim"] == 384
    assert stats["earliest"] <= stats["latest"]
    assert sum(stats["sources"].values()) == stats["papers"]


@pytest.mark.parametrize(
    "filters",
    [
        {"since": date(2025, 5, 1)},
        {"until": date(2024, 12, 31), "has_code": False},
        {"min_upvotes": 2},
    ],
)
def test_filtered_dense_search_matches_chromas_own_filter(
    sample_pb: PaperBrief, filters: dict[str, object]
) -> None:
    query = "making language model inference faster"
    vector = sample_pb.embedder.embed([query])[0]
    from_chroma = sample_pb.store.query(vector, 10, where_filter(**filters))  # type: ignore[arg-type]

    ours = sample_pb.searcher.search(query, k=10, mode="dense", **filters)  # type: ignore[arg-type]

    assert [h.paper.id for h in ours] == [pid for pid, _ in from_chroma]
    assert [h.score for h in ours] == pytest.approx([s for _, s in from_chroma], abs=1e-4)


@pytest.mark.parametrize("filters", [{"since": date(2025, 5, 1)}, {"min_upvotes": 2}])
def test_a_broad_filter_keeps_the_nearest_papers_that_pass(
    sample_pb: PaperBrief, filters: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Below the limit the filtered dense search reads the passing ids; above it, it takes a
    # wider pool of nearest papers and keeps those that pass. Both must agree with Chroma.
    query = "making language model inference faster"
    vector = sample_pb.embedder.embed([query])[0]
    from_chroma = sample_pb.store.query(vector, 5, where_filter(**filters))  # type: ignore[arg-type]
    monkeypatch.setattr("store.search.FILTER_IDS_LIMIT", 1)

    ours = sample_pb.searcher.search(query, k=5, mode="dense", **filters)  # type: ignore[arg-type]

    assert [h.paper.id for h in ours] == [pid for pid, _ in from_chroma]


def test_bm25_scores_follow_the_okapi_formula(tmp_path: Path) -> None:
    texts = ["cats chase mice", "dogs chase cats and cats nap", "birds sing"]
    index = bm25_index(tmp_path, [("t", text) for text in texts])
    docs = [tokenize(f"t {text}") for text in texts]
    avgdl = sum(map(len, docs)) / len(docs)

    def okapi(term: str, doc: list[str]) -> float:
        df = sum(term in d for d in docs)
        idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        tf = doc.count(term)
        return idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len(doc) / avgdl))

    def scores(query: str) -> list[float]:
        found = dict(index.top(query, 10))
        return [found.get(f"p{n}", 0.0) for n in range(len(texts))]

    # "chasing" stems to "chase"; tantivy keeps document lengths exactly up to 40 terms.
    assert scores("cats") == pytest.approx([okapi("cat", d) for d in docs], rel=1e-4)
    assert scores("cats chasing") == pytest.approx(
        [okapi("cat", d) + okapi("chase", d) for d in docs], rel=1e-4
    )
    assert index.max_score("cats") == pytest.approx(math.log(1 + 1.5 / 2.5) * (K1 + 1))


@pytest.mark.parametrize(
    ("number", "title"),
    [
        ("36.6%", "LASP-2"),
        ("14.2%", "Local Determinism"),
        ("2.3x", "Medusa"),
        ("2-10x", "dKV-Cache"),
        ("57.51x", "Learning to Parallel"),
    ],
)
def test_a_question_quoting_a_number_finds_the_one_abstract_that_states_it(
    sample_pb: PaperBrief, number: str, title: str
) -> None:
    stating = [p for p in sample_pb.papers() if number in tokenize(p.abstract)]
    assert len(stating) == 1 and title in stating[0].title

    questions = (f"Which paper reports {number}?", f"What method gets {number} over its baseline?")
    for query in questions:
        for mode in ("hybrid", "lexical"):
            hits = sample_pb.search(query, k=8, mode=mode)  # type: ignore[arg-type]
            assert hits[0].paper.id == stating[0].id, (query, mode)


def test_two_stores_of_the_same_papers_rank_alike_whatever_the_ingest_order(
    make_pb: MakePB, tmp_path: Path
) -> None:
    # Eight abstracts that BM25 scores exactly alike for the query (same words, same lengths,
    # a different closing word each), ingested in opposite orders into two fresh stores.
    names = ["amber", "basil", "cedar", "delta", "ember", "fjord", "grove", "heron"]
    records = [
        {
            "title": f"Project {name}",
            "abstract": f"We prune sparse attention kernels for long inputs. Codename {name}.",
        }
        for name in names
    ]
    rankings = []
    for order in (records, records[::-1]):
        source = tmp_path / f"papers-{len(rankings)}.jsonl"
        source.write_text("".join(json.dumps(r) + "\n" for r in order), encoding="utf-8")
        pb = make_pb()
        assert pb.ingest(source).ok
        rankings.append(
            {
                mode: [
                    (hit.paper.title, hit.score, hit.dense_rank, hit.lexical_rank)
                    for hit in pb.search("sparse attention kernels", k=8, mode=mode)
                ]
                for mode in SEARCH_MODES
            }
        )

    assert rankings[0] == rankings[1]
