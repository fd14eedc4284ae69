"""SQLModel tables. Times are naive UTC (``utcnow``) so SQLite and PostgreSQL behave alike.

Codes (kind, outcome, reason, status) are validated strings from the taxonomy or the enums
below, never free text. Reasons live in a child table (one row per reason, with rank) so reports
aggregate them the same way on both databases.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from pydantic import NaiveDatetime
from sqlalchemy import Column, ForeignKey, Index, Integer, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Kind(StrEnum):
    disposition = "disposition"
    winloss = "winloss"


class RequestStatus(StrEnum):
    sent = "sent"  # mailed, waiting for an answer
    answered = "answered"
    clarifying = "clarifying"  # answered without an outcome; a clarification went out
    review = "review"  # answered, a person must look
    bounced = "bounced"
    escalated = "escalated"  # unanswered after reminders; the manager was told (and may answer)
    expired = "expired"  # no usable answer before its token expired: final
    cancelled = "cancelled"  # an admin withdrew it (`feedback requests cancel`): final
    skipped = "skipped"  # not sent (daily cap, no rep address)


class MessageStatus(StrEnum):
    received = "received"  # stored, no job yet
    queued = "queued"  # a parse job was enqueued
    processed = "processed"  # became a response (or a bounce/auto-reply was handled)
    ignored = "ignored"  # auto-reply: never feedback, never answered
    quarantined = "quarantined"  # sender is not the request's rep
    unmatched = "unmatched"  # no request found: waits for review
    failed = "failed"  # permanently unreadable; `error` says why


class ReviewStatus(StrEnum):
    open = "open"  # a person must look
    resolved = "resolved"  # a person recorded the answer (or accepted the one there)
    dismissed = "dismissed"  # closed without recording anything (spam, misdirected mail)


class ReviewType(StrEnum):
    response = "response"
    quarantined = "quarantined"
    unmatched = "unmatched"


class Rep(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(index=True, unique=True, max_length=320)
    name: str = ""
    team: str | None = Field(default=None, index=True)
    manager_email: str | None = None
    language: str = "en"
    timezone: str | None = None  # IANA zone; None: the team's, then the service's
    away_until: NaiveDatetime | None = None  # out of office: no reminders or escalations before
    crm_id: str | None = Field(default=None, index=True)
    active: bool = True
    # when they were last made inactive: their open requests wait this long for a new owner
    # from the next leads/deals import before going to their manager (services/handover.py)
    deactivated_at: NaiveDatetime | None = None
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class RepAlias(SQLModel, table=True):
    """Other addresses a rep may reply from (a personal domain, a shared mailbox...)."""

    id: int | None = Field(default=None, primary_key=True)
    rep_id: int = Field(foreign_key="rep.id", index=True)
    email: str = Field(unique=True, max_length=320)


class RepSignature(SQLModel, table=True):
    """A rep's signature as learned from their replies (``feedback.mail.learned_signature``).

    ``lines``: the signature lines in clear (JSON list; only lines that ended two of their
    messages); ``samples``: hashed end lines of their last few messages (JSON list of lists).
    """

    __tablename__ = "rep_signature"

    rep_id: int = Field(foreign_key="rep.id", primary_key=True)
    lines: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    samples: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    messages: int = 0  # replies learned from
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class Lead(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    crm_id: str = Field(unique=True, max_length=64)
    name: str = ""
    email: str | None = None
    title: str | None = None
    company: str | None = None
    campaign: str | None = Field(default=None, index=True)
    source: str | None = Field(default=None, index=True)
    segment: str | None = None
    rep_id: int | None = Field(default=None, foreign_key="rep.id", index=True)
    assigned_at: NaiveDatetime | None = Field(default=None, index=True)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class Deal(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    crm_id: str = Field(unique=True, max_length=64)
    name: str = ""
    company: str | None = None
    amount: float | None = None
    currency: str = "USD"
    stage: str | None = None  # the CRM's own stage name
    result: str = Field(default="open", index=True)  # won | lost | open, mapped from stage
    close_date: date | None = Field(default=None, index=True)
    rep_id: int | None = Field(default=None, foreign_key="rep.id", index=True)
    lead_id: int | None = Field(default=None, foreign_key="lead.id", index=True)
    campaign: str | None = Field(default=None, index=True)
    source: str | None = Field(default=None, index=True)
    segment: str | None = None
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class FeedbackRequest(SQLModel, table=True):
    """One question to one rep about one lead or deal."""

    __tablename__ = "feedback_request"
    __table_args__ = (
        UniqueConstraint("kind", "lead_id", name="uq_request_lead"),
        UniqueConstraint("kind", "deal_id", name="uq_request_deal"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    lead_id: int | None = Field(default=None, foreign_key="lead.id", index=True)
    deal_id: int | None = Field(default=None, foreign_key="deal.id", index=True)
    rep_id: int = Field(foreign_key="rep.id", index=True)
    token: str | None = Field(default=None, unique=True, max_length=64)
    message_id: str | None = Field(default=None, unique=True, max_length=255)
    template: str = ""
    template_version: str = ""
    taxonomy_version: str = ""
    status: str = Field(default=RequestStatus.sent, index=True)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    sent_at: NaiveDatetime | None = Field(default=None, index=True)
    due_at: NaiveDatetime | None = None
    answered_at: NaiveDatetime | None = None
    expires_at: NaiveDatetime | None = None
    reminders_sent: int = 0
    last_reminder_at: NaiveDatetime | None = None
    escalated_at: NaiveDatetime | None = None
    bounce_status: str | None = None
    clarified_at: NaiveDatetime | None = None  # a clarification mail asked about this request
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # why cancelled


class InboundMessage(SQLModel, table=True):
    """A message as received: its envelope and state. Its bytes are an ``InboundRaw`` row."""

    __tablename__ = "inbound_message"
    __table_args__ = (Index("ix_inbound_status_received", "status", "received_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(unique=True, max_length=80)
    message_id: str | None = Field(default=None, max_length=998)
    mail_from: str = ""
    rcpt_to: str = ""  # comma-separated envelope recipients
    peer: str | None = None
    size: int = 0  # of its raw bytes, kept after they are purged
    received_at: NaiveDatetime = Field(default_factory=utcnow)
    status: str = Field(default=MessageStatus.received)
    classification: str | None = None  # reply | auto_reply | bounce | unreadable
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    request_id: int | None = Field(default=None, foreign_key="feedback_request.id", index=True)
    from_addr: str | None = None
    auth_results: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    enqueued_at: NaiveDatetime | None = None
    processed_at: NaiveDatetime | None = None
    attempts: int = 0
    deliveries: int = 1  # how many times the same message arrived


class InboundRaw(SQLModel, table=True):
    """A stored message's bytes exactly as received; kept until an explicit retention purge or erase.

    Apart from ``inbound_message`` because SQLite rewrites a whole row to update any field of it:
    with the bytes in the message's row, counting an attempt or storing an outcome copied them
    twice in the worker (48 MiB for a 24 MiB message). No row: the bytes were purged or erased.
    Written and read only by ``feedback.storage.raw_bytes``; ``message_id`` is SQLite's rowid
    (incremental blob I/O reads it by rowid).
    """

    __tablename__ = "inbound_raw"

    message_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("inbound_message.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Refusal(SQLModel, table=True):
    """A message refused at the door (552 too big, ...): envelope and size, never a body."""

    id: int | None = Field(default=None, primary_key=True)
    at: NaiveDatetime = Field(default_factory=utcnow)
    peer: str | None = None
    mail_from: str = ""
    rcpt_to: str = ""
    size: int = 0
    code: int = 0
    reason: str = ""


class Response(SQLModel, table=True):
    """What a reply (or a reviewer) said about a request. One current response per request."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="feedback_request.id", index=True)
    inbound_message_id: int | None = Field(
        default=None, foreign_key="inbound_message.id", unique=True
    )  # one message never yields two responses
    kind: str
    outcome: str | None = Field(default=None, index=True)
    competitor: str | None = Field(default=None, index=True)
    reply_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    confidence: float = 0.0
    needs_review: bool = False
    is_current: bool = Field(default=True, index=True)
    # reply (the rep's, an alias's or their manager's mail) | review | correction (feedback.services.answers)
    source: str = "reply"
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    corrected_by: str | None = None
    answered_by: str | None = None  # the address the answer came from: the rep, an alias, a manager
    language: str | None = None


