"""The LLM layer: the `ChatLLM` protocol the agent depends on and `OpenAIChat`, its one adapter.

This is the only module that imports `openai`. It owns, for every OpenAI-compatible server
(OpenAI, vLLM, Ollama, llama.cpp, LM Studio):

- how the shared retry policy (`store/retry.py`, the `retry` settings; the client itself is
  built with `max_retries=0`) sees this wire: 429 and 5xx (honouring `Retry-After` and
  `retry-after-ms`), timeouts and connection errors are transient, any other 4xx fails at once.
  One logical call (`chat`, `structured`) has one retry budget, shared by its repair request,
  its response-format fallbacks and its re-sends after learning an endpoint quirk. Failures
  surface as `LLMError`, naming the endpoint, the model, why, the attempts and the seconds spent;
- structured outputs: pydantic models requested with `response_format` `json_schema`, falling
  back to `json_object` (schema in the system message) when a server rejects `json_schema`, and
  to the schema in the prompt alone when it rejects both; an invalid reply (bad JSON, failed
  validation) gets one repair attempt, then an `LLMError` naming the schema and the errors;
- endpoint quirks learnt from 400s and kept per (base URL, model) for the life of the process:
  `max_completion_tokens` instead of `max_tokens` and the default temperature only (OpenAI's
  reasoning models), no `stream_options`, the response format fallbacks above;
- streaming (`on_token`), with `stream_options.include_usage`; when a server sends no usage the
  tokens are estimated (about 4 characters a token); a stream that breaks after tokens reached
  `on_token` is not retried, so no token is delivered twice;
- the disk cache (one JSON file per call under `cache_dir`, keyed by a sha256 of endpoint,
  model, messages and parameters; a streamed hit is replayed to `on_token` in one piece) and
  usage accounting (`Usage`: requests that reached the server, retries included; cache hits;
  tokens; cost when prices are configured);
- a concurrency limit, since the graph calls the LLM from several threads.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, Literal, Protocol, TypeVar, cast

import openai
from openai.types.chat import ChatCompletionMessageParam
from pydantic import BaseModel, ValidationError

from agent.prompts import render
from agent.results import Usage
from agent.settings import LLMSettings
from store.config import RetrySettings
from store.retry import (
    RetryBudget,
    RetryEvent,
    RetryExhausted,
    RetryPolicy,
    Transient,
    retry_after_seconds,
)

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")

OPENAI_BASE_URL = "https://api.openai.com/v1"
CHARS_PER_TOKEN = 4
"""For estimating tokens when a streaming server sends no usage."""
CACHE_FORMAT = 1
"""Bumped when what the cache stores changes, so old entries stop matching."""

StructuredMode = Literal["json_schema", "json_object", "prompt"]
"""json_schema: `response_format` with the schema; json_object: `response_format` json_object
and the schema in the system message; prompt: the schema in the system message only (for
servers that reject both response formats)."""


@dataclass
class EndpointQuirks:
    """What an endpoint turned out not to accept, learnt from its 400s and kept for the process.

    Each is tried the standard way first; a rejection naming the parameter switches it here, and
    the call is repeated once, so that e.g. OpenAI reasoning models (no `max_tokens`, only the
    default temperature) and servers without `stream_options` work without configuration.
    """

    json_schema_rejected: bool = False
    json_object_rejected: bool = False
    stream_options_rejected: bool = False
    max_completion_tokens: bool = False
    default_temperature_only: bool = False


# Keyed by (base URL, model); shared by every client in the process.
_QUIRKS: dict[tuple[str, str], EndpointQuirks] = {}
_QUIRKS_LOCK = threading.Lock()

_THINKING = re.compile(r"\A\s*<think>.*?</think>\s*", re.DOTALL)
_FENCED = re.compile(r"\A\s*```(?:json)?\s*\n(?P<body>.*?)\n?```\s*\Z", re.DOTALL)


class LLMError(Exception):
    """An LLM call failed; the message says where, why, and after how many attempts."""

    def __init__(
        self,
        reason: str,
        *,
        base_url: str,
        model: str,
        status: int | None = None,
        body: str | None = None,
        param: str | None = None,
        attempts: int = 0,
        seconds: float = 0.0,
    ) -> None:
        self.reason = reason
        self.base_url = base_url
        self.model = model
        self.status = status
        self.body = body
        self.param = param
        self.attempts = attempts
        self.seconds = seconds
        where = f"LLM {model!r} at {base_url}"
        if attempts:
            plural = "s" if attempts != 1 else ""
            where += f" failed after {attempts} attempt{plural} in {seconds:.1f} s"
        super().__init__(f"{where}: {reason}")


@dataclass
class ChatResult:
    text: str
    usage: Usage
    cached: bool


@dataclass
class StructuredResult(Generic[T]):
    value: T
    usage: Usage
    cached: bool


class ChatLLM(Protocol):
    """What the agent needs from a chat model."""

    model: str

    def chat(
        self, messages: list[dict[str, str]], *, on_token: Callable[[str], None] | None = None
    ) -> ChatResult:
        """The assistant's reply; with `on_token`, streamed and passed on delta by delta."""
        ...

    def structured(self, messages: list[dict[str, str]], schema: type[T]) -> StructuredResult[T]:
        """The reply parsed and validated as `schema`."""
        ...


