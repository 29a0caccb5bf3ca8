"""`SamplingChat`, the host's model as a `ChatLLM`: called from worker threads, answered on the
server's event loop, structured replies validated with one repair, failures as `LLMError`."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import BaseModel

from agent.llm import LLMError
from agent.sampling import SampleReply, SampleRequest, SamplingChat


class Route(BaseModel):
    route: str


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running in its own thread, as the MCP server's is."""
    running = asyncio.new_event_loop()
    thread = threading.Thread(target=running.run_forever, daemon=True)
    thread.start()
    yield running
    running.call_soon_threadsafe(running.stop)
    thread.join(timeout=5)
    running.close()


class Host:
    """Scripted host replies; records the requests it got."""

    def __init__(self, *replies: str, delay: float = 0.0) -> None:
        self.replies = list(replies)
        self.requests: list[SampleRequest] = []
        self.delay = delay

    async def __call__(self, request: SampleRequest) -> SampleReply:
        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        return SampleReply(text=self.replies.pop(0), model="host-7b")


def test_chat_sends_system_apart_and_names_the_host_model(
    loop: asyncio.AbstractEventLoop,
) -> None:
    host = Host("Hello there.")
    llm = SamplingChat(host, loop, max_tokens=300)
    tokens: list[str] = []
    result = llm.chat(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        on_token=tokens.append,
        max_tokens=50,
    )
    assert result.text == "Hello there." and tokens == ["Hello there."]
    [request] = host.requests
    assert request.system == "Be brief." and request.max_tokens == 50
    assert request.messages == [{"role": "user", "content": "Hi"}]
    assert llm.model == "host-7b" and result.usage.llm_calls == 1


def test_structured_reply_is_repaired_once_then_fails_clearly(
    loop: asyncio.AbstractEventLoop,
) -> None:
    host = Host("not json", '```json\n{"route": "answer"}\n```')
    llm = SamplingChat(host, loop)
    result = llm.structured([{"role": "user", "content": "Route this."}], Route)
    assert result.value == Route(route="answer") and result.usage.llm_calls == 2
    assert "`Route`" in (host.requests[0].system or "")
    assert "could not be used" in host.requests[1].messages[-1]["content"]

    broken = SamplingChat(Host("nope", "still nope"), loop)
    with pytest.raises(LLMError, match="does not match schema Route even after one repair"):
        broken.structured([{"role": "user", "content": "Route this."}], Route)


def test_parallel_callers_from_worker_threads_all_get_their_replies(
    loop: asyncio.AbstractEventLoop,
) -> None:
    host = Host(*[f"reply {n}" for n in range(8)])
    llm = SamplingChat(host, loop)
    with ThreadPoolExecutor(4) as pool:
        texts = list(
            pool.map(lambda n: llm.chat([{"role": "user", "content": str(n)}]).text, range(8))
        )
    assert sorted(texts) == sorted(f"reply {n}" for n in range(8))


def test_a_host_that_does_not_answer_in_time_is_an_llm_error(
    loop: asyncio.AbstractEventLoop,
) -> None:
    llm = SamplingChat(Host("late", delay=5.0), loop, timeout=0.2)
    with pytest.raises(LLMError, match="PAPERBRIEF_SERVE__SAMPLING_TIMEOUT"):
        llm.chat([{"role": "user", "content": "Hi"}])


def test_a_refused_request_is_an_llm_error(loop: asyncio.AbstractEventLoop) -> None:
    async def refuse(request: SampleRequest) -> SampleReply:
        raise RuntimeError("user declined the sampling request")

    with pytest.raises(LLMError, match="refused or failed the sampling request: user declined"):
        SamplingChat(refuse, loop).chat([{"role": "user", "content": "Hi"}])
