"""The review queue as a service: what an item shows, and resolving it with a correction.

Quarantined and unmatched items hold no response, only the stored raw message; a reviewer needs
to see what was written (sender, subject, the reply without its quote), so it is parsed again with
the pure parser, never stored twice. Resolving an item is a correction of its request's answer
(:func:`feedback.services.answers.correct_answer`, source "review"): one place writes corrections.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr
from typing import Any

from sqlmodel import Session, col, func, select

from feedback.mail import parse_message
from feedback.mail.parse import MAX_BYTES
from feedback.outbound.requesting import about
from feedback.runtime.settings import Settings
from feedback.services.answers import AnswerError, correct_answer
from feedback.storage import raw_bytes
from feedback.storage.lifecycle import close_review, reopen_message_for
from feedback.storage.models import (
    FeedbackRequest,
    InboundMessage,
    MessageStatus,
    Response,
    ResponseReason,
    ReviewItem,
    ReviewStatus,
    ReviewType,
)


@dataclass(frozen=True, slots=True)
class Written:
    """What a stored message says, read from its raw bytes."""

    sender: str  # "Name <address>" as it came
    subject: str
    reply_text: str  # the sender's own words: no quote, no signature
    signature: str | None
    received_at: datetime
    recipients: str  # envelope recipients


def written(session: Session, message: InboundMessage) -> Written | None:
    """The message parsed again (None once its raw bytes were purged)."""
    raw = raw_bytes.read_start(session.connection(), message.id, MAX_BYTES) if message.id else None
    if raw is None:  # all the parser reads, not the whole message
        return None
    parsed = parse_message(raw)
    sender = parsed.from_addr or message.from_addr or message.mail_from
    return Written(
        sender=formataddr((parsed.from_name or "", sender)) if sender else "",
        subject=parsed.subject or "",
        reply_text=parsed.reply_text or "",
        signature=parsed.signature,
        received_at=message.received_at,
        recipients=message.rcpt_to,
    )


def _message_of(session: Session, item: ReviewItem, response: Response | None) -> InboundMessage | None:
    mid = item.inbound_message_id or (response.inbound_message_id if response is not None else None)
    return session.get(InboundMessage, mid) if mid else None


def list_items(
    session: Session, *, include_closed: bool = False, type_: str | None = None
) -> list[dict[str, Any]]:
    """The review queue as people read it (open items; every item with ``include_closed``), in
    :func:`queue`'s order: the answers a correction teaches most first."""
    if type_ is not None and type_ not in set(ReviewType):
        raise AnswerError(f"{type_!r} is not an item type; valid: {', '.join(ReviewType)}")
    return [describe_item(session, item) for item in queue(session, all_items=include_closed, type_=type_)]


def queue(session: Session, *, all_items: bool = False, type_: str | None = None) -> list[ReviewItem]:
    """Review items, the ones a correction teaches most first: answers by lowest confidence (the
    classifier lowers it where rules and model disagree), then items without an answer
    (quarantined, unmatched), each group oldest first."""
    query = (
        select(ReviewItem)
        .outerjoin(Response, col(Response.id) == col(ReviewItem.response_id))
        .order_by(func.coalesce(col(Response.confidence), 2.0), col(ReviewItem.id))
    )
    if not all_items:
        query = query.where(ReviewItem.status == ReviewStatus.open)
    if type_:
        query = query.where(ReviewItem.type == type_)
    return list(session.exec(query).all())


def describe_item(session: Session, item: ReviewItem, *, full: bool = False) -> dict[str, Any]:
    """One item as a row: what it is about, who wrote what, and what was recorded (if anything).

    ``full`` adds the whole reply, the signature and the envelope (for ``review show``).
    """
    response = session.get(Response, item.response_id) if item.response_id else None
    message = _message_of(session, item, response)
    request = session.get(FeedbackRequest, item.request_id) if item.request_id else None
    if request is None and response is not None:
        request = session.get(FeedbackRequest, response.request_id)
    mail = written(session, message) if message is not None and (response is None or full) else None
    text = response.reply_text if response is not None else (mail.reply_text if mail else "")
    reasons: list[str] = []
    if response is not None:
        reasons = list(
            session.exec(
                select(ResponseReason.code)
                .where(ResponseReason.response_id == response.id)
                .order_by(col(ResponseReason.rank))
            ).all()
        )
    row: dict[str, Any] = {
        "id": item.id,
        "type": item.type,
        "status": item.status,
        "created": item.created_at,
        "request": request.id if request is not None else None,
        "about": about(request, session) if request is not None else "-",
        "from": mail.sender if mail else (message.from_addr if message else None),
        "subject": mail.subject if mail else None,
        "outcome": response.outcome if response else None,
        "reasons": reasons,
        "competitor": response.competitor if response else None,
        "confidence": round(response.confidence, 2) if response else None,
        "reason": item.reason,
        "reply": text if full else " ".join(text.split())[:80],
    }
    if full:
        row["signature"] = mail.signature if mail else None
        row["received"] = mail.received_at if mail else None
        row["to"] = mail.recipients if mail else None
        if message is not None and mail is None:  # its bytes were purged
            row["reply"] = text or "(the raw message was purged)"
    return row


def resolve_item(
    *,
    session: Session,
    settings: Settings,
    item_id: int,
    outcome: str | None,
    reasons: tuple[str, ...] = (),
    competitor: str | None = None,
    request_id: int | None = None,
    by: str,
    now: datetime,
) -> tuple[ReviewItem, Response]:
    """Correct the answer of the item's request with what the reviewer read; the caller commits.

    A quarantined or unmatched mail becomes the answer's source (its text, its message), and the
    message counts as processed from then on.
    """
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise AnswerError(f"no review item #{item_id}; `feedback review list` shows the open ones")
    reviewed = session.get(Response, item.response_id) if item.response_id else None
    req_id = request_id or item.request_id or (reviewed.request_id if reviewed is not None else None)
    if req_id is None or session.get(FeedbackRequest, req_id) is None:
        raise AnswerError(
            f"item #{item_id} is not tied to a request; pass --request ID "
            "(`feedback answers list` shows them)"
        )
    message = session.get(InboundMessage, item.inbound_message_id) if item.inbound_message_id else None
    text: str | None = reviewed.reply_text if reviewed is not None else None
    waiting = message is not None and message.status in (MessageStatus.quarantined, MessageStatus.unmatched)
    if message is not None and not text:
        mail = written(session, message)
        text = mail.reply_text if mail else None
    response = correct_answer(
        session=session,
        settings=settings,
        request_id=req_id,
        outcome=outcome,
        reasons=reasons,
        competitor=competitor,
        by=by,
        now=now,
        source="review",
        reply_text=text,
        message=message if waiting else None,
    )
    close_review(item, resolution=ReviewStatus.resolved, by=by, now=now)
    session.add(item)
    if message is not None and waiting:
        reopen_message_for(message, req_id, now=now)
        session.add(message)
    return item, response


def dismiss_item(*, session: Session, item_id: int, by: str, now: datetime) -> ReviewItem:
    """Close an item without recording anything (spam, a misdirected mail); the caller commits."""
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise AnswerError(f"no review item #{item_id}; `feedback review list` shows the open ones")
    close_review(item, resolution=ReviewStatus.dismissed, by=by, now=now)
    session.add(item)
    return item
