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
  to the schema in the prompt alone when it rejects both. Every schema sent is bounded (every
  string a `maxLength`, every list a `maxItems`) and each call's `max_tokens` fits its schema,
  so a grammar-constrained server cannot let a field run on; a reply cut at max_tokens
  (`LLMTruncatedError`) or looping (`LLMRepetitionError`, detected while it streams and stopped
  there) keeps its complete fields when they validate, junk optional fields are dropped, and
  otherwise one repair request quotes a short excerpt and the problem, then an
  `LLMInvalidReplyError`;
- every request streams (unless `stream` is off), so a server that goes silent mid-reply is
  noticed after `idle_timeout` rather than the whole `timeout`;
- endpoint quirks learnt from 400s and kept per (base URL, model) for the life of the process:
  `max_completion_tokens` instead of `max_tokens` and the default temperature only (OpenAI's
  reasoning models), no `stream_options`, the response format fallbacks above;
- streaming with `stream_options.include_usage` (`on_token` sees the deltas); when a server
  sends no usage the tokens are estimated (about 4 characters a token); a stream that breaks
  after tokens reached `on_token` is not retried, so no token is delivered twice;
- the disk cache (one JSON file per call under `cache_dir`, keyed by a sha256 of endpoint,
  model, messages and parameters; a streamed hit is replayed to `on_token` in one piece) and
  usage accounting (`Usage`: requests that reached the server, retries included; retries and
  repairs; cache hits; tokens; cost when prices are configured), per call, on a failed call's
  `LLMError.usage`, and for the client's life (`usage_total`); `-v` logs each call's schema,
  structured mode and max_tokens, and its retries and repairs;
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

import httpx
import openai
from openai.types.chat import ChatCompletionMessageParam
from pydantic import BaseModel, ValidationError

from agent.errors import (
    LLMError,
    LLMInvalidReplyError,
    LLMRepetitionError,
    LLMTruncatedError,
)
from agent.prompts import render
from agent.replies import excerpt, strip_wrapping, validation_summary, with_system_note
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
        self,
        messages: list[dict[str, str]],
        *,
        on_token: Callable[[str], None] | None = None,
        max_tokens: int | None = None,
    ) -> ChatResult:
        """The assistant's reply; with `on_token`, streamed and passed on delta by delta;
        `max_tokens` bounds this call (default: the setting)."""
        ...

    def structured(
        self, messages: list[dict[str, str]], schema: type[T], *, max_tokens: int | None = None
    ) -> StructuredResult[T]:
        """The reply parsed and validated as `schema` (`max_tokens`: default fitted to it)."""
        ...


@dataclass
class _Reply:
    text: str
    truncated: bool = False
    """The server stopped at the token limit (`finish_reason` "length")."""
    repeated: str | None = None
    """The unit the reply kept repeating, when it looped (and was stopped)."""


class _StreamSilent(Exception):
    """A stream sent nothing for `seconds` (or ran past the whole timeout, `total`)."""

    def __init__(self, seconds: float, total: bool = False) -> None:
        self.seconds = seconds
        self.total = total
        super().__init__(f"silent for {seconds:g} s")


class _StreamDropped(Exception):
    """The connection broke mid-stream before any token reached the caller."""


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
    max_tokens: int


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
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            # Valid JSON of the wrong shape (another version, a hand edit): set aside so the
            # call is made again and its reply cached in its place.
            moved = path.with_name(path.name + ".bad")
            try:
                path.replace(moved)
            except OSError:
                moved = path
            log.warning(
                'LLM cache entry %s is not a {"text": ...} object; set aside as %s and calling '
                "the LLM again",
                path,
                moved,
            )
            return None
        return data

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
    if isinstance(exc, (openai.APIConnectionError, _StreamSilent, _StreamDropped)):
        return Transient(_describe(exc))  # APIConnectionError includes APITimeoutError
    if isinstance(exc, openai.APIStatusError):
        # OpenAI answers an exhausted quota with 429 too, but waiting does not help.
        if exc.status_code == 429 and exc.code == "insufficient_quota":
            return None
        if exc.status_code == 429 or exc.status_code >= 500:
            return Transient(_describe(exc), retry_after_seconds(exc.response.headers))
    return None


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


