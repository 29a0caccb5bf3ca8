"""Ingest: idempotent upserts, changed abstracts, interrupted runs, rejected records."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from agent.api import PaperBrief
from store.embeddings.hashing import HashEmbedder
from tests.conftest import MakePB


class CountingEmbedder(HashEmbedder):
    """HashEmbedder that counts the texts it embeds and can fail after some calls."""

    def __init__(self, fail_after_calls: int | None = None) -> None:
        super().__init__()
        self.texts = 0
        self.calls = 0
        self.fail_after_calls = fail_after_calls

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.fail_after_calls is not None and self.calls >= self.fail_after_calls:
            raise RuntimeError("embedding server went away")
        self.calls += 1
        self.texts += len(texts)
        return super().embed(texts)


def record(n: int, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "arxiv_id": f"2511.{n:05d}",
        "title": f"Paper number {n} on topic {n % 7}",
        "abstract": f"Abstract {n}: we study topic {n % 7} with method {n % 3}.",
        "published": f"2025-11-{1 + n % 28:02d}",
        "upvotes": n % 11,
    }
    base.update(fields)
    return base


def write_jsonl(path: Path, records: Sequence[dict[str, object] | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored_ids(pb: PaperBrief) -> list[str]:
    return [paper.id for paper in pb.store.all_papers()]


def test_second_ingest_of_the_same_file_embeds_and_changes_nothing(
    make_pb: MakePB, tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "papers.jsonl", [record(n) for n in range(10)])
    embedder = CountingEmbedder()
    pb = make_pb(embedder=embedder)

    first = pb.ingest(source)
    before = pb.store.all_papers()
    second = pb.ingest(source)

    assert (len(first.added), first.embedded) == (10, 10)
    assert second.added == [] and second.updated == [] and second.embedded == 0
    assert second.sentences_embedded == 0
    assert sorted(second.unchanged) == sorted(first.added)
    assert embedder.texts == 10 + first.sentences_embedded
    assert pb.store.all_papers() == before


def test_changed_abstract_replaces_the_old_one_without_a_duplicate(
    make_pb: MakePB, tmp_path: Path
) -> None:
    pb = make_pb()
    pb.ingest(write_jsonl(tmp_path / "v1.jsonl", [record(n) for n in range(5)]))
    changed = record(3, abstract="A rewritten abstract about zebrafish regeneration.")

    report = pb.ingest(
        write_jsonl(tmp_path / "v2.jsonl", [record(0), record(1), record(2), changed])
    )

    assert report.updated == ["2511.00003"]
    assert report.embedded == 1
    assert pb.store.count() == 5
    assert pb.paper("2511.00003").abstract == changed["abstract"]
    assert pb.search("zebrafish regeneration", k=1)[0].paper.id == "2511.00003"


def test_changing_an_abstract_back_reuses_the_cached_vector(
    make_pb: MakePB, tmp_path: Path
) -> None:
    pb = make_pb(embedder=CountingEmbedder())
    original = write_jsonl(tmp_path / "v1.jsonl", [record(1)])
    pb.ingest(original)
    pb.ingest(write_jsonl(tmp_path / "v2.jsonl", [record(1, abstract="Another text.")]))

    back = pb.ingest(original)

    assert back.updated == ["2511.00001"]
    assert back.embedded == 0
    assert pb.paper("2511.00001").abstract == record(1)["abstract"]


def test_new_upvotes_are_stored_without_embedding_again(make_pb: MakePB, tmp_path: Path) -> None:
    pb = make_pb(embedder=CountingEmbedder())
    pb.ingest(write_jsonl(tmp_path / "monday.jsonl", [record(1, upvotes=2)]))

    report = pb.ingest(write_jsonl(tmp_path / "friday.jsonl", [record(1, upvotes=40)]))

    assert report.unchanged == ["2511.00001"] and report.embedded == 0
    assert pb.paper("2511.00001").upvotes == 40
    assert [h.paper.id for h in pb.search("topic", min_upvotes=30)] == ["2511.00001"]


def test_an_id_listed_twice_in_one_source_is_stored_once(make_pb: MakePB, tmp_path: Path) -> None:
    pb = make_pb()
    report = pb.ingest(
        write_jsonl(tmp_path / "dup.jsonl", [record(1), record(2), record(1, upvotes=9)])
    )

    assert sorted(report.added) == ["2511.00001", "2511.00002"]
    assert sorted(stored_ids(pb)) == ["2511.00001", "2511.00002"]
    assert pb.paper("2511.00001").upvotes == 9


def test_bad_records_are_reported_with_their_line_and_good_ones_stored(
    make_pb: MakePB, tmp_path: Path
) -> None:
    pb = make_pb()
    pb.ingest(write_jsonl(tmp_path / "earlier.jsonl", [record(100)]))
    source = write_jsonl(
        tmp_path / "mixed.jsonl",
        [record(1), "{not json", record(2, abstract=""), record(3)],
    )

    report = pb.ingest(source)

    assert sorted(report.added) == ["2511.00001", "2511.00003"]
    assert [r.location for r in report.rejected] == ["line 2", "line 3"]
    assert all(r.source == str(source) for r in report.rejected)
    assert "abstract" in report.rejected[1].reason
    assert not report.ok
    assert sorted(stored_ids(pb)) == ["2511.00001", "2511.00003", "2511.00100"]


def test_an_ingest_that_fails_midway_keeps_its_batches_and_the_rerun_completes(
    make_pb: MakePB, tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "many.jsonl", [record(n) for n in range(40)])
    # Write batches are 4 x embedding.batch_size = 8 papers: one embed call for the papers and
    # one for their abstracts' sentences each, so two batches take four calls.
    failing = CountingEmbedder(fail_after_calls=4)
    pb = make_pb(embedder=failing, embedding={"batch_size": 2})

    with pytest.raises(RuntimeError, match="went away"):
        pb.ingest(source)
    assert pb.store.count() == 16

    resumed_embedder = CountingEmbedder()
    resumed = make_pb(embedder=resumed_embedder, data_dir=pb.data_dir).ingest(source)

    assert len(resumed.unchanged) == 16 and len(resumed.added) == 24
    assert resumed_embedder.texts == 24 + resumed.sentences_embedded
    assert sorted(stored_ids(pb)) == sorted(f"2511.{n:05d}" for n in range(40))


_KILLED_INGEST = textwrap.dedent(
    """
    import sys, time
    from agent.api import PaperBrief
    from agent.settings import Settings
    from store.embeddings.hashing import HashEmbedder

    class SlowEmbedder(HashEmbedder):
        def embed(self, texts):
            time.sleep(0.3)
            return super().embed(texts)

    data_dir, source = sys.argv[1], sys.argv[2]
    settings = Settings(data_dir=data_dir, embedding={"batch_size": 2})
    pb = PaperBrief(data_dir, settings, embedder=SlowEmbedder())

    def progress(done, total):
        print(f"written {done} of {total}", flush=True)

    pb.ingest(source, progress=progress)
    print("finished", flush=True)
    """
)


def test_a_killed_ingest_process_loses_nothing_and_the_rerun_adds_no_duplicates(
    make_pb: MakePB, tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "many.jsonl", [record(n) for n in range(40)])
    data_dir = tmp_path / "killed"
    root = Path(__file__).resolve().parents[2]
    with subprocess.Popen(
        [sys.executable, "-c", _KILLED_INGEST, str(data_dir), str(source)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("written 8 "):
                process.send_signal(signal.SIGKILL)
                break
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    pb = make_pb(data_dir=data_dir)
    survived = pb.store.count()
    report = pb.ingest(source)

    assert 8 <= survived < 40
    assert len(report.unchanged) == survived and len(report.added) == 40 - survived
    assert sorted(stored_ids(pb)) == sorted(f"2511.{n:05d}" for n in range(40))
