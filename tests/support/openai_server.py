"""A real HTTP server on 127.0.0.1 that speaks the OpenAI wire format, with scripted replies.

The one fake of the project: tests and benches drive the real `openai` client against it, so the
retry policy, streaming, structured outputs and error messages are exercised over real sockets.

    server.enqueue("plain text")                          # a chat completion with this content
    server.enqueue(Json({"title": "x"}))                  # JSON content (dict or pydantic model)
    server.enqueue(Status(429, headers={"Retry-After": "1"}))
    server.enqueue(Status(400, "response_format json_schema not supported"))
    server.enqueue(Delay(2.0, "late"))                    # waits, then replies (client timeouts)
    server.enqueue(Drop())                                # closes the socket without a reply
    server.enqueue(Stream(["Hel", "lo"]))                  # exact streamed deltas
    server.enqueue(Silence(["Hal", "f"]))                 # sends these, then goes silent
    server.set_responder(Runaway(AgentResponder()))       # unbounded strings run to max_tokens
    server.set_responder(lambda body: "default reply")    # used once the queue is empty

Every request is recorded in `server.requests` (path, body, headers). `models` is what
`/v1/models` lists (`list_models = False` answers that route with 404, as some servers do);
`json_schema_supported = False` answers any `response_format` of type `json_schema` with a 400;
`stream_usage_supported = False` ignores `stream_options.include_usage`; a request carrying any
parameter in `unsupported_params` (e.g. `{"max_tokens", "temperature"}` as OpenAI's reasoning
models, `{"response_format"}`, `{"stream_options"}`) gets OpenAI's 400 `unsupported_parameter`.
Chat completions for a model not in `models` get a 404 `model_not_found`, as OpenAI, vLLM and
Ollama answer. Like a real server, a reply longer than the request's `max_tokens` (counted as
whitespace-separated words) is cut there with `finish_reason` "length".
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import BaseModel

DEFAULT_MODEL = "test-model"


@dataclass
class Text:
    """A chat completion whose content is `content` (streamed word by word when asked)."""

    content: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = "stop"
    """"length" says the reply was cut at the token limit."""


@dataclass
class Json:
    """A chat completion whose content is `value` serialised as JSON."""

    value: Any


@dataclass
class Stream:
    """A completion streamed as exactly these deltas (non-streaming requests get them joined)."""

    deltas: list[str]


@dataclass
class Status:
    """An HTTP error: status, body (a str becomes an OpenAI-style error object) and headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Delay:
    """Wait `seconds` (cut short when the server stops), then send `then`."""

    seconds: float
    then: Any = "delayed reply"


@dataclass
class Silence:
    """Send `deltas` (streamed, or nothing for a plain request), then keep the connection open
    without a byte more until the server stops: a server process that stopped answering."""

    deltas: list[str] = field(default_factory=list)


@dataclass
class Drop:
    """Close the connection without sending a response."""

    after_deltas: list[str] | None = None
    """When set on a streaming request: send these deltas first, then drop mid-stream."""


Reply = Text | Json | Stream | Status | Delay | Drop | Silence | str | dict[str, Any] | BaseModel
Responder = Callable[[dict[str, Any]], Reply]


@dataclass
class ReceivedRequest:
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


def count_tokens(text: str) -> int:
    """The server's token count: whitespace-separated words (deterministic, good enough)."""
    return len(text.split())


def _error_body(status: int, message: str) -> dict[str, Any]:
    kinds = {
        400: "invalid_request_error",
        401: "invalid_request_error",
        404: "invalid_request_error",
        429: "rate_limit_exceeded",
    }
    return {"error": {"message": message, "type": kinds.get(status, "server_error"), "code": None}}


def _split_words(content: str) -> list[str]:
    """Deltas that join back to `content` exactly: each word with its leading space."""
    if not content:
        return []
    parts: list[str] = []
    current = ""
    for char in content:
        if char == " " and current.strip():
            parts.append(current)
            current = ""
        current += char
    parts.append(current)
    return parts


