"""Sentence vectors: embedded once at ingest, cached by content hash, filled in lazily."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agent.text import split_sentences
from store.embed_cache import EmbeddingCache
from store.ingest import ingest_items
from store.sentences import SentenceVectors, sentence_key
from store.sources import load_source
from tests.conftest import MakePB
from tests.store.test_ingest import CountingEmbedder, record, write_jsonl

ABSTRACT = (
    "Diffusion language models decode slowly. We cache keys and values across steps. "
    "Decoding becomes 3.4x faster on GSM8K."
)


def test_ingest_embeds_each_sentence_once_and_a_changed_abstract_only_its_new_sentences(
    make_pb: MakePB, tmp_path: Path
) -> None:
    embedder = CountingEmbedder()
    pb = make_pb(embedder=embedder)
    source = write_jsonl(tmp_path / "a.jsonl", [record(1, abstract=ABSTRACT)])
    first = pb.ingest(source)
    assert first.sentences_embedded == 3
    assert pb.ingest(source).sentences_embedded == 0  # unchanged: nothing embedded again

    changed = ABSTRACT.replace("3.4x", "5.1x")
    report = pb.ingest(write_jsonl(tmp_path / "b.jsonl", [record(1, abstract=changed)]))
    assert report.updated and report.sentences_embedded == 1  # only the sentence that changed

    [entry] = pb.sentence_vectors.for_papers(pb.store.all_papers())
    assert entry.sentences == tuple(split_sentences(changed))
    expected = embedder.embed(list(entry.sentences))
    np.testing.assert_allclose(entry.vectors, expected, atol=1e-6)


def test_a_store_ingested_without_sentence_vectors_gets_them_on_first_read(
    make_pb: MakePB, tmp_path: Path
) -> None:
    pb = make_pb()
    # Ingested as before sentence vectors existed: papers and their vectors only.
    items = load_source(str(write_jsonl(tmp_path / "a.jsonl", [record(2, abstract=ABSTRACT)])))
    ingest_items(items, pb.store, pb.embedder, source="a", cache=pb.embedding_cache)
    [paper] = pb.store.all_papers()
    cache = EmbeddingCache(pb.data_dir / "embeddings.sqlite")
    keys = [sentence_key(s) for s in split_sentences(paper.abstract)]
    assert cache.get_many(pb.embedder.name, keys) == {}

    [entry] = pb.sentence_vectors.for_papers([paper])
    assert len(entry.sentences) == 3
    assert set(cache.get_many(pb.embedder.name, keys)) == set(keys)  # now cached on disk
    cache.close()


def test_the_same_sentence_in_two_papers_is_embedded_once(tmp_path: Path, make_pb: MakePB) -> None:
    embedder = CountingEmbedder()
    pb = make_pb(embedder=embedder)
    shared = "We cache keys and values across steps."
    source = write_jsonl(
        tmp_path / "two.jsonl",
        [
            record(3, abstract=f"First paper on decoding. {shared}"),
            record(4, abstract=f"Second paper on retrieval. {shared}"),
        ],
    )
    assert pb.ingest(source).sentences_embedded == 3
    vectors = SentenceVectors(pb.embedding_cache, pb.embedder, split_sentences)
    first, second = vectors.for_papers(pb.store.all_papers())
    np.testing.assert_array_equal(first.vectors[1], second.vectors[1])
