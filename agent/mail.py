"""Delivering a briefing by mail, and the ledger of what was sent.

`build_message` makes one multipart/alternative message (plain text first, HTML second, as
RFC 2046 orders them: the last part is the preferred one). `send_message` speaks SMTP with
STARTTLS, implicit TLS (SSL) or no security; the password comes from the settings (env
`PAPERBRIEF_EMAIL__PASSWORD` or the config file) and is never logged or printed: log lines name
the host, port, user and recipients only.

`SentLedger` is an SQLite file in the data directory. It records, per paper, the content hash,
week and recipients of every briefing that carried it, and, per week and recipient list, that
a briefing was sent. From it a briefing knows which papers were already sent in an earlier
week (and which of those changed since), and `deliver` knows not to send the same week to the
same people twice.
"""

from __future__ import annotations

import json
import logging
import smtplib
import sqlite3
import ssl
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from pathlib import Path

from agent.errors import MailError
from agent.settings import EmailSettings
from store.models import Paper

log = logging.getLogger(__name__)

LEDGER_FILE = "sent_briefings.sqlite3"

_SCHEMA = """
create table if not exists sent_papers (
    paper_id text not null,
    content_hash text not null,
    week text not null,
    recipients text not null,
    sent_at text not null,
    primary key (paper_id, week, recipients)
);
create table if not exists sends (
    week text not null,
    recipients text not null,
    sent_at text not null,
    message_id text not null,
    subject text not null,
    papers integer not null,
    primary key (week, recipients)
);
"""


def recipient_key(recipients: Iterable[str]) -> str:
    """One canonical spelling of a recipient list: lower case, sorted, de-duplicated."""
    return json.dumps(sorted({r.strip().lower() for r in recipients if r.strip()}))


@dataclass(frozen=True)
class PriorSend:
    week: str
    content_hash: str


class SentLedger:
    """What was sent, kept in `<data_dir>/sent_briefings.sqlite3`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> SentLedger:
        return cls(Path(data_dir) / LEDGER_FILE)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def prior_sends(self, paper_ids: Sequence[str], week: str) -> dict[str, PriorSend]:
        """The latest send of each paper in a briefing of another week than `week`."""
        found: dict[str, PriorSend] = {}
        if not paper_ids:
            return found
        with closing(self._connect()) as db:
            for start in range(0, len(paper_ids), 500):
                chunk = list(paper_ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"select paper_id, content_hash, week from sent_papers "
                    f"where week != ? and paper_id in ({marks}) order by sent_at",
                    [week, *chunk],
                ).fetchall()
                for paper_id, content_hash, sent_week in rows:
                    found[paper_id] = PriorSend(week=sent_week, content_hash=content_hash)
        return found

    def classify(self, papers: Sequence[Paper], week: str) -> tuple[list[str], list[str]]:
        """(already_sent, updated): ids sent in an earlier briefing unchanged, and changed since."""
        prior = self.prior_sends([p.id for p in papers], week)
        already: list[str] = []
        updated: list[str] = []
        for paper in papers:
            sent = prior.get(paper.id)
            if sent is None:
                continue
            (already if sent.content_hash == paper.content_hash else updated).append(paper.id)
        return already, updated

    def was_sent(self, week: str, recipients: Iterable[str]) -> bool:
        with closing(self._connect()) as db:
            row = db.execute(
                "select 1 from sends where week = ? and recipients = ?",
                (week, recipient_key(recipients)),
            ).fetchone()
        return row is not None

    def sends(self) -> list[dict[str, str | int]]:
        """Every recorded send, oldest first (for `paperbrief brief --history` and tests)."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "select week, recipients, sent_at, message_id, subject, papers from sends "
                "order by sent_at"
            ).fetchall()
        keys = ("week", "recipients", "sent_at", "message_id", "subject", "papers")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def record(
        self,
        week: str,
        recipients: Iterable[str],
        papers: Sequence[Paper],
        message_id: str,
        subject: str,
    ) -> None:
        """Record one delivered briefing and the papers it carried."""
        key = recipient_key(recipients)
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        with closing(self._connect()) as db, db:
            db.execute(
                "insert or replace into sends values (?, ?, ?, ?, ?, ?)",
                (week, key, now, message_id, subject, len(papers)),
            )
            db.executemany(
                "insert or replace into sent_papers values (?, ?, ?, ?, ?)",
                [(p.id, p.content_hash, week, key, now) for p in papers],
            )


def sender_address(settings: EmailSettings) -> str:
    if settings.sender:
        return settings.sender
    if settings.username and "@" in settings.username:
        return settings.username
    return "paperbrief@localhost"


def build_message(
    subject: str, text: str, html: str, sender: str, recipients: Sequence[str]
) -> EmailMessage:
    """A multipart/alternative message: text/plain, then text/html (the preferred part)."""
    if not recipients:
        raise MailError("no recipients: set email.recipients or pass --to")
    message = EmailMessage(policy=SMTP)
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def smtp_port(settings: EmailSettings) -> int:
    if settings.smtp_port:
        return settings.smtp_port
    return {"starttls": 587, "ssl": 465, "none": 25}[settings.security]


def send_message(
    message: EmailMessage,
    settings: EmailSettings,
    recipients: Sequence[str],
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Send over SMTP as the settings say; raise `MailError` with the server's reason."""
    if not settings.smtp_host:
        raise MailError("no SMTP host: set email.smtp_host (PAPERBRIEF_EMAIL__SMTP_HOST)")
    host, port = settings.smtp_host, smtp_port(settings)
    context = ssl_context or ssl.create_default_context()
    log.info(
        "sending briefing via %s:%s (%s) as %s to %s",
        host,
        port,
        settings.security,
        settings.username or "no login",
        ", ".join(recipients),
    )
    try:
        client: smtplib.SMTP
        if settings.security == "ssl":
            client = smtplib.SMTP_SSL(host, port, timeout=settings.timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=settings.timeout)
        with client:
            client.ehlo()
            if settings.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if settings.username:
                password = settings.password.get_secret_value() if settings.password else ""
                client.login(settings.username, password)
            refused = client.send_message(message, to_addrs=list(recipients))
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(
            f"SMTP login as {settings.username} refused by {host}:{port} ({exc.smtp_code})"
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"sending via {host}:{port} failed: {type(exc).__name__}: {exc}") from None
    if refused:
        raise MailError(f"the server refused some recipients: {', '.join(sorted(refused))}")
