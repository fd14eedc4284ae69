"""Amazon SES receipts delivered by SNS: the SNS signature verified against AWS's certificate.

SNS signs every message (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) over a canonical
string of its fields; the certificate comes from ``SigningCertURL``, which must be an https URL
on an ``sns.<region>.amazonaws.com`` host (anything else is a forgery), and is cached. A
subscription is confirmed by visiting its ``SubscribeURL`` (same host rule). Notifications of
an SES "SNS" action carry the raw message inline (``content``, UTF-8 or base64); an "S3" action
carries only where it was stored, which needs AWS credentials this service does not hold, so it
is refused with that reason (configure the SES rule with an SNS action instead).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from feedback.ingress.providers import InboundMail, WebhookRefused

Fetch = Callable[[str], bytes]
AWS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
_NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SUBSCRIPTION_KEYS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


def fetch_https(url: str) -> bytes:
    """GET ``url`` (only AWS SNS hosts reach here; see :func:`checked_url`)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        data: bytes = response.read(1_000_000)
        return data


def checked_url(url: str, host_pattern: re.Pattern[str] = AWS_HOST) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not host_pattern.match(parts.hostname or ""):
        raise WebhookRefused(f"{url!r} is not an https URL of Amazon SNS", status=403)
    return url


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    keys = _NOTIFICATION_KEYS if message.get("Type") == "Notification" else _SUBSCRIPTION_KEYS
    parts = []
    for key in keys:
        if key in message and message[key] is not None:
            parts.append(f"{key}\n{message[key]}\n")
    return "".join(parts).encode("utf-8")


class SnsVerifier:
    """Verifies SNS messages; certificates fetched once per URL."""

    def __init__(
        self,
        *,
        fetch: Fetch = fetch_https,
        host_pattern: re.Pattern[str] = AWS_HOST,
        topics: tuple[str, ...] = (),
    ) -> None:
        self.fetch = fetch
        self.host_pattern = host_pattern
        self.topics = topics
        self._certs: dict[str, rsa.RSAPublicKey] = {}

    def _key(self, url: str) -> rsa.RSAPublicKey:
        if url not in self._certs:
            pem = self.fetch(checked_url(url, self.host_pattern))
            key = x509.load_pem_x509_certificate(pem).public_key()
            if not isinstance(key, rsa.RSAPublicKey):
                raise WebhookRefused("SNS signing certificate is not RSA", status=403)
            self._certs[url] = key
        return self._certs[url]

    def verify(self, message: Mapping[str, Any]) -> None:
        for field in ("Type", "Signature", "SigningCertURL", "TopicArn", "Timestamp", "MessageId"):
            if not message.get(field):
                raise WebhookRefused(f"SNS message without {field}", status=400)
        if self.topics and message["TopicArn"] not in self.topics:
            raise WebhookRefused(
                f"SNS topic {message['TopicArn']} is not configured (ses_topic_arns)", status=403
            )
        algorithm: hashes.HashAlgorithm = (
            hashes.SHA256() if str(message.get("SignatureVersion")) == "2" else hashes.SHA1()
        )
        try:
            signature = base64.b64decode(str(message["Signature"]), validate=True)
        except (binascii.Error, ValueError):
            raise WebhookRefused("SNS signature is not base64", status=400) from None
        try:
            self._key(str(message["SigningCertURL"])).verify(
                signature, string_to_sign(message), padding.PKCS1v15(), algorithm
            )
        except InvalidSignature:
            raise WebhookRefused("SNS signature does not verify", status=403) from None

    def confirm(self, message: Mapping[str, Any]) -> None:
        """Visit a verified SubscriptionConfirmation's SubscribeURL."""
        self.fetch(checked_url(str(message.get("SubscribeURL", "")), self.host_pattern))


def parse_body(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except ValueError:
        raise WebhookRefused("SNS body is not JSON", status=400) from None
    if not isinstance(message, dict):
        raise WebhookRefused("SNS body is not a JSON object", status=400)
    return message


def ses_mail(message: Mapping[str, Any]) -> InboundMail:
    """The raw mail inside a verified SES Notification."""
    try:
        receipt = json.loads(str(message["Message"]))
    except (KeyError, ValueError):
        raise WebhookRefused("SNS Message is not an SES notification (not JSON)", status=400) from None
    if not isinstance(receipt, dict) or receipt.get("notificationType") != "Received":
        raise WebhookRefused("not an SES 'Received' notification", status=400)
    action = (receipt.get("receipt") or {}).get("action") or {}
    content = receipt.get("content")
    if action.get("type") == "S3" or content is None:
        raise WebhookRefused(
            "SES stored this mail in S3; use an SNS action (the message inline) for this service", status=422
        )
    if action.get("encoding") == "BASE64":
        try:
            raw = base64.b64decode(str(content), validate=True)
        except (binascii.Error, ValueError):
            raise WebhookRefused("SES content is not base64", status=400) from None
    else:
        raw = str(content).encode("utf-8", "surrogateescape")
    recipients = tuple(str(r).lower() for r in (receipt.get("receipt") or {}).get("recipients") or [])
    source = str((receipt.get("mail") or {}).get("source") or "")
    return InboundMail(raw, source, recipients)
