"""Requests for admins: list, a timeline, resend, cancel, hand over to another rep.

Functions of a session (and settings/transport where a mail goes out); ``feedback requests``
only parses arguments and prints what they return. State changes go through
:mod:`feedback.storage.lifecycle`; mails through
:func:`feedback.outbound.requesting.send_mail`, so nothing here records a mail the relay did
not accept.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from feedback.outbound.delivery import MailNotSent
from feedback.outbound.requesting import about, load_renderer, request_context, send_mail
from feedback.outbound.transports import Transport
from feedback.runtime.settings import Settings
from feedback.storage.lifecycle import HANDOVER_FROM, WAITING, TransitionError, hand_over, move
from feedback.storage.models import (
    Deal,
    FeedbackRequest,
    InboundMessage,
    Lead,
    OutboundMail,
    Rep,
    RequestStatus,
    Response,
    ResponseReason,
)

log = logging.getLogger(__name__)


class RequestAdminError(ValueError):
    """A request or rep that does not exist, or an action its state does not allow."""


@dataclass(frozen=True)
class RequestRow:
    id: int
    kind: str
    about: str
    crm_id: str
    rep: str
    status: str
    sent_at: datetime | None
    reminders: int
    escalated_at: datetime | None
    answered_at: datetime | None
    expires_at: datetime | None
    overdue: bool


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    what: str  # sent | reminder | escalation | clarification | reply | answer | correction | note
    detail: str


def _crm_id(session: Session, request: FeedbackRequest) -> str:
    if request.lead_id is not None:
        lead = session.get(Lead, request.lead_id)
        return lead.crm_id if lead else ""
    deal = session.get(Deal, request.deal_id) if request.deal_id is not None else None
    return deal.crm_id if deal else ""


def get_request(session: Session, request_id: int) -> FeedbackRequest:
    request = session.get(FeedbackRequest, request_id)
    if request is None:
        raise RequestAdminError(f"no request {request_id} (see `feedback requests list`)")
    return request


def list_requests(
    session: Session,
    *,
    now: datetime,
    status: str | None = None,
    rep: str | None = None,
    overdue: bool = False,
    limit: int = 500,
) -> list[RequestRow]:
    """Requests newest first; ``overdue``: still waiting after their first reminder was due."""
    if status is not None and status not in {s.value for s in RequestStatus}:
        raise RequestAdminError(
            f"unknown status {status!r}; one of: {', '.join(s.value for s in RequestStatus)}"
        )
    query = select(FeedbackRequest, Rep).join(Rep, col(Rep.id) == col(FeedbackRequest.rep_id))
    if status is not None:
        query = query.where(FeedbackRequest.status == status)
    if rep is not None:
        query = query.where(Rep.email == rep.strip().lower())
    if overdue:
        query = query.where(
            col(FeedbackRequest.status).in_([s.value for s in WAITING]),
            col(FeedbackRequest.due_at).is_not(None),
            col(FeedbackRequest.due_at) < now,
        )
    rows = session.exec(query.order_by(col(FeedbackRequest.id).desc()).limit(limit)).all()
    return [
        RequestRow(
            id=r.id or 0,
            kind=r.kind,
            about=about(r, session),
            crm_id=_crm_id(session, r),
            rep=p.email,
            status=r.status,
            sent_at=r.sent_at,
            reminders=r.reminders_sent,
            escalated_at=r.escalated_at,
            answered_at=r.answered_at,
            expires_at=r.expires_at,
            overdue=r.status in WAITING and r.due_at is not None and r.due_at < now,
        )
        for r, p in rows
    ]


def timeline(session: Session, request_id: int) -> tuple[FeedbackRequest, list[TimelineEntry]]:
    """Everything that happened to a request, in time order: mails, replies, answers."""
    request = get_request(session, request_id)
    entries: list[TimelineEntry] = []
    for mail in session.exec(select(OutboundMail).where(OutboundMail.request_id == request_id)).all():
        what = "sent" if mail.purpose == "request" else mail.purpose
        entries.append(TimelineEntry(mail.sent_at, what, f"to {mail.to_addr}: {mail.subject}"))
    for msg in session.exec(select(InboundMessage).where(InboundMessage.request_id == request_id)).all():
        detail = f"from {msg.from_addr or msg.mail_from} ({msg.classification or '?'}, {msg.status})"
        entries.append(
            TimelineEntry(msg.received_at, "reply", detail + (f": {msg.error}" if msg.error else ""))
        )
    for resp in session.exec(select(Response).where(Response.request_id == request_id)).all():
        reasons = session.exec(
            select(ResponseReason.code)
            .where(ResponseReason.response_id == resp.id)
            .order_by(col(ResponseReason.rank))
        ).all()
        label = "answer" if resp.source == "reply" else "correction"
        who = resp.corrected_by or resp.answered_by or ""
        detail = f"{resp.outcome or 'no outcome'}" + (f" — {', '.join(reasons)}" if reasons else "")
        detail += (f"; competitor {resp.competitor}" if resp.competitor else "") + (
            f" (by {who})" if who else ""
        )
        detail += "" if resp.is_current else " [replaced]"
        entries.append(TimelineEntry(resp.created_at, label, detail))
    if request.note:
        entries.append(TimelineEntry(request.answered_at or request.created_at, "note", request.note))
    entries.sort(key=lambda e: e.at)
    return request, entries


def cancel(session: Session, request_id: int, *, why: str, by: str, now: datetime) -> FeedbackRequest:
    """Withdraw an open request: no more reminders, its token answers "expired"."""
    if not why.strip():
        raise RequestAdminError("say why with --why TEXT: it stays in the request's history")
    request = get_request(session, request_id)
    try:
        move(request, RequestStatus.cancelled, now=now)
    except TransitionError:
        raise RequestAdminError(
            f"request {request_id} is {request.status}: only open requests can be cancelled"
        ) from None
    request.note = f"cancelled by {by} on {now:%Y-%m-%d %H:%M} UTC: {why.strip()}"
    session.add(request)
    session.commit()
    return request


async def resend(
    engine: Engine, settings: Settings, transport: Transport, request_id: int, *, now: datetime
) -> str:
    """Mail the request again to its (current) rep, from its own reply address; returns the address."""
    with Session(engine, expire_on_commit=False) as session:
        request = get_request(session, request_id)
        if request.status not in {s.value for s in WAITING}:
            raise RequestAdminError(
                f"request {request_id} is {request.status}: only open requests are resent"
            )
        rep = session.get(Rep, request.rep_id)
        item: Lead | Deal | None = (
            session.get(Lead, request.lead_id)
            if request.lead_id is not None
            else session.get(Deal, request.deal_id)
        )
        if rep is None or item is None:
            raise RequestAdminError(f"request {request_id} has lost its rep or its lead/deal")
        context: dict[str, Any] = request_context(request.kind, item, rep, settings)
        try:
            await send_mail(
                session=session,
                settings=settings,
                transport=transport,
                renderer=load_renderer(session, settings),
                template=f"{request.kind}_request",
                context=context,
                to=rep.email,
                purpose="request",
                request=request,
                lang=rep.language,
                now=now,
                throttle=False,
            )
        except MailNotSent as exc:
            raise RequestAdminError(str(exc)) from None
        request.sent_at = request.sent_at or now
        request.reminders_sent, request.last_reminder_at = 0, None
        session.add(request)
        session.commit()
        return rep.email


async def reassign(
    engine: Engine,
    settings: Settings,
    transport: Transport,
    *,
    from_email: str,
    to_email: str,
    now: datetime,
) -> list[int]:
    """Hand every open request of a rep who left to another rep, who is asked afresh."""
    with Session(engine, expire_on_commit=False) as session:
        old = session.exec(select(Rep).where(Rep.email == from_email.strip().lower())).first()
        new = session.exec(select(Rep).where(Rep.email == to_email.strip().lower())).first()
        if old is None or new is None:
            missing = from_email if old is None else to_email
            raise RequestAdminError(f"no rep {missing} (see `feedback reps list`)")
        if old.id == new.id:
            raise RequestAdminError("a rep's requests cannot be handed to the same rep")
        if not new.active:
            raise RequestAdminError(f"{new.email} is inactive: hand the requests to an active rep")
        open_ids = session.exec(
            select(FeedbackRequest.id).where(
                FeedbackRequest.rep_id == old.id,
                col(FeedbackRequest.status).in_([s.value for s in HANDOVER_FROM]),
            )
        ).all()
    return await hand_over_requests(
        engine, settings, transport, {rid: new.id or 0 for rid in open_ids if rid is not None}, now=now
    )


async def hand_over_requests(
    engine: Engine,
    settings: Settings,
    transport: Transport,
    moves: Mapping[int, int],
    *,
    now: datetime,
    why: str = "",
) -> list[int]:
    """Move each open request (id -> new rep id) to its new rep, who is asked afresh.

    The request keeps its id, token, mails and replies (its history); :func:`lifecycle.hand_over`
    restarts its clock, a note says who had it, and the request mail goes to the new rep. Requests
    no longer open, or already with that rep, are left alone. Returns the ids moved.
    """
    moved: list[int] = []
    with Session(engine, expire_on_commit=False) as session:
        for rid, rep_id in moves.items():
            request = session.get(FeedbackRequest, rid)
            new = session.get(Rep, rep_id)
            if (
                request is None
                or new is None
                or request.rep_id == rep_id
                or request.status not in HANDOVER_FROM
            ):
                continue
            old = session.get(Rep, request.rep_id)
            request.rep_id = rep_id
            hand_over(request, now=now)
            line = f"reassigned from {old.email if old else '?'} to {new.email} on {now:%Y-%m-%d %H:%M} UTC"
            line += f" ({why})" if why else ""
            request.note = f"{request.note}; {line}" if request.note else line
            session.add(request)
            moved.append(rid)
        session.commit()
    for rid in moved:
        try:
            await resend(engine, settings, transport, rid, now=now)
        except RequestAdminError as exc:  # moved all the same: the reminder round asks again
            log.warning("request %d handed over, request mail not sent: %s", rid, exc)
    return moved


def set_away(
    session: Session, *, email: str, until: date | None, settings: Settings, now: datetime
) -> datetime | None:
    """A rep is away until the start of ``until`` in their time zone (None: back now); no
    reminders or escalations for them meanwhile (as after their out-of-office reply)."""
    from feedback.core.calendars import rep_calendar

    rep = session.exec(select(Rep).where(Rep.email == email.strip().lower())).first()
    if rep is None:
        raise RequestAdminError(f"no rep {email} (see `feedback reps list`)")
    if until is None:
        rep.away_until = None
    else:
        zone = rep_calendar(rep, settings).zone
        back = datetime.combine(until, time(0), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
        if back <= now:
            raise RequestAdminError(f"{until} is not in the future; use --back to end an absence")
        rep.away_until = back
    session.add(rep)
    session.commit()
    return rep.away_until
