"""Prometheus metrics: counters kept by the process, gauges read from the database on scrape.

Counters (accepted / refused webhooks) live in this process; everything that is a property of
the service as a whole (queue depth, unprocessed messages and the oldest one's age, the review
queue, requests per status, messages per status) is read when Prometheus scrapes, so any number
of ingest and worker processes report the same truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from feedback.storage.models import (
    FeedbackRequest,
    InboundMessage,
    MessageStatus,
    OutboundMail,
    Refusal,
    Response,
    ReviewItem,
    utcnow,
)


class _DatabaseGauges(Collector):
    def __init__(self, engine: Engine, queue_depth: Callable[[], int | None] | None) -> None:
        self.engine = engine
        self.queue_depth = queue_depth

    def collect(self) -> Iterator[GaugeMetricFamily]:
        msg = InboundMessage.__table__  # type: ignore[attr-defined]
        req = FeedbackRequest.__table__  # type: ignore[attr-defined]
        review = ReviewItem.__table__  # type: ignore[attr-defined]
        resp = Response.__table__  # type: ignore[attr-defined]
        mail = OutboundMail.__table__  # type: ignore[attr-defined]
        refusal = Refusal.__table__  # type: ignore[attr-defined]
        with self.engine.connect() as conn:
            by_outcome = conn.execute(
                select(resp.c.kind, func.coalesce(resp.c.outcome, "none"), func.count())
                .where(resp.c.is_current)
                .group_by(resp.c.kind, resp.c.outcome)
            ).all()
            by_purpose = conn.execute(select(mail.c.purpose, func.count()).group_by(mail.c.purpose)).all()
            by_code = conn.execute(select(refusal.c.code, func.count()).group_by(refusal.c.code)).all()
            by_msg = conn.execute(select(msg.c.status, func.count()).group_by(msg.c.status)).all()
            retried = conn.execute(select(func.count()).where(msg.c.attempts > 1)).scalar_one()
            by_req = conn.execute(select(req.c.status, func.count()).group_by(req.c.status)).all()
            open_review = conn.execute(select(func.count()).where(review.c.status == "open")).scalar_one()
            oldest = conn.execute(
                select(func.min(msg.c.received_at)).where(
                    msg.c.status.in_([MessageStatus.received.value, MessageStatus.queued.value])
                )
            ).scalar_one()
        messages = GaugeMetricFamily("feedback_messages", "Stored messages by status", labels=["status"])
        for status, n in by_msg:
            messages.add_metric([str(status)], float(n))
        yield messages
        requests = GaugeMetricFamily("feedback_requests", "Requests by status", labels=["status"])
        for status, n in by_req:
            requests.add_metric([str(status)], float(n))
        yield requests
        yield GaugeMetricFamily(
            "feedback_messages_retried",
            "Messages that needed more than one processing attempt",
            value=float(retried),
        )
        yield GaugeMetricFamily("feedback_review_open", "Open review items", value=float(open_review))
        answers = GaugeMetricFamily(
            "feedback_answers",
            "Current answers by kind and outcome (none: no outcome)",
            labels=["kind", "outcome"],
        )
        for kind, outcome, n in by_outcome:
            answers.add_metric([str(kind), str(outcome)], float(n))
        yield answers
        mails = GaugeMetricFamily(
            "feedback_mails_sent",
            "Mails sent by purpose (request, reminder, escalation...)",
            labels=["purpose"],
        )
        for purpose, n in by_purpose:
            mails.add_metric([str(purpose)], float(n))
        yield mails
        refused = GaugeMetricFamily(
            "feedback_refusals", "Messages refused at the door, by code", labels=["code"]
        )
        for code, n in by_code:
            refused.add_metric([str(code)], float(n))
        yield refused
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "feedback_oldest_unprocessed_seconds", "Age of the oldest message without a result", value=age
        )
        depth = self.queue_depth() if self.queue_depth is not None else None
        if depth is not None:
            yield GaugeMetricFamily("feedback_queue_depth", "Parse jobs waiting in Redis", value=float(depth))


class Metrics:
    """One registry per process (tests build their own; nothing global)."""

    def __init__(self, engine: Engine, *, queue_depth: Callable[[], int | None] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.accepted = Counter(
            "feedback_webhook_accepted", "Messages stored from webhooks", ["provider"], registry=self.registry
        )
        self.refused = Counter(
            "feedback_webhook_refused",
            "Webhook calls refused",
            ["provider", "status"],
            registry=self.registry,
        )
        self.smtp_stored = Counter(
            "feedback_smtp_stored", "Messages stored by this ingest", ["duplicate"], registry=self.registry
        )
        self.ingest_seconds = Histogram(
            "feedback_ingest_seconds",
            "From the end of DATA to the commit of the message (this ingest)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.registry.register(_DatabaseGauges(engine, queue_depth))

    def observe_ingest(self, seconds: float, duplicate: bool) -> None:
        self.smtp_stored.labels(str(duplicate).lower()).inc()
        self.ingest_seconds.observe(seconds)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
