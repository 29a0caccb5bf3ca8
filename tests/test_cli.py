"""The `paperbrief` command: ingest, search and stats, their JSON output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import main

Run = tuple[int, str, str]


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI runs use the fast hash embedder (chosen the way a user would: an env var)."""
    monkeypatch.setenv("PAPERBRIEF_EMBEDDING__PROVIDER", "hash")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def ingested(hashed: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    data_dir = tmp_path / "data"
    code, _, err = run(capsys, "--data-dir", str(data_dir), "ingest", "--sample")
    assert code == 0, err
    return data_dir


def test_ingest_sample_then_again_reports_nothing_new(
    ingested: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--data-dir", str(ingested), "ingest", "--sample", "--json")
    report = json.loads(out)

    code_stats, out_stats, _ = run(capsys, "--data-dir", str(ingested), "stats", "--json")
    stats = json.loads(out_stats)

    assert code == 0 and code_stats == 0
    assert report["added"] == [] and report["embedded"] == 0
    assert len(report["unchanged"]) == stats["papers"] > 50
    assert stats["embedder"] == "hash-bow:256"
    assert stats["store"] == str(ingested / "chroma")


def test_search_prints_ranked_papers_and_json(
    ingested: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--data-dir", str(ingested), "search", "Medusa decoding heads")
    code_json, out_json, _ = run(
        capsys, "--data-dir", str(ingested), "search", "diffusion", "-k", "3", "--json"
    )
    hits = json.loads(out_json)

    assert code == 0 and code_json == 0
    assert out.splitlines()[0].startswith(" 1. [")
    assert "Medusa" in out.splitlines()[0]
    assert len(hits) == 3
    assert all("diffusion" in (h["paper"]["title"] + h["paper"]["abstract"]).lower() for h in hits)


def test_search_filters_reach_the_results(
    ingested: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "--data-dir",
        str(ingested),
        "search",
        "language models",
        "-k",
        "50",
        "--has-code",
        "--since",
        "2025-01-01",
        "--min-upvotes",
        "1",
        "--json",
    )
    hits = json.loads(out)

    assert code == 0 and hits
    for hit in hits:
        paper = hit["paper"]
        assert any(link["kind"] == "code" for link in paper["links"])
        assert paper["published"] >= "2025-01-01" and paper["upvotes"] >= 1


def test_rejected_records_are_listed_on_stderr_and_exit_1(
    hashed: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "mixed.jsonl"
    good = {"title": "A good paper", "abstract": "It has an abstract."}
    source.write_text(json.dumps(good) + "\n" + json.dumps({"title": "No abstract"}) + "\n")
    data_dir = str(tmp_path / "data")

    code, out, err = run(capsys, "--data-dir", data_dir, "ingest", str(source))
    _, stats, _ = run(capsys, "--data-dir", data_dir, "stats", "--json")

    assert code == 1
    assert f"{source}: line 2: " in err and "abstract" in err
    assert "1 added" in out and "1 rejected" in out
    assert json.loads(stats)["papers"] == 1


def test_a_missing_file_is_an_error_naming_it(
    hashed: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.jsonl"

    code, out, err = run(capsys, "--data-dir", str(tmp_path / "d"), "ingest", str(missing))

    assert code == 1 and out == ""
    assert err.startswith("paperbrief: error:") and str(missing) in err


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "x", "--since", "last week"],
        ["ingest"],
        ["ingest", "file.jsonl", "--sample"],
        ["ingest", "file.jsonl", "--format", "pdf"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(
    hashed: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--data-dir", str(tmp_path), *argv])

    assert exited.value.code == 2
    assert "usage: paperbrief" in capsys.readouterr().err


def test_config_file_settings_apply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "paperbrief.toml"
    config.write_text('[embedding]\nprovider = "hash"\n\n[store]\ncollection = "mine"\n')

    code, out, err = run(
        capsys, "--config", str(config), "--data-dir", str(tmp_path / "d"), "stats", "--json"
    )

    assert code == 0, err
    assert json.loads(out)["collection"] == "mine"
    assert json.loads(out)["embedder"] == "hash-bow:256"


def test_another_embedding_model_on_the_same_store_is_refused(
    ingested: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAPERBRIEF_EMBEDDING__PROVIDER", "minilm")

    code, out, err = run(capsys, "--data-dir", str(ingested), "search", "diffusion")

    assert code == 1 and out == ""
    assert "hash-bow:256" in err and "minilm" in err
