"""Mail delivery through a real SMTP server on 127.0.0.1, and the ledger of what was sent."""

from __future__ import annotations

import email
import logging
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

from agent.mail import MailError, SentLedger, build_message, send_message
from agent.settings import EmailSettings
from store.models import Paper

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


def _free_port() -> int:
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


def _start(sink: SMTPSink, **kwargs: Any) -> Controller:
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
    sink = SMTPSink("127.0.0.1", _free_port())
    controller = _start(sink, auth_require_tls=False)
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


def _server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def _message(title: str = "Fast decoding") -> EmailMessage:
    return build_message(
        subject="paperbrief weekly — 2025-W21",
        text=f"paperbrief weekly\n\n* {title}\n",
        html=f"<html><body><p>{title}</p></body></html>",
        sender="paperbrief@example.org",
        recipients=["ada@example.org", "alan@example.org"],
    )


def test_message_is_text_then_html_alternative() -> None:
    message = _message()
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert message["To"] == "ada@example.org, alan@example.org"
    assert message["Message-ID"].endswith("@example.org>")


def test_no_recipients_is_a_clear_error() -> None:
    with pytest.raises(MailError, match="recipients"):
        build_message("s", "t", "<p>h</p>", "a@example.org", [])


def test_plain_smtp_with_login_delivers_to_every_recipient(
    smtp_server: SMTPSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    message = _message()
    send_message(message, smtp_server.settings(), ["ada@example.org", "alan@example.org"])
    ((rcpts, received),) = smtp_server.received
    assert rcpts == ["ada@example.org", "alan@example.org"]
    assert received["Subject"] == "paperbrief weekly — 2025-W21"
    assert smtp_server.logins == [USER]
    plain = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert plain is not None and "Fast decoding" in plain.get_content()
    assert html is not None and "<p>Fast decoding</p>" in html.get_content()
    assert PASSWORD not in caplog.text
    assert "127.0.0.1" in caplog.text


def test_wrong_password_is_reported_without_the_password(smtp_server: SMTPSink) -> None:
    wrong = "wrong-" + PASSWORD
    settings = smtp_server.settings(password=SecretStr(wrong))
    with pytest.raises(MailError) as raised:
        send_message(_message(), settings, ["ada@example.org"])
    assert "refused" in str(raised.value)
    assert wrong not in str(raised.value)
    assert smtp_server.received == []


def test_unreachable_server_is_a_mail_error() -> None:
    settings = EmailSettings(smtp_host="127.0.0.1", smtp_port=_free_port(), security="none")
    with pytest.raises(MailError, match="failed"):
        send_message(_message(), settings, ["ada@example.org"])


def test_missing_host_is_a_clear_error() -> None:
    with pytest.raises(MailError, match="smtp_host"):
        send_message(_message(), EmailSettings(), ["ada@example.org"])


def test_starttls_upgrades_before_login(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    sink = SMTPSink("127.0.0.1", _free_port())
    controller = _start(sink, tls_context=_server_context(cert, key), require_starttls=True)
    try:
        client_context = ssl.create_default_context(cafile=str(cert))
        send_message(
            _message(), sink.settings(security="starttls"), ["ada@example.org"], client_context
        )
    finally:
        controller.stop()
    assert sink.logins == [USER]
    assert len(sink.received) == 1


def test_ssl_connects_over_tls_from_the_start(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    sink = SMTPSink("127.0.0.1", _free_port())
    controller = Controller(
        _Handler(sink),
        hostname=sink.host,
        port=sink.port,
        ssl_context=_server_context(cert, key),
        authenticator=_authenticator(sink),
        # The whole connection is TLS; aiosmtpd only knows about STARTTLS.
        auth_require_tls=False,
    )
    controller.start()
    try:
        client_context = ssl.create_default_context(cafile=str(cert))
        send_message(_message(), sink.settings(security="ssl"), ["ada@example.org"], client_context)
    finally:
        controller.stop()
    assert sink.logins == [USER]
    assert len(sink.received) == 1


def _paper(pid: str, abstract: str) -> Paper:
    return Paper(id=pid, title=f"Paper {pid}", abstract=abstract, source="test")


def test_ledger_tells_sent_unchanged_from_sent_and_changed(tmp_path: Path) -> None:
    ledger = SentLedger.in_data_dir(tmp_path)
    a, b, c = _paper("a", "First."), _paper("b", "Second."), _paper("c", "Third.")
    ledger.record("2025-W20", ["ada@example.org"], [a, b], "<m1@x>", "week 20")
    b_changed = _paper("b", "Second, revised.")
    already, updated = ledger.classify([a, b_changed, c], "2025-W21")
    assert already == ["a"]
    assert updated == ["b"]
    # The week that sent them does not count as "earlier" when it is rebuilt.
    assert ledger.classify([a, b_changed, c], "2025-W20") == ([], [])


def test_ledger_remembers_sends_per_week_and_recipient_list(tmp_path: Path) -> None:
    ledger = SentLedger.in_data_dir(tmp_path)
    ledger.record("2025-W21", ["Ada@example.org", "alan@example.org"], [], "<m@x>", "s")
    assert ledger.was_sent("2025-W21", ["alan@example.org", "ada@example.org"])
    assert not ledger.was_sent("2025-W21", ["ada@example.org"])
    assert not ledger.was_sent("2025-W22", ["ada@example.org", "alan@example.org"])
    reopened = SentLedger.in_data_dir(tmp_path)
    assert [s["week"] for s in reopened.sends()] == ["2025-W21"]