# --- bounded structured outputs ---------------------------------------------------------------

STRING_MAX_LENGTH = 400
"""`maxLength` given to a schema's text field that declares none: about two sentences."""
LIST_MAX_ITEMS = 12
"""`maxItems` given to a schema's list that declares none."""
JSON_CHARS_PER_TOKEN = 3
"""For bounding a JSON reply's tokens: JSON punctuation and short words make tokens shorter
than prose's four characters."""
REPAIR_EXCERPT_CHARS = 300
"""How much of an unusable reply a repair request quotes back."""
REPETITION_CHECK_CHARS = 200
"""A stream is checked for a loop each time this many characters more have arrived."""


def bounded_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of a JSON schema where every string without an `enum`, `const`, `format` or
    `maxLength` gets `maxLength` `STRING_MAX_LENGTH`, and every array without `maxItems` gets
    `maxItems` `LIST_MAX_ITEMS`. Servers that constrain decoding by the schema then cannot let a
    field run on to max_tokens."""

    def bound(node: Any) -> Any:
        if isinstance(node, list):
            return [bound(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: bound(value) for key, value in node.items()}
        kind = out.get("type")
        if kind == "string" and not {"enum", "const", "maxLength", "format"} & out.keys():
            out["maxLength"] = STRING_MAX_LENGTH
        if kind == "array" and "maxItems" not in out:
            out["maxItems"] = LIST_MAX_ITEMS
        return out

    return cast("dict[str, Any]", bound(schema))


def reply_token_bound(schema: dict[str, Any]) -> int:
    """An upper bound on the tokens of a JSON reply that fills `schema` (bounded as by
    `bounded_schema`) to its limits: the `max_tokens` a structured call needs, so a route
    decision asks for tens of tokens and an answer for hundreds, not the global ceiling."""
    definitions = schema.get("$defs", {})

    def size(node: Any, depth: int) -> float:
        if not isinstance(node, dict) or depth > 10:
            return 8.0
        ref = node.get("$ref")
        if isinstance(ref, str):
            return size(definitions.get(ref.rsplit("/", 1)[-1], {}), depth + 1)
        for key in ("anyOf", "oneOf"):
            if key in node:
                return max((size(option, depth + 1) for option in node[key]), default=8.0)
        if "enum" in node:
            return max((len(str(v)) for v in node["enum"]), default=4) / JSON_CHARS_PER_TOKEN + 2
        kind = node.get("type")
        if kind == "object":
            properties = node.get("properties", {})
            return 2 + sum(
                size(value, depth + 1) + len(name) / JSON_CHARS_PER_TOKEN + 3
                for name, value in properties.items()
            )
        if kind == "array":
            items = node.get("maxItems", LIST_MAX_ITEMS)
            return 2 + items * (size(node.get("items", {}), depth + 1) + 1)
        if kind == "string":
            return node.get("maxLength", STRING_MAX_LENGTH) / JSON_CHARS_PER_TOKEN + 2
        return 6.0  # numbers, booleans, null

    # Headroom for a <think> block or fence some servers add, and the tokenizer's variance.
    return math.ceil(size(schema, 0) * 1.2) + 32


def repeated_tail(text: str, min_span: int = 120, min_repeats: int = 4) -> str | None:
    """The unit a text ends by repeating, when its end is one unit (up to 200 characters) at
    least `min_repeats` times over at least `min_span` characters; else None. A model stuck in
    a loop writes exactly that; prose and JSON do not."""
    tail = text[-2000:]
    n = len(tail)
    for period in range(1, 201):
        span = max(min_span, period * min_repeats)
        if span > n:
            break
        unit = tail[n - period :]
        if not unit.strip():
            continue
        if tail[n - span :] == (unit * (span // period + 1))[-span:]:
            return unit.strip() or unit
    return None


def _close_cut_json(text: str) -> str | None:
    """A cut-off JSON object closed at its last complete member: `{"a": 1, "b": "ru` becomes
    `{"a": 1}`. None when nothing complete precedes the cut."""
    stack: list[str] = []
    in_string = escaped = False
    safe: tuple[int, list[str]] | None = None
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
            safe = (index + 1, list(stack))
        elif char in "}]":
            if not stack:
                return None
            stack.pop()
            if not stack:
                return None  # the object was complete: nothing to close
        elif char == ",":
            safe = (index, list(stack))
    if safe is None:
        return None
    end, open_ = safe
    return text[:end].rstrip().rstrip(",") + "".join(reversed(open_))


def _schema_at(schema: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any] | None:
    """The (object or array) sub-schema at a JSON path, following $ref and anyOf."""
    definitions = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        for _ in range(10):
            if isinstance(node, dict) and isinstance(node.get("$ref"), str):
                node = definitions.get(node["$ref"].rsplit("/", 1)[-1])
            elif isinstance(node, dict) and "anyOf" in node:
                node = next(
                    (o for o in node["anyOf"] if resolve(o).get("type") in ("object", "array")),
                    node["anyOf"][0],
                )
            else:
                break
        return node if isinstance(node, dict) else {}

    node = resolve(schema)
    for part in path:
        if isinstance(part, int) and node.get("type") == "array":
            node = resolve(node.get("items", {}))
        elif isinstance(part, str) and part in node.get("properties", {}):
            node = resolve(node["properties"][part])
        else:
            return None
    return node


def _drop_junk(data: Any, exc: ValidationError, schema: dict[str, Any]) -> list[str] | None:
    """Remove, in place, the optional fields and list items that make `data` invalid; the
    paths removed, or None when an error lies in a required field outside any list."""
    cuts: set[tuple[Any, ...]] = set()
    for error in exc.errors():
        loc = tuple(error["loc"])
        for end in range(len(loc), 0, -1):
            key, parent = loc[end - 1], loc[: end - 1]
            node = _schema_at(schema, parent)
            if node is None:
                continue
            if isinstance(key, int) and node.get("type") == "array":
                cuts.add(loc[:end])
                break
            properties = node.get("properties", {})
            if isinstance(key, str) and key in properties and key not in node.get("required", []):
                cuts.add(loc[:end])
                break
        else:
            return None
    removed = []
    # Deepest and last first, so removing one leaves the paths of the others valid.
    for path in sorted(
        cuts, key=lambda p: (len(p), p[-1] if isinstance(p[-1], int) else 0), reverse=True
    ):
        if any(path[: len(other)] == other and other != path for other in cuts):
            continue  # an enclosing field or item goes anyway
        container = data
        try:
            for part in path[:-1]:
                container = container[part]
            del container[path[-1]]
        except (KeyError, IndexError, TypeError):
            return None
        removed.append(".".join(str(part) for part in path))
    return removed


def _validated(text: str, schema: type[T], json_schema: dict[str, Any]) -> tuple[T | None, str]:
    """`text` as `schema`, junk optional fields dropped; else None and the problem."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at character {exc.pos})"
    try:
        return schema.model_validate(data), ""
    except ValidationError as exc:
        problem = validation_summary(exc)
        removed = _drop_junk(data, exc, json_schema)
        if not removed:
            return None, problem
        try:
            value = schema.model_validate(data)
        except ValidationError:
            return None, problem
        log.warning("used a %s reply without its invalid %s", schema.__name__, ", ".join(removed))
        return value, ""


