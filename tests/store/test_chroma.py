"""PaperStore over a real on-disk Chroma store and a real `chroma run` server."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from store.chroma import PaperStore, StoreError, StoreMismatchError, where_filter
from store.config import StoreSettings
from store.embeddings.hashing import HashEmbedder
from store.models import Link, Paper

EMBEDDER = HashEmbedder(dim=64)


def make_papers() -> list[Paper]:
    return [
        Paper(
            id="2511.00001",
            title="Fast Diffusion Language Models",
            abstract="We speed up diffusion language models with caching.",
            authors=["Ada Lovelace", "Alan Turing"],
            published=date(2025, 11, 1),
            upvotes=12,
            links=[
                Link(kind="paper", url="https://huggingface.co/papers/2511.00001"),
                Link(kind="code", url="https://github.com/example/fast-dlm"),
            ],
            source="a.jsonl",
        ),
        Paper(
            id="2511.00002",
            title="Robot Grasping from Video",
            abstract="Robots learn grasping from human videos.",
            published=date(2025, 11, 5),
            upvotes=0,
            source="a.jsonl",
        ),
        Paper(
            id="t-0123456789abcdef",
            title="An Undated Note on Tokenizers",
            abstract="Tokenizers matter for multilingual models.",
            source="b.csv",
        ),
    ]


def open_store(data_dir: Path, embedder: HashEmbedder = EMBEDDER, **settings: str) -> PaperStore:
    return PaperStore.open(StoreSettings(**settings), data_dir, embedder.name, embedder.dim)


def fill(store: PaperStore) -> list[Paper]:
    papers = make_papers()
    store.upsert(papers, EMBEDDER.embed([p.embed_text for p in papers]))
    return papers


def test_papers_come_back_exactly_as_stored_after_reopening(tmp_path: Path) -> None:
    papers = fill(open_store(tmp_path))

    reopened = open_store(tmp_path)

    assert reopened.count() == 3
    assert reopened.get([p.id for p in papers]) == papers
    assert sorted(reopened.all_papers(), key=lambda p: p.id) == sorted(papers, key=lambda p: p.id)
    assert (tmp_path / "chroma").is_dir()


def test_get_keeps_the_order_asked_and_skips_unknown_ids(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    papers = fill(store)

    got = store.get(["t-0123456789abcdef", "no-such-id", "2511.00001"])

    assert [p.id for p in got] == ["t-0123456789abcdef", "2511.00001"]
    assert store.hashes(["2511.00002", "no-such-id"]) == {"2511.00002": papers[1].content_hash}


def test_vectors_are_returned_in_order_and_unknown_ids_are_an_error(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    papers = fill(store)
    expected = EMBEDDER.embed([papers[2].embed_text, papers[0].embed_text])

    np.testing.assert_allclose(store.vectors([papers[2].id, papers[0].id]), expected, atol=1e-6)
    with pytest.raises(KeyError, match="no-such-id"):
        store.vectors(["no-such-id"])


def test_query_returns_cosine_similarity_best_first(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    papers = fill(store)
    vector = EMBEDDER.embed([papers[1].embed_text])[0]

    results = store.query(vector, k=3)

    assert results[0][0] == papers[1].id
    assert results[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [score for _, score in results] == sorted((s for _, s in results), reverse=True)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"since": date(2025, 11, 2)}, {"2511.00002"}),
        ({"until": date(2025, 11, 4)}, {"2511.00001"}),
        ({"since": date(2025, 11, 1), "until": date(2025, 11, 5)}, {"2511.00001", "2511.00002"}),
        ({"min_upvotes": 1}, {"2511.00001"}),
        ({"min_upvotes": 0}, {"2511.00001", "2511.00002"}),
        ({"has_code": True}, {"2511.00001"}),
        ({"has_code": False}, {"2511.00002", "t-0123456789abcdef"}),
        ({"since": date(2025, 11, 2), "has_code": True}, set()),
    ],
)
def test_query_filters_on_date_upvotes_and_code(
    tmp_path: Path, filters: dict[str, object], expected: set[str]
) -> None:
    store = open_store(tmp_path)
    fill(store)
    vector = EMBEDDER.embed(["diffusion robots tokenizers"])[0]

    found = {pid for pid, _ in store.query(vector, k=10, where=where_filter(**filters))}  # type: ignore[arg-type]

    assert found == expected


def test_another_embedding_model_cannot_open_the_store_and_data_is_kept(tmp_path: Path) -> None:
    fill(open_store(tmp_path))

    with pytest.raises(StoreMismatchError, match=r"hash-bow:64.*dimension 64.*other-model"):
        PaperStore.open(StoreSettings(), tmp_path, "other-model", 64)
    with pytest.raises(StoreMismatchError, match="dimension 32"):
        open_store(tmp_path, HashEmbedder(dim=32))

    assert open_store(tmp_path).count() == 3


def test_a_second_collection_can_hold_another_model(tmp_path: Path) -> None:
    fill(open_store(tmp_path))

    other = open_store(tmp_path, HashEmbedder(dim=32), collection="papers_small")

    assert other.count() == 0
    assert open_store(tmp_path).count() == 3


def test_vectors_of_the_wrong_dimension_are_refused_before_writing(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    papers = make_papers()

    with pytest.raises(StoreMismatchError, match="dimension 64"):
        store.upsert(papers, np.ones((3, 16), dtype=np.float32))
    assert store.count() == 0


def test_http_client_stores_and_finds_papers_on_a_chroma_server(
    tmp_path: Path, chroma_server: str
) -> None:
    collection = f"papers_{uuid.uuid4().hex[:8]}"
    store = open_store(tmp_path, chroma_url=chroma_server, collection=collection)
    papers = fill(store)

    # A second client (another process would do the same) sees what the first wrote.
    other = open_store(tmp_path / "elsewhere", chroma_url=chroma_server, collection=collection)
    vector = EMBEDDER.embed([papers[0].embed_text])[0]

    assert other.location == chroma_server
    assert other.count() == 3
    assert other.get([papers[0].id]) == [papers[0]]
    assert other.query(vector, k=1, where=where_filter(has_code=True))[0][0] == papers[0].id
    assert not (tmp_path / "chroma").exists()
    with pytest.raises(StoreMismatchError):
        open_store(tmp_path, HashEmbedder(dim=32), chroma_url=chroma_server, collection=collection)


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"http://127\.0\.0\.1:9"):
        open_store(tmp_path, chroma_url="http://127.0.0.1:9")


def test_a_foreign_record_in_the_collection_is_a_clear_error(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    fill(store)
    # A record written by something other than paperbrief, straight into the collection.
    store._collection.upsert(
        ids=["stray"], embeddings=np.ones((1, 64), dtype=np.float32), metadatas=[{"x": 1}]
    )

    with pytest.raises(StoreError, match="stored record 'stray' is not a paperbrief paper"):
        store.all_papers()
    assert len(store.get(["2511.00001"])) == 1