class ResponseReason(SQLModel, table=True):
    __tablename__ = "response_reason"

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", index=True)
    rank: int = 0  # 0 = primary
    code: str = Field(index=True)


class ReviewItem(SQLModel, table=True):
    """One queue for people: doubtful responses, quarantined and unmatched messages."""

    __tablename__ = "review_item"

    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(index=True)
    status: str = Field(default=ReviewStatus.open, index=True)
    reason: str = ""
    response_id: int | None = Field(default=None, foreign_key="response.id")
    inbound_message_id: int | None = Field(default=None, foreign_key="inbound_message.id")
    request_id: int | None = Field(default=None, foreign_key="feedback_request.id")
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    resolved_at: NaiveDatetime | None = None
    resolved_by: str | None = None


class OutboundMail(SQLModel, table=True):
    """Every mail the service sent: the audit trail and the per-address throttle."""

    __tablename__ = "outbound_mail"
    __table_args__ = (Index("ix_outbound_throttle", "to_addr", "purpose", "sent_at"),)

    id: int | None = Field(default=None, primary_key=True)
    purpose: str  # request | reminder | escalation | clarification | expired | digest | ack
    to_addr: str
    subject: str = ""
    message_id: str = ""
    request_id: int | None = Field(default=None, foreign_key="feedback_request.id", index=True)
    sent_at: NaiveDatetime = Field(default_factory=utcnow)
    # the template version it was written with, language-prefixed ("de/override-3"); None: no template
    template_version: str | None = None