def _accept(reply: _Reply, schema: type[T], json_schema: dict[str, Any]) -> tuple[T | None, str]:
    """The reply as `schema`, or None and what is wrong with it. A reply cut off (max_tokens)
    or stopped looping keeps its complete leading fields when those validate."""
    text = strip_wrapping(reply.text)
    value, problem = _validated(text, schema, json_schema)
    if value is not None:
        return value, ""
    if reply.truncated or reply.repeated:
        closed = _close_cut_json(text)
        if closed is not None:
            kept, _ = _validated(closed, schema, json_schema)
            if kept is not None:
                log.warning(
                    "%s reply was %s; used its complete fields",
                    schema.__name__,
                    "looping" if reply.repeated else "cut off at max_tokens",
                )
                return kept, ""
        if reply.repeated:
            return None, (
                f"the reply kept repeating {excerpt(reply.repeated, 60)!r} and was stopped; "
                "keep every text field to one short clause"
            )
        return None, (
            "the reply was cut off at the token limit before the JSON ended: a field ran on; "
            "keep every text field to one short clause"
        )
    return None, problem


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
        self._total = Usage()
        self._total_lock = threading.Lock()

    @classmethod
    def from_settings(
        cls,
        settings: LLMSettings,
        cache_dir: Path | None = None,
        retry: RetrySettings | None = None,
    ) -> OpenAIChat:
        return cls(settings, retry=retry, cache_dir=cache_dir)

    def _call(self, max_tokens: int | None = None) -> _Call:
        return _Call(
            usage=Usage(),
            budget=self._retry.budget(),
            max_tokens=max_tokens or self.settings.max_tokens,
        )

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
        self,
        messages: list[dict[str, str]],
        *,
        on_token: Callable[[str], None] | None = None,
        max_tokens: int | None = None,
    ) -> ChatResult:
        """The reply as text. `max_tokens` (default: the setting) bounds this call; a reply
        cut at it raises `LLMTruncatedError`, one that loops raises `LLMRepetitionError`."""
        limit = min(max_tokens or self.settings.max_tokens, self.settings.max_tokens)
        key = self._cache_key("chat", messages, call_max_tokens=limit)
        hit = self._cache_get(key)
        if hit is not None:
            text = str(hit["text"])
            if on_token is not None and text:
                on_token(text)
            return ChatResult(text=text, usage=Usage(cached_calls=1), cached=True)
        call = self._call(limit)
        try:
            reply = self._request(messages, call, on_token=on_token)
            if reply.repeated or reply.truncated:
                raise self._cut_error(reply, call, what="the reply")
        except LLMError as error:
            raise self._spent(error, call) from error.__cause__
        self._finish(call)
        self._cache_put(key, {"text": reply.text})
        return ChatResult(text=reply.text, usage=call.usage, cached=False)

    def structured(
        self, messages: list[dict[str, str]], schema: type[T], *, max_tokens: int | None = None
    ) -> StructuredResult[T]:
        """The reply parsed and validated as `schema`.

        The schema sent is bounded (`bounded_schema`: every string a `maxLength`, every list a
        `maxItems`), and the call's `max_tokens` fits it (`reply_token_bound`) unless given. A
        reply cut short or looping keeps its complete fields when they validate; a reply whose
        required fields are valid is used with junk optional fields dropped; otherwise one
        repair request (a short excerpt and the problem, not the whole reply), then an error."""
        json_schema = bounded_schema(schema.model_json_schema())
        limit = self._fitted_max_tokens(json_schema, max_tokens)
        key = self._cache_key("structured", messages, schema=json_schema, call_max_tokens=limit)
        hit = self._cache_get(key)
        if hit is not None:
            try:
                value = schema.model_validate_json(str(hit["text"]))
            except ValidationError:
                value = None  # written by an older version of the model: call again
            if value is not None:
                return StructuredResult(value=value, usage=Usage(cached_calls=1), cached=True)
        call = self._call(limit)
        try:
            value = self._structured_value(messages, schema, json_schema, call)
        except LLMError as error:
            raise self._spent(error, call) from error.__cause__
        self._finish(call)
        self._cache_put(key, {"text": value.model_dump_json()})
        return StructuredResult(value=value, usage=call.usage, cached=False)

    @property
    def usage_total(self) -> Usage:
        """Everything this client spent since it was made, failed calls included."""
        with self._total_lock:
            return self._total.model_copy()

    def _structured_value(
        self,
        messages: list[dict[str, str]],
        schema: type[T],
        json_schema: dict[str, Any],
        call: _Call,
    ) -> T:
        reply = self._structured_request(messages, schema, json_schema, call)
        value, problem = _accept(reply, schema, json_schema)
        if value is not None:
            return value
        log.warning(
            "LLM %r: %s reply unusable (%s); asking once for a repair",
            self.model,
            schema.__name__,
            problem,
        )
        repair = render(
            "repair_json",
            schema_name=schema.__name__,
            error=problem,
            reply=excerpt(strip_wrapping(reply.text), REPAIR_EXCERPT_CHARS),
        )
        repair_messages = [*messages, {"role": "user", "content": repair}]
        call.usage.repairs += 1
        reply = self._structured_request(repair_messages, schema, json_schema, call)
        value, problem = _accept(reply, schema, json_schema)
        if value is not None:
            return value
        if reply.repeated or reply.truncated:
            raise self._cut_error(reply, call, what=f"the {schema.__name__} reply, twice,")
        raise LLMInvalidReplyError(
            f"the reply does not match schema {schema.__name__} even after one repair "
            f"attempt: {problem}; reply began: {excerpt(reply.text, 200)}",
            base_url=self.base_url,
            model=self.model,
        )

    def _fitted_max_tokens(self, json_schema: dict[str, Any], asked: int | None) -> int:
        ceiling = self.settings.max_tokens
        if asked is not None:
            return min(asked, ceiling)
        if not self.settings.fit_max_tokens:
            return ceiling
        return min(ceiling, reply_token_bound(json_schema))

    def _cut_error(self, reply: _Reply, call: _Call, *, what: str) -> LLMError:
        if reply.repeated:
            return LLMRepetitionError(
                f"{what} repeated itself ({excerpt(reply.repeated, 60)!r} over and over) and "
                "was stopped: small models loop on open-ended fields; try "
                "PAPERBRIEF_LLM__PIPELINE=lean (the model only writes) or a larger model",
                base_url=self.base_url,
                model=self.model,
            )
        capped = call.max_tokens >= self.settings.max_tokens
        fix = (
            "raise PAPERBRIEF_LLM__MAX_TOKENS; if a field runs on, try "
            "PAPERBRIEF_LLM__PIPELINE=lean or a larger model"
            if capped
            else "a field ran on past what it needs, as small models do: try "
            "PAPERBRIEF_LLM__PIPELINE=lean (the model only writes) or a larger model"
        )
        return LLMTruncatedError(
            f"{what} stopped at max_tokens={call.max_tokens} (finish_reason length): {fix}",
            base_url=self.base_url,
            model=self.model,
        )

    def _spent(self, error: LLMError, call: _Call) -> LLMError:
        """`error` carrying what its call spent, which counts towards `usage_total` too."""
        if error.usage is None:
            error.usage = call.usage
            self._finish(call)
        return error

    def _finish(self, call: _Call) -> None:
        with self._total_lock:
            self._total.add(call.usage)
        log.info(
            "LLM %r: %d request(s), %d+%d tokens, %d retr%s, %d repair(s), max_tokens=%d",
            self.model,
            call.usage.llm_calls,
            call.usage.prompt_tokens,
            call.usage.completion_tokens,
            call.usage.retries,
            "y" if call.usage.retries == 1 else "ies",
            call.usage.repairs,
            call.max_tokens,
        )

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

    def _params(self, quirks: EndpointQuirks, max_tokens: int) -> dict[str, Any]:
        """Sampling parameters in the form this endpoint accepts."""
        params: dict[str, Any] = {}
        if not quirks.default_temperature_only:
            params["temperature"] = self.settings.temperature
        if quirks.max_completion_tokens:
            params["max_completion_tokens"] = max_tokens
        else:
            params["max_tokens"] = max_tokens
        return params

    def _adapting(self, request: Callable[[EndpointQuirks], R], call: _Call) -> R:
        """`request` with retries; when a 400 names a parameter the endpoint does not accept,
        learn the quirk and call again (each quirk once), on the same retry budget."""
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
                    excerpt(error.body or "", 120),
                    learnt,
                )
                self._learn(**{learnt: True})

    def _request(
        self,
        messages: list[dict[str, str]],
        call: _Call,
        response_format: dict[str, Any] | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> _Reply:
        """One completion, streamed unless `stream` is off in the settings (and no tokens are
        wanted): a stream shows a server that went silent within `idle_timeout`, and a reply
        that loops is stopped as soon as it does, instead of running to max_tokens."""
        if on_token is None and not self.settings.stream:
            return self._complete(messages, call, response_format)
        return self._stream(messages, call, response_format, on_token)

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
                **self._params(quirks, call.max_tokens),
            )
            reply = _Reply("")
            if completion.choices:
                choice = completion.choices[0]
                reply = _Reply(choice.message.content or "", choice.finish_reason == "length")
            reply.repeated = repeated_tail(reply.text)
            if completion.usage is not None:
                self._count(
                    call.usage, completion.usage.prompt_tokens, completion.usage.completion_tokens
                )
            else:
                self._estimate(call.usage, messages, reply.text)
            return reply

        return self._adapting(request, call)

    def _stream(
        self,
        messages: list[dict[str, str]],
        call: _Call,
        response_format: dict[str, Any] | None,
        on_token: Callable[[str], None] | None,
    ) -> _Reply:
        idle = min(self.settings.idle_timeout, self.settings.timeout)

        def request(quirks: EndpointQuirks) -> _Reply:
            parts: list[str] = []
            size = 0
            checked = 0
            reported: tuple[int, int] | None = None
            reply = _Reply("")
            started = time.monotonic()
            stream = self._client.chat.completions.create(
                model=self.model,
                messages=cast("list[ChatCompletionMessageParam]", messages),
                stream=True,
                stream_options=openai.omit
                if quirks.stream_options_rejected
                else {"include_usage": True},
                response_format=cast("Any", response_format)
                if response_format is not None
                else openai.omit,
                **self._params(quirks, call.max_tokens),
            )
            _limit_body_reads(stream, idle)
            with stream:
                try:
                    for chunk in stream:
                        if chunk.usage is not None:
                            reported = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                        for choice in chunk.choices:
                            if choice.finish_reason == "length":
                                reply.truncated = True
                            delta = choice.delta.content if choice.delta else None
                            if delta:
                                parts.append(delta)
                                size += len(delta)
                                if on_token is not None:
                                    on_token(delta)
                        if size - checked >= REPETITION_CHECK_CHARS:
                            checked = size
                            reply.repeated = repeated_tail("".join(parts))
                            if reply.repeated:
                                break  # closing the stream stops the server generating
                        if time.monotonic() - started > self.settings.timeout:
                            raise _StreamSilent(self.settings.timeout, total=True)
                except (httpx.TimeoutException, openai.APITimeoutError) as exc:
                    if parts and on_token is not None:
                        raise _StreamBroken(_StreamSilent(idle), len(parts)) from exc
                    raise _StreamSilent(idle) from exc
                except (openai.APIError, httpx.TransportError) as exc:
                    if parts and on_token is not None:
                        raise _StreamBroken(exc, len(parts)) from exc
                    if isinstance(exc, httpx.TransportError):
                        raise _StreamDropped(str(exc) or type(exc).__name__) from exc
                    raise
            reply.text = "".join(parts)
            if not reply.repeated:
                reply.repeated = repeated_tail(reply.text)
            if reported is not None and not reply.repeated:
                self._count(call.usage, *reported)
            else:
                self._estimate(call.usage, messages, reply.text)
            return reply

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
                return self._logged_request(messages, call, "json_schema", schema, response_format)
            except LLMError as error:
                if forced or not _format_rejected(error):
                    raise
                self._learn(json_schema_rejected=True)
                log.warning(
                    "%s rejected response_format json_schema (%s); using json_object from now on",
                    self.base_url,
                    excerpt(error.body or "", 120),
                )
                mode = "json_object"
        instruction = render(
            "json_object_schema",
            schema_name=schema.__name__,
            schema=json.dumps(json_schema),
        )
        noted = with_system_note(messages, instruction)
        if mode == "json_object":
            try:
                return self._logged_request(
                    noted, call, "json_object", schema, {"type": "json_object"}
                )
            except LLMError as error:
                if forced or not _format_rejected(error):
                    raise
                self._learn(json_object_rejected=True)
                log.warning(
                    "%s rejected response_format json_object too (%s); asking for JSON in the "
                    "prompt only",
                    self.base_url,
                    excerpt(error.body or "", 120),
                )
        return self._logged_request(noted, call, "prompt", schema)

    def _logged_request(
        self,
        messages: list[dict[str, str]],
        call: _Call,
        mode: StructuredMode,
        schema: type[BaseModel],
        response_format: dict[str, Any] | None = None,
    ) -> _Reply:
        log.info(
            "LLM %r: %s as %s, max_tokens=%d", self.model, schema.__name__, mode, call.max_tokens
        )
        return self._request(messages, call, response_format)

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
            except (openai.APIStatusError, _StreamBroken, _StreamSilent, _StreamDropped):
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
        except (
            openai.APIConnectionError,
            openai.APIStatusError,
            openai.APIError,
            _StreamSilent,
            _StreamDropped,
        ) as exc:
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
            reason = f"HTTP {status}: {excerpt(body)}"
            hint = _status_hint(status, self.model, exc)
            if hint:
                reason += f" ({hint})"

        elif isinstance(exc, _StreamSilent) and not exc.total:
            reason = (
                f"the server sent nothing for {exc.seconds:g} s in the middle of a reply: it may "
                "have stopped or gone away (is it still running?), or the model is very slow "
                "(raise PAPERBRIEF_LLM__IDLE_TIMEOUT)"
            )
        elif isinstance(exc, _StreamDropped):
            reason = f"the connection broke mid-reply ({exc}): did the server stop?"
        elif isinstance(exc, (openai.APITimeoutError, _StreamSilent)):
            reason = (
                f"no reply within {self.settings.timeout:g} s: the server may have gone away, "
                "or the model is slow (raise PAPERBRIEF_LLM__TIMEOUT for slow local models)"
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


def _limit_body_reads(stream: Any, seconds: float) -> None:
    """Make each read of a stream's body wait at most `seconds`.

    The reply's headers may take the whole timeout (a local server reading a long prompt sends
    nothing until its first token), but between two chunks of a running reply a long silence
    means the server stopped. httpx reads the body's read timeout from the request's `timeout`
    extension when the body is first read, so setting it here, before iterating, applies to
    the body only. Where that extension is missing the whole timeout applies, as before."""
    response = getattr(stream, "response", None)
    timeouts = response.request.extensions.get("timeout") if response is not None else None
    if isinstance(timeouts, dict):
        current = timeouts.get("read")
        timeouts["read"] = seconds if current is None else min(current, seconds)


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
    if isinstance(exc, _StreamSilent):
        return "no reply in time" if exc.total else f"the stream went silent for {exc.seconds:g} s"
    if isinstance(exc, _StreamDropped):
        return "the connection broke mid-stream"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, openai.APITimeoutError):
        return "timed out"
    if isinstance(exc, openai.APIConnectionError):
        return "connection error"
    return repr(exc)
