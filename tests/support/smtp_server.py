"""A real SMTP server on 127.0.0.1 (aiosmtpd) for tests of briefing delivery.

`smtp_server` yields an `SMTPSink`: where the server listens, what it received (envelope
recipients and the parsed message) and who logged in. It accepts one login, `USER` with
`PASSWORD`; `sink.settings()` gives `EmailSettings` that send to it. `tls_files` makes a
throwaway self-signed certificate, for STARTTLS and implicit-TLS servers started with
`start_smtp`.
"""

from __future__ import annotations

import email
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from agent.settings import EmailSettings

USER = "reader@example.org"
PASSWORD = "pw-9f2c-never-log-me"


@dataclass
class SMTPSink:
    """A running SMTP server and what it received."""

    host: str
    port: int
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    def settings(self, **overrides: Any) -> EmailSettings:
        values: dict[str, Any] = {
            "smtp_host": self.host,
            "smtp_port": self.port,
            "security": "none",
            "username": USER,
            "password": SecretStr(PASSWORD),
            "sender": "paperbrief@example.org",
            "recipients": ["ada@example.org"],
            "timeout": 10,
        }
        values.update(overrides)
        return EmailSettings(**values)


class _Handler:
    def __init__(self, sink: SMTPSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=default)
        assert isinstance(message, EmailMessage)
        self.sink.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _authenticator(sink: SMTPSink) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == USER
            and data.password.decode() == PASSWORD
        )
        if ok:
            sink.logins.append(data.login.decode())
        # handled=False: the server, not this callback, sends the 535 reply.
        return AuthResult(success=ok, handled=False)

    return check


def start_smtp(sink: SMTPSink, **kwargs: Any) -> Controller:
    controller = Controller(
        _Handler(sink),
        hostname=sink.host,
        port=sink.port,
        authenticator=_authenticator(sink),
        **kwargs,
    )
    controller.start()
    return controller


@pytest.fixture
def smtp_server() -> Iterator[SMTPSink]:
    """A plain SMTP server (no TLS) that accepts the test login."""
    sink = SMTPSink("127.0.0.1", free_port())
    controller = start_smtp(sink, auth_require_tls=False)
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context
