"""The parser: raw bytes in, ``ParsedMessage`` out, never an exception, bounded time.

Pipeline: sanity check (is it a message at all?) -> MIME walk (``decode``) -> bounce, then
auto-reply (``auto``) -> body choice (plain, else HTML via ``html``) -> quoted history
(``quotes``) -> banners and signature (``signature``) -> language guess.
Input past ``max_bytes`` is cut before parsing (with a warning) so a 25 MB message costs what a
few MB do, and a large message's unread bodies are left out before the stdlib parses it
(``large``); every later stage has its own cap.
"""

from __future__ import annotations

import email
import re
from dataclasses import replace
from email import policy
from email.message import Message

from feedback.mail import headers as h
from feedback.mail.absence import MAX_CHARS as AUTO_TEXT_CHARS
from feedback.mail.auto import auto_reply_reason, bounce_of
from feedback.mail.decode import Walk, walk_message
from feedback.mail.html import html_to_text
from feedback.mail.language import guess_language
from feedback.mail.large import SLIM_FROM, slim
from feedback.mail.learned_signature import LearnedSignature, strip_learned
from feedback.mail.parsed import ParsedMessage
from feedback.mail.quotes import extract_reply
from feedback.mail.signature import split_signature

MAX_BYTES = 4 * 1024 * 1024
MAX_REPLY_CHARS = 64 * 1024

_HEADER_LINE = re.compile(rb"^(?:From [^\r\n]{0,200}\r?\n)?([!-9;-~]{1,76}):", re.MULTILINE)
_KNOWN = frozenset(
    b"from to cc subject date message-id received content-type mime-version return-path delivered-to "
    b"in-reply-to references sender reply-to x-original-to auto-submitted".split()
)
_CID = re.compile(r"\[cid:[^\]\s]{1,200}\]")
_BANNER = re.compile(
    r"^\s*\[?(?:caution|warning|attention|external|notice|\[external\]|external email|external sender)"
    r"\b.{0,300}\b(?:outside (?:of )?(?:the|your|our)? ?organi[sz]ation|external (?:sender|email)|"
    r"originated (?:from )?outside|do not click|unless you recognize)",
    re.IGNORECASE,
)
_BANNER_SHORT = re.compile(
    r"^\s*\[?(?:external|extern|externe|externo|caution: external)\]?\s*:?\s*$", re.IGNORECASE
)


def _not_a_message(raw: bytes | bytearray) -> str | None:
    """Why ``raw`` is not a message at all, or None when it has header fields."""
    if not raw or raw.isspace():  # not ``raw.strip()``: a copy of a 25 MB message
        return "empty input"
    head = bytes(raw[:8192])
    end = min((i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0), default=len(head))
    head = head[:end]
    if b"\x00" in head:
        return "binary data, not an e-mail message"
    names = {m.group(1).lower() for m in _HEADER_LINE.finditer(head)}
    if not names & _KNOWN:
        return "no e-mail header fields found"
    return None


def _clean_own_text(text: str) -> str:
    """Drop external-sender banners and inline-image placeholders from the sender's text."""
    text = _CID.sub("", text)
    paragraphs = text.split("\n\n")
    kept = [p for p in paragraphs if not (_BANNER.match(p.replace("\n", " ")) or _BANNER_SHORT.match(p))]
    return "\n\n".join(kept).strip()


def _body(walk: Walk) -> tuple[str, bool]:
    """(text, html_only) from the best body candidate: plain text, else HTML made text."""
    for part in walk.plain:
        if part.text.strip():
            return part.text, False
    for part in walk.html:
        if part.text.strip():
            return html_to_text(part.text)[0], not walk.plain
    return "", bool(walk.html) and not walk.plain


def _ambiguous_from(pairs: list[tuple[str, str]], headers: int) -> str | None:
    """Why a From does not name exactly one sender: two headers, two addresses, or a display
    name that shows another address than the one the mail is from (``"boss@corp" <evil@x>``)."""
    if headers > 1:
        return f"{headers} From headers"
    if len(pairs) > 1:
        return f"From names {len(pairs)} addresses"
    if pairs:
        name, addr = pairs[0]
        shown = {a.lower() for a in h.ADDRESS_RE.findall(name)}
        if shown and shown != {addr}:
            return f"From shows {sorted(shown)[0]} but is {addr}"
    return None


