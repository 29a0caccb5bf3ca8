"""What every paperbrief network server shares: where it may bind, and the token gate.

`paperbrief serve` (web app + OpenAI-compatible API) and `paperbrief mcp --http` bind
127.0.0.1 by default. Binding anything else (another interface, 0.0.0.0) exposes the store and
the writer to the network, so it is refused unless `serve.token` is set; with a token, every
request must carry it (`Authorization: Bearer TOKEN`, or for a browser `?token=TOKEN` once,
which sets a cookie). A token set for a loopback bind is enforced the same way.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from agent.errors import BindError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_COOKIE = "paperbrief_token"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback `host` without a token (`BindError` says how to set one)."""
    if not is_loopback(host) and not token:
        raise BindError(
            f"refusing to listen on {host}: only 127.0.0.1 is served without a token; set "
            "PAPERBRIEF_SERVE__TOKEN (or --token) to expose paperbrief beyond this machine"
        )


class TokenGate:
    """ASGI middleware letting through only requests that carry `token`."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    def _presented(self, scope: Scope) -> tuple[str | None, bool]:
        """The token the request carries, and whether it came in the query string."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip(), False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if query.get("token"):
            return query["token"][0], True
        cookie = SimpleCookie(headers.get("cookie", ""))
        if TOKEN_COOKIE in cookie:
            return cookie[TOKEN_COOKIE].value, False
        return None, False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        presented, from_query = self._presented(scope)
        if presented is None or not secrets.compare_digest(presented, self.token):
            body = b'{"error": {"message": "a valid token is required", "type": "auth"}}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"www-authenticate", b"Bearer"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if not from_query:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = f"{TOKEN_COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def gated(app: ASGIApp, token: str | None) -> ASGIApp:
    """`app` behind the token gate when a token is set."""
    return TokenGate(app, token) if token else app


def serve_asgi(app: ASGIApp, host: str, port: int, token: str | None) -> None:
    """Run `app` with uvicorn on host:port until interrupted (after `check_bind`)."""
    import uvicorn

    check_bind(host, token)
    uvicorn.run(gated(app, token), host=host, port=port, log_level="warning")
