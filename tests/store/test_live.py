"""A live store: a long-lived reader keeps working while another process writes, and sees what
was written (new papers and changed abstracts), on the embedded store and on a Chroma server."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from agent.api import PaperBrief
from tests.conftest import MakePB
from tests.store.test_ingest import record, write_jsonl

ROOT = Path(__file__).resolve().parents[2]

_WRITER = textwrap.dedent(
    """
    import sys
    from agent.api import PaperBrief
    from agent.settings import Settings
    from store.embeddings.hashing import HashEmbedder

    data_dir, source, url, collection = sys.argv[1:5]
    store = {"chroma_url": url, "collection": collection} if url else {}
    settings = Settings(data_dir=data_dir, embedding={"batch_size": 4}, store=store)
    pb = PaperBrief(data_dir, settings, embedder=HashEmbedder())
    print(pb.ingest(source).summary(), flush=True)
    """
)

UPDATED = "A rewritten abstract about axolotl limb regeneration replaces the first one."


def later_records() -> list[dict[str, object]]:
    """40 new papers, one on zebrafish, and paper 0 with a new abstract."""
    records = [record(n) for n in range(100, 140)]
    records.append(
        record(
            140,
            title="Zebrafish fins regrow",
            abstract="Zebrafish regrow their fins after injury.",
        )
    )
    records.append(record(0, abstract=UPDATED))
    return records


def write_while_searching(reader: PaperBrief, data_dir: Path, source: Path, url: str = "") -> int:
    """Run a writer process on `data_dir` while `reader` searches; the searches done meanwhile."""
    collection = reader.settings.store.collection
    with subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(data_dir), str(source), url, collection],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as writer:
        searches = 0
        deadline = time.monotonic() + 120
        while writer.poll() is None and time.monotonic() < deadline:
            # Every kind of read a chat session makes; none may fail while the writer works.
            reader.search("topic 3 method", k=5)
            reader.search("topic 3 method", k=5, mode="dense")
            reader.search("zebrafish", k=3, mode="lexical")
            reader.search("topic 2", k=5, since="2025-11-05", has_code=False)
            reader.papers()
            searches += 1
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err[-2000:]
    assert "41 added, 1 updated" in out
    return searches


def assert_sees_the_writes(reader: PaperBrief) -> None:
    ids = {paper.id for paper in reader.papers()}
    assert {f"2511.{n:05d}" for n in range(100, 141)} <= ids
    assert len(ids) == 30 + 41

    zebrafish = reader.search("zebrafish fins", k=1, mode="lexical")
    assert zebrafish and zebrafish[0].paper.title == "Zebrafish fins regrow"
    assert reader.search("Zebrafish fins regrow", k=1, mode="dense")[0].paper.id == "2511.00140"
    assert reader.search("Zebrafish fins regrow", k=1)[0].paper.id == "2511.00140"

    assert reader.paper("2511.00000").abstract == UPDATED
    axolotl = reader.search("axolotl limb regeneration", k=1, mode="lexical")
    assert [hit.paper.id for hit in axolotl] == ["2511.00000"]
    assert axolotl[0].paper.abstract == UPDATED


def embedded_reader(make_pb: MakePB, tmp_path: Path) -> tuple[PaperBrief, Path]:
    """A reader of 30 papers on an embedded store, and its data directory."""
    data_dir = tmp_path / "shared"
    reader = make_pb(data_dir=data_dir)
    reader.ingest(write_jsonl(tmp_path / "first.jsonl", [record(n) for n in range(30)]))
    return reader, data_dir


@pytest.mark.slow
def test_a_long_lived_reader_sees_another_process_write_the_embedded_store(
    make_pb: MakePB, tmp_path: Path
) -> None:
    reader, data_dir = embedded_reader(make_pb, tmp_path)
    assert reader.search("topic 3", k=3)
    later = write_jsonl(tmp_path / "later.jsonl", later_records())

    searches = write_while_searching(reader, data_dir, later)

    assert searches > 0
    assert_sees_the_writes(reader)


@pytest.mark.slow
def test_two_clients_of_a_chroma_server_see_each_others_papers_and_updates(
    make_pb: MakePB, tmp_path: Path, chroma_server: str
) -> None:
    store = {"chroma_url": chroma_server, "collection": f"live_{uuid.uuid4().hex[:8]}"}
    reader = make_pb(data_dir=tmp_path / "reader", store=store)
    reader.ingest(write_jsonl(tmp_path / "first.jsonl", [record(n) for n in range(30)]))
    later = write_jsonl(tmp_path / "later.jsonl", later_records())

    # The writer has a data directory (and so a lexical index) of its own.
    searches = write_while_searching(reader, tmp_path / "writer", later, url=chroma_server)

    assert searches > 0
    assert_sees_the_writes(reader)
    # And the writer's side sees the reader's papers, which it never ingested itself.
    writer = make_pb(data_dir=tmp_path / "writer", store=store)
    assert writer.search("Paper number 7 on topic 0", k=1, mode="lexical")[0].paper.id == (
        "2511.00007"
    )


def dense_scores(reader: PaperBrief, query: str) -> dict[str, float]:
    return {hit.paper.id: hit.score for hit in reader.search(query, k=5, mode="dense")}


@pytest.mark.slow
def test_a_reader_whose_vector_index_predates_a_write_searches_the_new_vectors(
    make_pb: MakePB, tmp_path: Path
) -> None:
    reader, data_dir = embedded_reader(make_pb, tmp_path)
    old = reader.paper("2511.00000")
    # The reader's Chroma client has loaded its vector index: the old vector of paper 0.
    assert dense_scores(reader, old.embed_text)["2511.00000"] > 0.999
    later = write_jsonl(tmp_path / "later.jsonl", later_records())
    subprocess.run(
        [sys.executable, "-c", _WRITER, str(data_dir), str(later), "", "papers"],
        check=True,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    new = reader.paper("2511.00000")
    assert new.abstract == UPDATED

    # Whether the reader's client was reopened in the background yet or not, and after it was:
    # the new papers are found by their vectors and the updated abstract's vector replaced the
    # old one (the old text no longer matches paper 0 exactly; the new text does).
    for _ in range(2):
        assert dense_scores(reader, "Zebrafish fins regrow")
        assert reader.search("Zebrafish fins regrow", k=1, mode="dense")[0].paper.id == (
            "2511.00140"
        )
        assert dense_scores(reader, old.embed_text).get("2511.00000", 0.0) < 0.999
        assert dense_scores(reader, new.embed_text)["2511.00000"] > 0.999
        assert reader.search("topic 2", k=50, since="2025-11-01", mode="dense")
        reader.store.settle(timeout=120)
    assert reader.store.searched_exactly == 0
