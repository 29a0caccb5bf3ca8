"""paperbrief's one settings object.

Read, highest priority first, from: keyword arguments, environment variables
(`PAPERBRIEF_` prefix, `__` between nested names, e.g. `PAPERBRIEF_LLM__MODEL`), the config file
(`PAPERBRIEF_CONFIG`, else `./paperbrief.toml` when it exists) and the defaults below. The usual
`OPENAI_BASE_URL`, `OPENAI_API_KEY` and `OPENAI_MODEL` fill the LLM settings that are not set
otherwise. The README's settings table is checked against these fields by a test.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from store.config import (
    EmbeddingSettings,
    RetrySettings,
    SearchSettings,
    SourceSettings,
    StoreSettings,
)

log = logging.getLogger(__name__)


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "paperbrief"


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["auto", "offline", "llm"] = Field(
        default="auto",
        description="offline: the extractive writer, no LLM; llm: always the configured LLM; "
        "auto: llm when a base URL, model or API key is configured, else offline",
    )
    base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible base URL (OpenAI, vLLM, Ollama, llama.cpp, LM Studio); "
        "falls back to OPENAI_BASE_URL",
    )
    api_key: SecretStr | None = Field(
        default=None, description="API key; falls back to OPENAI_API_KEY (local servers need none)"
    )
    model: str | None = Field(
        default=None, description="Chat model name; falls back to OPENAI_MODEL"
    )
    temperature: float = Field(default=0.0, ge=0.0, le=2.0, description="Sampling temperature")
    max_tokens: int = Field(default=1200, ge=1, description="Max tokens per completion")
    timeout: float = Field(default=60.0, gt=0, description="Seconds per LLM request")
    idle_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a streamed reply may stay silent before the server is taken to "
        "have stopped (detected sooner than the whole timeout)",
    )
    stream: bool = Field(
        default=True,
        description="Stream every request: a server that goes silent is noticed within "
        "idle_timeout and a reply that loops is stopped early; false for servers whose "
        "streaming is broken",
    )
    pipeline: Literal["full", "lean"] = Field(
        default="full",
        description="full: the LLM routes, plans, grades, extracts evidence, writes and "
        "rewrites; lean (small or slow models): all but the writing as offline, then one LLM "
        "call writes, under the same verifier (calls and tokens in BENCHMARKS.md)",
    )
    fit_max_tokens: bool = Field(
        default=True,
        description="Size each structured call's max_tokens to its schema (tens of tokens for "
        "a route, hundreds for an answer), max_tokens being the ceiling; false for reasoning "
        "models that think before they answer",
    )
    structured_output: Literal["auto", "json_schema", "json_object"] = Field(
        default="auto",
        description="How structured replies are requested; auto tries json_schema and falls "
        "back to json_object when the server rejects it",
    )
    cache: bool = Field(default=True, description="Cache LLM responses on disk in the data dir")
    concurrency: int = Field(default=4, ge=1, description="LLM calls in flight at once")
    input_cost_per_mtok: float | None = Field(
        default=None, description="USD per million prompt tokens, for the cost estimate"
    )
    output_cost_per_mtok: float | None = Field(
        default=None, description="USD per million completion tokens, for the cost estimate"
    )

    @property
    def configured(self) -> bool:
        """True when an LLM endpoint is configured (so auto mode uses it)."""
        return bool(self.base_url or self.model or self.api_key)

    @property
    def use_llm(self) -> bool:
        if self.mode == "llm":
            return True
        if self.mode == "offline":
            return False
        return self.configured


class RecommendSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    relevance_weight: float = Field(
        default=0.6, ge=0, description="Weight of similarity to interests and liked papers"
    )
    recency_weight: float = Field(default=0.25, ge=0, description="Weight of recency")
    popularity_weight: float = Field(default=0.15, ge=0, description="Weight of upvotes")
    recency_half_life_days: float = Field(
        default=14.0, gt=0, description="Age at which the recency score halves"
    )
    interests: list[str] = Field(
        default_factory=list, description="The reader's standing interests (briefing picks)"
    )
    min_evidence: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Relevance evidence a paper needs to be recommended for an interest "
        "(agent/relevance.py's probability); unset: the floor calibrated for the embedder in "
        "agent/data/interests.json",
    )


class BriefingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    picks: int = Field(default=5, ge=0, description="Top picks per briefing")
    trending: int = Field(default=5, ge=0, description="Most-upvoted papers listed per briefing")
    max_themes: int = Field(default=12, ge=1, description="Upper bound on themes per briefing")
    max_theme_size: int = Field(
        default=6,
        ge=2,
        description="Most papers in one theme: bigger clusters are split, so one paragraph "
        "can compare a theme",
    )
    min_theme_similarity: float = Field(
        default=0.45,
        ge=-1,
        le=1,
        description="Cosine similarity a paper needs to join a theme (higher: more themes)",
    )
    title: str = Field(default="paperbrief weekly", description="Briefing title and mail subject")


class EmailSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    smtp_host: str | None = Field(default=None, description="SMTP server host")
    smtp_port: int | None = Field(
        default=None, description="SMTP port (default 587 for starttls, 465 for ssl, 25 for none)"
    )
    security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="Transport security"
    )
    username: str | None = Field(default=None, description="SMTP user")
    password: SecretStr | None = Field(default=None, description="SMTP password (never logged)")
    sender: str | None = Field(default=None, description="From address")
    recipients: list[str] = Field(default_factory=list, description="To addresses")
    timeout: float = Field(default=30.0, gt=0, description="Seconds per SMTP operation")


class ServeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(
        default="127.0.0.1",
        description="Address `paperbrief serve` and `paperbrief mcp --http` bind; anything but "
        "a loopback address needs a token",
    )
    port: int = Field(default=8765, ge=0, le=65535, description="Port of the web app / MCP HTTP")
    token: SecretStr | None = Field(
        default=None,
        description="Bearer token the web app, its OpenAI-compatible API and MCP over HTTP "
        "require (required for a non-loopback bind)",
    )
    mcp_ingest: bool = Field(
        default=False, description="Offer the MCP `ingest` tool (it writes to the store)"
    )
    sampling: bool = Field(
        default=True,
        description="Over MCP, let the host's model write (sampling/createMessage) when the "
        "client offers it and llm.mode is not offline",
    )
    sampling_timeout: float = Field(
        default=300.0, gt=0, description="Seconds one MCP sampling request may wait for the host"
    )


class Settings(BaseSettings):
    """All of paperbrief's settings; every field documented in the README."""

    model_config = SettingsConfigDict(
        env_prefix="PAPERBRIEF_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the store, caches, chat threads and run artifacts live",
    )
    store: StoreSettings = Field(default_factory=StoreSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    sources: SourceSettings = Field(default_factory=SourceSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    recommend: RecommendSettings = Field(default_factory=RecommendSettings)
    briefing: BriefingSettings = Field(default_factory=BriefingSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = config_file_path()
        if config is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config))
        return tuple(sources)

    @model_validator(mode="before")
    @classmethod
    def _renamed_retry_settings(cls, data: Any) -> Any:
        """Retry settings of earlier versions, read into the one `retry` section."""
        if not isinstance(data, dict):
            return data
        for section, old, new, convert in _RENAMED_RETRY:
            values = data.get(section)
            if not isinstance(values, dict) or old not in values:
                continue
            values = dict(values)
            value = values.pop(old)
            data = {**data, section: values}
            retry = dict(data.get("retry") or {})
            retry.setdefault(new, convert(value))
            data["retry"] = retry
            log.warning(
                "setting %s.%s is now retry.%s (PAPERBRIEF_RETRY__%s); read as such",
                section,
                old,
                new,
                new.upper(),
            )
        return data

    @model_validator(mode="after")
    def _openai_env_fallbacks(self) -> Settings:
        if self.llm.base_url is None and os.environ.get("OPENAI_BASE_URL"):
            self.llm.base_url = os.environ["OPENAI_BASE_URL"]
        if self.llm.api_key is None and os.environ.get("OPENAI_API_KEY"):
            self.llm.api_key = SecretStr(os.environ["OPENAI_API_KEY"])
        if self.llm.model is None and os.environ.get("OPENAI_MODEL"):
            self.llm.model = os.environ["OPENAI_MODEL"]
        if self.embedding.provider == "openai":
            if self.embedding.base_url is None:
                self.embedding.base_url = self.llm.base_url
            if self.embedding.api_key is None:
                self.embedding.api_key = self.llm.api_key
        self.data_dir = Path(self.data_dir).expanduser()
        return self


_RENAMED_RETRY: list[tuple[str, str, str, Any]] = [
    ("llm", "max_attempts", "max_retries", lambda v: max(0, int(v) - 1)),
    ("llm", "max_retry_seconds", "max_seconds", float),
    ("sources", "http_retries", "max_retries", int),
    ("sources", "http_backoff", "backoff", float),
]


def config_file_path() -> Path | None:
    """The config file in force: `PAPERBRIEF_CONFIG`, else `./paperbrief.toml` if present."""
    explicit = os.environ.get("PAPERBRIEF_CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"PAPERBRIEF_CONFIG={explicit}: no such file")
        return path
    local = Path("paperbrief.toml")
    return local if local.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and config file, with keyword overrides on top."""
    return Settings(**overrides)


def settings_rows(
    model: type[BaseModel] = Settings, prefix: str = ""
) -> list[tuple[str, str, str, str]]:
    """(env var, type, default, description) for every leaf setting, nested models flattened."""
    rows: list[tuple[str, str, str, str]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        env = f"{prefix}{name.upper()}"
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(settings_rows(annotation, prefix=f"{env}__"))
            continue
        if field.default_factory is not None:
            factory = field.default_factory
            if factory is default_data_dir:
                default = "$XDG_DATA_HOME/paperbrief or ~/.local/share/paperbrief"
            else:
                default = repr(factory())  # type: ignore[call-arg]
        else:
            default = repr(field.default)
        type_name = _type_name(annotation)
        rows.append((f"PAPERBRIEF_{env}", type_name, default, field.description or ""))
    return rows


def _type_name(annotation: Any) -> str:
    text = str(annotation) if not isinstance(annotation, type) else annotation.__name__
    for noise in ("typing.", "pydantic.types.", "pathlib.", "<class '", "'>"):
        text = text.replace(noise, "")
    return text


def settings_table() -> str:
    """The README's settings table, generated from the fields above."""
    lines = ["| variable | type | default | meaning |", "| --- | --- | --- | --- |"]
    for env, type_name, default, description in settings_rows():
        cell = type_name.replace("|", "\\|")
        lines.append(f"| `{env}` | {cell} | `{default}` | {description} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(settings_table())
