"""Fetching a source over HTTP: timeouts, bounded retries and a clear error when it gives up.

One tenacity policy owns the retries: connection errors, timeouts, 429 (honouring Retry-After)
and 5xx are retried up to `http_retries` times with a doubling pause that starts at
`http_backoff` seconds; any other 4xx fails at once, because asking again will not help.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

from store.config import SourceSettings
from store.sources.common import SourceError

USER_AGENT = "paperbrief/0.1 (reads paper abstracts; https://github.com/paperbrief)"
# A server asking for a longer pause than this is told "no" rather than waited on for minutes.
MAX_RETRY_AFTER = 120.0


class RetryableFetch(Exception):
    """A failure worth another attempt, with the pause the server asked for, if any."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _fetch_once(client: httpx.Client, url: str) -> str:
    try:
        response = client.get(url)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise SourceError(f"{url}: not a usable URL: {exc}") from exc
    except httpx.TimeoutException as exc:
        raise RetryableFetch(f"timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise RetryableFetch(f"connection failed: {exc}") from exc
    status = response.status_code
    if status == 429 or status >= 500:
        reason = f"HTTP {status} {response.reason_phrase}".rstrip()
        pause = retry_after_seconds(response.headers.get("Retry-After"))
        if pause is not None and pause > MAX_RETRY_AFTER:
            raise SourceError(f"{url}: {reason}; server asks to retry after {pause:.0f}s")
        raise RetryableFetch(reason, pause)
    if status >= 400:
        raise SourceError(f"{url}: HTTP {status} {response.reason_phrase}".rstrip())
    return response.text


def fetch_text(url: str, settings: SourceSettings) -> str:
    """The body of `url` as text; `SourceError` naming the URL and last failure if it gives up."""
    attempts = settings.http_retries + 1

    def pause(state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, RetryableFetch) and failure.retry_after is not None:
            return failure.retry_after
        return float(settings.http_backoff * 2 ** (state.attempt_number - 1))

    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=pause,
        retry=retry_if_exception_type(RetryableFetch),
        reraise=True,
    )
    timeout = httpx.Timeout(settings.http_timeout)
    headers = {"User-Agent": USER_AGENT}
    with httpx.Client(timeout=timeout, headers=headers, follow_redirects=True) as client:
        try:
            for attempt in retrying:
                with attempt:
                    return _fetch_once(client, url)
        except RetryableFetch as exc:
            noun = "attempt" if attempts == 1 else "attempts"
            raise SourceError(f"{url}: gave up after {attempts} {noun}: {exc.reason}") from exc
    raise AssertionError("unreachable: tenacity either returns or re-raises")
