"""Fetching a source over HTTP: a timeout per request, the shared retry policy
(`store/retry.py`) and a clear error naming the URL when it gives up.

Connection errors, timeouts, 429 and 5xx are transient (the server's `Retry-After` is honoured);
any other 4xx fails at once, because asking again will not help.
"""

from __future__ import annotations

import httpx

from store.config import RetrySettings, SourceSettings
from store.retry import RetryExhausted, RetryPolicy, Transient, transient_status
from store.sources.common import SourceError

USER_AGENT = "paperbrief/0.1 (reads paper abstracts; https://github.com/paperbrief)"


class _TransientFetch(Exception):
    def __init__(self, transient: Transient) -> None:
        super().__init__(transient.reason)
        self.transient = transient


def _classify(exc: BaseException) -> Transient | None:
    return exc.transient if isinstance(exc, _TransientFetch) else None


def _fetch_once(client: httpx.Client, url: str) -> str:
    try:
        response = client.get(url)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise SourceError(f"{url}: not a usable URL: {exc}") from exc
    except httpx.TimeoutException as exc:
        raise _TransientFetch(Transient(f"timed out ({type(exc).__name__})")) from exc
    except httpx.TransportError as exc:
        raise _TransientFetch(Transient(f"connection failed: {exc}")) from exc
    status = response.status_code
    reason = f"HTTP {status} {response.reason_phrase}".rstrip()
    transient = transient_status(status, response.headers)
    if transient is not None:
        raise _TransientFetch(Transient(reason, transient.retry_after))
    if status >= 400:
        raise SourceError(f"{url}: {reason}")
    return response.text


def fetch_text(
    url: str,
    settings: SourceSettings,
    retry: RetrySettings | RetryPolicy | None = None,
) -> str:
    """The body of `url` as text; `SourceError` naming the URL and last failure if it gives up."""
    policy = retry if isinstance(retry, RetryPolicy) else RetryPolicy(retry)
    timeout = httpx.Timeout(settings.http_timeout)
    headers = {"User-Agent": USER_AGENT}
    with httpx.Client(timeout=timeout, headers=headers, follow_redirects=True) as client:
        try:
            return policy.call(lambda: _fetch_once(client, url), _classify)
        except RetryExhausted as exc:
            noun = "attempt" if exc.attempts == 1 else "attempts"
            raise SourceError(f"{url}: gave up after {exc.attempts} {noun}: {exc}") from exc
