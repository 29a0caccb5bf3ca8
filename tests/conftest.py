"""Shared fixtures: PaperBrief instances over real Chroma stores, and a real Chroma server.

- `sample_pb` (session): the bundled sample page ingested once with the real default MiniLM
  model. Shared by many tests: treat it as read-only.
- `make_pb` (function): a factory of fresh PaperBrief instances in their own tmp dirs, by
  default with the fast `HashEmbedder` (no semantic quality: plumbing tests only).
- `chroma_server` (session): the URL of a `chroma run` process on a free local port.
- `openai_server`: the OpenAI-wire-format test server (tests/support/openai_server.py).

The session runs offline and private: no Hugging Face downloads, no Chroma telemetry, and none
of the developer's PAPERBRIEF_* / OPENAI_* variables leak into tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
for _name in list(os.environ):
    if _name.startswith(("PAPERBRIEF_", "OPENAI_")):
        del os.environ[_name]

from agent.api import PaperBrief  # noqa: E402 - after the environment is made hermetic
from agent.settings import Settings  # noqa: E402
from store.embeddings import Embedder  # noqa: E402
from store.embeddings.hashing import HashEmbedder  # noqa: E402
from tests.support.openai_server import openai_server  # noqa: E402, F401 - shared fixture
from tests.support.smtp_server import smtp_server, tls_files  # noqa: E402, F401 - shared

MakePB = Callable[..., PaperBrief]


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test store in `data_dir`; keyword overrides are nested settings dicts."""
    return Settings(data_dir=data_dir, **overrides)


@pytest.fixture(scope="session")
def sample_pb(tmp_path_factory: pytest.TempPathFactory) -> PaperBrief:
    """The bundled sample ingested once, with the real default embedder. Read-only."""
    data_dir = tmp_path_factory.mktemp("sample-pb")
    brief = PaperBrief(data_dir=data_dir, settings=settings_for(data_dir))
    report = brief.ingest_sample()
    assert report.ok and report.added, report.summary()
    return brief


@pytest.fixture
def make_pb(tmp_path: Path) -> MakePB:
    """Factory of fresh PaperBrief instances, each in its own new directory under tmp_path.

    `make_pb(embedder=None, data_dir=None, **settings_overrides)`: the HashEmbedder unless one
    is given; pass `data_dir` to reopen an earlier instance's store.
    """
    counter = iter(range(1_000_000))

    def make(
        embedder: Embedder | None = None, data_dir: Path | None = None, **overrides: Any
    ) -> PaperBrief:
        directory = data_dir if data_dir is not None else tmp_path / f"pb-{next(counter)}"
        return PaperBrief(
            data_dir=directory,
            settings=settings_for(directory, **overrides),
            embedder=embedder if embedder is not None else HashEmbedder(),
        )

    return make


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real `chroma run` server process, stopped at the end of the session."""
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("wb")
    process = subprocess.Popen(
        [chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path / "db")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"chroma run exited with {process.returncode}: "
                    + (path / "server.log").read_text(errors="replace")[-2000:]
                )
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"chroma run did not answer on {url} within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
