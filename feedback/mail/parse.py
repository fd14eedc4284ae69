"""Placeholder parser; the reply-parsing work replaces it."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

from feedback.mail.result import ParsedMessage


def parse_message(raw: bytes) -> ParsedMessage:
    """Decode ``raw`` and extract the reply; never raises."""
    try:
        msg = email.message_from_bytes(raw, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        body = msg.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        lines = []
        for line in str(text).splitlines():
            if line.startswith(">") or (line.startswith("On ") and line.rstrip().endswith("wrote:")):
                break
            lines.append(line)
        name, addr = parseaddr(str(msg.get("From", "")))
        rcpts = [a for _, a in getaddresses([str(v) for v in msg.get_all("To", [])])]
        return ParsedMessage(
            classification="reply",
            message_id=str(msg.get("Message-ID", "")).strip() or None,
            from_addr=addr.lower() or None,
            from_name=name or None,
            subject=str(msg.get("Subject", "")) or None,
            recipients=tuple(rcpts),
            in_reply_to=tuple(str(msg.get("In-Reply-To", "")).split()),
            references=tuple(str(msg.get("References", "")).split()),
            reply_text="\n".join(lines).strip(),
        )
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises"
        return ParsedMessage(classification="unreadable", error=f"not a readable message: {exc}")
