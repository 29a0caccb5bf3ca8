"""Settings loading: env vars with `__` nesting, the TOML config file, OPENAI_* fallbacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.settings import load_settings


@pytest.fixture(autouse=True)
def _in_empty_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts in an empty directory, so only the files it writes are read."""
    monkeypatch.chdir(tmp_path)


def test_defaults_without_env_or_config() -> None:
    settings = load_settings()

    assert settings.embedding.provider == "minilm"
    assert settings.store.chroma_url is None
    assert settings.llm.use_llm is False
    assert settings.data_dir.name == "paperbrief"


def test_env_vars_set_nested_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERBRIEF_SEARCH__CANDIDATES", "7")
    monkeypatch.setenv("PAPERBRIEF_EMBEDDING__PROVIDER", "hash")
    monkeypatch.setenv("PAPERBRIEF_STORE__CHROMA_URL", "http://127.0.0.1:8123")
    monkeypatch.setenv("PAPERBRIEF_EMAIL__RECIPIENTS", '["a@example.org", "b@example.org"]')
    monkeypatch.setenv("PAPERBRIEF_DATA_DIR", "~/briefs")

    settings = load_settings()

    assert settings.search.candidates == 7
    assert settings.embedding.provider == "hash"
    assert settings.store.chroma_url == "http://127.0.0.1:8123"
    assert settings.email.recipients == ["a@example.org", "b@example.org"]
    assert settings.data_dir == Path.home() / "briefs"


def test_a_bad_env_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERBRIEF_SEARCH__CANDIDATES", "0")

    with pytest.raises(ValidationError, match=r"search\.candidates"):
        load_settings()


def test_config_file_is_read_and_env_and_arguments_override_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text(
        'data_dir = "/srv/briefs"\n'
        "[search]\ncandidates = 20\nrrf_k = 30\n"
        '[llm]\nmodel = "from-config"\nbase_url = "http://127.0.0.1:1234/v1"\n'
    )
    monkeypatch.setenv("PAPERBRIEF_CONFIG", str(config))
    monkeypatch.setenv("PAPERBRIEF_SEARCH__RRF_K", "15")

    settings = load_settings(data_dir=tmp_path / "explicit")

    assert settings.search.candidates == 20
    assert settings.search.rrf_k == 15
    assert settings.llm.model == "from-config"
    assert settings.llm.use_llm is True
    assert settings.data_dir == tmp_path / "explicit"


def test_paperbrief_toml_in_the_working_directory_is_picked_up(tmp_path: Path) -> None:
    (tmp_path / "paperbrief.toml").write_text('[embedding]\nprovider = "hash"\n')

    assert load_settings().embedding.provider == "hash"


def test_a_missing_config_file_is_an_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.toml"
    monkeypatch.setenv("PAPERBRIEF_CONFIG", str(missing))

    with pytest.raises(FileNotFoundError, match=r"nope\.toml"):
        load_settings()


def test_an_unknown_top_level_setting_is_refused(tmp_path: Path) -> None:
    (tmp_path / "paperbrief.toml").write_text('colour = "blue"\n')

    with pytest.raises(ValidationError, match="colour"):
        load_settings()


def test_a_typo_in_a_nested_section_is_refused_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "paperbrief.toml").write_text("[search]\ncandidat = 3\n")

    with pytest.raises(ValidationError, match=r"search\.candidat"):
        load_settings()


def test_openai_env_vars_fill_the_llm_settings_left_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_MODEL", "llama3")
    monkeypatch.setenv("PAPERBRIEF_LLM__MODEL", "qwen2.5")

    settings = load_settings()

    assert settings.llm.base_url == "http://127.0.0.1:11434/v1"
    assert settings.llm.api_key is not None
    assert settings.llm.api_key.get_secret_value() == "sk-test"
    assert settings.llm.model == "qwen2.5"
    assert settings.llm.use_llm is True
    assert "sk-test" not in repr(settings)


def test_offline_mode_wins_over_a_configured_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("PAPERBRIEF_LLM__MODE", "offline")

    assert load_settings().llm.use_llm is False


def test_openai_embeddings_reuse_the_llm_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERBRIEF_EMBEDDING__PROVIDER", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-embed")

    settings = load_settings()

    assert settings.embedding.base_url == "http://127.0.0.1:8080/v1"
    assert settings.embedding.api_key is not None
    assert settings.embedding.api_key.get_secret_value() == "sk-embed"
