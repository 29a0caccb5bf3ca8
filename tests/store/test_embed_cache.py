"""The embedding cache: what is put comes back, per embedder, across reopening and crashes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from store.embed_cache import EmbeddingCache
from store.models import content_hash_for


def vectors_for(*texts: str, dim: int = 384) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(len(texts))
    return {
        content_hash_for(text, "abstract"): rng.standard_normal(dim).astype(np.float32)
        for text in texts
    }


def test_put_then_get_returns_the_same_vectors_and_omits_unknown_hashes(tmp_path: Path) -> None:
    stored = vectors_for("graph networks", "diffusion", "agents")
    missing = content_hash_for("never embedded", "abstract")
    with EmbeddingCache(tmp_path / "embeddings.sqlite") as cache:
        cache.put_many("minilm", stored)
        found = cache.get_many("minilm", [*stored, missing])
    assert set(found) == set(stored)
    for content_hash, vector in stored.items():
        assert found[content_hash].dtype == np.float32
        np.testing.assert_array_equal(found[content_hash], vector)


def test_embedders_do_not_share_vectors(tmp_path: Path) -> None:
    minilm = vectors_for("graph networks", "diffusion")
    with EmbeddingCache(tmp_path / "embeddings.sqlite") as cache:
        cache.put_many("minilm-int8:all-MiniLM-L6-v2:256", minilm)
        assert cache.get_many("minilm-int8:all-MiniLM-L6-v2:128", list(minilm)) == {}
        assert cache.get_many("hash-bow:256", list(minilm)) == {}
        # The same content embedded by another model is stored beside, not over, the first.
        other = {h: np.ones(256, dtype=np.float32) for h in minilm}
        cache.put_many("hash-bow:256", other)
        again = cache.get_many("minilm-int8:all-MiniLM-L6-v2:256", list(minilm))
        assert all(again[h].shape == (384,) for h in minilm)
        assert cache.count("hash-bow:256") == 2 and cache.count() == 4


def test_vectors_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "embeddings.sqlite"
    stored = vectors_for("graph networks", "diffusion")
    with EmbeddingCache(path) as cache:
        cache.put_many("minilm", stored)
    with EmbeddingCache(path) as reopened:
        found = reopened.get_many("minilm", list(stored))
    assert found.keys() == stored.keys()


def test_a_killed_ingest_keeps_what_it_put(tmp_path: Path) -> None:
    path = tmp_path / "embeddings.sqlite"
    # A process that puts a batch and dies without closing anything, like an interrupted ingest.
    script = textwrap.dedent(
        f"""
        import os
        import numpy as np
        from store.embed_cache import EmbeddingCache
        cache = EmbeddingCache({str(path)!r})
        cache.put_many("minilm", {{"h1": np.full(4, 0.5, dtype=np.float32)}})
        cache.put_many("minilm", {{"h2": np.full(4, 0.25, dtype=np.float32)}})
        os._exit(1)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    with EmbeddingCache(path) as cache:
        found = cache.get_many("minilm", ["h1", "h2", "h3"])
    assert sorted(found) == ["h1", "h2"]
    np.testing.assert_array_equal(found["h2"], np.full(4, 0.25, dtype=np.float32))


def test_putting_again_replaces_the_vector(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path / "embeddings.sqlite") as cache:
        cache.put_many("minilm", {"h": np.zeros(3, dtype=np.float32) + 1})
        cache.put_many("minilm", {"h": np.array([1.0, 2.0, 3.0])})
        found = cache.get_many("minilm", ["h"])["h"]
    np.testing.assert_array_equal(found, np.array([1.0, 2.0, 3.0], dtype=np.float32))
    assert found.dtype == np.float32


def test_many_thousand_hashes_in_one_call(tmp_path: Path) -> None:
    stored = {f"h{i}": np.full(8, i, dtype=np.float32) for i in range(3000)}
    with EmbeddingCache(tmp_path / "embeddings.sqlite") as cache:
        cache.put_many("minilm", stored)
        found = cache.get_many("minilm", list(stored))
    assert len(found) == 3000
    np.testing.assert_array_equal(found["h2999"], stored["h2999"])


def test_a_non_finite_vector_is_refused_and_nothing_of_the_batch_is_stored(
    tmp_path: Path,
) -> None:
    with EmbeddingCache(tmp_path / "embeddings.sqlite") as cache:
        batch = {"good": np.ones(3, dtype=np.float32), "bad": np.array([1.0, np.nan, 0.0])}
        with pytest.raises(ValueError, match="bad"):
            cache.put_many("minilm", batch)
        assert cache.count() == 0
