"""The LLM adapter against a real HTTP server speaking the OpenAI wire format, through the real
`openai` client: answers, streaming, structured outputs, retries, errors, cache and usage."""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

from agent.llm import (
    LLMError,
    LLMRepetitionError,
    LLMTruncatedError,
    OpenAIChat,
    bounded_schema,
    repeated_tail,
    reply_token_bound,
)
from agent.settings import LLMSettings
from store.config import RetrySettings
from store.retry import retry_after_seconds
from tests.support.openai_server import (
    Delay,
    Drop,
    Json,
    OpenAIServer,
    Silence,
    Status,
    Stream,
    Text,
)

USER = [{"role": "user", "content": "What do these papers say about retrieval?"}]


class Finding(BaseModel):
    claim: str = Field(description="One finding")
    paper_ids: list[str]
    confidence: float = 0.5


MakeLLM = Callable[..., OpenAIChat]


@pytest.fixture
def sleeps() -> list[float]:
    """The waits the retry policy asked for (recorded, not slept)."""
    return []


@pytest.fixture
def make_llm(openai_server: OpenAIServer, sleeps: list[float]) -> Iterator[MakeLLM]:
    """Builds `OpenAIChat` clients for the test server; closes them after the test."""
    made: list[OpenAIChat] = []

    def make(
        cache_dir: Path | None = None, retry: dict[str, Any] | None = None, **overrides: Any
    ) -> OpenAIChat:
        fields: dict[str, Any] = {
            "base_url": openai_server.base_url,
            "model": "test-model",
            "timeout": 5.0,
            "cache": cache_dir is not None,
        }
        fields.update(overrides)
        retry_settings = RetrySettings(**{"max_retries": 2, "backoff": 0.01, **(retry or {})})
        llm = OpenAIChat(
            LLMSettings(**fields), retry=retry_settings, cache_dir=cache_dir, sleep=sleeps.append
        )
        made.append(llm)
        return llm

    yield make
    for llm in made:
        llm.close()


