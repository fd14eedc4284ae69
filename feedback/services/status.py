"""What ``feedback status`` reports: the service's state in one frozen value, read-only.

The CLI only prints it. Every count has a label that says exactly what it counts: the messages
*received* are all the messages the ingest stored, whatever became of them; a message whose
status is ``received`` is one still *waiting for a job*. Requests past their ``expires_at``
without an answer are counted as expired, not among the ones still waiting, so the request
counts add up to the number of requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from feedback.runtime.redis_embedded import EmbeddedRedis
from feedback.runtime.settings import Settings
from feedback.storage.lifecycle import WAITING
from feedback.storage.models import (
    FeedbackRequest,
    InboundMessage,
    MessageStatus,
    RequestStatus,
    ReviewItem,
    utcnow,
)

UNPROCESSED = (MessageStatus.received, MessageStatus.queued)
FAILED_SHOWN = 5  # the newest failed messages listed with their last error
TEMPLATE_FAILURE_DAYS = 7  # template versions that failed on real mail: this far back
# a request still waiting past its expires_at has expired (the next follow-up round records it)
EXPIRED = RequestStatus.expired.value

_MESSAGE_LABELS: dict[str, str] = {
    MessageStatus.received: "messages waiting for a job",
    MessageStatus.queued: "messages queued",
    MessageStatus.processed: "messages processed",
    MessageStatus.ignored: "messages ignored (auto-replies)",
    MessageStatus.quarantined: "messages quarantined",
    MessageStatus.unmatched: "messages unmatched",
    MessageStatus.failed: "messages failed",
}
_REQUEST_LABELS: dict[str, str] = {
    RequestStatus.sent: "requests sent, waiting for an answer",
    RequestStatus.answered: "requests answered",
    RequestStatus.clarifying: "requests clarifying",
    RequestStatus.review: "requests in review",
    RequestStatus.escalated: "requests escalated",
    EXPIRED: "requests expired",
    RequestStatus.bounced: "requests bounced",
    RequestStatus.skipped: "requests skipped",
    RequestStatus.cancelled: "requests cancelled",
}


@dataclass(frozen=True)
class QueueState:
    """Where the job queue is and whether it answers."""

    embedded: bool
    where: str  # the URL without credentials, or the embedded server's socket
    running: bool
    depth: int | None  # jobs waiting, when running

    @property
    def description(self) -> str:
        name = "embedded Redis" if self.embedded else f"Redis {self.where}"
        if self.running:
            return f"{name} running"
        return f"{name} not running (start `feedback serve`)" if self.embedded else f"{name} unreachable"


@dataclass(frozen=True)
class ServiceStatus:
    now: datetime
    database: str  # the URL without credentials
    revision: str | None
    timezone: str
    messages_received: int  # every stored message, whatever its status
    messages: dict[str, int]  # per message status
    oldest_unprocessed: datetime | None
    requests: dict[str, int]  # per request status, with "expired" apart
    review_open: int
    queue: QueueState
    failed: tuple[tuple[int, str], ...] = ()  # the newest failed messages: (id, last error)
    template_failures: int = 0  # in the last TEMPLATE_FAILURE_DAYS days
    newest_template_failure: str | None = None  # "reminder de/override-3 at ...: error; sent ..."

    def rows(self) -> list[dict[str, Any]]:
        """One (metric, value) row per figure, labelled for a reader, in a stable order."""
        age = (self.now - self.oldest_unprocessed).total_seconds() if self.oldest_unprocessed else None
        figures: list[tuple[str, Any]] = [("messages received", self.messages_received)]
        figures += _by_status(self.messages, _MESSAGE_LABELS, "messages")
        figures += [(f"failed message #{mid}", error) for mid, error in self.failed]
        if self.failed:
            figures.append(("after a fix", "`feedback requeue` retries the failed messages"))
        figures.append(("oldest unprocessed", f"{age:.0f}s" if age is not None else "none"))
        figures.append(("requests", sum(self.requests.values())))
        figures += _by_status(self.requests, _REQUEST_LABELS, "requests")
        figures.append((f"template failures (last {TEMPLATE_FAILURE_DAYS} days)", self.template_failures))
        if self.newest_template_failure:
            figures.append(("newest template failure", self.newest_template_failure))
            figures.append(
                ("after a template fix", "`feedback templates validate NAME` checks the installed text")
            )
        figures += [
            ("review items open", self.review_open),
            ("queue", self.queue.description),
            ("queue depth", self.queue.depth if self.queue.depth is not None else "-"),
            ("database", f"{self.database} at revision {self.revision or '(empty)'}"),
            ("time zone", self.timezone),
        ]
        return [{"metric": metric, "value": value} for metric, value in figures]


def _by_status(counts: dict[str, int], labels: dict[str, str], noun: str) -> list[tuple[str, Any]]:
    """Every known status (0 when none), then any status the code does not know yet."""
    known = [(label, counts.get(status, 0)) for status, label in labels.items()]
    return known + [(f"{noun} {status}", n) for status, n in counts.items() if status not in labels]


def _safe(url: str) -> str:
    """A URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def queue_state(settings: Settings) -> QueueState:
    """Ask the configured Redis, or the embedded one this data dir's `feedback serve` started.

    The embedded server listens on a socket under data_dir; with no redis_url the status used to
    report it as not running without looking for it.
    """
    import redis

    from feedback.runtime.queue import QUEUE_NAME

    embedded = settings.embedded_redis
    if embedded:
        socket = EmbeddedRedis(settings.data_dir).socket
        url, where = f"unix://{socket}", str(socket)
        if not socket.exists():
            return QueueState(embedded=True, where=where, running=False, depth=None)
    else:
        url = where = str(settings.redis_url)
        where = _safe(url)
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        depth = int(client.zcard(QUEUE_NAME))
    except (redis.RedisError, OSError):
        return QueueState(embedded=embedded, where=where, running=False, depth=None)
    finally:
        client.close()
    return QueueState(embedded=embedded, where=where, running=True, depth=depth)


