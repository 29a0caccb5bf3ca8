"""`SamplingChat`: the `ChatLLM` protocol over a host's model, for the MCP server.

An MCP host (Claude Desktop, VS Code...) that offers `sampling/createMessage` lends its own
model to the servers it runs. `agent/mcp_server.py` wraps that request in a `SampleFn` and hands
it to this adapter, which the agent then uses like any other LLM: its drafts pass the same
citation and number verifier, and the results say they were written by the host's model.

This module owns the bridge from the agent's worker threads (LangGraph runs nodes, and the
parallel evidence branches, in threads) to the server's event loop, where the sampling request
must be awaited; and structured replies, which sampling cannot request natively: the JSON schema
goes in the system prompt (as for servers without `response_format`), and an invalid reply gets
one repair request, then an `LLMError`. It imports no vendor SDK: the MCP transport is the
injected `SampleFn`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from agent.llm import (
    CHARS_PER_TOKEN,
    REPAIR_EXCERPT_CHARS,
    ChatResult,
    LLMError,
    StructuredResult,
)
from agent.prompts import render
from agent.replies import excerpt, strip_wrapping, validation_summary, with_system_note
from agent.results import Usage

T = TypeVar("T", bound=BaseModel)

SAMPLING_ENDPOINT = "MCP sampling (the host's model)"
"""What `LLMError` names as the endpoint of a failed sampling request."""


@dataclass(frozen=True)
class SampleRequest:
    """One sampling request: the conversation (user/assistant turns) and its system prompt."""

    messages: list[dict[str, str]]
    system: str | None
    max_tokens: int
    temperature: float


@dataclass(frozen=True)
class SampleReply:
    text: str
    model: str
    """The model the host says wrote the reply."""


SampleFn = Callable[[SampleRequest], Awaitable[SampleReply]]


class SamplingChat:
    """`ChatLLM` whose every call is one sampling request to the MCP host, awaited on `loop`.

    `model` names the host's model once it has answered (until then `"host model"`); the
    replies are not cached, since the host's model and its approval prompts are the host's.
    """

    def __init__(
        self,
        sample: SampleFn,
        loop: asyncio.AbstractEventLoop,
        *,
        max_tokens: int = 1200,
        temperature: float = 0.0,
        timeout: float = 300.0,
    ) -> None:
        self._sample = sample
        self._loop = loop
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.timeout = timeout
        self.model = "host model"
        self.calls = 0
        self._lock = threading.Lock()

    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        on_token: Callable[[str], None] | None = None,
        max_tokens: int | None = None,
    ) -> ChatResult:
        """The host model's reply; sampling does not stream, so `on_token` gets it whole."""
        usage = Usage()
        text = self._request(messages, usage, max_tokens)
        if on_token is not None and text:
            on_token(text)
        return ChatResult(text=text, usage=usage, cached=False)

    def structured(
        self, messages: list[dict[str, str]], schema: type[T], *, max_tokens: int | None = None
    ) -> StructuredResult[T]:
        """The reply parsed as `schema`; one repair request when it does not validate."""
        json_schema = json.dumps(schema.model_json_schema(), indent=2)
        instruction = render("json_object_schema", schema_name=schema.__name__, schema=json_schema)
        noted = with_system_note(messages, instruction)
        usage = Usage()
        reply = self._request(noted, usage, max_tokens)
        try:
            value = schema.model_validate_json(strip_wrapping(reply))
        except ValidationError as first:
            repair = render(
                "repair_json",
                schema_name=schema.__name__,
                error=validation_summary(first),
                reply=excerpt(strip_wrapping(reply), REPAIR_EXCERPT_CHARS),
            )
            usage.repairs += 1
            again = self._request([*noted, {"role": "user", "content": repair}], usage, max_tokens)
            try:
                value = schema.model_validate_json(strip_wrapping(again))
            except ValidationError as second:
                raise LLMError(
                    f"the host model's reply does not match schema {schema.__name__} even after "
                    f"one repair request: {validation_summary(second)}",
                    base_url=SAMPLING_ENDPOINT,
                    model=self.model,
                ) from second
        return StructuredResult(value=value, usage=usage, cached=False)

    def _request(
        self, messages: list[dict[str, str]], usage: Usage, max_tokens: int | None = None
    ) -> str:
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system") or None
        turns = [
            {"role": "assistant" if m["role"] == "assistant" else "user", "content": m["content"]}
            for m in messages
            if m["role"] != "system"
        ]
        limit = max_tokens if max_tokens is not None else self.max_tokens
        request = SampleRequest(turns, system, limit, self.temperature)
        if _on_loop(self._loop):
            raise RuntimeError("SamplingChat was called on its event loop's thread: it would block")
        future = asyncio.run_coroutine_threadsafe(_awaited(self._sample(request)), self._loop)
        try:
            reply = future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise LLMError(
                f"the host did not answer a sampling request within {self.timeout:g} s "
                "(raise PAPERBRIEF_SERVE__SAMPLING_TIMEOUT)",
                base_url=SAMPLING_ENDPOINT,
                model=self.model,
            ) from None
        except LLMError:
            raise
        except Exception as exc:
            raise LLMError(
                f"the host refused or failed the sampling request: {exc}",
                base_url=SAMPLING_ENDPOINT,
                model=self.model,
            ) from exc
        with self._lock:
            self.calls += 1
            self.model = reply.model or self.model
        usage.llm_calls += 1
        usage.prompt_tokens += sum(len(m["content"]) for m in messages) // CHARS_PER_TOKEN
        usage.completion_tokens += len(reply.text) // CHARS_PER_TOKEN
        return reply.text


async def _awaited(awaitable: Awaitable[SampleReply]) -> SampleReply:
    return await awaitable


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