def test_chat_returns_the_reply_with_tokens_and_cost(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.enqueue(Text("Dense retrieval helps.", prompt_tokens=1200, completion_tokens=300))
    llm = make_llm(input_cost_per_mtok=2.0, output_cost_per_mtok=10.0)

    result = llm.chat(USER)

    assert result.text == "Dense retrieval helps."
    assert not result.cached
    assert result.usage.llm_calls == 1
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (1200, 300)
    assert result.usage.cost_usd == pytest.approx((1200 * 2.0 + 300 * 10.0) / 1_000_000)
    sent = openai_server.chat_requests[0].body
    assert sent["model"] == "test-model"
    assert sent["messages"] == USER
    assert sent["temperature"] == 0.0


def test_cost_is_absent_when_no_prices_are_configured(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.enqueue("An answer.")
    assert make_llm().chat(USER).usage.cost_usd is None


def test_streamed_tokens_arrive_in_order_and_join_to_the_text(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    deltas = ["Retrieval", " improves", " factuality", " [1]", "."]
    openai_server.enqueue(Stream(deltas))
    tokens: list[str] = []

    result = make_llm().chat(USER, on_token=tokens.append)

    assert tokens == deltas
    assert result.text == "".join(deltas)
    sent = openai_server.chat_requests[0].body
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    # The server counts words: the usage chunk was read, not estimated.
    assert result.usage.completion_tokens == 4


def test_streaming_server_without_usage_chunk_gets_an_estimate(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.stream_usage_supported = False
    openai_server.enqueue(Stream(["x" * 40]))

    result = make_llm().chat(USER, on_token=lambda _: None)

    assert result.usage.completion_tokens == 10  # 40 characters at ~4 per token
    assert result.usage.prompt_tokens > 0


def test_structured_output_requests_json_schema_and_parses_the_model(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.enqueue(Json({"claim": "RAG reduces errors", "paper_ids": ["2501.00001"]}))

    result = make_llm().structured(USER, Finding)

    assert result.value == Finding(claim="RAG reduces errors", paper_ids=["2501.00001"])
    response_format = openai_server.chat_requests[0].body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Finding"
    assert response_format["json_schema"]["schema"] == bounded_schema(Finding.model_json_schema())


def test_reply_wrapped_in_a_code_fence_is_accepted(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.enqueue('```json\n{"claim": "c", "paper_ids": []}\n```')
    assert make_llm().structured(USER, Finding).value.claim == "c"
    assert len(openai_server.chat_requests) == 1


def test_json_schema_rejection_falls_back_to_json_object_and_is_remembered(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.json_schema_supported = False
    openai_server.enqueue(
        Json({"claim": "first", "paper_ids": []}), Json({"claim": "second", "paper_ids": []})
    )
    llm = make_llm()

    first = llm.structured(USER, Finding)
    second = llm.structured([{"role": "user", "content": "another question"}], Finding)

    assert (first.value.claim, second.value.claim) == ("first", "second")
    formats = [r.body["response_format"]["type"] for r in openai_server.chat_requests]
    assert formats == ["json_schema", "json_object", "json_object"]
    system = openai_server.chat_requests[1].body["messages"][0]
    assert system["role"] == "system"
    assert '"paper_ids"' in system["content"]  # the schema travels in the prompt instead
    assert llm.structured_mode == "json_object"


def test_json_schema_forced_by_settings_reports_the_rejection(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.json_schema_supported = False

    with pytest.raises(LLMError, match=r"HTTP 400.*json_schema"):
        make_llm(structured_output="json_schema").structured(USER, Finding)
    assert len(openai_server.chat_requests) == 1


def test_invalid_reply_gets_one_repair_attempt(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.enqueue('{"claim": "no ids"}', Json({"claim": "fixed", "paper_ids": ["a"]}))

    result = make_llm().structured(USER, Finding)

    assert result.value.paper_ids == ["a"]
    assert result.usage.llm_calls == 2
    repair = openai_server.chat_requests[1].body["messages"][-1]["content"]
    assert '{"claim": "no ids"}' in repair  # the model sees its bad reply
    assert "paper_ids: Field required" in repair  # and what was wrong with it


def test_invalid_reply_twice_is_a_clear_error(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.enqueue("I think the answer is yes.", '{"claim": 3, "paper_ids": []}')

    with pytest.raises(LLMError) as caught:
        make_llm().structured(USER, Finding)

    message = str(caught.value)
    assert "Finding" in message
    assert "claim" in message
    assert "repair" in message
    assert len(openai_server.chat_requests) == 2


def test_429_waits_as_retry_after_asks_then_succeeds(
    openai_server: OpenAIServer, make_llm: MakeLLM, sleeps: list[float]
) -> None:
    openai_server.enqueue(Status(429, "slow down", headers={"Retry-After": "1"}), "finally")

    result = make_llm().chat(USER)

    assert result.text == "finally"
    assert len(openai_server.chat_requests) == 2
    assert sleeps == [1.0]
    assert result.usage.llm_calls == 2


def test_retry_after_beyond_the_cap_fails_at_once_naming_the_pause(
    openai_server: OpenAIServer, make_llm: MakeLLM, sleeps: list[float]
) -> None:
    openai_server.enqueue(Status(429, headers={"Retry-After": "100"}), "never sent")
    with pytest.raises(LLMError, match=r"retry after 100 s, longer than retry.retry_after_max=60"):
        make_llm(retry={"max_seconds": 500, "retry_after_max": 60}).chat(USER)
    assert sleeps == []
    assert len(openai_server.chat_requests) == 1


def test_retry_after_beyond_the_budget_fails_without_waiting(
    openai_server: OpenAIServer, make_llm: MakeLLM, sleeps: list[float]
) -> None:
    openai_server.enqueue(Status(429, headers={"Retry-After": "30"}), "never sent")

    with pytest.raises(LLMError, match=r"HTTP 429.*retry in 30.0 s would pass the call's time"):
        make_llm(retry={"max_seconds": 5}).chat(USER)
    assert sleeps == []
    assert len(openai_server.chat_requests) == 1


def test_retry_after_parses_seconds_milliseconds_and_dates() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds({"Retry-After": "2.5"}) == 2.5
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after_seconds({"retry-after": date}, now=now) == pytest.approx(30, abs=1)
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_persistent_500_fails_after_max_attempts(
    openai_server: OpenAIServer, make_llm: MakeLLM, sleeps: list[float]
) -> None:
    openai_server.set_responder(lambda body: Status(500, "upstream overloaded"))

    with pytest.raises(LLMError) as caught:
        make_llm(retry={"max_retries": 3}).chat(USER)

    assert len(openai_server.chat_requests) == 4
    assert len(sleeps) == 3
    assert sleeps == sorted(sleeps)  # backoff grows
    message = str(caught.value)
    assert "4 attempts" in message
    assert "HTTP 500: upstream overloaded" in message
    assert openai_server.base_url in message
    assert caught.value.status == 500


def test_a_timeout_is_retried_then_reported(openai_server: OpenAIServer, make_llm: MakeLLM) -> None:
    openai_server.set_responder(lambda body: Delay(30, "too late"))

    with pytest.raises(LLMError, match=r"2 attempts.*no reply within 0.3 s"):
        make_llm(timeout=0.3, retry={"max_retries": 1}).chat(USER)
    assert len(openai_server.chat_requests) == 2


def test_a_dropped_connection_is_retried(openai_server: OpenAIServer, make_llm: MakeLLM) -> None:
    openai_server.enqueue(Drop(), Status(503), "recovered")
    assert make_llm().chat(USER).text == "recovered"
    assert len(openai_server.chat_requests) == 3


def test_a_stream_broken_after_tokens_is_not_retried(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.enqueue(Drop(after_deltas=["Half", " an"]), "never requested")
    tokens: list[str] = []

    with pytest.raises(LLMError, match="stream broke after 2 tokens"):
        make_llm().chat(USER, on_token=tokens.append)
    assert tokens == ["Half", " an"]  # delivered once, never repeated
    assert len(openai_server.chat_requests) == 1


def test_unknown_model_fails_at_once_with_a_hint(
    openai_server: OpenAIServer, make_llm: MakeLLM, sleeps: list[float]
) -> None:
    with pytest.raises(LLMError) as caught:
        make_llm(model="llama-9000").chat(USER)

    assert len(openai_server.chat_requests) == 1
    assert sleeps == []
    message = str(caught.value)
    assert "HTTP 404" in message
    assert "'llama-9000'" in message
    assert "PAPERBRIEF_LLM__MODEL" in message


@pytest.mark.parametrize(
    ("reply", "hint"),
    [
        (Status(401, "Incorrect API key provided"), "OPENAI_API_KEY"),
        (
            Status(429, {"error": {"message": "quota", "code": "insufficient_quota"}}),
            "quota is exhausted",
        ),
        (Status(400, "messages: too long"), "too long"),
    ],
)
def test_client_errors_are_not_retried(
    openai_server: OpenAIServer, make_llm: MakeLLM, reply: Status, hint: str
) -> None:
    openai_server.enqueue(reply, "never sent")
    with pytest.raises(LLMError, match=hint):
        make_llm().chat(USER)
    assert len(openai_server.chat_requests) == 1


def test_connection_refused_names_the_url(sleeps: list[float]) -> None:
    with OpenAIServer() as gone:
        url = gone.base_url  # a port that nothing listens on once the server stops
    settings = LLMSettings(base_url=url, model="m", cache=False)
    retry = RetrySettings(max_retries=1, backoff=0.01)
    with (
        OpenAIChat(settings, retry=retry, sleep=sleeps.append) as llm,
        pytest.raises(LLMError) as caught,
    ):
        llm.chat(USER)
    assert f"is the server running at {url}" in str(caught.value)
    assert caught.value.attempts == 2


def test_missing_model_is_a_configuration_error() -> None:
    with pytest.raises(LLMError, match="PAPERBRIEF_LLM__MODEL"):
        OpenAIChat(LLMSettings(base_url="http://127.0.0.1:1/v1"))


def test_a_cached_call_makes_no_request(
    openai_server: OpenAIServer, make_llm: MakeLLM, tmp_path: Path
) -> None:
    openai_server.enqueue("The answer.", "A different answer.")
    llm = make_llm(cache_dir=tmp_path)

    first = llm.chat(USER)
    second = llm.chat(USER)
    # A new client (another process) reads the same cache; a streamed call is replayed.
    tokens: list[str] = []
    third = make_llm(cache_dir=tmp_path).chat(USER, on_token=tokens.append)

    assert len(openai_server.chat_requests) == 1
    assert (first.cached, second.cached, third.cached) == (False, True, True)
    assert second.text == third.text == "The answer."
    assert "".join(tokens) == "The answer."
    assert (second.usage.llm_calls, second.usage.cached_calls) == (0, 1)
    assert second.usage.prompt_tokens == 0


def test_the_cache_key_covers_messages_model_and_temperature(
    openai_server: OpenAIServer, make_llm: MakeLLM, tmp_path: Path
) -> None:
    openai_server.set_responder(lambda body: f"reply {len(openai_server.chat_requests)}")

    make_llm(cache_dir=tmp_path).chat(USER)
    make_llm(cache_dir=tmp_path).chat([{"role": "user", "content": "Something else?"}])
    make_llm(cache_dir=tmp_path, temperature=0.7).chat(USER)

    assert len(openai_server.chat_requests) == 3


def test_structured_results_are_cached(
    openai_server: OpenAIServer, make_llm: MakeLLM, tmp_path: Path
) -> None:
    openai_server.enqueue(Json({"claim": "cached", "paper_ids": ["x"]}))
    llm = make_llm(cache_dir=tmp_path)

    llm.structured(USER, Finding)
    again = llm.structured(USER, Finding)

    assert again.cached
    assert again.value.claim == "cached"
    assert len(openai_server.chat_requests) == 1


def test_cache_disabled_in_settings_always_asks(
    openai_server: OpenAIServer, make_llm: MakeLLM, tmp_path: Path
) -> None:
    openai_server.set_responder(lambda body: "fresh")
    llm = make_llm(cache_dir=tmp_path, cache=False)
    llm.chat(USER)
    assert not llm.chat(USER).cached
    assert len(openai_server.chat_requests) == 2


def test_parallel_calls_respect_the_concurrency_limit(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def responder(body: dict[str, Any]) -> str:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.05)  # hold the slot so that overlapping calls would show
        with lock:
            in_flight -= 1
        return "echo " + body["messages"][0]["content"]

    openai_server.set_responder(responder)
    llm = make_llm(concurrency=2)
    questions = [f"q{i}" for i in range(6)]

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda q: llm.chat([{"role": "user", "content": q}]), questions))

    assert [r.text for r in results] == [f"echo {q}" for q in questions]
    assert peak <= 2


def test_a_reasoning_model_endpoint_is_learnt_once(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    # OpenAI's reasoning models reject max_tokens (use max_completion_tokens) and temperature.
    openai_server.unsupported_params = {"max_tokens", "temperature"}
    openai_server.set_responder(lambda body: "thought about it")
    llm = make_llm()

    first = llm.chat(USER)
    second = llm.chat([{"role": "user", "content": "And another?"}])

    assert first.text == second.text == "thought about it"
    bodies = [r.body for r in openai_server.chat_requests]
    assert len(bodies) == 4  # two rejections, then every call right the first time
    assert bodies[-1]["max_completion_tokens"] == 1200
    assert "max_tokens" not in bodies[-1]
    assert "temperature" not in bodies[-1]


def test_a_server_rejecting_stream_options_still_streams(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.unsupported_params = {"stream_options"}
    openai_server.enqueue(Stream(["one", " two"]))
    tokens: list[str] = []

    result = make_llm().chat(USER, on_token=tokens.append)

    assert tokens == ["one", " two"]
    assert result.text == "one two"
    assert result.usage.completion_tokens == 2  # estimated: 7 characters
    assert "stream_options" not in openai_server.chat_requests[-1].body


def test_a_server_rejecting_both_response_formats_gets_the_schema_in_the_prompt(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.unsupported_params = {"response_format"}
    openai_server.enqueue(Json({"claim": "plain", "paper_ids": []}))
    llm = make_llm()

    result = llm.structured(USER, Finding)

    assert result.value.claim == "plain"
    last = openai_server.chat_requests[-1].body
    assert "response_format" not in last
    assert '"paper_ids"' in last["messages"][0]["content"]
    assert llm.structured_mode == "prompt"


def test_a_reply_cut_at_the_token_limit_says_so(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    cut = Text('{"claim": "a long claim that never', finish_reason="length")
    openai_server.enqueue(cut, cut)

    with pytest.raises(
        LLMError,
        match=r"stopped at max_tokens=50 \(finish_reason length\): raise PAPERBRIEF_LLM__MAX",
    ):
        make_llm(max_tokens=50).structured(USER, Finding)


def test_a_503_with_retry_after_is_waited_for_as_asked(
    openai_server: OpenAIServer, make_llm: MakeLLM, sleeps: list[float]
) -> None:
    openai_server.enqueue(Status(503, "loading model", headers={"Retry-After": "3"}), "loaded")
    assert make_llm().chat(USER).text == "loaded"
    assert sleeps == [3.0]


def test_a_repair_draws_on_the_retry_budget_of_its_call(
    openai_server: OpenAIServer, make_llm: MakeLLM, sleeps: list[float]
) -> None:
    openai_server.enqueue(Status(500), "not json at all", Status(500), Json({"claim": "x"}))

    with pytest.raises(LLMError, match=r"3 attempts.*no retries left \(retry.max_retries=1\)"):
        make_llm(retry={"max_retries": 1}).structured(USER, Finding)
    # The first request's retry used the call's one retry; the repair got none of its own.
    assert len(openai_server.chat_requests) == 3
    assert len(sleeps) == 1


class Decision(BaseModel):
    route: str
    reason: str = ""


def test_every_text_field_and_list_is_bounded_and_max_tokens_fits_the_schema(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.enqueue(Json({"route": "answer", "reason": "asks about findings"}))

    make_llm(max_tokens=1200).structured(USER, Decision)

    body = openai_server.chat_requests[0].body
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["reason"]["maxLength"] > 0
    assert bounded_schema(Finding.model_json_schema())["properties"]["paper_ids"]["maxItems"] > 0
    # A route decision needs a few hundred tokens at most, not the 1200 ceiling.
    assert body["max_tokens"] == reply_token_bound(schema) < 600
    assert reply_token_bound(schema) < reply_token_bound(
        bounded_schema(Finding.model_json_schema())
    )


def test_a_cut_off_reply_keeps_its_complete_required_fields_without_a_repair(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    runaway = '{"route": "answer", "reason": "' + "because it asks " * 300
    openai_server.enqueue(Text(runaway, finish_reason="length"))

    result = make_llm(stream=False).structured(USER, Decision)

    assert result.value == Decision(route="answer")
    assert len(openai_server.chat_requests) == 1


def test_a_junk_optional_field_does_not_cost_the_reply(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.enqueue('{"claim": "c", "paper_ids": ["a"], "confidence": "very"}')
    result = make_llm().structured(USER, Finding)
    assert result.value == Finding(claim="c", paper_ids=["a"], confidence=0.5)
    assert len(openai_server.chat_requests) == 1


def test_a_repair_quotes_a_short_excerpt_and_the_problem_not_the_whole_reply(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.enqueue(
        '{"claim": 7, "note": "' + "x" * 8000 + '"}', Json({"claim": "ok", "paper_ids": []})
    )

    result = make_llm().structured(USER, Finding)

    assert result.value.claim == "ok" and result.usage.repairs == 1
    repair = openai_server.chat_requests[1].body["messages"][-1]["content"]
    assert len(repair) < 1500
    assert "claim: Input should be a valid string" in repair


def test_a_looping_stream_is_stopped_early_with_a_named_error(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.enqueue(Stream(["The answer is that"] + [" the model repeats"] * 2000))

    with pytest.raises(LLMRepetitionError, match="repeated itself") as caught:
        make_llm(max_tokens=5000).chat(USER)

    spent = caught.value.usage
    assert spent is not None and spent.llm_calls == 1
    assert spent.completion_tokens < 400  # stopped long before the 2000 repeats


def test_a_chat_reply_cut_at_max_tokens_is_a_named_error(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.enqueue("one two three four five six seven eight")
    with pytest.raises(LLMTruncatedError, match="stopped at max_tokens=4"):
        make_llm().chat(USER, max_tokens=4)
    assert openai_server.chat_requests[0].body["max_tokens"] == 4


def test_a_server_that_goes_silent_mid_reply_is_detected_before_the_timeout(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.set_responder(lambda body: Silence(['{"cl', 'aim"']))

    with pytest.raises(LLMError, match=r"sent nothing for 0.3 s.*stopped or gone away"):
        make_llm(timeout=60, idle_timeout=0.3, retry={"max_retries": 1}).structured(USER, Finding)
    assert len(openai_server.chat_requests) == 2


def test_failed_calls_report_what_they_spent(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    openai_server.enqueue("not json", "still not json")
    llm = make_llm()
    with pytest.raises(LLMError) as caught:
        llm.structured(USER, Finding)
    assert caught.value.usage is not None and caught.value.usage.llm_calls == 2
    assert llm.usage_total.llm_calls == 2 and llm.usage_total.repairs == 1


def test_repetition_is_told_from_prose_and_json() -> None:
    assert repeated_tail("the reason is " * 40) is not None
    assert repeated_tail('{"a": "' + "ab" * 100) is not None
    prose = "Dense retrieval improves recall. Sparse retrieval is cheaper. " * 1
    assert repeated_tail(prose) is None
    assert repeated_tail(json_text := '{"rows": [1, 2, 3], "shared": ["x", "y"]}') is None
    assert json_text


def test_a_slow_first_token_is_waited_for_up_to_the_whole_timeout(
    openai_server: OpenAIServer, make_llm: MakeLLM
) -> None:
    # A local server reading a long prompt sends nothing before its first token.
    openai_server.enqueue(Delay(0.6, "ready"))
    assert make_llm(timeout=5, idle_timeout=0.2).chat(USER).text == "ready"
