"""`paperbrief mcp` as a host runs it: a subprocess spoken to by the MCP SDK's own client.

Over stdio and streamable HTTP, on a store of the bundled sample (hashing embedder: these tests
are about the protocol, not retrieval quality). The sampling test plays the host's model with
the scripted agent replies the OpenAI-wire test server uses, including a planted citation of a
paper that was never retrieved, which the verifier must remove.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.context import ClientRequestContext
from mcp_types import CallToolResult, CreateMessageRequestParams, CreateMessageResult, TextContent

from agent.api import PaperBrief
from tests.conftest import settings_for
from tests.support.agent_responder import AgentResponder, PaperBlock
from tests.support.openai_server import Json, Text

pytestmark = pytest.mark.slow

PAPERBRIEF = str(Path(sys.executable).parent / "paperbrief")
HASH_ENV = {"PAPERBRIEF_EMBEDDING__PROVIDER": "hash"}
SPEED_UP = "How do recent methods speed up diffusion language model decoding?"
# Over the hashing embedder's store the calibrated relevance decision answers a question that
# names its paper (bag-of-words cosines carry little meaning; see agent/relevance.py).
NAMED_PAPER_QUESTION = (
    "How does dKV-Cache, the cache for diffusion language models, speed up decoding?"
)


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the bundled sample, embedded with the hashing embedder."""
    data_dir = tmp_path_factory.mktemp("mcp-store")
    settings = settings_for(data_dir, embedding={"provider": "hash"})
    with PaperBrief(data_dir=data_dir, settings=settings) as brief:
        assert brief.ingest_sample().added
    return data_dir


@pytest.fixture(scope="module")
def stored_ids(store_dir: Path) -> set[str]:
    settings = settings_for(store_dir, embedding={"provider": "hash"})
    with PaperBrief(data_dir=store_dir, settings=settings) as brief:
        return {p.id for p in brief.papers()}


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, **HASH_ENV, **extra}


def stdio(store_dir: Path, *args: str, **env: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=PAPERBRIEF, args=["--data-dir", str(store_dir), "mcp", *args], env=_env(**env)
    )


SamplingFn = Callable[
    [ClientRequestContext, CreateMessageRequestParams], Awaitable[CreateMessageResult]
]


def run(
    target: Any,
    body: Callable[[Client], Awaitable[Any]],
    sampling: SamplingFn | None = None,
    mode: str = "legacy",
) -> Any:
    """Connect a real SDK client to `target` and run `body(client)`."""

    async def main() -> Any:
        async with Client(target, sampling_callback=sampling, mode=mode) as client:  # type: ignore[arg-type]
            return await body(client)

    return anyio.run(main)


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    assert result.is_error, result.structured_content
    first = result.content[0]
    assert isinstance(first, TextContent)
    return first.text


# -- stdio: every tool ----------------------------------------------------------------------