@dataclass
class _Reply:
    text: str
    truncated: bool = False
    """The server stopped at the token limit (`finish_reason` "length")."""


class _StreamBroken(Exception):
    """The stream failed after tokens reached `on_token`: retrying would repeat them."""

    def __init__(self, cause: Exception, delivered: int) -> None:
        self.cause = cause
        self.delivered = delivered
        super().__init__(str(cause))


@dataclass
class _Call:
    """One logical call (`chat` or `structured`): what it spent, and the retry budget every
    request it makes draws on."""

    usage: Usage
    budget: RetryBudget


class DiskCache:
    """LLM replies as JSON files, `<dir>/<key[:2]>/<key>.json`; writes are atomic renames."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            # A torn or foreign file is a miss, not a failure: the call is simply made again.
            log.warning("ignoring unreadable LLM cache entry %s: %s", path, exc)
            return None
        return data if isinstance(data, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(value, handle)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _excerpt(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _status_body(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
        if isinstance(message, dict):
            message = message.get("message")
        if isinstance(message, str):
            return message
        return json.dumps(body)
    try:
        return exc.response.text
    except Exception:
        return str(body or exc.message)


def _transient(exc: BaseException) -> Transient | None:
    """What the retry policy needs to know of a failure: transient or not, and the pause asked."""
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return Transient(_describe(exc))
    if isinstance(exc, openai.APIStatusError):
        # OpenAI answers an exhausted quota with 429 too, but waiting does not help.
        if exc.status_code == 429 and exc.code == "insufficient_quota":
            return None
        if exc.status_code == 429 or exc.status_code >= 500:
            return Transient(_describe(exc), retry_after_seconds(exc.response.headers))
    return None


def _strip_wrapping(text: str) -> str:
    """The JSON inside a reply: without a leading <think> block or a ```json fence."""
    text = _THINKING.sub("", text)
    fenced = _FENCED.match(text)
    return fenced.group("body") if fenced else text.strip()


def _validation_summary(exc: ValidationError, limit: int = 8) -> str:
    lines = []
    for error in exc.errors()[:limit]:
        location = ".".join(str(part) for part in error["loc"]) or "(root)"
        lines.append(f"{location}: {error['msg']}")
    more = len(exc.errors()) - limit
    if more > 0:
        lines.append(f"and {more} more")
    return "; ".join(lines)


def _format_rejected(error: LLMError) -> bool:
    """Whether a 4xx says the server does not support the response_format asked for."""
    if error.status not in (400, 415, 422, 501):
        return False
    text = (error.body or "").lower()
    return error.param == "response_format" or any(
        word in text for word in ("response_format", "json_schema", "json_object", "unsupported")
    )


def _quirk_in(error: LLMError, known: EndpointQuirks) -> str | None:
    """The `EndpointQuirks` field a 400 reveals and that is not known yet, if any."""
    if error.status != 400:
        return None
    text = (error.body or "").lower()
    param = error.param or ""
    if not known.max_completion_tokens and (
        param == "max_tokens" or "max_completion_tokens" in text
    ):
        return "max_completion_tokens"
    if not known.default_temperature_only and (
        param == "temperature" or ("temperature" in text and "unsupported" in text)
    ):
        return "default_temperature_only"
    if not known.stream_options_rejected and (
        param == "stream_options" or "stream_options" in text
    ):
        return "stream_options_rejected"
    return None


class OpenAIChat:
    """`ChatLLM` over any OpenAI-compatible `/chat/completions` endpoint.

    `retry` is the shared retry policy's settings (or a policy); `sleep` is how its waits
    happen (tests pass a recorder). Thread-safe.
    """

    def __init__(
        self,
        settings: LLMSettings,
        *,
        retry: RetrySettings | RetryPolicy | None = None,
        cache_dir: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not settings.model:
            raise LLMError(
                "no model configured: set PAPERBRIEF_LLM__MODEL (or OPENAI_MODEL), e.g. "
                "gpt-4o-mini for OpenAI or llama3.1:8b for Ollama",
                base_url=settings.base_url or OPENAI_BASE_URL,
                model="",
            )
        self.settings = settings
        self.model: str = settings.model
        self.base_url: str = (settings.base_url or OPENAI_BASE_URL).rstrip("/")
        self._retry = retry if isinstance(retry, RetryPolicy) else RetryPolicy(retry, sleep=sleep)
        api_key = settings.api_key.get_secret_value() if settings.api_key else None
        # Local servers need no key, but the client insists on one.
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or "not-needed",
            timeout=settings.timeout,
            max_retries=0,
        )
        self._cache = DiskCache(cache_dir) if settings.cache and cache_dir is not None else None
        self._slots = threading.BoundedSemaphore(settings.concurrency)

    @classmethod
    def from_settings(
        cls,
        settings: LLMSettings,
        cache_dir: Path | None = None,
        retry: RetrySettings | None = None,
    ) -> OpenAIChat:
        return cls(settings, retry=retry, cache_dir=cache_dir)

    def _call(self) -> _Call:
        return _Call(usage=Usage(), budget=self._retry.budget())

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAIChat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def endpoint(self) -> tuple[str, str]:
        return (self.base_url, self.model)

    @property
    def quirks(self) -> EndpointQuirks:
        """A snapshot of what this endpoint was found not to accept."""
        with _QUIRKS_LOCK:
            return replace(_QUIRKS.setdefault(self.endpoint, EndpointQuirks()))

    def _learn(self, **found: bool) -> None:
        with _QUIRKS_LOCK:
            quirks = _QUIRKS.setdefault(self.endpoint, EndpointQuirks())
            for name, value in found.items():
                setattr(quirks, name, value)

    @property
    def structured_mode(self) -> StructuredMode:
        """How structured replies are requested from this endpoint now."""
        if self.settings.structured_output != "auto":
            return self.settings.structured_output
        quirks = self.quirks
        if not quirks.json_schema_rejected:
            return "json_schema"
        return "prompt" if quirks.json_object_rejected else "json_object"

    # public calls

    def chat(
        self, messages: list[dict[str, str]], *, on_token: Callable[[str], None] | None = None
    ) -> ChatResult:
        key = self._cache_key("chat", messages)
        hit = self._cache_get(key)
        if hit is not None:
            text = str(hit["text"])
            if on_token is not None and text:
                on_token(text)
            return ChatResult(text=text, usage=Usage(cached_calls=1), cached=True)
        call = self._call()
        if on_token is None:
            text = self._complete(messages, call).text
        else:
            text = self._stream(messages, on_token, call)
        self._cache_put(key, {"text": text})
        return ChatResult(text=text, usage=call.usage, cached=False)

    def structured(self, messages: list[dict[str, str]], schema: type[T]) -> StructuredResult[T]:
        json_schema = schema.model_json_schema()
        key = self._cache_key("structured", messages, schema=json_schema)
        hit = self._cache_get(key)
        if hit is not None:
            try:
                value = schema.model_validate_json(str(hit["text"]))
            except ValidationError:
                value = None  # written by an older version of the model: call again
            if value is not None:
                return StructuredResult(value=value, usage=Usage(cached_calls=1), cached=True)
        call = self._call()
        reply = self._structured_request(messages, schema, json_schema, call)
        try:
            value = self._parse(reply.text, schema)
        except ValidationError as first:
            log.info("%s reply invalid (%s); asking once for a repair", schema.__name__, first)
            repair = render(
                "repair_json",
                schema_name=schema.__name__,
                error=_validation_summary(first),
                reply=reply.text,
                schema=json.dumps(json_schema, indent=2),
            )
            repair_messages = [*messages, {"role": "user", "content": repair}]
            call.usage.repairs += 1
            reply = self._structured_request(repair_messages, schema, json_schema, call)
            try:
                value = self._parse(reply.text, schema)
            except ValidationError as second:
                cut = (
                    f"; the reply stopped at max_tokens={self.settings.max_tokens}: raise "
                    "PAPERBRIEF_LLM__MAX_TOKENS"
                    if reply.truncated
                    else ""
                )
                raise LLMError(
                    f"the reply does not match schema {schema.__name__} even after one repair "
                    f"attempt: {_validation_summary(second)}{cut}; reply was: "
                    f"{_excerpt(reply.text, 200)}",
                    base_url=self.base_url,
                    model=self.model,
                ) from second
        self._cache_put(key, {"text": value.model_dump_json()})
        return StructuredResult(value=value, usage=call.usage, cached=False)

    def list_models(self) -> list[str] | None:
        """Model ids the server lists, or None when it has no `/models` route. One attempt."""
        start = time.monotonic()
        try:
            return [model.id for model in self._client.models.list()]
        except openai.NotFoundError:
            return None
        except (openai.APIConnectionError, openai.APIStatusError) as exc:
            raise self._error(exc, attempts=1, seconds=time.monotonic() - start) from exc

    # requests

    def _params(self, quirks: EndpointQuirks) -> dict[str, Any]:
        """Sampling parameters in the form this endpoint accepts."""
        params: dict[str, Any] = {}
        if not quirks.default_temperature_only:
            params["temperature"] = self.settings.temperature
        if quirks.max_completion_tokens:
            params["max_completion_tokens"] = self.settings.max_tokens
        else:
            params["max_tokens"] = self.settings.max_tokens
        return params

    def _adapting(self, request: Callable[[EndpointQuirks], R], call: _Call) -> R:
        """`call` with retries; when a 400 names a parameter the endpoint does not accept,
        learn the quirk and call again (each quirk once)."""
        while True:
            quirks = self.quirks
            try:
                return self._with_retries(functools.partial(request, quirks), call)
            except LLMError as error:
                learnt = _quirk_in(error, quirks)
                if learnt is None:
                    raise
                log.warning(
                    "%s (%s) rejected a parameter (%s); adapting: %s",
                    self.base_url,
                    self.model,
                    _excerpt(error.body or "", 120),
                    learnt,
                )
                self._learn(**{learnt: True})

    def _complete(
        self,
        messages: list[dict[str, str]],
        call: _Call,
        response_format: dict[str, Any] | None = None,
    ) -> _Reply:
        def request(quirks: EndpointQuirks) -> _Reply:
            completion = self._client.chat.completions.create(
                model=self.model,
                messages=cast("list[ChatCompletionMessageParam]", messages),
                response_format=response_format  # type: ignore[arg-type]
                if response_format is not None
                else openai.omit,
                **self._params(quirks),
            )
            reply = _Reply("")
            if completion.choices:
                choice = completion.choices[0]
                reply = _Reply(choice.message.content or "", choice.finish_reason == "length")
            if completion.usage is not None:
                self._count(
                    call.usage, completion.usage.prompt_tokens, completion.usage.completion_tokens
                )
            else:
                self._estimate(call.usage, messages, reply.text)
            if reply.truncated:
                log.warning(
                    "LLM %r stopped at max_tokens=%d; the reply is cut short",
                    self.model,
                    self.settings.max_tokens,
                )
            return reply

        return self._adapting(request, call)

    def _stream(
        self, messages: list[dict[str, str]], on_token: Callable[[str], None], call: _Call
    ) -> str:
        def request(quirks: EndpointQuirks) -> str:
            parts: list[str] = []
            reported: tuple[int, int] | None = None
            stream = self._client.chat.completions.create(
                model=self.model,
                messages=cast("list[ChatCompletionMessageParam]", messages),
                stream=True,
                stream_options=openai.omit
                if quirks.stream_options_rejected
                else {"include_usage": True},
                **self._params(quirks),
            )
            with stream:
                try:
                    for chunk in stream:
                        if chunk.usage is not None:
                            reported = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                        for choice in chunk.choices:
                            delta = choice.delta.content if choice.delta else None
                            if delta:
                                parts.append(delta)
                                on_token(delta)
                except openai.APIError as exc:
                    if parts:
                        raise _StreamBroken(exc, len(parts)) from exc
                    raise
            text = "".join(parts)
            if reported is not None:
                self._count(call.usage, *reported)
            else:
                self._estimate(call.usage, messages, text)
            return text

        return self._adapting(request, call)

    def _structured_request(
        self,
        messages: list[dict[str, str]],
        schema: type[BaseModel],
        json_schema: dict[str, Any],
        call: _Call,
    ) -> _Reply:
        forced = self.settings.structured_output != "auto"
        mode = self.structured_mode
        if mode == "json_schema":
            response_format = {
                "type": "json_schema",
                "json_schema": {
                    "name": re.sub(r"[^a-zA-Z0-9_-]", "_", schema.__name__)[:64],
                    "schema": json_schema,
                    # Strict mode needs every field required and no defaults, which pydantic
                    # models with defaults do not give; validation plus one repair covers it.
                    "strict": False,
                },
            }
            try:
                return self._complete(messages, call, response_format)
            except LLMError as error:
                if forced or not _format_rejected(error):
                    raise
                self._learn(json_schema_rejected=True)
                log.warning(
                    "%s rejected response_format json_schema (%s); using json_object from now on",
                    self.base_url,
                    _excerpt(error.body or "", 120),
                )
                mode = "json_object"
        instruction = render(
            "json_object_schema",
            schema_name=schema.__name__,
            schema=json.dumps(json_schema, indent=2),
        )
        noted = _with_system_note(messages, instruction)
        if mode == "json_object":
            try:
                return self._complete(noted, call, {"type": "json_object"})
            except LLMError as error:
                if forced or not _format_rejected(error):
                    raise
                self._learn(json_object_rejected=True)
                log.warning(
                    "%s rejected response_format json_object too (%s); asking for JSON in the "
                    "prompt only",
                    self.base_url,
                    _excerpt(error.body or "", 120),
                )
        return self._complete(noted, call)

    @staticmethod
    def _parse(text: str, schema: type[T]) -> T:
        return schema.model_validate_json(_strip_wrapping(text))

    # retries

    def _with_retries(self, request: Callable[[], R], call: _Call) -> R:
        """`request()` under the retry policy, on the logical call's budget."""
        usage = call.usage

        def attempt() -> R:
            try:
                with self._slots:
                    result = request()
            except openai.APIConnectionError as exc:
                # A refused connection never reached the server; a timeout did.
                if isinstance(exc, openai.APITimeoutError):
                    usage.llm_calls += 1
                raise
            except (openai.APIStatusError, _StreamBroken):
                usage.llm_calls += 1
                raise
            usage.llm_calls += 1
            return result

        def on_retry(event: RetryEvent) -> None:
            usage.retries += 1
            log.warning(
                "LLM %r at %s: %s; retry %d/%d in %.2f s",
                self.model,
                self.base_url,
                event.reason,
                event.retry,
                event.max_retries,
                event.pause,
            )

        budget = call.budget
        try:
            return self._retry.call(attempt, _transient, budget=budget, on_retry=on_retry)
        except RetryExhausted as exhausted:
            raise self._error(
                exhausted.last, exhausted.attempts, exhausted.seconds, gave_up=exhausted.why
            ) from exhausted.last
        except _StreamBroken as broken:
            raise LLMError(
                f"the stream broke after {broken.delivered} tokens were delivered "
                f"(not retried, so no token is repeated): {broken.cause}",
                base_url=self.base_url,
                model=self.model,
                attempts=budget.attempts,
                seconds=budget.seconds,
            ) from broken
        except (openai.APIConnectionError, openai.APIStatusError, openai.APIError) as exc:
            raise self._error(exc, budget.attempts, budget.seconds) from exc

    def _error(
        self, exc: BaseException, attempts: int, seconds: float, gave_up: str | None = None
    ) -> LLMError:
        status: int | None = None
        body: str | None = None
        param: str | None = None
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            body = _status_body(exc)
            param = exc.param
            reason = f"HTTP {status}: {_excerpt(body)}"
            hint = _status_hint(status, self.model, exc)
            if hint:
                reason += f" ({hint})"

        elif isinstance(exc, openai.APITimeoutError):
            reason = (
                f"no reply within {self.settings.timeout:g} s (raise PAPERBRIEF_LLM__TIMEOUT "
                "for slow local models)"
            )
        elif isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            detail = f"{cause}" if cause else exc.message
            lowered = detail.lower()
            if "refused" in lowered:
                reason = f"connection refused ({detail}): is the server running at {self.base_url}?"
            elif any(word in lowered for word in ("name or service", "nodename", "getaddrinfo")):
                reason = (
                    f"cannot resolve the host of {self.base_url} ({detail}): check "
                    "PAPERBRIEF_LLM__BASE_URL"
                )
            else:
                reason = f"connection failed: {detail or 'the server closed the connection'}"
        else:
            reason = str(exc)
        if gave_up is not None:
            reason += f"; gave up: {gave_up}"
        return LLMError(
            reason,
            base_url=self.base_url,
            model=self.model,
            status=status,
            body=body,
            param=param,
            attempts=attempts,
            seconds=seconds,
        )

    # usage and cache

    def _count(self, usage: Usage, prompt_tokens: int, completion_tokens: int) -> None:
        usage.prompt_tokens += prompt_tokens
        usage.completion_tokens += completion_tokens
        input_price = self.settings.input_cost_per_mtok
        output_price = self.settings.output_cost_per_mtok
        if input_price is not None or output_price is not None:
            cost = (
                prompt_tokens * (input_price or 0.0) + completion_tokens * (output_price or 0.0)
            ) / 1_000_000
            usage.cost_usd = (usage.cost_usd or 0.0) + cost

    def _estimate(self, usage: Usage, messages: list[dict[str, str]], text: str) -> None:
        prompt_chars = sum(len(m.get("content") or "") for m in messages)
        self._count(
            usage,
            math.ceil(prompt_chars / CHARS_PER_TOKEN),
            math.ceil(len(text) / CHARS_PER_TOKEN),
        )

    def _cache_key(self, kind: str, messages: list[dict[str, str]], **extra: Any) -> str:
        material = {
            "format": CACHE_FORMAT,
            "kind": kind,
            "base_url": self.base_url,
            "model": self.model,
            "messages": messages,
            "temperature": self.settings.temperature,
            "max_tokens": self.settings.max_tokens,
            **extra,
        }
        encoded = json.dumps(material, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(encoded).hexdigest()

    def _cache_get(self, key: str) -> dict[str, Any] | None:
        return self._cache.get(key) if self._cache is not None else None

    def _cache_put(self, key: str, value: dict[str, Any]) -> None:
        if self._cache is None:
            return
        try:
            self._cache.put(key, value)
        except OSError as exc:
            # The answer is good; failing to remember it must not lose it.
            log.warning("could not write the LLM cache in %s: %s", self._cache.directory, exc)


def _with_system_note(messages: list[dict[str, str]], note: str) -> list[dict[str, str]]:
    """`note` appended to the first system message (or as one): some chat templates accept
    only one system message, and only first."""
    if messages and messages[0].get("role") == "system":
        first = {**messages[0], "content": f"{messages[0].get('content', '')}\n\n{note}"}
        return [first, *messages[1:]]
    return [{"role": "system", "content": note}, *messages]


def _status_hint(status: int, model: str, exc: openai.APIStatusError) -> str | None:
    if status == 401:
        return "check PAPERBRIEF_LLM__API_KEY or OPENAI_API_KEY"
    if status == 403:
        return "the API key may not use this model"
    if status == 404:
        return (
            f"model {model!r} not found or wrong base URL: check PAPERBRIEF_LLM__MODEL and "
            "PAPERBRIEF_LLM__BASE_URL (it usually ends in /v1); `paperbrief doctor` lists the "
            "server's models"
        )
    if status == 429 and exc.code == "insufficient_quota":
        return "the account's quota is exhausted; retrying does not help"
    return None


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, openai.APITimeoutError):
        return "timed out"
    if isinstance(exc, openai.APIConnectionError):
        return "connection error"
    return repr(exc)