def parse_message(
    raw: bytes | bytearray, *, max_bytes: int = MAX_BYTES, learned_signature: LearnedSignature | None = None
) -> ParsedMessage:
    """Decode ``raw`` and extract the reply; never raises (the contract of this package).

    ``learned_signature`` is the sender's signature learned from their earlier messages
    (``learned_signature.learn``), used where the generic signature rules left it in the reply.
    """
    try:
        return with_learned_signature(_parse(raw, max_bytes=max_bytes), learned_signature)
    except RecursionError:
        return ParsedMessage(classification="unreadable", error="message structure too deeply nested")
    except Exception as exc:
        return ParsedMessage(
            classification="unreadable", error=f"could not parse message: {type(exc).__name__}"
        )


def with_learned_signature(parsed: ParsedMessage, learned: LearnedSignature | None) -> ParsedMessage:
    """``parsed`` with the sender's learned signature moved from ``reply_text`` to ``signature``
    (for callers that learn who the sender is after parsing, such as the worker)."""
    if learned is None or parsed.classification != "reply" or not parsed.reply_text:
        return parsed
    reply, signature = strip_learned(parsed.reply_text, parsed.signature, learned)
    if reply == parsed.reply_text:
        return parsed
    return replace(parsed, reply_text=reply, signature=signature)


def _parse(raw: bytes | bytearray, *, max_bytes: int) -> ParsedMessage:
    if not isinstance(raw, bytes | bytearray | memoryview):
        return ParsedMessage(classification="unreadable", error="input is not bytes")
    if isinstance(raw, memoryview):
        raw = bytes(raw)  # a bytearray is read as it is: the worker's buffer for a large message
    why = _not_a_message(raw)
    if why:
        return ParsedMessage(classification="unreadable", error=why)
    warnings: list[str] = []
    if len(raw) > max_bytes:
        warnings.append(f"message is {len(raw)} bytes: only the first {max_bytes} were read")
    # a large message: its unread bodies left out first (``large``), else the stdlib holds ~8x it
    raw = slim(raw, max_bytes) if len(raw) > SLIM_FROM else raw[:max_bytes]
    msg: Message = email.message_from_bytes(raw, policy=policy.compat32)
    del raw
    walk = walk_message(msg)
    warnings.extend(dict.fromkeys(walk.warnings))
    from_pairs = h.addresses(h.get_all(msg, "From"))
    from_name, from_addr = from_pairs[0] if from_pairs else ("", None)
    ambiguous = _ambiguous_from(from_pairs, len(h.get_all(msg, "From")))
    if not from_name and from_addr:
        from_name = h.decode_value(h.get(msg, "From").split("<")[0]).strip().strip('"') or ""
    subject = h.get(msg, "Subject")
    rcpts: list[str] = []
    for name in ("Delivered-To", "X-Original-To", "To", "Cc"):
        for _, addr in h.addresses(h.get_all(msg, name)):
            if addr not in rcpts:
                rcpts.append(addr)
    base = ParsedMessage(
        classification="reply",
        message_id=h.first_message_id(h.get(msg, "Message-ID")),
        from_addr=from_addr,
        from_name=from_name or None,
        subject=subject or None,
        date=h.parse_date(h.get(msg, "Date")),
        recipients=tuple(rcpts),
        in_reply_to=h.message_ids(h.get(msg, "In-Reply-To")),
        references=h.message_ids(h.get(msg, "References")),
        attachments=walk.attachments,
        authentication_results=tuple(h.get_all(msg, "Authentication-Results")),
        from_ambiguous=ambiguous,
    )
    text, html_only = _body(walk)
    bounce = bounce_of(msg, walk, from_addr, subject, text)
    if bounce is not None:
        return replace(base, classification="bounce", bounce=bounce, warnings=tuple(warnings))
    reason = auto_reply_reason(msg, subject)
    if reason is not None:
        return replace(
            base,
            classification="auto_reply",
            auto_reason=reason,
            auto_text=f"{subject}\n{text}"[:AUTO_TEXT_CHARS],
            html_only=html_only,
            language=guess_language(text, h.get(msg, "Content-Language")),
            warnings=tuple(warnings),
        )
    if len(text) > MAX_REPLY_CHARS:
        warnings.append(f"body longer than {MAX_REPLY_CHARS} characters: only its start was read")
        text = text[:MAX_REPLY_CHARS]
    extracted = extract_reply(text)
    own = _clean_own_text(extracted.text)
    reply, signature = split_signature(own, from_name or None)
    error = None
    if not text.strip():
        error = "empty body: no text part with content"
    elif not reply:
        warnings.append(
            extracted.empty_reason or "no text of the sender's own found (only quote or signature)"
        )
    return replace(
        base,
        reply_text=reply,
        signature=signature,
        html_only=html_only,
        language=guess_language(reply, h.get(msg, "Content-Language")),
        error=error,
        warnings=tuple(warnings),
    )