class TemplateOverride(SQLModel, table=True):
    """An admin's version of a shipped template in one language; the newest active version wins.

    Version numbers count per template across languages, so "reminder 7" names one text; rows are
    never deleted (history, diff and rollback read them).
    """

    __tablename__ = "template_override"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_template_version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    version: int = 1
    source: str = Field(sa_column=Column(Text, nullable=False))
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    created_by: str | None = None
    active: bool = True
    language: str = Field(default="en", max_length=8, sa_column_kwargs={"server_default": "en"})
    comment: str | None = None


class TemplateVariant(SQLModel, table=True):
    """One arm of an A/B test: a version of a template in one language, sent with ``weight``.

    While a template and language has variant rows, each mail picks one of them by a hash of its
    request id against the weights (the same request always gets the same text); without rows
    the newest active version is sent. ``version`` None is the shipped text. Setting the
    variants replaces the rows; clearing deletes them (the versions themselves stay).
    """

    __tablename__ = "template_variant"
    __table_args__ = (UniqueConstraint("name", "language", "version", name="uq_template_variant"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    language: str = Field(default="en", max_length=8)
    version: int | None = None  # a template_override version; None: the shipped text
    weight: int = 1
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    created_by: str | None = None


class TemplateFailure(SQLModel, table=True):
    """A template version that failed on a real mail's data; the mail went out with the last good
    version instead (``sent_version``), or not at all (None). ``feedback status`` shows them."""

    __tablename__ = "template_failure"

    id: int | None = Field(default=None, primary_key=True)
    at: NaiveDatetime = Field(default_factory=utcnow, index=True)
    template: str
    language: str = Field(default="en", max_length=8)
    version: str  # the one that failed: "override-7", "de/override-3"
    sent_version: str | None = None
    error: str = Field(sa_column=Column(Text, nullable=False))
    purpose: str = ""  # request | reminder | ...
    request_id: int | None = None


class TaxonomySnapshot(SQLModel, table=True):
    """The taxonomy a request showed, by fingerprint, so "3" is read against what the rep saw."""

    __tablename__ = "taxonomy_snapshot"

    fingerprint: str = Field(primary_key=True, max_length=32)
    data: str = Field(sa_column=Column(Text, nullable=False))
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class ClassifierModelVersion(SQLModel, table=True):
    """A fitted classifier model (``feedback model train``): its weights, data and dev figures.

    At most one row is active; workers score with it (none active: the model shipped with the
    package)."""

    __tablename__ = "classifier_model"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(unique=True, index=True)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    active: bool = Field(default=False, index=True)
    corpus_count: int = 0  # labelled replies of the shipped corpus it was fitted on
    correction_count: int = 0  # people's corrections it was fitted on
    dev_figures: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    weights: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    note: str | None = None


class RequestSla(SQLModel, table=True):
    """A request's time to answer in business hours, as the SLA figures read it (a report fact).

    Business hours depend on the rep's calendar (time zone, working days, holidays), which SQL
    cannot evaluate, so :func:`feedback.services.sla_facts.refresh_sla` computes them in Python once
    per answer and stores them here; the reports join this table to ``report_fact`` by request
    and use a row only while its ``started_at`` and ``answered_at`` still equal the fact's (a
    later answer or a new assignment date makes it stale until the next refresh).
    """

    __tablename__ = "request_sla"

    request_id: int = Field(primary_key=True, foreign_key="feedback_request.id")
    started_at: NaiveDatetime  # lead assignment, or the deal's close (the fact's dates)
    answered_at: NaiveDatetime  # the fact's answered_at it was computed to
    timezone: str = ""  # the calendar's zone it was computed in
    business_hours: float = 0.0
    computed_at: NaiveDatetime = Field(default_factory=utcnow)
