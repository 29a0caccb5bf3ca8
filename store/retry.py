"""The one retry policy of every network client: the LLM (`agent/llm.py`), URL sources
(`store/sources/http.py`) and remote embeddings (`store/embeddings/remote.py`).

It lives in `store/` because the store may not import the agent, while the agent may import the
store. Clients own their wire protocol and tell the policy, through a `classify` function, which
failures are transient (`Transient`: 429, 5xx, timeouts, connection errors) and what pause the
server asked for; everything else fails at once. The policy owns the rest, with one meaning for
every client (the `retry` settings section, `RetrySettings`):

- an *attempt* is one request sent; a *retry* is an attempt repeated after a transient failure.
  `max_retries` bounds the retries of one **logical call**, whatever number of requests the call
  makes: the LLM's repair request, its re-sends after learning an endpoint quirk and its
  response-format fallbacks all draw on the `RetryBudget` of the call that made them;
- `max_seconds` bounds the wall-clock time of the logical call: a retry whose pause would end
  beyond it is not started;
- pauses double from `backoff` up to `backoff_max`, with jitter so parallel calls that failed
  together do not retry together; a server's `Retry-After` (seconds, an HTTP date, or
  `retry-after-ms`) replaces the backoff, and one longer than `retry_after_max`, or than the
  time left, ends the call at once instead of waiting for nothing;
- when it gives up it raises `RetryExhausted`, carrying the last failure, the attempts and the
  seconds spent, and why it stopped; the client turns that into its own public error.

Clients are built without retries of their own (the OpenAI client with `max_retries=0`, httpx
with none), so nothing ever retries a retry.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception

from store.config import RetrySettings

log = logging.getLogger(__name__)

R = TypeVar("R")

__all__ = [
    "RetryBudget",
    "RetryExhausted",
    "RetryPolicy",
    "RetrySettings",
    "Transient",
    "retry_after_seconds",
    "transient_status",
]


def retry_after_seconds(
    headers: Mapping[str, str] | None, now: float | None = None
) -> float | None:
    """The pause a response asks for, in seconds: `retry-after-ms`, else `Retry-After` as
    delta seconds or an HTTP date (`now` is the epoch time it is measured from). None when
    absent or unreadable; never negative."""
    if headers is None:
        return None
    millis = _header(headers, "retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return max(0.0, value)
    raw = _header(headers, "retry-after")
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is None:
            return None
        seconds = email.utils.mktime_tz(parsed) - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        # A plain dict is case-sensitive; httpx and email headers are not.
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


@dataclass
class Transient:
    """A failure worth another attempt: what happened, and the pause the server asked for."""

    reason: str
    retry_after: float | None = None


def transient_status(status: int, headers: Mapping[str, str] | None) -> Transient | None:
    """The HTTP statuses every client retries: 429 and 5xx, with the server's `Retry-After`."""
    if status == 429 or status >= 500:
        return Transient(f"HTTP {status}", retry_after_seconds(headers))
    return None


class RetryBudget:
    """What one logical call may still spend on retries; shared by every request it makes.

    Thread-safe, since nothing stops a call from sending requests from several threads.
    """

    def __init__(self, settings: RetrySettings, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self._clock = clock
        self.started = clock()
        self.attempts = 0
        """Requests sent, first tries and retries together."""
        self.retries = 0
        """Requests re-sent after a transient failure."""
        self._lock = threading.Lock()

    @property
    def seconds(self) -> float:
        """Seconds since the logical call began."""
        return self._clock() - self.started

    @property
    def retries_left(self) -> int:
        return max(0, self.settings.max_retries - self.retries)

    def _count_attempt(self) -> None:
        with self._lock:
            self.attempts += 1

    def _count_retry(self) -> None:
        with self._lock:
            self.retries += 1


class RetryExhausted(Exception):
    """The policy gave up on a transient failure; `last` is that failure, `why` the limit hit."""

    def __init__(self, last: BaseException, transient: Transient, why: str, budget: RetryBudget):
        self.last = last
        self.transient = transient
        self.why = why
        self.attempts = budget.attempts
        self.seconds = budget.seconds
        super().__init__(f"{transient.reason}; {why}")


@dataclass
class RetryEvent:
    """One retry about to happen, for logging and usage accounting."""

    reason: str
    retry: int
    max_retries: int
    pause: float


class RetryPolicy:
    """Runs requests under the retry settings. `sleep` and `clock` are injectable for tests."""

    def __init__(
        self,
        settings: RetrySettings | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.settings = settings or RetrySettings()
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    def budget(self) -> RetryBudget:
        """A fresh budget: make one per logical call and pass it to each `call` it makes."""
        return RetryBudget(self.settings, self._clock)

    def backoff(self, retry: int) -> float:
        """The pause before retry number `retry` (1-based) when the server asked for none."""
        settings = self.settings
        pause = min(settings.backoff_max, settings.backoff * 2 ** (retry - 1))
        return pause * self._jitter(0.5, 1.0)

    def call(
        self,
        request: Callable[[], R],
        classify: Callable[[BaseException], Transient | None],
        *,
        budget: RetryBudget | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> R:
        """`request()`, retried while `classify` calls its failure transient and `budget`
        allows. A failure `classify` rejects propagates unchanged; a transient one the budget
        cannot cover raises `RetryExhausted` from it."""
        budget = budget if budget is not None else self.budget()
        settings = self.settings
        stopped: dict[str, Any] = {}

        def attempt() -> R:
            budget._count_attempt()
            return request()

        def transient_of(state: RetryCallState) -> Transient | None:
            outcome = state.outcome
            exc = outcome.exception() if outcome is not None else None
            return classify(exc) if exc is not None else None

        def wait(state: RetryCallState) -> float:
            found = transient_of(state)
            if found is not None and found.retry_after is not None:
                return found.retry_after
            return self.backoff(budget.retries + 1)

        def stop(state: RetryCallState) -> bool:
            found = transient_of(state)
            pause = state.upcoming_sleep
            why = None
            asked = found.retry_after if found is not None else None
            if asked is not None and asked > settings.retry_after_max:
                why = (
                    f"the server asked to retry after {asked:.0f} s, longer "
                    f"than retry.retry_after_max={settings.retry_after_max:g} s"
                )
            if why is None and budget.retries >= settings.max_retries:
                why = f"no retries left (retry.max_retries={settings.max_retries})"
            if why is None and budget.seconds + pause > settings.max_seconds:
                why = (
                    f"a retry in {pause:.1f} s would pass the call's time budget "
                    f"(retry.max_seconds={settings.max_seconds:g})"
                )
            if why is not None:
                stopped["why"] = why
                return True
            return False

        def before_sleep(state: RetryCallState) -> None:
            budget._count_retry()
            found = transient_of(state)
            event = RetryEvent(
                reason=found.reason if found else "transient failure",
                retry=budget.retries,
                max_retries=settings.max_retries,
                pause=state.upcoming_sleep,
            )
            log.info(
                "%s; retry %d/%d in %.2f s",
                event.reason,
                event.retry,
                event.max_retries,
                event.pause,
            )
            if on_retry is not None:
                on_retry(event)

        retrying = Retrying(
            retry=retry_if_exception(lambda exc: classify(exc) is not None),
            stop=stop,
            wait=wait,
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except Exception as exc:
            found = classify(exc)
            if found is None or "why" not in stopped:
                raise
            raise RetryExhausted(exc, found, stopped["why"], budget) from exc
