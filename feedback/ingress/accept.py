"""One durable door for mail that does not come by SMTP (webhooks, IMAP).

The rules are the SMTP ingest's: a message over ``data_size_limit`` is refused (and recorded as
a refusal, without its body); a recipient whose reply token does not verify is refused before
anything is stored; otherwise the raw message is committed (a redelivery is counted, not stored
twice) before the caller answers success, and its parse job is enqueued after the commit (the
sweeper enqueues it if Redis is down). A database that is down is a retryable refusal.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from feedback.core.tokens import TokenError, token_from_address, verify_token
from feedback.ingress.store import Incoming, StoreUnavailable, record_refusal, store_batch
from feedback.runtime.errors import FeedbackError
from feedback.runtime.settings import Settings
from feedback.storage.models import utcnow

log = logging.getLogger("feedback.ingress")

Enqueue = Callable[[list[int]], Awaitable[object]]


class Refused(FeedbackError):
    """A message the door will not take; ``status`` is the HTTP answer, ``retry`` says if a retry may help."""

    def __init__(self, reason: str, *, status: int, retry: bool = False) -> None:
        super().__init__(reason)
        self.status = status
        self.retry = retry


@dataclass(frozen=True)
class Accepted:
    id: int
    duplicate: bool


def check_recipients(recipients: Sequence[str], settings: Settings) -> None:
    """Refuse a tampered or foreign token (the SMTP ingest refuses it at RCPT time)."""
    secret = settings.secret_bytes()
    for address in recipients:
        token = token_from_address(address, local=settings.reply_local, domain=settings.reply_domain)
        if token is None:
            continue  # a bare or foreign address: matched later by the thread headers, or reviewed
        try:
            verify_token(token, secret)
        except TokenError as exc:
            raise Refused(f"invalid reply token in {address}: {exc}", status=403) from None


async def accept(
    raw: bytes,
    *,
    mail_from: str,
    recipients: Sequence[str],
    peer: str,
    settings: Settings,
    engine: Engine,
    enqueue: Enqueue | None,
) -> Accepted:
    """Store ``raw`` durably (or refuse it); returns the stored message's id."""
    if len(raw) > settings.data_size_limit:
        await asyncio.to_thread(
            record_refusal,
            engine,
            peer=peer,
            mail_from=mail_from,
            rcpt_to=list(recipients),
            size=len(raw),
            code=413,
            reason=f"message of {len(raw)} bytes is over the {settings.data_size_limit}-byte limit",
        )
        raise Refused(f"message is larger than {settings.data_size_limit} bytes", status=413)
    if not raw.strip():
        raise Refused("empty message", status=400)
    check_recipients(recipients, settings)
    item = Incoming(raw=raw, mail_from=mail_from, rcpt_to=tuple(recipients), peer=peer, received_at=utcnow())
    try:
        (stored,) = await asyncio.to_thread(store_batch, engine, [item])
    except (StoreUnavailable, SQLAlchemyError) as exc:
        log.warning("deferred", extra={"peer": peer, "size": len(raw), "error": str(exc)})
        raise Refused(
            "message not stored (database unavailable); try again later", status=503, retry=True
        ) from exc
    if not stored.duplicate and enqueue is not None:
        try:
            await enqueue([stored.id])
        except Exception as exc:  # the sweeper enqueues it when Redis is back
            log.warning("enqueue failed (the sweeper will): %s", exc)
    log.info(
        "stored",
        extra={"message_id": stored.id, "peer": peer, "size": len(raw), "duplicate": stored.duplicate},
    )
    return Accepted(stored.id, stored.duplicate)
