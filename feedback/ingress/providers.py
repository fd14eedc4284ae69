"""Inbound-mail webhooks of the common providers: verify the call, get the raw message (pure).

Each provider signs or authenticates its call differently; what comes out is the same: the raw
RFC 5322 message, the envelope sender and recipients. Nothing here stores anything: a call that
fails verification raises :class:`WebhookRefused` and never reaches the store.

- **Mailgun** routes ("forward" to ``.../mime``): form fields ``timestamp``, ``token``,
  ``signature`` = HMAC-SHA256(signing key, timestamp + token); the raw MIME in ``body-mime``.
  A timestamp older than ``max_age`` or a token seen before is a replay.
- **SendGrid** Inbound Parse in raw mode: ``email`` (the raw MIME) and ``envelope`` (JSON
  ``{"to": [...], "from": ...}``), authenticated by HTTP basic auth in the configured URL.
- **Postmark** inbound JSON (basic auth): ``RawEmail`` when the server includes it, else the
  message is rebuilt from ``Headers``, ``From``, ``To``, ``Subject``, ``TextBody``/``HtmlBody``.
- **Amazon SES** through SNS: see :mod:`feedback.ingress.sns`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any


class WebhookRefused(ValueError):
    """A call that is not what it claims to be, or not well formed; ``status`` is the HTTP answer."""

    def __init__(self, reason: str, *, status: int) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class InboundMail:
    raw: bytes
    mail_from: str
    recipients: tuple[str, ...]


class ReplayGuard:
    """Tokens seen recently (bounded); a second call with one of them is a replay."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, key: str) -> bool:
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True


def check_basic_auth(header: str | None, user: str, password: str) -> None:
    """HTTP basic auth as SendGrid and Postmark send it (credentials in the webhook URL)."""
    if not header or not header.lower().startswith("basic "):
        raise WebhookRefused("basic authentication required", status=401)
    try:
        given = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise WebhookRefused("malformed basic authentication", status=401) from None
    expected = f"{user}:{password}"
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise WebhookRefused("wrong webhook credentials", status=401)


def _addresses(*values: str) -> tuple[str, ...]:
    return tuple(addr.lower() for _, addr in getaddresses([v for v in values if v]) if "@" in addr)


def mailgun(
    form: Mapping[str, Any],
    *,
    signing_key: str,
    guard: ReplayGuard,
    now: float | None = None,
    max_age: float = 300,
) -> InboundMail:
    """Verify a Mailgun route call and return its raw message."""
    timestamp, token, signature = (str(form.get(k, "")) for k in ("timestamp", "token", "signature"))
    if not (timestamp and token and signature):
        raise WebhookRefused("missing Mailgun signature fields (timestamp, token, signature)", status=400)
    expected = hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise WebhookRefused("Mailgun signature does not verify", status=403)
    try:
        age = (time.time() if now is None else now) - float(timestamp)
    except ValueError:
        raise WebhookRefused("Mailgun timestamp is not a number", status=400) from None
    if abs(age) > max_age:
        raise WebhookRefused(f"Mailgun timestamp is {age:.0f} s old: a replay or a wrong clock", status=403)
    if not guard.first_time("mailgun:" + token):
        raise WebhookRefused("Mailgun token seen before: a replay", status=403)
    raw = form.get("body-mime")
    if raw is None:
        raise WebhookRefused(
            "no body-mime: point the Mailgun route at .../mailgun/mime (raw MIME)", status=400
        )
    data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "surrogateescape")
    rcpts = _addresses(str(form.get("recipient", "")))
    return InboundMail(data, str(form.get("sender", "")), rcpts)


def sendgrid(form: Mapping[str, Any]) -> InboundMail:
    """A SendGrid Inbound Parse call in raw mode (its basic auth is checked by the caller)."""
    raw = form.get("email")
    if raw is None:
        raise WebhookRefused("no 'email' field: enable 'POST the raw, full MIME message'", status=400)
    try:
        envelope = json.loads(str(form.get("envelope") or "{}"))
    except ValueError:
        raise WebhookRefused("SendGrid envelope is not JSON", status=400) from None
    if not isinstance(envelope, dict):
        raise WebhookRefused("SendGrid envelope is not a JSON object", status=400)
    to = envelope.get("to") or []
    rcpts = _addresses(
        *(to if isinstance(to, list) else [str(to)]), str(form.get("to", "")) if not to else ""
    )
    data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "surrogateescape")
    return InboundMail(data, str(envelope.get("from") or ""), rcpts)


def postmark(payload: Any) -> InboundMail:
    """A Postmark inbound JSON call (basic auth checked by the caller)."""
    if not isinstance(payload, dict):
        raise WebhookRefused("Postmark payload is not a JSON object", status=400)
    rcpts = _addresses(str(payload.get("OriginalRecipient") or ""), str(payload.get("To") or ""))
    sender = str(payload.get("From") or "")
    raw_email = payload.get("RawEmail")
    if isinstance(raw_email, str) and raw_email.strip():
        return InboundMail(raw_email.encode("utf-8", "surrogateescape"), sender, rcpts)
    msg = EmailMessage()
    skip = {"from", "to", "cc", "subject", "date", "message-id", "content-type", "mime-version",
            "content-transfer-encoding"}  # fmt: skip
    for header in payload.get("Headers") or []:
        if isinstance(header, dict) and str(header.get("Name", "")).lower() not in skip:
            try:
                msg[str(header["Name"])] = str(header.get("Value", ""))
            except (KeyError, ValueError):
                continue
    for name, key in (("From", "From"), ("To", "To"), ("Cc", "Cc"), ("Subject", "Subject"), ("Date", "Date")):
        if payload.get(key):
            msg[name] = str(payload[key])
    if payload.get("MessageID"):
        mid = str(payload["MessageID"])
        msg["Message-ID"] = mid if mid.startswith("<") else f"<{mid}>"
    text, html = str(payload.get("TextBody") or ""), str(payload.get("HtmlBody") or "")
    if not (text or html):
        raise WebhookRefused("Postmark payload has neither RawEmail nor a body", status=400)
    msg.set_content(text or " ")
    if html:
        msg.add_alternative(html, subtype="html")
    return InboundMail(msg.as_bytes(), sender, rcpts)
