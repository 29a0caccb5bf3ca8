"""`paperbrief ask | chat | compare | recommend | tldr` on the ingested sample (offline mode)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.api import PaperBrief
from agent.cli import main
from tests.support.agent_responder import AgentResponder, PaperBlock
from tests.support.openai_server import OpenAIServer, Status

PROPHET = "Diffusion Language Models Know the Answer Before Decoding"
SPEED_UP = "How do recent methods speed up diffusion language models?"

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(sample_pb: PaperBrief, capsys: pytest.CaptureFixture[str]) -> Run:
    """Runs `paperbrief --data-dir <the sample store> ARGS...`: (exit code, stdout, stderr)."""

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(["--data-dir", str(sample_pb.data_dir), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def _ids(sample_pb: PaperBrief) -> dict[str, str]:
    return {p.title: p.id for p in sample_pb.papers()}


def test_ask_json_then_a_follow_up_on_the_printed_thread(run: Run, sample_pb: PaperBrief) -> None:
    code, out, _ = run("ask", SPEED_UP, "--json")
    answer = json.loads(out)
    assert code == 0
    assert answer["mode"] == "offline" and not answer["abstained"]
    assert _ids(sample_pb)[PROPHET] in answer["citations"]
    assert [s["n"] for s in answer["sources"]] == list(range(1, len(answer["sources"]) + 1))

    code, out, err = run("ask", "Which of them needs no training?", "--thread", answer["thread_id"])
    assert code == 0
    assert f"thread: {answer['thread_id']}" in err
    assert "**Sources**" in out and PROPHET in out


def test_compare_named_papers_as_json_and_unknown_ids_fail_clearly(
    run: Run,
    sample_pb: PaperBrief,
) -> None:
    ids = _ids(sample_pb)
    wanted = [ids[PROPHET], ids["dKV-Cache: The Cache for Diffusion Language Models"]]
    code, out, _ = run("compare", "--papers", *wanted, "--json")
    comparison = json.loads(out)
    assert code == 0
    assert [row["paper_id"] for row in comparison["rows"]] == wanted
    assert comparison["read_first"] in wanted

    code, out, err = run("compare", "--papers", wanted[0], "2599.99999")
    assert code == 1 and out == ""
    assert "2599.99999" in err and wanted[0] not in err

    code, _, err = run("compare")
    assert code == 2 and "--papers" in err


def test_compare_a_topic_prints_the_table(run: Run) -> None:
    code, out, _ = run("compare", "diffusion language model acceleration")
    assert code == 0
    assert "| Paper | Method | Problem | Approach | Key result | Needs training | Code |" in out
    assert "**Read first:**" in out


def test_recommend_json_ranks_papers_for_the_interests(run: Run) -> None:
    code, out, _ = run("recommend", "diffusion language models", "-k", "3", "--json")
    picks = json.loads(out)
    assert code == 0 and len(picks) == 3
    assert all(p["reason"] for p in picks)
    assert "Diffusion" in picks[0]["paper"]["title"]


def test_recommend_for_an_interest_the_store_lacks_says_so_in_one_line(run: Run) -> None:
    code, out, _ = run("recommend", "coral reef bleaching", "graph neural networks", "-k", "2")
    lines = out.strip().splitlines()
    assert code == 0
    assert lines[0].startswith(
        'No paper in the store matches your interest in "coral reef bleaching" (closest, '
    )
    assert lines[1].startswith(" 1. [") and 'interest in "graph neural networks"' in lines[2]
    code, out, err = run("recommend", "coral reef bleaching", "--json")
    assert code == 0 and json.loads(out) == []
    assert err.startswith('No paper in the store matches your interest in "coral reef bleaching"')


def test_tldr_prints_one_takeaway(run: Run, sample_pb: PaperBrief) -> None:
    code, out, _ = run("tldr", _ids(sample_pb)[PROPHET])
    assert code == 0 and len(out.strip().splitlines()) == 1
    code, _, err = run("tldr", "2599.99999")
    assert code == 1 and "2599.99999" in err


def test_chat_reads_piped_lines_with_follow_ups_and_commands(
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = [
        SPEED_UP,
        "/sources",
        "Which of them needs no training?",
        "/new",
        "/quit",
        "What is the best recipe for sourdough bread?",
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    code, out, _ = run("chat")

    assert code == 0
    # Two answers, each followed by its sources; the line after /quit is never asked.
    assert out.count("(offline extractive summary)") == 2
    assert out.count(f"] {PROPHET}") >= 3  # listed after each answer and by /sources
    assert "(new thread)" in out
    assert "sourdough" not in out and "do not cover" not in out


def test_chat_on_an_empty_store_starts_and_says_the_papers_do_not_cover_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Chat loads the model before reading the first question: with no papers that must not
    # fail either.
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{SPEED_UP}\n"))
    code = main(["--data-dir", str(tmp_path / "empty"), "chat"])
    out, _ = capsys.readouterr()

    assert code == 0
    assert "do not cover" in out


def test_warm_up_leaves_answers_as_they_were(sample_pb: PaperBrief) -> None:
    before = sample_pb.ask(SPEED_UP)
    sample_pb.warm_up()
    sample_pb.warm_up()

    assert sample_pb.ask(SPEED_UP).markdown == before.markdown


def test_chat_in_llm_mode_streams_the_models_tokens(
    run: Run, monkeypatch: pytest.MonkeyPatch, openai_server: OpenAIServer
) -> None:
    for name, value in {
        "MODE": "llm",
        "BASE_URL": openai_server.base_url,
        "MODEL": "test-model",
        "CACHE": "false",
    }.items():
        monkeypatch.setenv(f"PAPERBRIEF_LLM__{name}", value)

    def chat(papers: list[PaperBlock], prompt: str) -> str:
        return f"Streamed from the model: {papers[0].first_sentence[:-1]} [1]."

    openai_server.set_responder(
        AgentResponder(chat=chat, keep=lambda paper: "Diffusion" in paper.title)
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(SPEED_UP + "\n/sources\n"))
    code, out, _ = run("chat")

    assert code == 0
    assert "Streamed from the model:" in out
    assert any(r.body.get("stream") for r in openai_server.chat_requests)
    assert "(offline extractive summary)" not in out
    assert out.count("[1] ") >= 2  # the source list after the answer, then /sources


def _llm_env(monkeypatch: pytest.MonkeyPatch, server: OpenAIServer) -> None:
    for name, value in {
        "MODE": "llm",
        "BASE_URL": server.base_url,
        "MODEL": "test-model",
        "CACHE": "false",
    }.items():
        monkeypatch.setenv(f"PAPERBRIEF_LLM__{name}", value)
    monkeypatch.setenv("PAPERBRIEF_RETRY__MAX_RETRIES", "0")


def test_chat_survives_an_llm_error_and_answers_the_next_question(
    run: Run, monkeypatch: pytest.MonkeyPatch, openai_server: OpenAIServer
) -> None:
    _llm_env(monkeypatch, openai_server)
    responder = AgentResponder(
        keep=lambda paper: "Diffusion" in paper.title,
        chat=lambda papers, prompt: f"From the model: {papers[0].first_sentence[:-1]} [1].",
    )
    failing = {"left": 1}

    def first_fails(body: dict[str, object]) -> object:
        if failing["left"]:
            failing["left"] -= 1
            return Status(503, "model is loading")
        return responder(body)

    openai_server.set_responder(first_fails)  # type: ignore[arg-type]
    monkeypatch.setattr("sys.stdin", io.StringIO(SPEED_UP + "\n" + SPEED_UP + "\n"))
    code, out, err = run("chat")

    assert code == 0
    assert "HTTP 503" in err and "ask again" in err
    assert "From the model:" in out  # the second question got its answer
    assert out.count("[1] ") >= 1  # and its sources
    assert "LLM:" in err and "call(s)" in err  # what the session spent


def test_a_failed_ask_is_recorded_with_save_run_and_its_usage_reported(
    run: Run, monkeypatch: pytest.MonkeyPatch, openai_server: OpenAIServer, tmp_path: Path
) -> None:
    _llm_env(monkeypatch, openai_server)
    openai_server.set_responder(lambda body: Status(500, "upstream overloaded"))
    code, _, err = run("--save-run", str(tmp_path), "-v", "ask", SPEED_UP)

    assert code == 1 and "HTTP 500" in err
    [folder] = list(tmp_path.iterdir())
    assert "failed" in folder.name
    error = json.loads((folder / "error.json").read_text())
    assert error["type"] == "LLMError" and error["status"] == 500
    assert json.loads((folder / "request.json").read_text())["question"] == SPEED_UP
    assert json.loads((folder / "usage.json").read_text())["llm_calls"] >= 1
    assert "LLM: 1 call(s)" in err
    assert "as json_schema, max_tokens=" in err  # -v: the structured mode of each call
