"""Mail delivery through a real SMTP server on 127.0.0.1, and the ledger of what was sent."""

from __future__ import annotations

import logging
import ssl
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.mail import MailError, SentLedger, build_message, send_message
from agent.settings import EmailSettings
from store.models import Paper
from tests.support.smtp_server import (
    PASSWORD,
    USER,
    SMTPSink,
    free_port,
    server_context,
    start_smtp,
)


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
    settings = EmailSettings(smtp_host="127.0.0.1", smtp_port=free_port(), security="none")
    with pytest.raises(MailError, match="failed"):
        send_message(_message(), settings, ["ada@example.org"])


def test_missing_host_is_a_clear_error() -> None:
    with pytest.raises(MailError, match="smtp_host"):
        send_message(_message(), EmailSettings(), ["ada@example.org"])


def test_starttls_upgrades_before_login(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    sink = SMTPSink("127.0.0.1", free_port())
    controller = start_smtp(sink, tls_context=server_context(cert, key), require_starttls=True)
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
    sink = SMTPSink("127.0.0.1", free_port())
    # The whole connection is TLS; aiosmtpd's own TLS check only knows about STARTTLS.
    controller = start_smtp(sink, ssl_context=server_context(cert, key), auth_require_tls=False)
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
