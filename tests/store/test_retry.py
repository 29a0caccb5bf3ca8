"""The one retry policy, against a real HTTP server on 127.0.0.1: which failures are retried,
the pauses a server asks for, and the budget one logical call shares across its requests."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator

import httpx
import pytest

from store.config import RetrySettings
from store.retry import (
    RetryExhausted,
    RetryPolicy,
    Transient,
    retry_after_seconds,
    transient_status,
)
from tests.support.static_http import Reply, StaticHTTPServer


class Failed(Exception):
    def __init__(self, transient: Transient) -> None:
        super().__init__(transient.reason)
        self.transient = transient


def classify(exc: BaseException) -> Transient | None:
    return exc.transient if isinstance(exc, Failed) else None


def get(client: httpx.Client, url: str) -> str:
    """One request the way every client makes it: transient failures become `Failed`."""
    try:
        response = client.get(url)
    except httpx.TimeoutException as exc:
        raise Failed(Transient("timed out")) from exc
    except httpx.TransportError as exc:
        raise Failed(Transient(f"connection failed: {exc}")) from exc
    transient = transient_status(response.status_code, response.headers)
    if transient is not None:
        raise Failed(transient)
    response.raise_for_status()
    return response.text


@pytest.fixture
def server() -> Iterator[StaticHTTPServer]:
    with StaticHTTPServer() as running:
        yield running


@pytest.fixture
def sleeps() -> list[float]:
    return []


def policy(sleeps: list[float], **settings: float) -> RetryPolicy:
    fields = {"max_retries": 3, "backoff": 0.5, **settings}
    return RetryPolicy(RetrySettings(**fields), sleep=sleeps.append, jitter=lambda lo, hi: hi)


def test_429_waits_the_seconds_the_server_asks(
    server: StaticHTTPServer, sleeps: list[float]
) -> None:
    url = server.route("/a", Reply(status=429, headers={"Retry-After": "7"}), Reply(body="done"))
    with httpx.Client() as client:
        assert policy(sleeps).call(lambda: get(client, url), classify) == "done"
    assert sleeps == [7.0]
    assert server.hits["/a"] == 2


def test_retry_after_as_an_http_date_is_honoured(
    server: StaticHTTPServer, sleeps: list[float]
) -> None:
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    url = server.route("/a", Reply(status=503, headers={"Retry-After": when}), Reply(body="ok"))
    with httpx.Client() as client:
        assert policy(sleeps).call(lambda: get(client, url), classify) == "ok"
    assert sleeps == [pytest.approx(20, abs=2)]


def test_5xx_backs_off_doubling_then_gives_up_naming_the_limit(
    server: StaticHTTPServer, sleeps: list[float]
) -> None:
    url = server.route("/a", Reply(status=503, body="busy"))
    with httpx.Client() as client, pytest.raises(RetryExhausted) as raised:
        policy(sleeps).call(lambda: get(client, url), classify)
    assert sleeps == [0.5, 1.0, 2.0]
    assert server.hits["/a"] == 4
    assert raised.value.attempts == 4
    assert str(raised.value) == "HTTP 503; no retries left (retry.max_retries=3)"


def test_a_timeout_and_a_refused_connection_are_retried(sleeps: list[float]) -> None:
    with StaticHTTPServer() as gone:
        url = gone.url("/a")  # nothing listens here once the server stopped
    with httpx.Client() as client, pytest.raises(RetryExhausted, match="connection failed"):
        policy(sleeps, max_retries=1).call(lambda: get(client, url), classify)
    assert len(sleeps) == 1


def test_other_client_errors_are_not_retried(server: StaticHTTPServer, sleeps: list[float]) -> None:
    url = server.url("/missing")
    with httpx.Client() as client, pytest.raises(httpx.HTTPStatusError):
        policy(sleeps).call(lambda: get(client, url), classify)
    assert sleeps == [] and server.hits["/missing"] == 1


def test_a_pause_beyond_retry_after_max_fails_at_once(
    server: StaticHTTPServer, sleeps: list[float]
) -> None:
    url = server.route("/a", Reply(status=429, headers={"Retry-After": "600"}))
    with httpx.Client() as client, pytest.raises(RetryExhausted, match="after 600 s, longer"):
        policy(sleeps, retry_after_max=60).call(lambda: get(client, url), classify)
    assert sleeps == [] and server.hits["/a"] == 1


def test_a_pause_past_the_time_budget_is_not_started(
    server: StaticHTTPServer, sleeps: list[float]
) -> None:
    url = server.route("/a", Reply(status=503, headers={"Retry-After": "30"}))
    with httpx.Client() as client, pytest.raises(RetryExhausted, match="time budget"):
        policy(sleeps, max_seconds=10).call(lambda: get(client, url), classify)
    assert sleeps == []


def test_one_budget_is_shared_by_every_request_of_a_logical_call(
    server: StaticHTTPServer, sleeps: list[float]
) -> None:
    first = server.route("/first", Reply(status=500), Reply(status=500), Reply(body="one"))
    second = server.route("/second", Reply(status=500), Reply(body="two"))
    retry = policy(sleeps, max_retries=2)
    budget = retry.budget()
    with httpx.Client() as client:
        assert retry.call(lambda: get(client, first), classify, budget=budget) == "one"
        # The first request spent both retries: the second gets none of its own.
        with pytest.raises(RetryExhausted, match="no retries left"):
            retry.call(lambda: get(client, second), classify, budget=budget)
    assert server.hits["/second"] == 1
    assert budget.attempts == 4 and budget.retries == 2


def test_retry_after_parsing() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds({"retry-after": "2.5"}) == 2.5
    assert retry_after_seconds({"Retry-After-Ms": "250"}) == 0.25
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after_seconds({"retry-after": date}, now=now) == pytest.approx(30, abs=1)
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert retry_after_seconds({"retry-after": past}, now=now) == 0.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_a_server_that_accepts_but_never_answers_times_out_and_is_retried(
    sleeps: list[float],
) -> None:
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)  # connections queue, nothing ever answers them
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/a"
        with (
            httpx.Client(timeout=0.2) as client,
            pytest.raises(RetryExhausted, match="timed out; no retries left"),
        ):
            policy(sleeps, max_retries=1).call(lambda: get(client, url), classify)
    assert len(sleeps) == 1