class _QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (timed out, closed a finished stream) is routine here.
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class OpenAIServer:
    """`/v1/chat/completions` and `/v1/models` on 127.0.0.1, a random port, scripted replies."""

    def __init__(self, models: list[str] | None = None) -> None:
        self.models: list[str] = list(models) if models is not None else [DEFAULT_MODEL]
        self.list_models = True
        self.json_schema_supported = True
        self.stream_usage_supported = True
        self.unsupported_params: set[str] = set()
        self.requests: list[ReceivedRequest] = []
        self._queue: deque[Reply] = deque()
        self._responder: Responder | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _QuietHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread: threading.Thread | None = None

    # scripting

    def enqueue(self, *replies: Reply) -> None:
        """Replies to the next chat completion requests, in order."""
        with self._lock:
            self._queue.extend(replies)

    def set_responder(self, responder: Responder | None) -> None:
        """`responder(request_body) -> reply` answers whenever the queue is empty."""
        self._responder = responder

    @property
    def pending(self) -> int:
        """Scripted replies not consumed yet."""
        with self._lock:
            return len(self._queue)

    @property
    def chat_requests(self) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    # lifecycle

    def start(self) -> OpenAIServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # serving

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self._responder is not None:
            return self._responder(body)
        return Status(500, "openai_server: no scripted reply left and no responder set")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as separate writes; with Nagle on, the body waits for the
            # client's delayed ACK (~40 ms a request), which real servers avoid the same way.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                server._record(self, {})
                if self.path.rstrip("/").endswith("/models") and server.list_models:
                    data = [
                        {"id": m, "object": "model", "created": 0, "owned_by": "test"}
                        for m in server.models
                    ]
                    self._json(200, {"object": "list", "data": data})
                else:
                    self._json(404, _error_body(404, f"no route GET {self.path}"))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    self._json(400, _error_body(400, "request body is not JSON"))
                    return
                server._record(self, body)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, _error_body(404, f"no route POST {self.path}"))
                    return
                rejection = server._reject(body)
                if rejection is not None:
                    self._send_status(rejection)
                    return
                self._answer(body, server._next_reply(body))

            def _answer(self, body: dict[str, Any], reply: Reply) -> None:
                if isinstance(reply, Delay):
                    server._stopping.wait(reply.seconds)
                    if server._stopping.is_set():
                        self.close_connection = True
                        return
                    self._answer(body, reply.then)
                    return
                if isinstance(reply, Status):
                    self._send_status(reply)
                    return
                if isinstance(reply, Drop):
                    if reply.after_deltas and body.get("stream"):
                        self._stream(body, reply.after_deltas, drop=True)
                    self.close_connection = True
                    return
                if isinstance(reply, Silence):
                    if body.get("stream"):
                        self._stream(body, reply.deltas, drop=False, silent=True)
                    else:
                        server._stopping.wait()
                    self.close_connection = True
                    return
                deltas, finish = _cut_at_max_tokens(body, _deltas_of(reply), reply)
                if body.get("stream"):
                    self._stream(body, deltas, drop=False, finish=finish, reply=reply)
                else:
                    self._complete(body, "".join(deltas), reply, finish)

            def _send_status(self, reply: Status) -> None:
                payload = reply.body
                if payload is None or isinstance(payload, str):
                    payload = _error_body(reply.status, payload or f"HTTP {reply.status}")
                self._json(reply.status, payload, reply.headers)

            def _complete(
                self, body: dict[str, Any], content: str, reply: Reply, finish: str
            ) -> None:
                usage = server._usage(body, content, reply)
                self._json(
                    200,
                    {
                        "id": f"chatcmpl-{len(server.requests)}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", DEFAULT_MODEL),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": finish,
                            }
                        ],
                        "usage": usage,
                    },
                )

            def _stream(
                self,
                body: dict[str, Any],
                deltas: list[str],
                *,
                drop: bool,
                silent: bool = False,
                finish: str = "stop",
                reply: Reply | None = None,
            ) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                model = body.get("model", DEFAULT_MODEL)
                created = int(time.time())

                def chunk(choices: list[dict[str, Any]], usage: Any = None) -> dict[str, Any]:
                    data: dict[str, Any] = {
                        "id": "chatcmpl-stream",
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": choices,
                    }
                    if usage is not None:
                        data["usage"] = usage
                    return data

                events = [chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}])]
                events += [chunk([{"index": 0, "delta": {"content": d}}]) for d in deltas]
                try:
                    if silent:
                        for event in events:
                            self._chunk(f"data: {json.dumps(event)}\n\n".encode())
                        server._stopping.wait()
                        return
                    if drop:
                        # The chunked body never gets its last chunk: the client sees a
                        # connection lost mid-stream, as when a server process dies.
                        for event in events:
                            self._chunk(f"data: {json.dumps(event)}\n\n".encode())
                        self.close_connection = True
                        return
                    events.append(chunk([{"index": 0, "delta": {}, "finish_reason": finish}]))
                    options = body.get("stream_options") or {}
                    if options.get("include_usage") and server.stream_usage_supported:
                        usage = server._usage(body, "".join(deltas), reply)
                        events.append(chunk([], usage))
                    for event in events:
                        self._chunk(f"data: {json.dumps(event)}\n\n".encode())
                    self._chunk(b"data: [DONE]\n\n")
                    self._chunk(b"")
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _json(
                self, status: int, payload: Any, headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        return Handler

    def _record(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(
                ReceivedRequest(
                    method=handler.command,
                    path=handler.path,
                    body=body,
                    headers={k.lower(): v for k, v in handler.headers.items()},
                )
            )

    def _reject(self, body: dict[str, Any]) -> Status | None:
        """The errors a real server gives before looking at the script."""
        model = body.get("model")
        if model not in self.models:
            return Status(
                404,
                {
                    "error": {
                        "message": f"The model `{model}` does not exist.",
                        "type": "invalid_request_error",
                        "code": "model_not_found",
                    }
                },
            )
        for param in sorted(self.unsupported_params & body.keys()):
            return Status(
                400,
                {
                    "error": {
                        "message": f"Unsupported parameter: '{param}' is not supported with "
                        "this model.",
                        "type": "invalid_request_error",
                        "param": param,
                        "code": "unsupported_parameter",
                    }
                },
            )
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema" and not self.json_schema_supported:
            return Status(400, "response_format json_schema is not supported by this server")
        return None

    def _usage(self, body: dict[str, Any], content: str, reply: Reply | None) -> dict[str, int]:
        prompt = sum(count_tokens(str(m.get("content") or "")) for m in body.get("messages", []))
        completion = count_tokens(content)
        if isinstance(reply, Text):
            prompt = reply.prompt_tokens if reply.prompt_tokens is not None else prompt
            if reply.completion_tokens is not None:
                completion = reply.completion_tokens
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }


@dataclass
class Runaway:
    """A small model that does not know when to stop, around a responder giving the content.

    As Gemma 3 270M did on llama.cpp: every text field the request's JSON schema leaves without
    a `maxLength` runs on, repeating itself, until the server cuts the reply at `max_tokens`
    (so the fields after it never come); a field with a `maxLength` is cut there, as
    grammar-constrained decoding does; a plain chat reply runs on the same way.
    """

    inner: Responder
    filler: str = " and the reason is"
    repeats: int = 3000

    def __call__(self, body: dict[str, Any]) -> Reply:
        reply = self.inner(body)
        fmt = body.get("response_format") or {}
        schema = (fmt.get("json_schema") or {}).get("schema") if isinstance(fmt, dict) else None
        if isinstance(reply, Json) and isinstance(schema, dict):
            value = reply.value.model_dump() if isinstance(reply.value, BaseModel) else reply.value
            return Text(self._json(value, schema, schema))
        if isinstance(reply, (str, Text)) and not fmt:
            text = reply.content if isinstance(reply, Text) else reply
            return Text(text.rstrip(".") + self.filler * self.repeats)
        return reply

    def _json(self, value: Any, node: dict[str, Any], root: dict[str, Any]) -> str:
        node = _resolve(node, root)
        if isinstance(value, str):
            if "enum" in node or "const" in node:
                return json.dumps(value)
            if "maxLength" in node:
                return json.dumps(value[: node["maxLength"]])
            # Opened, never closed: the server cuts the reply inside this string.
            return '"' + value.rstrip(".") + self.filler * self.repeats
        if isinstance(value, list):
            items = value[: node.get("maxItems", len(value))]
            parts = []
            for item in items:
                part = self._json(item, node.get("items", {}), root)
                parts.append(part)
                if _runs_on(part):
                    return "[" + ", ".join(parts)
            return "[" + ", ".join(parts) + "]"
        if isinstance(value, dict):
            properties = node.get("properties", {})
            parts = []
            for key, item in value.items():
                part = self._json(item, properties.get(key, {}), root)
                parts.append(f"{json.dumps(key)}: {part}")
                if _runs_on(part):
                    return "{" + ", ".join(parts)
            return "{" + ", ".join(parts) + "}"
        return json.dumps(value)


def _runs_on(part: str) -> bool:
    return not part.endswith(('"', "]", "}")) and len(part) > 1000


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    for _ in range(10):
        ref = node.get("$ref")
        if isinstance(ref, str):
            node = root.get("$defs", {}).get(ref.rsplit("/", 1)[-1], {})
            continue
        options = node.get("anyOf")
        if options:
            node = next((o for o in options if o.get("type") != "null"), options[0])
            continue
        break
    return node


def _cut_at_max_tokens(
    body: dict[str, Any], deltas: list[str], reply: Reply
) -> tuple[list[str], str]:
    """The deltas a server sends within the request's max_tokens, and the finish reason."""
    finish = reply.finish_reason if isinstance(reply, Text) else "stop"
    limit = body.get("max_tokens") or body.get("max_completion_tokens")
    if not isinstance(limit, int) or count_tokens("".join(deltas)) <= limit:
        return deltas, finish
    kept: list[str] = []
    for delta in deltas:
        if count_tokens("".join([*kept, delta])) > limit:
            break
        kept.append(delta)
    return kept, "length"


def _deltas_of(reply: Reply) -> list[str]:
    if isinstance(reply, Stream):
        return list(reply.deltas)
    if isinstance(reply, Text):
        return _split_words(reply.content)
    if isinstance(reply, str):
        return _split_words(reply)
    if isinstance(reply, Json):
        value = reply.value
        text = value.model_dump_json() if isinstance(value, BaseModel) else json.dumps(value)
        return _split_words(text)
    if isinstance(reply, BaseModel):
        return _split_words(reply.model_dump_json())
    if isinstance(reply, dict):
        return _split_words(json.dumps(reply))
    raise TypeError(f"openai_server: cannot send {reply!r}")


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A running `OpenAIServer` serving model `test-model`, stopped after the test."""
    with OpenAIServer() as server:
        yield server
