"""Bounded inputs, checked the same way in the Python API and the CLI (issue #12 items 3, 6)."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from agent.api import PaperBrief
from agent.cli import main
from agent.errors import InvalidInputError
from agent.inputs import MAX_INTERESTS, MAX_K, MAX_TEXT_CHARS
from tests.conftest import MakePB

RECORDS = [
    {
        "id": f"2505.4000{n}",
        "title": f"Diffusion language models, part {n}",
        "abstract": f"Diffusion language models decode tokens in parallel; variant {n} halves "
        "the decoding steps on reasoning benchmarks.",
        "published": "2025-05-20",
        "upvotes": n,
    }
    for n in range(1, 5)
]


@pytest.fixture
def small_pb(make_pb: MakePB, tmp_path: Path) -> PaperBrief:
    path = tmp_path / "small.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    pb = make_pb()
    assert pb.ingest(path).ok
    return pb


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda pb: pb.ask("x" * (MAX_TEXT_CHARS + 1)), "the question is 2,001 characters"),
        (lambda pb: pb.ask("   "), "the question is empty"),
        (lambda pb: pb.search("q" * 1_000_000), "the search query is 1,000,000 characters"),
        (lambda pb: pb.search("diffusion", k=0), "k must be from 1 to 100, got 0"),
        (lambda pb: pb.search("diffusion", min_upvotes=-5), "min_upvotes must be 0 or more"),
        (lambda pb: pb.recommend(["diffusion"], k=0), "k must be from 1 to 100, got 0"),
        (lambda pb: pb.recommend(["diffusion"], k=-5), "got -5"),
        (lambda pb: pb.recommend(["diffusion"], k=MAX_K + 1), "got 101"),
        (lambda pb: pb.recommend(["d"] * (MAX_INTERESTS + 1)), "21 interests; the limit is 20"),
        (lambda pb: pb.recommend(["i" * 5000]), "an interest is 5,000 characters"),
        (lambda pb: pb.compare("t" * 3000), "the comparison topic is 3,000 characters"),
        (lambda pb: pb.compare(paper_ids=["x"] * 51), "51 paper ids; the limit is 50"),
        (lambda pb: pb.briefing("2025-05-19", "2025-05-25", ["i" * 3000]), "an interest is"),
        (lambda pb: pb.ask("diffusion?", thread_id="t" * 500), "thread_id is 500 characters"),
    ],
)
def test_the_api_refuses_out_of_bound_input_in_one_line(
    small_pb: PaperBrief, call: object, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(")):
        call(small_pb)  # type: ignore[operator]


def test_a_question_at_the_limit_is_answered_with_bounded_memory(small_pb: PaperBrief) -> None:
    question = ("How do diffusion language models decode tokens in parallel? " * 40)[
        :MAX_TEXT_CHARS
    ]
    tracemalloc.start()
    try:
        answer = small_pb.ask(question)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not answer.abstained
    assert peak < 200 * 2**20, f"peak {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "diffusion", "-k", "0"], "k must be from 1 to 100, got 0"),
        (["recommend", "diffusion", "-k", "0"], "k must be from 1 to 100, got 0"),
        (["recommend", "diffusion", "-k", "-5"], "got -5"),
        (["search", "diffusion", "--min-upvotes", "-5"], "min_upvotes must be 0 or more"),
        (["recommend", "diffusion", "-k", "many"], "'many' is not a number"),
    ],
)
def test_the_cli_rejects_the_same_values_as_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--data-dir", str(tmp_path / "data"), *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_cli_too_long_question_and_unknown_liked_paper_are_one_line(
    small_pb: PaperBrief, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERBRIEF_EMBEDDING__PROVIDER", "hash")
    data = ["--data-dir", str(small_pb.data_dir)]
    small_pb.close()
    assert main([*data, "ask", "x" * 5000]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "paperbrief: error: the question is 5,000 characters; the limit is 2,000"

    assert main([*data, "recommend", "diffusion", "--liked", "UNKNOWN"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "UNKNOWN" in err
