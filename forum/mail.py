"""Outgoing e-mail: messages queued in the database, composed from templates, sent by a worker.

A message is composed when it is decided (its text, HTML and Message-ID stored in a MailDelivery
row in the same transaction), and sent later by `send_pending`, which claims a row, sends it and
marks it sent. A worker killed between claim and mark leaves a claim that times out and is sent
again under the same Message-ID, so mail clients show it once.

Transport comes from one setting, FORUM_MAIL_URL: `smtp://user:pass@host:25` (plain, or STARTTLS
when `?starttls=1`), `smtps://host:465`, or empty: each message written as an .eml file under
instance/mail/ with its subject logged, for a site with no SMTP server.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, render_template
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from forum.database import utcnow, write_transaction
from forum.models import MailDelivery, MailStatus

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
CLAIM_BATCH = 20  # messages claimed per transaction
QUEUED = "forum_mail_queued"  # session.info flag: wake the worker after this commit
# The server refused this message for good (a bad address): no retry, `jobs retry` can force one.
REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused)
_RELATIVE_LINK = re.compile(r'(href|src)="/(?!/)')


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


class FileTransport:
    """Writes each message to <folder>/<Message-ID>.eml: what would have gone out, readable."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.@-]", "_", message["Message-ID"].strip("<>"))
        path = self.folder / f"{name}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(message.as_bytes())
        tmp.replace(path)
        log.info("mail to %s written to %s: %s", message["To"], path, message["Subject"])

    def close(self) -> None:
        pass


class SMTPTransport:
    """One SMTP connection, opened on first use and reused for a batch of messages."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        parts = urlsplit(url)
        options = parse_qs(parts.query)
        self.ssl = parts.scheme == "smtps"
        self.starttls = options.get("starttls", ["0"])[0] in ("1", "true", "yes")
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.ssl else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.ssl:
            connection = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                connection.starttls(context=context)
        if self.username:
            connection.login(self.username, self.password or "")
        return connection

    def send(self, message: EmailMessage) -> None:
        if self.connection is None:
            self.connection = self._connect()
        self.connection.send_message(message)

    def close(self) -> None:
        if self.connection is not None:
            # Closing anyway: a server that went away needs no goodbye.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
            self.connection = None


def transport() -> Transport:
    url = current_app.config["MAIL_URL"]
    if not url:
        folder = current_app.config["MAIL_FILE_DIR"] or Path(current_app.instance_path) / "mail"
        return FileTransport(Path(folder))
    if urlsplit(url).scheme not in ("smtp", "smtps"):
        raise ValueError("FORUM_MAIL_URL must be smtp://, smtps:// or empty")
    # A send must end well inside a claim's life, or another worker could take the claim over.
    return SMTPTransport(url, timeout=min(30, current_app.config["MAIL_CLAIM_TIMEOUT"] / 4))


def absolute_links(html: str) -> str:
    """Stored post HTML links to /members/... and /static/...: in e-mail they need the site."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return _RELATIVE_LINK.sub(rf'\1="{base}/', html)


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str


def compose(template: str, subject: str, **context) -> Composed:
    """Render templates/mail/<template>.txt (literal text) and .html (escaped) with a footer."""
    context = {"subject": subject, "site_url": current_app.config["BASE_URL"], **context}
    return Composed(
        subject=subject,
        text=render_template(f"mail/{template}.txt", **context),
        html=render_template(f"mail/{template}.html", **context),
    )


def new_message_id() -> str:
    domain = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def queue(
    session: Session,
    *,
    to: str,
    composed: Composed,
    purpose: str,
    member_id: int | None = None,
    event_id: int | None = None,
    unsubscribe_url: str = "",
) -> MailDelivery:
    """Add a message to the queue inside the caller's unit of work; sent after the commit."""
    delivery = MailDelivery(
        member_id=member_id,
        event_id=event_id,
        purpose=purpose,
        to_address=to,
        subject=composed.subject[:255],
        text_body=composed.text,
        html_body=composed.html,
        unsubscribe_url=unsubscribe_url,
        message_id=new_message_id(),
    )
    session.add(delivery)
    session.info[QUEUED] = True
    return delivery


