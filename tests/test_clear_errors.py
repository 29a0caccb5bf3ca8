"""One clear line instead of a traceback (issue #12 item 4): a Chroma server that dies during an
ingest, corrupt embedding-cache and chat-thread files, a malformed LLM cache entry. Corrupt
caches are set aside and rebuilt with a warning; stored papers are never lost."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from agent.api import PaperBrief
from agent.cli import main
from agent.errors import StoreError
from tests.conftest import MakePB, settings_for
from tests.support.openai_server import OpenAIServer
from tests.test_inputs import RECORDS


def _write(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _start_chroma(path: Path, port: int) -> subprocess.Popen[bytes]:
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    process = subprocess.Popen(
        [chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).is_success:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("chroma run did not start")


@pytest.mark.slow
def test_a_chroma_server_dying_during_an_ingest_is_one_line_and_keeps_papers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import _free_port

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _start_chroma(tmp_path / "db", port)
    try:
        settings = settings_for(tmp_path / "data", store={"chroma_url": url})
        from store.embeddings.hashing import HashEmbedder

        pb = PaperBrief(data_dir=tmp_path / "data", settings=settings, embedder=HashEmbedder())
        assert pb.ingest(_write(tmp_path / "a.jsonl", RECORDS[:2])).ok
        server.terminate()
        server.wait(timeout=10)

        with pytest.raises(StoreError) as error:
            pb.ingest(_write(tmp_path / "b.jsonl", RECORDS[2:]))
        message = str(error.value)
        assert url in message and "b.jsonl" in message and "run the same ingest again" in message
        assert "\n" not in message

        server = _start_chroma(tmp_path / "db", port)
        pb = PaperBrief(data_dir=tmp_path / "data", settings=settings, embedder=HashEmbedder())
        assert pb.store.count() == 2  # what was written before the failure is kept
        assert pb.ingest(_write(tmp_path / "b.jsonl", RECORDS[2:])).ok
        assert pb.store.count() == 4
    finally:
        server.terminate()
        server.wait(timeout=10)


def _corrupt(path: Path) -> None:
    path.write_bytes(b"this is not a SQLite database\n" * 64)


def test_a_corrupt_embedding_cache_is_set_aside_and_rebuilt(
    make_pb: MakePB, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pb = make_pb()
    assert pb.ingest(_write(tmp_path / "a.jsonl", RECORDS)).ok
    data_dir = pb.data_dir
    pb.close()
    _corrupt(data_dir / "embeddings.sqlite")

    with caplog.at_level(logging.WARNING):
        reopened = make_pb(data_dir=data_dir)
        report = reopened.ingest(_write(tmp_path / "a.jsonl", RECORDS))
    assert report.ok
    assert reopened.store.count() == len(RECORDS)  # stored papers untouched
    assert reopened.search("diffusion language models", k=2)
    aside = list(data_dir.glob("embeddings.sqlite.corrupt-*"))
    assert len(aside) == 1
    assert any("embedding cache" in r.getMessage() for r in caplog.records)
    assert any(str(aside[0]) in r.getMessage() for r in caplog.records)


def test_a_corrupt_threads_file_is_set_aside_and_chat_goes_on(
    make_pb: MakePB, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pb = make_pb()
    assert pb.ingest(_write(tmp_path / "a.jsonl", RECORDS)).ok
    data_dir = pb.data_dir
    pb.close()
    _corrupt(data_dir / "threads.sqlite")

    with caplog.at_level(logging.WARNING):
        reopened = make_pb(data_dir=data_dir)
        answer = reopened.ask("How do diffusion language models decode?")
        follow_up = reopened.ask("And how many steps?", thread_id=answer.thread_id)
    assert not answer.abstained and follow_up.thread_id == answer.thread_id
    assert list(data_dir.glob("threads.sqlite.corrupt-*"))
    assert any("chat threads" in r.getMessage() for r in caplog.records)


def test_cli_with_a_corrupt_cache_warns_and_works(
    make_pb: MakePB,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAPERBRIEF_EMBEDDING__PROVIDER", "hash")
    pb = make_pb(embedding={"provider": "hash"})
    assert pb.ingest(_write(tmp_path / "a.jsonl", RECORDS)).ok
    data_dir = pb.data_dir
    pb.close()
    _corrupt(data_dir / "embeddings.sqlite")
    with caplog.at_level(logging.WARNING):
        code = main(["--data-dir", str(data_dir), "ingest", str(tmp_path / "a.jsonl")])
    out = capsys.readouterr().out
    assert code == 0
    assert f"{len(RECORDS)} papers stored" in out
    assert [r.getMessage() for r in caplog.records if "embedding cache" in r.getMessage()]


def test_a_malformed_llm_cache_entry_is_set_aside_and_the_call_made_again(
    make_pb: MakePB, openai_server: OpenAIServer, tmp_path: Path
) -> None:
    pb = make_pb(llm={"base_url": openai_server.base_url, "model": "test-model"})
    openai_server.enqueue("pong")
    llm = pb.chat_llm
    assert llm is not None
    assert llm.chat([{"role": "user", "content": "ping"}]).text == "pong"
    [entry] = list((pb.data_dir / "llm-cache").rglob("*.json"))
    entry.write_text(json.dumps({"reply": "wrong shape"}), encoding="utf-8")

    openai_server.enqueue("pong again")
    assert llm.chat([{"role": "user", "content": "ping"}]).text == "pong again"
    assert entry.with_name(entry.name + ".bad").exists()
    assert json.loads(entry.read_text(encoding="utf-8")) == {"text": "pong again"}
    pb.close()
