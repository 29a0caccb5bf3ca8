"""`paperbrief doctor`: checks that the configured setup works, and says how to fix what does not.

Each check names what it tried and, on failure, what to change: whether an LLM is configured,
whether its endpoint answers, whether it serves the model, whether a chat completion and a JSON
reply work (and whether `json_schema` or the `json_object` fallback is in use), whether the
embedding model loads and whether the data directory is writable.

The LLM probes are small but real: a one-word chat reply within a handful of tokens, and the
agent's own routing call (its prompt, its bounded schema, its fitted max_tokens) on a question
whose route is known. A reply cut at max_tokens, looping, or off target fails the check (a
model that cannot do these cannot run the agent), and the speed in tokens per second is
reported, with a recommendation when the model is too weak or too slow. LLM checks stop at the first
failure, since the later ones could only repeat it. The doctor never reads the LLM cache: every
LLM check is a real request.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, computed_field

from agent.llm import (
    OPENAI_BASE_URL,
    LLMError,
    LLMRepetitionError,
    LLMTruncatedError,
    OpenAIChat,
)
from agent.prompts import render
from agent.settings import LLMSettings, Settings
from agent.writers.llm.schemas import RouteDecision
from store.config import EmbeddingSettings, RetrySettings
from store.embeddings import Embedder, make_embedder

LLMFactory = Callable[[LLMSettings], OpenAIChat]
EmbedderFactory = Callable[[EmbeddingSettings], Embedder]

# The servers paperbrief documents, by their default port: what to start when nothing answers.
_SERVERS_BY_PORT = {
    11434: "is Ollama running? Start it with `ollama serve`",
    8000: "is vLLM running? Start it with `vllm serve <model>`",
    8080: "is llama.cpp's server running? Start it with `llama-server -m <model>.gguf`",
    1234: "is LM Studio's server running? Start it in LM Studio (Developer tab) or with "
    "`lms server start`",
}


class Check(BaseModel):
    name: str
    ok: bool
    detail: str = Field(description="What was found; on failure, what fails and how to fix it")


class DoctorReport(BaseModel):
    checks: list[Check] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name=name, ok=ok, detail=detail))
        return ok

    def to_text(self) -> str:
        lines = [f"{'ok  ' if c.ok else 'FAIL'}  {c.name}: {c.detail}" for c in self.checks]
        failed = sum(not c.ok for c in self.checks)
        lines.append("all checks passed" if not failed else f"{failed} check(s) failed")
        return "\n".join(lines)


CHAT_PROBE = "Reply with the single word: ready"
CHAT_PROBE_TOKENS = 16
ROUTE_PROBE = "What do recent papers report about speeding up diffusion language models?"
ROUTE_PROBE_EXPECTED = "answer"
SLOW_TOKENS_PER_SECOND = 5.0
"""Below this, a full ask (about a dozen calls) takes minutes: worth a recommendation."""
WEAK_MODEL_FIX = (
    "this model cannot run the full pipeline reliably: use a larger or instruction-tuned model "
    "(a base model without a chat template answers off target), or try "
    "PAPERBRIEF_LLM__PIPELINE=lean, where the model only writes (one call an answer)"
)


def doctor_llm(settings: LLMSettings) -> OpenAIChat:
    """The LLM as the doctor uses it: no cache (every check is a real request), one attempt."""
    return OpenAIChat(
        settings.model_copy(update={"cache": False}), retry=RetrySettings(max_retries=0)
    )


def unreachable_hint(base_url: str) -> str:
    """What to start or fix when nothing answers at `base_url`."""
    parts = urlsplit(base_url)
    if parts.hostname in ("127.0.0.1", "localhost", "::1", "0.0.0.0"):
        hint = _SERVERS_BY_PORT.get(parts.port or 80)
        if hint:
            return hint
        return "is the server running, and on this port?"
    return "check the URL, the network and any proxy (HTTPS_PROXY)"


def run_doctor(
    settings: Settings,
    llm_factory: LLMFactory = doctor_llm,
    embedder_factory: EmbedderFactory = make_embedder,
) -> DoctorReport:
    """Run every check; `report.ok` is False when any fails."""
    report = DoctorReport()
    _check_llm(settings.llm, llm_factory, report)
    _check_embedder(settings.embedding, embedder_factory, report)
    _check_data_dir(Path(settings.data_dir), report)
    return report


def _check_llm(settings: LLMSettings, factory: LLMFactory, report: DoctorReport) -> None:
    if not settings.use_llm:
        report.add(
            "llm configured",
            True,
            "offline mode: the extractive writer answers, no LLM is used. To use one, set "
            "PAPERBRIEF_LLM__BASE_URL and PAPERBRIEF_LLM__MODEL (or OPENAI_BASE_URL, "
            "OPENAI_MODEL)",
        )
        return
    if not settings.model:
        report.add(
            "llm configured",
            False,
            f"mode {settings.mode!r} needs a model: set PAPERBRIEF_LLM__MODEL (or OPENAI_MODEL)",
        )
        return
    if urlsplit(settings.base_url or OPENAI_BASE_URL).hostname == "api.openai.com" and (
        settings.api_key is None
    ):
        report.add(
            "llm configured",
            False,
            f"model {settings.model!r} on OpenAI needs an API key: set OPENAI_API_KEY (or "
            "PAPERBRIEF_LLM__API_KEY), or point PAPERBRIEF_LLM__BASE_URL at a local server",
        )
        return
    try:
        llm = factory(settings)
    except LLMError as exc:
        report.add("llm configured", False, str(exc))
        return
    with llm:
        report.add(
            "llm configured",
            True,
            f"model {llm.model!r} at {llm.base_url} (mode {settings.mode}, structured output "
            f"{settings.structured_output})",
        )
        if _check_endpoint(llm, report) and _check_chat(llm, report):
            _check_json(llm, report)


def _check_endpoint(llm: OpenAIChat, report: DoctorReport) -> bool:
    try:
        models = llm.list_models()
    except LLMError as exc:
        hint = unreachable_hint(llm.base_url)
        if exc.status is None and "refused" in exc.reason:
            detail = f"connection refused at {llm.base_url} — {hint}"
        elif exc.status is None:
            detail = f"no answer from {llm.base_url}: {exc.reason} — {hint}"
        else:
            detail = f"{llm.base_url} answered /models with {exc.reason}"
        return report.add("llm endpoint reachable", False, detail)
    report.add("llm endpoint reachable", True, f"{llm.base_url} answers")
    if models is None:
        return report.add(
            "llm model available",
            True,
            f"cannot check: the server does not list its models; {llm.model!r} is tried below",
        )
    # Ollama lists `name:tag` and serves a bare name as `name:latest`.
    if llm.model in models or f"{llm.model}:latest" in models:
        return report.add("llm model available", True, f"{llm.model!r} is served")
    listed = ", ".join(sorted(models)[:20]) or "none"
    fix = "set PAPERBRIEF_LLM__MODEL to one of them"
    if urlsplit(llm.base_url).port == 11434:
        fix += f", or `ollama pull {llm.model}`"
    return report.add(
        "llm model available",
        False,
        f"{llm.model!r} is not among the models {llm.base_url} serves ({listed}): {fix}",
    )


def _check_chat(llm: OpenAIChat, report: DoctorReport) -> bool:
    start = time.monotonic()
    try:
        result = llm.chat([{"role": "user", "content": CHAT_PROBE}], max_tokens=CHAT_PROBE_TOKENS)
    except (LLMTruncatedError, LLMRepetitionError) as exc:
        return report.add(
            "llm chat completion",
            False,
            f"asked for one word, the model ran on: {exc.reason}. {WEAK_MODEL_FIX}",
        )
    except LLMError as exc:
        return report.add("llm chat completion", False, str(exc))
    seconds = time.monotonic() - start
    if not result.text.strip():
        return report.add(
            "llm chat completion",
            False,
            f"the reply was empty after {seconds:.1f} s (a reasoning model may need a larger "
            "PAPERBRIEF_LLM__MAX_TOKENS)",
        )
    reply = " ".join(result.text.split())[:60]
    if "ready" not in reply.lower():
        return report.add(
            "llm chat completion",
            False,
            f"asked to reply 'ready', it replied {reply!r}: off target. {WEAK_MODEL_FIX}",
        )
    return report.add("llm chat completion", True, f"replied in {seconds:.1f} s: {reply!r}")


def _check_json(llm: OpenAIChat, report: DoctorReport) -> bool:
    before = llm.structured_mode
    messages = [{"role": "user", "content": render("route", question=ROUTE_PROBE, history="")}]
    start = time.monotonic()
    try:
        result = llm.structured(messages, RouteDecision)
    except (LLMTruncatedError, LLMRepetitionError) as exc:
        return report.add(
            "llm json output",
            False,
            f"the agent's routing call failed: {exc.reason}. {WEAK_MODEL_FIX}",
        )
    except LLMError as exc:
        return report.add(
            "llm json output",
            False,
            f"{exc}. Structured replies are required in LLM mode; try "
            "PAPERBRIEF_LLM__STRUCTURED_OUTPUT=json_object, or a model that follows JSON "
            "instructions",
        )
    seconds = max(time.monotonic() - start, 1e-6)
    if result.value.route != ROUTE_PROBE_EXPECTED:
        return report.add(
            "llm json output",
            False,
            f"the agent's routing call came back as {result.value.route!r} for a question "
            f"that is plainly {ROUTE_PROBE_EXPECTED!r}: off target. {WEAK_MODEL_FIX}",
        )
    mode = llm.structured_mode
    if mode == "json_schema":
        detail = "response_format json_schema works"
    elif mode == "prompt":
        detail = (
            "the server rejects response_format json_schema and json_object; JSON is asked for "
            "in the prompt and validated, which works but is less reliable: a server or model "
            "with structured output support is better"
        )
    elif before == "json_schema":
        detail = (
            "the server rejected response_format json_schema; the json_object fallback works "
            "(set PAPERBRIEF_LLM__STRUCTURED_OUTPUT=json_object to skip the first try)"
        )
    else:
        detail = "response_format json_object works"
    usage = result.usage
    speed = usage.completion_tokens / seconds
    detail += (
        f"; the routing call took {seconds:.1f} s, {usage.prompt_tokens}+"
        f"{usage.completion_tokens} tokens ({speed:.0f} tokens/s)"
    )
    if usage.repairs:
        detail += "; its first reply needed a repair, so expect extra calls"
    if speed < SLOW_TOKENS_PER_SECOND:
        detail += (
            f"; below {SLOW_TOKENS_PER_SECOND:g} tokens/s an ask (about a dozen calls) takes "
            "minutes: set PAPERBRIEF_LLM__PIPELINE=lean (one call an ask)"
            if llm.settings.pipeline == "full"
            else f"; below {SLOW_TOKENS_PER_SECOND:g} tokens/s even the lean pipeline is slow: "
            "a smaller quantisation or faster hardware helps"
        )
    return report.add("llm json output", True, detail)


def _check_embedder(
    settings: EmbeddingSettings, factory: EmbedderFactory, report: DoctorReport
) -> None:
    start = time.monotonic()
    try:
        embedder = factory(settings)
        vectors = embedder.embed(["paperbrief doctor: does the embedding model load?"])
    except Exception as exc:  # any failure to load is what this check reports
        fix = (
            "check PAPERBRIEF_EMBEDDING__BASE_URL and PAPERBRIEF_EMBEDDING__MODEL"
            if settings.provider == "openai"
            else "reinstall paperbrief (the bundled model files may be missing)"
        )
        report.add(
            "embedding model", False, f"{settings.provider}: {type(exc).__name__}: {exc}; {fix}"
        )
        return
    seconds = time.monotonic() - start
    shape = getattr(vectors, "shape", None)
    if shape is None or tuple(shape) != (1, embedder.dim):
        report.add(
            "embedding model",
            False,
            f"{embedder.name} returned shape {shape}, expected (1, {embedder.dim})",
        )
        return
    report.add(
        "embedding model", True, f"{embedder.name} ({embedder.dim} dims) loaded in {seconds:.1f} s"
    )


def _check_data_dir(data_dir: Path, report: DoctorReport) -> None:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=data_dir, prefix=".doctor-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        report.add(
            "data dir writable",
            False,
            f"cannot write to {data_dir}: {exc.strerror or exc}; set PAPERBRIEF_DATA_DIR (or "
            "--data-dir) to a writable directory",
        )
        return
    report.add("data dir writable", True, str(data_dir))
