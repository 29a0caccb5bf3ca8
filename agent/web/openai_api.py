"""`/v1/models` and `/v1/chat/completions`: paperbrief as an OpenAI-compatible "model".

Open WebUI, LibreChat and other OpenAI-compatible chat UIs send the whole conversation with
each request. The last user message is the question; the earlier turns are the conversation
it follows: each answer given here is remembered under the conversation it ends (user and
assistant texts), so the next request, which repeats them, continues the same paperbrief thread
and follow-ups ("which of them needs no training?") resolve against the papers cited before. A
conversation not seen before (edited, or from before a restart) starts a new thread.

The reply is the answer's Markdown: verified text with [n] citations and the source list
linking the papers. Streaming (`"stream": true`) sends the verified sentences as they are
produced, then the source list, as `chat.completion.chunk` events, and `[DONE]`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agent.api import PaperBrief
from agent.compose import OFFLINE_LABEL
from agent.results import Answer
from agent.web.events import answer_events

log = logging.getLogger(__name__)

MODEL_ID = "paperbrief"
THREAD_HEADER = "x-paperbrief-thread"
"""Response header naming the paperbrief thread that answered (see `PaperBrief.ask`)."""


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def _key(turns: list[tuple[str, str]]) -> str:
    text = json.dumps([(role, " ".join(content.split())) for role, content in turns])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ConversationThreads:
    """Which paperbrief thread continues a conversation, keyed by its turns so far (LRU)."""

    def __init__(self, size: int = 2000) -> None:
        self._threads: OrderedDict[str, str] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def find(self, turns: list[tuple[str, str]]) -> str | None:
        if not turns:
            return None
        with self._lock:
            thread = self._threads.get(_key(turns))
            if thread is not None:
                self._threads.move_to_end(_key(turns))
            return thread

    def remember(self, turns: list[tuple[str, str]], thread: str) -> None:
        with self._lock:
            self._threads[_key(turns)] = thread
            while len(self._threads) > self._size:
                self._threads.popitem(last=False)


class OpenAICompatible:
    def __init__(self, pb: PaperBrief) -> None:
        self.pb = pb
        self.threads = ConversationThreads()

    def models(self, request: Request) -> Response:
        return JSONResponse(
            {
                "object": "list",
                "data": [
                    {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "paperbrief"}
                ],
            }
        )

    async def chat_completions(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "the request body must be JSON")
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            return _error(400, "messages: a non-empty list of chat messages is required")
        turns = [
            (str(m.get("role")), _text(m.get("content")))
            for m in messages
            if isinstance(m, dict) and m.get("role") in ("user", "assistant")
        ]
        if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
            return _error(400, "messages: the last message must be a user message with text")
        question = turns[-1][1].strip()
        # A new conversation gets its thread id here, so a streamed reply can name it up front.
        thread = self.threads.find(turns[:-1]) or uuid.uuid4().hex
        headers = {THREAD_HEADER: thread}
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        model = str(body.get("model") or MODEL_ID)
        if body.get("stream"):
            return StreamingResponse(
                self._stream(question, thread, turns, completion_id, model),
                media_type="text/event-stream",
                headers={"cache-control": "no-cache", **headers},
            )
        from agent.errors import USER_ERRORS

        try:
            answer = await anyio.to_thread.run_sync(lambda: self.pb.ask(question, thread_id=thread))
        except USER_ERRORS as exc:
            return _error(400, str(exc))
        self._remember(turns, answer)
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer.markdown},
                        "finish_reason": "stop",
                    }
                ],
                "usage": _usage(question, answer.markdown),
            },
            headers=headers,
        )

    def _remember(self, turns: list[tuple[str, str]], answer: Answer) -> None:
        if answer.thread_id:
            self.threads.remember([*turns, ("assistant", answer.markdown)], answer.thread_id)

    async def _stream(
        self,
        question: str,
        thread: str,
        turns: list[tuple[str, str]],
        completion_id: str,
        model: str,
    ) -> AsyncIterator[str]:
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            data = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        sent = ""
        if self.pb.mode == "offline":
            # The offline label leads the answer's Markdown; no sentence event carries it.
            yield chunk({"content": OFFLINE_LABEL + "\n\n"})
        async for event in answer_events(self.pb, question, thread):
            kind = event["event"]
            if kind == "sentence":
                # Verified text only: an LLM's raw tokens may still be removed by the verifier.
                piece = event["text"] if not sent else (" " + event["text"])
                sent += piece
                yield chunk({"content": piece})
            elif kind == "answer":
                answer: Answer = event["answer"]
                rest = _after(answer.markdown, sent)
                if rest:
                    yield chunk({"content": rest})
                self._remember(turns, answer)
            elif kind == "error":
                yield chunk({"content": f"\n\n(paperbrief error: {event['message']})"})
        yield chunk({}, finish="stop")
        yield "data: [DONE]\n\n"


def _after(markdown: str, sent: str) -> str:
    """What of the answer's Markdown has not been streamed yet: everything after the streamed
    sentences (the source list), or, when they were not a prefix of it, a fresh paragraph
    holding the whole answer's sources and audit trail."""
    if not sent:
        return markdown
    position = markdown.find(sent)
    if position >= 0:
        return markdown[position + len(sent) :]
    tail = markdown.find("\n\n**Sources**")
    return markdown[tail:] if tail >= 0 else ""


def _usage(question: str, reply: str) -> dict[str, int]:
    prompt, completion = len(question) // 4, len(reply) // 4
    total = prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


def openai_routes(pb: PaperBrief) -> list[Route]:
    api = OpenAICompatible(pb)
    return [
        Route("/v1/models", api.models),
        Route("/v1/chat/completions", api.chat_completions, methods=["POST"]),
    ]
