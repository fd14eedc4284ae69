"""The parser's result types (the contract between the parser and its callers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Classification = Literal["reply", "auto_reply", "bounce", "unreadable"]


@dataclass(frozen=True, slots=True)
class Bounce:
    """What a delivery-status notification says about the message it returns."""

    recipient: str | None = None  # Final-Recipient / Original-Recipient address
    status: str | None = None  # e.g. "5.1.1"
    action: str | None = None  # failed | delayed | delivered | relayed | expanded
    diagnostic: str | None = None
    original_message_id: str | None = None  # Message-ID of the returned (our) message
    original_recipients: tuple[str, ...] = ()  # To / envelope of the returned message
    permanent: bool = True  # False for "delayed" and 4.x.x


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """Everything the service needs from one raw message. Strings are already decoded."""

    classification: Classification
    message_id: str | None = None  # with angle brackets, as in the header
    from_addr: str | None = None  # lower-cased address
    from_name: str | None = None
    subject: str | None = None
    date: datetime | None = None
    recipients: tuple[str, ...] = ()  # Delivered-To, X-Original-To, To, Cc addresses, in that order
    in_reply_to: tuple[str, ...] = ()  # message ids with angle brackets
    references: tuple[str, ...] = ()
    reply_text: str | None = None  # the sender's own words: no quote, attribution, signature
    signature: str | None = None  # signature block incl. sign-off and mobile footer
    auto_reason: str | None = None  # why it is an auto-reply (header or subject that said so)
    from_ambiguous: str | None = None  # why the From header does not name one sender, if it does not
    auto_text: str | None = None  # an auto-reply's subject and first lines (its return date is there)
    bounce: Bounce | None = None
    attachments: int = 0  # attachments and inline images ignored, but counted
    html_only: bool = False
    authentication_results: tuple[str, ...] = ()  # raw Authentication-Results header values
    language: str | None = None  # best guess of the reply language (en, de, fr, es, ...)
    error: str | None = None  # why it is unreadable, or a non-fatal problem noticed
    warnings: tuple[str, ...] = field(default_factory=tuple)
