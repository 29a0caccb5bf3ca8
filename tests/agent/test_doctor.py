"""`doctor` against a real OpenAI-format server: what passes, and what a failure tells the user."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.doctor import DoctorReport, run_doctor, unreachable_hint
from agent.settings import LLMSettings, Settings
from store.config import EmbeddingSettings
from tests.support.openai_server import OpenAIServer, Reply, Status


def _settings(tmp_path: Path, **llm: Any) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        llm=LLMSettings(**llm),
        embedding=EmbeddingSettings(provider="hash"),
    )


def _healthy(body: dict[str, Any]) -> Reply:
    """A server that does what it is asked: JSON when JSON is asked for, else a word."""
    if body.get("response_format") or "JSON" in str(body["messages"][0]["content"]):
        return '{"route": "answer", "reason": "asks what papers report"}'
    return "ready"


def _by_name(report: DoctorReport) -> dict[str, tuple[bool, str]]:
    return {check.name: (check.ok, check.detail) for check in report.checks}


def test_a_working_setup_passes_every_check(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.set_responder(_healthy)

    report = run_doctor(_settings(tmp_path, base_url=openai_server.base_url, model="test-model"))

    checks = _by_name(report)
    assert report.ok, report.to_text()
    assert list(checks) == [
        "llm configured",
        "llm endpoint reachable",
        "llm model available",
        "llm chat completion",
        "llm json output",
        "embedding model",
        "data dir writable",
    ]
    assert "json_schema works" in checks["llm json output"][1]
    assert "'ready'" in checks["llm chat completion"][1]
    assert report.model_dump()["ok"] is True  # `--json` carries the verdict


def test_the_doctor_makes_real_requests_even_with_a_cache(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    openai_server.set_responder(_healthy)
    settings = _settings(tmp_path, base_url=openai_server.base_url, model="test-model")

    run_doctor(settings)
    run_doctor(settings)

    assert len(openai_server.chat_requests) == 4


def test_json_object_fallback_is_reported(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.set_responder(_healthy)
    openai_server.json_schema_supported = False

    report = run_doctor(_settings(tmp_path, base_url=openai_server.base_url, model="test-model"))

    ok, detail = _by_name(report)["llm json output"]
    assert ok
    assert "rejected response_format json_schema" in detail
    assert "json_object fallback works" in detail


def test_connection_refused_names_the_url(tmp_path: Path) -> None:
    with OpenAIServer() as gone:
        url = gone.base_url

    report = run_doctor(_settings(tmp_path, base_url=url, model="m"))

    checks = _by_name(report)
    assert not report.ok
    ok, detail = checks["llm endpoint reachable"]
    assert not ok
    assert f"connection refused at {url}" in detail
    assert "llm chat completion" not in checks  # nothing more to learn from a dead endpoint
    assert checks["data dir writable"][0]  # the other checks still run


def test_known_local_servers_get_a_start_hint() -> None:
    assert "ollama serve" in unreachable_hint("http://127.0.0.1:11434/v1")
    assert "vllm serve" in unreachable_hint("http://localhost:8000/v1")
    assert "llama-server" in unreachable_hint("http://127.0.0.1:8080/v1")
    assert "LM Studio" in unreachable_hint("http://localhost:1234/v1")
    assert "proxy" in unreachable_hint("https://api.openai.com/v1")


def test_a_model_the_server_does_not_serve(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.models = ["qwen2.5:7b", "llama3.1:8b"]

    report = run_doctor(_settings(tmp_path, base_url=openai_server.base_url, model="llama3:70b"))

    ok, detail = _by_name(report)["llm model available"]
    assert not ok
    assert "'llama3:70b' is not among the models" in detail
    assert "llama3.1:8b, qwen2.5:7b" in detail
    assert openai_server.chat_requests == []


def test_a_server_without_a_model_list_is_still_checked(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    openai_server.list_models = False
    openai_server.set_responder(_healthy)

    report = run_doctor(_settings(tmp_path, base_url=openai_server.base_url, model="test-model"))

    ok, detail = _by_name(report)["llm model available"]
    assert ok
    assert "does not list its models" in detail
    assert report.ok


def test_a_failing_chat_says_why(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.enqueue(Status(500, "CUDA out of memory"))

    report = run_doctor(_settings(tmp_path, base_url=openai_server.base_url, model="test-model"))

    ok, detail = _by_name(report)["llm chat completion"]
    assert not ok
    assert "HTTP 500: CUDA out of memory" in detail
    assert "llm json output" not in _by_name(report)


def test_offline_mode_needs_no_llm(tmp_path: Path) -> None:
    report = run_doctor(_settings(tmp_path, mode="offline"))

    checks = _by_name(report)
    assert report.ok
    assert "offline mode" in checks["llm configured"][1]
    assert "llm endpoint reachable" not in checks


def test_llm_mode_without_a_model_fails(tmp_path: Path) -> None:
    report = run_doctor(_settings(tmp_path, mode="llm", base_url="http://127.0.0.1:1/v1"))
    ok, detail = _by_name(report)["llm configured"]
    assert not ok
    assert "PAPERBRIEF_LLM__MODEL" in detail


def test_an_unwritable_data_dir_fails(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings = _settings(tmp_path, mode="offline").model_copy(update={"data_dir": blocker})

    ok, detail = _by_name(run_doctor(settings))["data dir writable"]

    assert not ok
    assert str(blocker) in detail
    assert "PAPERBRIEF_DATA_DIR" in detail


def test_an_embedder_that_cannot_load_fails(tmp_path: Path) -> None:
    def broken(settings: EmbeddingSettings) -> Any:
        raise FileNotFoundError("model.onnx missing")

    report = run_doctor(_settings(tmp_path, mode="offline"), embedder_factory=broken)

    ok, detail = _by_name(report)["embedding model"]
    assert not ok
    assert "model.onnx missing" in detail


@pytest.mark.slow
def test_the_bundled_embedding_model_loads(tmp_path: Path) -> None:
    settings = _settings(tmp_path, mode="offline").model_copy(
        update={"embedding": EmbeddingSettings()}
    )
    ok, detail = _by_name(run_doctor(settings))["embedding model"]
    assert ok, detail
    assert "384 dims" in detail


def test_cli_doctor_prints_json_and_exits_1_on_failure(
    openai_server: OpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from agent.cli import main

    monkeypatch.chdir(tmp_path)  # no ./paperbrief.toml from the working directory
    monkeypatch.setenv("PAPERBRIEF_LLM__BASE_URL", openai_server.base_url)
    monkeypatch.setenv("PAPERBRIEF_EMBEDDING__PROVIDER", "hash")
    openai_server.set_responder(_healthy)
    data_dir = str(tmp_path / "data")

    monkeypatch.setenv("PAPERBRIEF_LLM__MODEL", "test-model")
    assert main(["--data-dir", data_dir, "doctor", "--json"]) == 0
    healthy = DoctorReport.model_validate_json(capsys.readouterr().out)
    assert healthy.ok

    monkeypatch.setenv("PAPERBRIEF_LLM__MODEL", "absent-model")
    assert main(["--data-dir", data_dir, "doctor"]) == 1
    text = capsys.readouterr().out
    assert "FAIL  llm model available: 'absent-model' is not among the models" in text
    assert text.rstrip().endswith("1 check(s) failed")


def test_paperbrief_doctor_checks_its_own_settings(
    openai_server: OpenAIServer, make_pb: Any
) -> None:
    openai_server.set_responder(_healthy)
    brief = make_pb(
        llm={"base_url": openai_server.base_url, "model": "test-model"},
        embedding={"provider": "hash"},
    )

    report = brief.doctor()

    assert report.ok, report.to_text()
    assert _by_name(report)["data dir writable"][1] == str(brief.data_dir)
    assert len(openai_server.chat_requests) == 2


def test_ollama_bare_model_names_match_their_latest_tag(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    openai_server.models = ["llama3.1:latest"]

    report = run_doctor(_settings(tmp_path, base_url=openai_server.base_url, model="llama3.1"))

    assert _by_name(report)["llm model available"][0]


def test_openai_without_a_key_is_reported_before_any_request(tmp_path: Path) -> None:
    report = run_doctor(_settings(tmp_path, model="gpt-4o-mini"))

    ok, detail = _by_name(report)["llm configured"]
    assert not ok
    assert "OPENAI_API_KEY" in detail
    assert "llm endpoint reachable" not in _by_name(report)


def test_a_model_that_runs_on_or_answers_off_target_fails_the_doctor(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    # A base model without a chat template: it continues the prompt instead of answering.
    openai_server.set_responder(lambda body: "Reply with the single word: " * 40)
    report = run_doctor(_settings(tmp_path, base_url=openai_server.base_url, model="test-model"))
    ok, detail = _by_name(report)["llm chat completion"]
    assert not ok and "ran on" in detail and "larger" in detail
    assert openai_server.chat_requests[-1].body["max_tokens"] == 16  # a one-word probe


def test_a_structured_reply_off_target_fails_and_a_good_one_reports_speed(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    openai_server.enqueue("ready", '{"route": "recommend", "reason": "x"}')
    report = run_doctor(_settings(tmp_path, base_url=openai_server.base_url, model="test-model"))
    ok, detail = _by_name(report)["llm json output"]
    assert not ok and "off target" in detail

    openai_server.set_responder(_healthy)
    report = run_doctor(_settings(tmp_path, base_url=openai_server.base_url, model="test-model"))
    ok, detail = _by_name(report)["llm json output"]
    assert ok and "tokens/s" in detail
    route_call = openai_server.chat_requests[-1].body
    assert route_call["response_format"]["json_schema"]["name"] == "RouteDecision"
    assert route_call["max_tokens"] < 400  # fitted to the schema, not the 1200 ceiling
