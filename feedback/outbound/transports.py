"""Outgoing mail: build the MIME message and hand it to a transport (Maildir outbox or relay).

Every message carries ``Auto-Submitted: auto-generated`` and ``X-Auto-Response-Suppress: All`` so
autoresponders stay quiet, and goes out with the envelope sender set to the request's token
address, so a bounce comes back to a token. Transports are injected, never patched.
"""

from __future__ import annotations

import asyncio
import mailbox
import secrets
import time
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from feedback.outbound.rendering import RenderedMail
from feedback.runtime.errors import FeedbackError
from feedback.runtime.settings import Settings


class OutboxError(FeedbackError):
    """The local outbox (a Maildir) cannot be created or written."""


class Transport(Protocol):
    async def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None: ...


def make_message_id(domain: str) -> str:
    return f"<{time.strftime('%Y%m%d%H%M%S')}.{secrets.token_hex(8)}@{domain}>"


def build_message(
    *,
    rendered: RenderedMail,
    from_addr: str,
    from_name: str,
    to: str,
    to_name: str = "",
    message_id: str,
    in_reply_to: str | None = None,
    references: str | None = None,
    purpose: str = "request",
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((from_name, from_addr))
    msg["Reply-To"] = from_addr
    msg["To"] = str(Address(display_name=to_name, addr_spec=to)) if to_name else to
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = references or in_reply_to
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["X-Feedback-Purpose"] = purpose
    msg["X-Feedback-Template"] = f"{rendered.template}; version={rendered.version}"
    msg.set_content(rendered.text)
    if rendered.html:
        msg.add_alternative(rendered.html, subtype="html")
    return msg


class MaildirTransport:
    """Delivers into a local Maildir (the embedded default's outbox; `new/` holds unread mail)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def ensure(self) -> None:
        """Create the Maildir and the folders above it if needed.

        ``mailbox.Maildir(create=True)`` makes only the last folder, and only when it is missing:
        with PostgreSQL nothing creates the data dir, so every mail failed ("send failed"), and an
        existing empty folder had no ``tmp/new/cur``. Three ``mkdir`` calls per mail cost nothing.
        """
        try:
            for sub in ("tmp", "new", "cur"):
                (self.path / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutboxError(
                f"cannot create the outbox {self.path}: {exc.strerror}",
                hint="set outbox_dir (FEEDBACK_OUTBOX_DIR) or data_dir (FEEDBACK_DATA_DIR) to a folder "
                "you can write, or outbound = 'smtp' with a relay_url",
            ) from None

    def _write(self, message: EmailMessage, envelope_from: str, recipients: list[str]) -> None:
        self.ensure()
        box = mailbox.Maildir(self.path, create=False)
        del message["Return-Path"]
        message["Return-Path"] = f"<{envelope_from}>"
        del message["X-Envelope-To"]
        message["X-Envelope-To"] = ", ".join(recipients)
        box.add(message)

    async def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None:
        await asyncio.to_thread(self._write, message, envelope_from, recipients)


class SmtpRelayTransport:
    """Sends through an SMTP relay: ``smtp://user:pass@host:587?starttls=true`` or ``smtps://``."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.hostname = parts.hostname or "localhost"
        self.use_tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.use_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.start_tls: bool | None = (query.get("starttls", [""])[0].lower() in {"1", "true", "yes"}) or None
        self.timeout = timeout

    async def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None:
        import aiosmtplib

        await aiosmtplib.send(
            message,
            sender=envelope_from,
            recipients=recipients,
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            start_tls=self.start_tls,
            timeout=self.timeout,
        )


def transport_for(settings: Settings) -> Transport:
    if settings.outbound == "smtp" and settings.relay_url:
        return SmtpRelayTransport(settings.relay_url)
    return MaildirTransport(settings.resolved_outbox)