def build_message(delivery: MailDelivery) -> EmailMessage:
    """The message as sent: a plain-text part and an HTML part, one-click unsubscribe headers."""
    message = EmailMessage()
    message["From"] = formataddr(
        (current_app.config["MAIL_SENDER_NAME"], current_app.config["MAIL_SENDER"])
    )
    message["To"] = delivery.to_address
    message["Subject"] = delivery.subject
    message["Message-ID"] = delivery.message_id
    message["Date"] = format_datetime(delivery.created_at)
    message["Auto-Submitted"] = "auto-generated"
    if delivery.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{delivery.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(delivery.text_body)
    message.add_alternative(delivery.html_body, subtype="html")
    return message


def _claim(claim_timeout: timedelta, count: int) -> tuple[datetime, list[tuple[int, EmailMessage]]]:
    """Mark the oldest sendable messages as being sent (one short transaction) and build them.

    Claimed in batches to spare a transaction per message; each is still marked sent on its
    own, so a worker killed mid-batch leaves at most one message whose fate is unknown (the
    others were never handed to the server and simply wait out the claim).
    """
    now = utcnow()
    with write_transaction() as session:
        sendable = select(MailDelivery).where(
            or_(
                MailDelivery.status == MailStatus.PENDING,
                (MailDelivery.status == MailStatus.SENDING)
                & (MailDelivery.claimed_at < now - claim_timeout),
            )
        )
        if session.get_bind().dialect.name == "postgresql":
            sendable = sendable.with_for_update(skip_locked=True)
        deliveries = session.scalars(sendable.order_by(MailDelivery.id).limit(count)).all()
        if not deliveries:
            return now, []
        session.execute(
            update(MailDelivery)
            .where(MailDelivery.id.in_([d.id for d in deliveries]))
            .values(
                status=MailStatus.SENDING,
                claimed_at=now,
                attempts=MailDelivery.attempts + 1,
            )
        )
        return now, [(d.id, build_message(d)) for d in deliveries]


def _finish(delivery_id: int, error: str = "", permanent: bool = False) -> None:
    with write_transaction() as session:
        delivery = session.get(MailDelivery, delivery_id)
        if not error:
            delivery.status, delivery.sent_at, delivery.last_error = MailStatus.SENT, utcnow(), ""
        else:
            delivery.last_error = error[:500]
            given_up = permanent or delivery.attempts >= MAX_ATTEMPTS
            delivery.status = MailStatus.FAILED if given_up else MailStatus.PENDING


def send_pending(limit: int | None = None) -> int:
    """Send queued messages until none is left (or limit); returns how many were sent.

    A batch is sent only while its claim is young (half the claim timeout): past that another
    worker may take the claim over as abandoned, so the rest is given back and claimed anew.
    """
    claim_timeout = timedelta(seconds=current_app.config["MAIL_CLAIM_TIMEOUT"])
    sender = transport()
    sent = 0
    try:
        while limit is None or sent < limit:
            batch_size = CLAIM_BATCH if limit is None else min(CLAIM_BATCH, limit - sent)
            claimed_at, batch = _claim(claim_timeout, batch_size)
            if not batch:
                break
            young_until = time.monotonic() + claim_timeout.total_seconds() / 2
            for index, (delivery_id, message) in enumerate(batch):
                if time.monotonic() > young_until:
                    _give_back([i for i, _ in batch[index:]], claimed_at)
                    break
                try:
                    sender.send(message)
                except REFUSED as exc:  # this message only (a bad address): the rest go on
                    log.warning("mail %s refused: %s", delivery_id, exc)
                    _finish(delivery_id, error=str(exc) or type(exc).__name__, permanent=True)
                    continue
                except (OSError, smtplib.SMTPException) as exc:
                    log.warning("sending mail %s failed: %s", delivery_id, exc)
                    _finish(delivery_id, error=str(exc) or type(exc).__name__)
                    _give_back([i for i, _ in batch[index + 1 :]], claimed_at)
                    return sent  # the server is unwell: the next run tries again
                _finish(delivery_id)
                sent += 1
    finally:
        sender.close()
    return sent


def _give_back(delivery_ids: list[int], claimed_at: datetime) -> None:
    """Return claimed, unsent messages to the queue (those still under this claim only)."""
    if not delivery_ids:
        return
    with write_transaction() as session:
        session.execute(
            update(MailDelivery)
            .where(
                MailDelivery.id.in_(delivery_ids),
                MailDelivery.status == MailStatus.SENDING,
                MailDelivery.claimed_at == claimed_at,
            )
            .values(status=MailStatus.PENDING, attempts=MailDelivery.attempts - 1)
        )
