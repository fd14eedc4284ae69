"""Retention: drop the raw bytes of old messages, keeping what was read from them.

A stored message's raw bytes are the only copy of a rep's full mail (quotes, signatures,
addresses); the answer, its verbatim reply text and the message's metadata are what the reports
need. After ``days`` the bytes go; a message still waiting for processing keeps them whatever its
age, because the worker has not read it yet.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from feedback.runtime.errors import FeedbackError
from feedback.storage import raw_bytes
from feedback.storage.models import InboundMessage, MessageStatus

_UNREAD = (MessageStatus.received, MessageStatus.queued)


class RetentionError(FeedbackError):
    exit_code = 2


def purge_raw(engine: Engine, *, older_than_days: int, now: datetime, apply: bool) -> int:
    """Count (and with ``apply`` drop) the raw bytes of read messages older than the cutoff."""
    if older_than_days < 1:
        raise RetentionError("--older-than must be at least 1 day", hint="e.g. --older-than 90")
    cutoff = now - timedelta(days=older_than_days)
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    old = select(table.c.id).where(
        (table.c.received_at < cutoff) & table.c.status.not_in([s.value for s in _UNREAD])
    )
    with engine.begin() as conn:
        n = raw_bytes.count_held(conn, old)
        if apply and n:
            n = raw_bytes.drop(conn, old)
    return n