def test_stdio_server_lists_typed_tools_and_answers_each_with_stored_citations(
    store_dir: Path, stored_ids: set[str], tmp_path: Path
) -> None:
    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        json.dumps(
            {
                "title": "A New Paper On Sparse Attention Kernels",
                "abstract": "We write sparse attention kernels that run 3x faster on GPUs.",
                "published": "2025-11-07",
            }
        )
        + "\n",
        encoding="utf-8",
    )

    async def body(client: Client) -> dict[str, Any]:
        listed = await client.list_tools()
        out: dict[str, Any] = {"tools": {t.name: t for t in listed.tools}}
        out["search"] = await client.call_tool(
            "search_papers",
            {"query": "diffusion language models", "k": 3, "since": "2025-01-01"},
        )
        first_id = structured(out["search"])["hits"][0]["paper"]["id"]
        out["paper"] = await client.call_tool("get_paper", {"paper_id": first_id})
        out["ask"] = await client.call_tool("ask", {"question": NAMED_PAPER_QUESTION})
        thread = structured(out["ask"])["thread_id"]
        out["follow_up"] = await client.call_tool(
            "ask", {"question": "Which of them needs no training?", "thread_id": thread}
        )
        ids = [h["paper"]["id"] for h in structured(out["search"])["hits"]][:2]
        out["compare_ids"] = await client.call_tool("compare", {"paper_ids": ids})
        out["compare_topic"] = await client.call_tool("compare", {"topic": "KV caching"})
        out["recommend"] = await client.call_tool(
            "recommend", {"interests": ["reinforcement learning for reasoning"], "k": 3}
        )
        out["briefing"] = await client.call_tool("briefing", {"week": "2025-W21"})
        out["ingest"] = await client.call_tool("ingest", {"source": str(extra)})
        out["search_new"] = await client.call_tool(
            "search_papers", {"query": "sparse attention kernels", "k": 1}
        )
        return out

    out = run(stdio(store_dir, "--allow-ingest"), body)

    tools = out["tools"]
    assert set(tools) == {
        "search_papers",
        "get_paper",
        "ask",
        "compare",
        "recommend",
        "briefing",
        "ingest",
    }
    search_schema = tools["search_papers"].input_schema["properties"]
    assert {"query", "k", "since", "until", "min_upvotes", "has_code", "diverse"} <= set(
        search_schema
    )
    assert tools["ask"].output_schema["properties"]["citations"]["type"] == "array"
    assert tools["search_papers"].annotations.read_only_hint is True
    assert tools["ingest"].annotations.read_only_hint is False

    hits = structured(out["search"])["hits"]
    assert len(hits) == 3 and all(h["paper"]["id"] in stored_ids for h in hits)
    assert all(h["paper"]["published"] >= "2025-01-01" for h in hits)

    paper = structured(out["paper"])
    assert paper["paper"]["id"] == hits[0]["paper"]["id"] and paper["takeaway"]
    assert paper["writer"] == "offline extractive writer"

    answer = structured(out["ask"])
    assert not answer["abstained"] and answer["citations"]
    assert answer["writer"] == "offline extractive writer"
    for citation in answer["citations"]:
        assert citation["paper_id"] in stored_ids
        assert f"[{citation['n']}]" in answer["markdown"]
        assert citation["url"] is None or citation["url"].startswith("https://")
    follow_up = structured(out["follow_up"])
    assert follow_up["thread_id"] == answer["thread_id"]

    by_ids = structured(out["compare_ids"])
    assert [r["paper_id"] for r in by_ids["rows"]] == [h["paper"]["id"] for h in hits][:2]
    topic = structured(out["compare_topic"])
    assert topic["rows"] and {c["paper_id"] for c in topic["citations"]} <= stored_ids

    recommended = structured(out["recommend"])["picks"]
    assert len(recommended) == 3 and all(p["reason"] for p in recommended)

    briefing = structured(out["briefing"])
    assert briefing["start"] == "2025-05-19" and briefing["end"] == "2025-05-25"
    assert briefing["themes"] and briefing["markdown"]
    assert {c["paper_id"] for t in briefing["themes"] for c in t["papers"]} <= stored_ids

    ingested = structured(out["ingest"])
    assert len(ingested["added"]) == 1 and ingested["rejected"] == []
    assert structured(out["search_new"])["hits"][0]["paper"]["id"] == ingested["added"][0]


def test_mistakes_come_back_as_tool_errors_that_say_what_was_wrong(store_dir: Path) -> None:
    async def body(client: Client) -> list[CallToolResult]:
        return [
            await client.call_tool("get_paper", {"paper_id": "2501.99999"}),
            await client.call_tool("search_papers", {"query": "x", "since": "last week"}),
            await client.call_tool("compare", {}),
            await client.call_tool("compare", {"paper_ids": ["nope-1"]}),
            await client.call_tool("briefing", {"week": "2025-W99"}),
            await client.call_tool("ask", {"question": "   "}),
            await client.call_tool("ingest", {"source": "/no/such/file.jsonl"}),
        ]

    results = run(stdio(store_dir), body)
    texts = [error_text(r) for r in results]
    assert "no paper with id '2501.99999'" in texts[0]
    assert "since: 'last week' is not a date (expected YYYY-MM-DD)" in texts[1]
    assert "give a topic or a list of paper_ids" in texts[2]
    assert "unknown paper id(s): nope-1" in texts[3]
    assert "has no ISO week 99" in texts[4]
    assert "question is empty" in texts[5]
    # Without --allow-ingest the server offers no tool that writes.
    assert "Unknown tool: ingest" in texts[6]


# -- the host's model as writer ---------------------------------------------------------------


_SCHEMA_NAME = re.compile(r"matches this JSON schema \(`(\w+)`\)")