def service_status(engine: Engine, settings: Settings, *, now: datetime | None = None) -> ServiceStatus:
    """Count messages, requests and review items; ask the queue. Reads only."""
    from feedback.outbound.template_failures import recent_failures
    from feedback.storage.db import current_revision

    now = now or utcnow()
    with Session(engine) as session:
        messages = {
            str(status): int(n)
            for status, n in session.exec(
                select(InboundMessage.status, func.count()).group_by(InboundMessage.status)
            ).all()
        }
        oldest = session.exec(
            select(func.min(InboundMessage.received_at)).where(col(InboundMessage.status).in_(UNPROCESSED))
        ).one()
        past = col(FeedbackRequest.expires_at) < now
        waiting = col(FeedbackRequest.status).in_(WAITING)
        requests: dict[str, int] = {}
        for status, expired, n in session.exec(
            select(FeedbackRequest.status, past & waiting, func.count()).group_by(
                FeedbackRequest.status, past & waiting
            )
        ).all():
            key = EXPIRED if expired else str(status)
            requests[key] = requests.get(key, 0) + int(n)
        review_open = session.exec(
            select(func.count()).select_from(ReviewItem).where(ReviewItem.status == "open")
        ).one()
        failed = session.exec(
            select(InboundMessage.id, InboundMessage.error)
            .where(InboundMessage.status == MessageStatus.failed)
            .order_by(col(InboundMessage.id).desc())
            .limit(FAILED_SHOWN)
        ).all()
        templates = recent_failures(session, now - timedelta(days=TEMPLATE_FAILURE_DAYS))
        newest = templates.newest
        newest_text = None
        if newest is not None:
            sent = f"sent {newest.sent_version} instead" if newest.sent_version else "not sent"
            newest_text = (
                f"{newest.template} {newest.version} at {newest.at:%Y-%m-%d %H:%M}: "
                f"{_first_line(newest.error)} ({sent})"
            )
    return ServiceStatus(
        now=now,
        database=_safe(settings.resolved_database_url),
        revision=current_revision(engine),
        timezone=settings.timezone,
        messages_received=sum(messages.values()),
        messages=messages,
        oldest_unprocessed=oldest,
        requests=requests,
        review_open=int(review_open),
        queue=queue_state(settings),
        failed=tuple((int(mid or 0), _first_line(error)) for mid, error in failed),
        template_failures=templates.count,
        newest_template_failure=newest_text,
    )


def _first_line(error: str | None) -> str:
    lines = [line for line in (error or "").splitlines() if line.strip()]
    return lines[0][:200] if lines else "no error recorded"
