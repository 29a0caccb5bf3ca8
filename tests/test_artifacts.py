"""Run artifacts: `PaperBrief.save_run`, `agent.artifacts.save_run` and `--save-run DIR`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent import artifacts
from agent.api import PaperBrief
from agent.artifacts import save_run
from agent.cli import main
from agent.results import Answer
from tests.conftest import MakePB

SECRET = "sk-secret-123"
QUESTION = "How do diffusion language models decode faster?"
PAPERS = [
    {
        "arxiv_id": "2511.00001",
        "title": "Early answer commitment in diffusion language models",
        "abstract": "Diffusion language models decode faster when they commit to the answer "
        "early: we stop decoding once the answer tokens are stable, with a 3.4x speed-up.",
        "published": "2025-11-03",
        "upvotes": 12,
    },
    {
        "arxiv_id": "2511.00002",
        "title": "A key-value cache for diffusion language models",
        "abstract": "We cache keys and values across denoising steps of diffusion language "
        "models, making decoding 2x faster without training.",
        "published": "2025-11-04",
        "upvotes": 7,
    },
    {
        "arxiv_id": "2511.00003",
        "title": "Protein folding with graph networks",
        "abstract": "A graph network predicts protein structures from sequences.",
        "published": "2025-11-05",
        "upvotes": 3,
    },
]
FILES = {"request.json", "result.json", "result.md", "retrieved.jsonl", "settings.json"}


def _write_papers(path: Path) -> Path:
    path.write_text("".join(json.dumps(p) + "\n" for p in PAPERS), encoding="utf-8")
    return path


@pytest.fixture
def pb(make_pb: MakePB, tmp_path: Path) -> PaperBrief:
    """Three papers in a fresh store; offline writer, but an LLM api_key is configured."""
    brief = make_pb(llm={"mode": "offline", "api_key": SECRET})
    report = brief.ingest(_write_papers(tmp_path / "papers.jsonl"))
    assert report.ok and len(report.added) == 3, report.summary()
    return brief


def test_saved_run_holds_request_result_retrieved_settings_and_usage(
    pb: PaperBrief, tmp_path: Path
) -> None:
    answer = pb.ask(QUESTION)
    folder = pb.save_run(answer, tmp_path / "runs")

    assert folder.parent == tmp_path / "runs"
    assert "-ask-how-do-diffusion-language-models" in folder.name
    assert {p.name for p in folder.iterdir()} == FILES | {"usage.json"}
    assert json.loads((folder / "request.json").read_text())["question"] == QUESTION
    saved = Answer.model_validate_json((folder / "result.json").read_text())
    assert saved == answer
    assert (folder / "result.md").read_text() == answer.markdown
    lines = (folder / "retrieved.jsonl").read_text().splitlines()
    assert answer.retrieved and [json.loads(line)["id"] for line in lines] == [
        paper.id for paper in answer.retrieved
    ]
    usage = json.loads((folder / "usage.json").read_text())
    assert usage == answer.usage.model_dump(mode="json") and usage["llm_calls"] == 0
    settings = json.loads((folder / "settings.json").read_text())
    assert settings["llm"]["mode"] == "offline" and settings["data_dir"] == str(pb.data_dir)


def test_the_configured_api_key_is_masked_in_every_saved_file(
    pb: PaperBrief, tmp_path: Path
) -> None:
    assert pb.settings.llm.api_key is not None
    assert pb.settings.llm.api_key.get_secret_value() == SECRET
    folder = pb.save_run(pb.ask(QUESTION), tmp_path / "runs")

    settings = json.loads((folder / "settings.json").read_text())
    assert settings["llm"]["api_key"] == "**********"
    for path in folder.iterdir():
        assert SECRET not in path.read_text(encoding="utf-8"), path.name


def test_two_saves_in_the_same_second_get_two_folders(
    pb: PaperBrief, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(artifacts, "utc_stamp", lambda: "20251106T093012Z")
    answer = pb.ask(QUESTION)
    request = {"question": QUESTION}

    folders = [save_run(tmp_path / "runs", "ask", request, answer, pb.settings) for _ in range(3)]

    first = "20251106T093012Z-ask-how-do-diffusion-language-models-decode"
    assert [f.name for f in folders] == [first, f"{first}-2", f"{first}-3"]
    assert all((folder / "result.json").is_file() for folder in folders)


def test_cli_save_run_writes_a_folder_and_prints_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAPERBRIEF_EMBEDDING__PROVIDER", "hash")
    data, runs = tmp_path / "data", tmp_path / "runs"
    assert main(["--data-dir", str(data), "ingest", str(_write_papers(tmp_path / "p.jsonl"))]) == 0
    capsys.readouterr()

    code = main(["--data-dir", str(data), "--save-run", str(runs), "ask", QUESTION])
    out, err = capsys.readouterr()

    [folder] = list(runs.iterdir())
    assert code == 0
    assert f"run saved: {folder}" in err
    assert {p.name for p in folder.iterdir()} >= FILES
    assert (folder / "result.md").read_text() == out
    assert json.loads((folder / "request.json").read_text()) == {
        "question": QUESTION,
        "thread_id": None,
    }


def test_a_briefing_run_keeps_its_three_renderings(pb: PaperBrief, tmp_path: Path) -> None:
    briefing = pb.briefing("2025-11-03", "2025-11-09", interests=["diffusion decoding"])
    folder = pb.save_run(briefing, tmp_path / "runs")

    assert folder.name.endswith("-brief-2025-11-03-2025-11-09")
    assert json.loads((folder / "request.json").read_text()) == {
        "start": "2025-11-03",
        "end": "2025-11-09",
    }
    assert (folder / "result.md").read_text() == briefing.markdown != ""
    assert (folder / "briefing.html").read_text() == briefing.html
    assert (folder / "briefing.txt").read_text() == briefing.text
    assert not (folder / "retrieved.jsonl").exists()
    assert json.loads((folder / "usage.json").read_text())["llm_calls"] == 0