def host_model(responder: AgentResponder, model: str = "host-model-1") -> SamplingFn:
    """A sampling callback answering like the OpenAI-wire test server's scripted agent replies
    (the schema a structured request wants is named in its system prompt)."""

    async def sample(
        context: ClientRequestContext, params: CreateMessageRequestParams
    ) -> CreateMessageResult:
        messages: list[dict[str, Any]] = []
        if params.system_prompt:
            messages.append({"role": "system", "content": params.system_prompt})
        for message in params.messages:
            assert isinstance(message.content, TextContent)
            messages.append({"role": message.role, "content": message.content.text})
        body: dict[str, Any] = {"messages": messages}
        found = _SCHEMA_NAME.search(params.system_prompt or "")
        if found:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": found[1]}}
        reply = responder(body)
        if isinstance(reply, Json):
            value = reply.value
            text = value if isinstance(value, str) else json.dumps(value)
        else:
            assert isinstance(reply, Text)
            text = reply.content
        return CreateMessageResult(
            role="assistant", content=TextContent(type="text", text=text), model=model
        )

    return sample


def _diffusion(paper: PaperBlock) -> bool:
    return "diffusion" in f"{paper.title} {paper.abstract}".lower()


def test_host_model_writes_through_sampling_and_a_planted_citation_is_removed(
    store_dir: Path, stored_ids: set[str]
) -> None:
    def answer(papers: list[PaperBlock]) -> dict[str, Any]:
        return {
            "sentences": [
                {"text": papers[0].first_sentence, "sources": [papers[0].n]},
                {"text": "A secret method is even faster.", "sources": [42]},
            ]
        }

    responder = AgentResponder(keep=_diffusion, answer=answer)

    async def body(client: Client) -> CallToolResult:
        return await client.call_tool("ask", {"question": SPEED_UP})

    result = structured(run(stdio(store_dir), body, sampling=host_model(responder)))

    assert result["writer"] == "host model via MCP sampling (host-model-1)"
    assert responder.calls["NumberedDraft"] == 1 and responder.calls["PaperEvidence"] >= 1
    assert "secret method" not in result["markdown"].split("<details>")[0]
    [removed] = result["removed"]
    assert removed.startswith("A secret method is even faster.")
    assert "not among the retrieved papers" in removed
    [citation] = result["citations"]
    assert citation["paper_id"] in stored_ids


def test_without_sampling_or_with_it_turned_off_the_offline_writer_writes(
    store_dir: Path,
) -> None:
    responder = AgentResponder(keep=_diffusion)

    async def body(client: Client) -> CallToolResult:
        return await client.call_tool("compare", {"topic": "diffusion decoding"})

    plain = structured(run(stdio(store_dir), body))
    refused = structured(
        run(
            stdio(store_dir, PAPERBRIEF_SERVE__SAMPLING="false"),
            body,
            sampling=host_model(responder),
        )
    )
    assert plain["writer"] == refused["writer"] == "offline extractive writer"
    assert sum(responder.calls.values()) == 0


# -- streamable HTTP ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def http_server(store_dir: Path, *args: str, **env: str) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [PAPERBRIEF, "--data-dir", str(store_dir), "mcp", "--http", "--port", str(port), *args],
        env=_env(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                assert process.stderr is not None
                raise RuntimeError(f"paperbrief mcp exited: {process.stderr.read().decode()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("paperbrief mcp --http did not listen within 60 s") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def test_http_server_answers_the_sdk_client_and_samples_the_host(
    store_dir: Path, stored_ids: set[str]
) -> None:
    responder = AgentResponder(keep=_diffusion)

    async def body(client: Client) -> tuple[list[str], CallToolResult, CallToolResult]:
        listed = await client.list_tools()
        search = await client.call_tool("search_papers", {"query": "KV cache", "k": 2})
        asked = await client.call_tool("ask", {"question": SPEED_UP})
        return [t.name for t in listed.tools], search, asked

    with http_server(store_dir) as url:
        names, search, asked = run(url, body, sampling=host_model(responder))
        missing = run(url, lambda c: c.call_tool("get_paper", {"paper_id": "nope"}))

    assert "ask" in names and "ingest" not in names
    assert {h["paper"]["id"] for h in structured(search)["hits"]} <= stored_ids
    answer = structured(asked)
    assert answer["writer"] == "host model via MCP sampling (host-model-1)"
    assert answer["citations"] and {c["paper_id"] for c in answer["citations"]} <= stored_ids
    assert "no paper with id 'nope'" in error_text(missing)


def test_http_server_with_a_token_turns_away_requests_without_it(store_dir: Path) -> None:
    with http_server(store_dir, "--token", "s3cret") as url:
        refused = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert refused.status_code == 401


def test_a_non_local_bind_without_a_token_is_refused(store_dir: Path) -> None:
    done = subprocess.run(
        [PAPERBRIEF, "--data-dir", str(store_dir), "mcp", "--http", "--host", "0.0.0.0"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "refusing to listen on 0.0.0.0" in done.stderr
    assert "PAPERBRIEF_SERVE__TOKEN" in done.stderr
