"""Creating, sending and following up requests (the outbound half of the loop).

``send_due_requests`` finds leads assigned and deals closed that have no request yet (never
history before ``send_since``), creates the request with its signed token, renders and sends it.
``send_followups`` reminds, then escalates to the rep's manager. Throttled per address by the
``OutboundMail`` log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from feedback.models import (
    Deal,
    FeedbackRequest,
    Kind,
    Lead,
    OutboundMail,
    Rep,
    RequestStatus,
    TaxonomySnapshot,
    TemplateOverride,
    utcnow,
)
from feedback.outbound import Transport, build_message, make_message_id
from feedback.rendering import Renderer, RenderLimits, option_groups
from feedback.settings import Settings
from feedback.taxonomy import Taxonomy
from feedback.tokens import make_token, reply_address

log = logging.getLogger(__name__)


def snapshot_taxonomy(session: Session, taxonomy: Taxonomy) -> None:
    """Keep the taxonomy requests show, by fingerprint, so numbers are read against it later."""
    if session.get(TaxonomySnapshot, taxonomy.fingerprint) is None:
        session.add(
            TaxonomySnapshot(
                fingerprint=taxonomy.fingerprint, data=json.dumps(taxonomy.model_dump(mode="json"))
            )
        )


class MailNotSent(RuntimeError):
    """The transport refused a service mail; nothing records it as sent, a later round retries."""


@dataclass
class SendResult:
    sent: int = 0
    skipped: int = 0  # held back by the daily cap
    already: int = 0  # requested meanwhile by another sender (the worker's cron, `feedback send`)
    errors: list[str] = field(default_factory=list)
    planned: list[dict[str, str]] = field(default_factory=list)  # a dry run's mails: to, kind, subject


def load_renderer(session: Session, settings: Settings | None = None) -> Renderer:
    """A renderer with the newest active admin override of each template (and the render limits)."""
    rows = session.exec(
        select(TemplateOverride).where(col(TemplateOverride.active)).order_by(col(TemplateOverride.version))
    ).all()
    overrides = {r.name: r.source for r in rows}
    versions = {r.name: f"override-{r.version}" for r in rows}
    limits = RenderLimits.from_settings(settings) if settings is not None else None
    return Renderer(overrides, versions, limits=limits)


def first_name(rep: Rep) -> str:
    return (rep.name or rep.email).split()[0].split("@")[0].capitalize() if (rep.name or rep.email) else ""


def rep_context(rep: Rep) -> dict[str, Any]:
    return {
        "name": rep.name or rep.email,
        "first_name": first_name(rep),
        "email": rep.email,
        "team": rep.team,
    }


def _day(value: datetime | date | None) -> str:
    return value.strftime("%B %-d, %Y") if value else "an unknown date"


def lead_context(lead: Lead) -> dict[str, Any]:
    return {
        "name": lead.name or lead.email or lead.crm_id,
        "company": lead.company,
        "title": lead.title,
        "email": lead.email,
        "campaign": lead.campaign,
        "source": lead.source,
        "assigned_on": _day(lead.assigned_at),
        "crm_id": lead.crm_id,
    }


def deal_context(deal: Deal) -> dict[str, Any]:
    amount = f"{deal.amount:,.0f} {deal.currency}" if deal.amount is not None else "not set"
    return {
        "name": deal.name or deal.crm_id,
        "company": deal.company,
        "amount_text": amount,
        "result": deal.result,
        "closed_on": _day(deal.close_date),
        "crm_id": deal.crm_id,
    }


def about(request: FeedbackRequest, session: Session) -> str:
    """A short human description of what a request asks about."""
    if request.lead_id is not None:
        lead = session.get(Lead, request.lead_id)
        return (
            f"lead {lead.name}" + (f" ({lead.company})" if lead and lead.company else "")
            if lead
            else "a lead"
        )
    deal = session.get(Deal, request.deal_id) if request.deal_id is not None else None
    return f"deal {deal.name}" if deal else "a deal"


def _since(settings: Settings, session: Session) -> datetime:
    """Requests are never sent about history before this (default: the first import)."""
    if settings.send_since is not None:
        return settings.send_since.replace(tzinfo=None)
    first = session.exec(select(func.min(Rep.created_at))).one()
    return first or utcnow()


def sent_today(session: Session, to_addr: str, purpose: str, now: datetime) -> int:
    start = now - timedelta(days=1)
    return int(
        session.exec(
            select(func.count())
            .select_from(OutboundMail)
            .where(
                OutboundMail.to_addr == to_addr,
                OutboundMail.purpose == purpose,
                OutboundMail.sent_at >= start,
            )
        ).one()
    )


def due_leads(session: Session, since: datetime) -> list[tuple[Lead, Rep]]:
    asked = select(FeedbackRequest.lead_id).where(
        FeedbackRequest.kind == Kind.disposition, col(FeedbackRequest.lead_id).is_not(None)
    )
    rows = session.exec(
        select(Lead, Rep)
        .join(Rep, col(Rep.id) == col(Lead.rep_id))
        .where(col(Lead.assigned_at) >= since, col(Rep.active), col(Lead.id).not_in(asked))
        .order_by(col(Lead.assigned_at))
    ).all()
    return [(lead, rep) for lead, rep in rows]


def due_deals(session: Session, since: datetime) -> list[tuple[Deal, Rep]]:
    asked = select(FeedbackRequest.deal_id).where(
        FeedbackRequest.kind == Kind.winloss, col(FeedbackRequest.deal_id).is_not(None)
    )
    rows = session.exec(
        select(Deal, Rep)
        .join(Rep, col(Rep.id) == col(Deal.rep_id))
        .where(
            col(Deal.result).in_(["won", "lost"]),
            col(Deal.close_date) >= since.date(),
            col(Rep.active),
            col(Deal.id).not_in(asked),
        )
        .order_by(col(Deal.close_date))
    ).all()
    return [(deal, rep) for deal, rep in rows]


async def send_due_requests(
    engine: Engine,
    settings: Settings,
    transport: Transport,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    dry_run: bool = False,
) -> SendResult:
    """Create and send every due request. Each request is committed before its mail goes out.

    ``dry_run`` renders every mail and applies the daily cap, lists them in ``planned`` and then
    rolls everything back: nothing is stored or sent.
    """
    now = now or utcnow()
    secret = settings.secret_bytes()
    taxonomy = settings.taxonomy
    result = SendResult()
    with Session(engine, expire_on_commit=False) as session:
        renderer = load_renderer(session, settings)
        snapshot_taxonomy(session, taxonomy)
        since = _since(settings, session)
        todo: list[tuple[str, Lead | Deal, Rep]] = [
            ("disposition", lead, rep) for lead, rep in due_leads(session, since)
        ]
        todo += [("winloss", deal, rep) for deal, rep in due_deals(session, since)]
        if limit is not None:
            todo = todo[:limit]
        for kind, item, rep in todo:
            if sent_today(session, rep.email, "request", now) >= settings.daily_cap_per_rep:
                result.skipped += 1
                continue
            request = FeedbackRequest(
                kind=kind,
                lead_id=item.id if isinstance(item, Lead) else None,
                deal_id=item.id if isinstance(item, Deal) else None,
                rep_id=rep.id or 0,
                taxonomy_version=taxonomy.fingerprint,
                status=RequestStatus.sent,
                created_at=now,
            )
            session.add(request)
            try:
                session.flush()  # assigns the id the token signs
            except IntegrityError:  # another sender (the cron, `feedback send`) asked first
                session.rollback()
                result.already += 1
                continue
            assert request.id is not None
            request.token = make_token(request.id, secret)
            request.message_id = make_message_id(settings.reply_domain)
            request.expires_at = now + timedelta(days=settings.token_ttl_days)
            context: dict[str, Any] = {
                "rep": rep_context(rep),
                "options": option_groups(taxonomy.kind(kind)),
                "sender_name": settings.from_name,
                "lead": lead_context(item) if isinstance(item, Lead) else {},
                "deal": deal_context(item) if isinstance(item, Deal) else {},
            }
            try:
                rendered = renderer.render(f"{kind}_request", context)
            except Exception as exc:
                session.rollback()
                result.errors.append(f"{kind} request for {rep.email}: {exc}")
                continue
            request.template, request.template_version = rendered.template, rendered.version
            address = reply_address(
                request.token,
                local=settings.reply_local,
                domain=settings.reply_domain,
                plus_addressing=settings.plus_addressing,
            )
            message = build_message(
                rendered=rendered,
                from_addr=address,
                from_name=settings.from_name,
                to=rep.email,
                to_name=rep.name,
                message_id=request.message_id,
            )
            request.sent_at = now
            request.due_at = now + timedelta(hours=settings.reminder_after_hours)
            outbound = OutboundMail(
                purpose="request",
                to_addr=rep.email,
                subject=rendered.subject,
                message_id=request.message_id,
                request_id=request.id,
                sent_at=now,
            )
            session.add(outbound)
            if dry_run:
                session.flush()  # counted by the daily cap of the rows that follow
                result.planned.append({"to": rep.email, "kind": kind, "subject": rendered.subject})
                continue
            session.commit()  # the token exists before anyone can reply to it
            try:
                await transport.send(message, envelope_from=address, recipients=[rep.email])
            except Exception as exc:
                # the mail did not go: withdraw the request so the lead or deal is due again and
                # the next round (the worker's cron, `feedback send`) tries again
                log.warning("send failed", extra={"request_id": request.id, "error": str(exc)})
                result.errors.append(f"{kind} request to {rep.email}: {exc} (tried again next round)")
                session.delete(outbound)
                session.flush()  # the mail row first: it points at the request
                session.delete(request)
                session.commit()
                continue
            result.sent += 1
        if dry_run:
            session.rollback()
    return result


async def send_mail(
    *,
    session: Session,
    settings: Settings,
    transport: Transport,
    renderer: Renderer,
    template: str,
    context: Mapping[str, Any],
    to: str,
    purpose: str,
    request: FeedbackRequest | None,
    now: datetime,
    throttle: bool = True,
) -> bool:
    """Render and send one service mail, logged for the throttle. False when throttled."""
    if throttle and sent_today(session, to, purpose, now) >= 1:
        return False
    rendered = renderer.render(template, context)
    if request is not None and request.token:
        from_addr = reply_address(
            request.token,
            local=settings.reply_local,
            domain=settings.reply_domain,
            plus_addressing=settings.plus_addressing,
        )
    else:
        from_addr = f"{settings.reply_local}@{settings.reply_domain}"
    message_id = make_message_id(settings.reply_domain)
    message = build_message(
        rendered=rendered,
        from_addr=from_addr,
        from_name=settings.from_name,
        to=to,
        message_id=message_id,
        in_reply_to=request.message_id if request is not None else None,
        purpose=purpose,
    )
    outbound = OutboundMail(
        purpose=purpose,
        to_addr=to,
        subject=rendered.subject,
        message_id=message_id,
        request_id=request.id if request is not None else None,
        sent_at=now,
    )
    session.add(outbound)
    session.commit()
    try:
        await transport.send(message, envelope_from=from_addr, recipients=[to])
    except Exception as exc:
        session.delete(outbound)  # not sent: it must not count against the throttle
        session.commit()
        raise MailNotSent(f"{purpose} mail to {to}: {exc}") from exc
    return True


async def _try_mail(counts: dict[str, int] | None, **mail: Any) -> bool | None:
    """:func:`send_mail`, with a refusal logged and counted (None) instead of ending the round."""
    try:
        return await send_mail(**mail)
    except MailNotSent as exc:
        log.warning("%s (tried again next round)", exc)
        if counts is not None:
            counts["failed"] += 1
        return None


async def send_followups(
    engine: Engine, settings: Settings, transport: Transport, *, now: datetime | None = None
) -> dict[str, int]:
    """Remind reps of unanswered requests, then escalate to their manager."""
    now = now or utcnow()
    counts = {"reminders": 0, "escalations": 0, "failed": 0}
    taxonomy = settings.taxonomy
    with Session(engine, expire_on_commit=False) as session:
        renderer = load_renderer(session, settings)
        mail = partial(
            _try_mail,
            counts,
            session=session,
            settings=settings,
            transport=transport,
            renderer=renderer,
            now=now,
        )
        open_requests = session.exec(
            select(FeedbackRequest, Rep)
            .join(Rep, col(Rep.id) == col(FeedbackRequest.rep_id))
            .where(FeedbackRequest.status == RequestStatus.sent, col(FeedbackRequest.sent_at).is_not(None))
        ).all()
        remind_gap = timedelta(hours=settings.reminder_after_hours)
        for request, rep in open_requests:
            assert request.sent_at is not None
            age = now - request.sent_at
            last = request.last_reminder_at or request.sent_at
            desc = about(request, session)
            if request.reminders_sent < settings.max_reminders and now - last >= remind_gap:
                ctx: dict[str, Any] = {
                    "rep": rep_context(rep),
                    "about": desc,
                    "options": option_groups(taxonomy.kind(request.kind)),
                    "sender_name": settings.from_name,
                    "original_subject": desc,
                }
                sent = await mail(
                    template="reminder",
                    context=ctx,
                    to=rep.email,
                    purpose="reminder",
                    request=request,
                    throttle=False,
                )
                if sent:  # None: refused, tried again next round
                    request.reminders_sent += 1
                    request.last_reminder_at = now
                    session.add(request)
                    session.commit()
                    counts["reminders"] += 1
            elif request.reminders_sent >= settings.max_reminders and age >= timedelta(
                hours=settings.escalate_after_hours
            ):
                if rep.manager_email:
                    ctx = {
                        "rep": rep_context(rep),
                        "about": desc,
                        "sent_on": _day(request.sent_at),
                        "reminders": request.reminders_sent,
                        "sender_name": settings.from_name,
                    }
                    sent = await mail(
                        template="escalation",
                        context=ctx,
                        to=rep.manager_email,
                        purpose="escalation",
                        request=request,
                        throttle=False,
                    )
                    if sent is None:
                        continue
                    counts["escalations"] += 1
                request.status = RequestStatus.escalated
                request.escalated_at = now
                session.add(request)
                session.commit()
    return counts


async def send_clarifications(
    engine: Engine, settings: Settings, transport: Transport, *, now: datetime | None = None
) -> int:
    """One clarification mail per rep listing every unclear answer not yet asked about.

    Batching per rep keeps the per-address throttle (one such mail a day) from stalling anything.
    """
    now = now or utcnow()
    sent = 0
    with Session(engine, expire_on_commit=False) as session:
        renderer = load_renderer(session, settings)
        rows = session.exec(
            select(FeedbackRequest, Rep)
            .join(Rep, col(Rep.id) == col(FeedbackRequest.rep_id))
            .where(
                FeedbackRequest.status == RequestStatus.clarifying,
                col(FeedbackRequest.clarified_at).is_(None),
            )
            .order_by(col(FeedbackRequest.rep_id), col(FeedbackRequest.id))
        ).all()
        by_rep: dict[int, list[tuple[FeedbackRequest, Rep]]] = {}
        for request, rep in rows:
            by_rep.setdefault(rep.id or 0, []).append((request, rep))
        for items in by_rep.values():
            rep = items[0][1]
            first = items[0][0]
            entries = []
            for request, _ in items:
                from feedback.models import Response

                reply = (
                    session.exec(
                        select(Response.reply_text).where(
                            Response.request_id == request.id, col(Response.is_current)
                        )
                    ).first()
                    or ""
                )
                excerpt = " ".join(reply.split())
                entries.append(
                    {
                        "about": about(request, session),
                        "reply_excerpt": excerpt[:117] + "..." if len(excerpt) > 120 else excerpt,
                    }
                )
            ctx = {
                "rep": rep_context(rep),
                "items": entries,
                "sender_name": settings.from_name,
                "options": option_groups(settings.taxonomy.kind(first.kind)),
            }
            sent_one = await _try_mail(
                None,
                session=session,
                settings=settings,
                transport=transport,
                renderer=renderer,
                template="clarification",
                context=ctx,
                to=rep.email,
                purpose="clarification",
                request=first,
                now=now,
            )
            if sent_one:
                for request, _ in items:
                    request.clarified_at = now
                    session.add(request)
                session.commit()
                sent += 1
    return sent


async def send_notice(
    engine: Engine,
    settings: Settings,
    transport: Transport,
    *,
    template: str,
    request_id: int,
    subject: str,
    now: datetime | None = None,
) -> bool:
    """An expired-token note or an acknowledgement; throttled to one per address and kind a day."""
    now = now or utcnow()
    with Session(engine, expire_on_commit=False) as session:
        request = session.get(FeedbackRequest, request_id)
        if request is None:
            return False
        rep = session.get(Rep, request.rep_id)
        if rep is None:
            return False
        renderer = load_renderer(session, settings)
        current = session.exec(
            select(FeedbackRequest)
            .where(
                FeedbackRequest.rep_id == rep.id,
                FeedbackRequest.kind == request.kind,
                FeedbackRequest.status == RequestStatus.sent,
                col(FeedbackRequest.expires_at) > now,
            )
            .order_by(col(FeedbackRequest.sent_at).desc())
        ).first()
        response_summary = ""
        if template == "acknowledgement":
            from feedback.models import Response

            resp = session.exec(
                select(Response).where(Response.request_id == request.id, col(Response.is_current))
            ).first()
            if resp is not None:
                response_summary = resp.outcome or "noted"
                if resp.competitor:
                    response_summary += f", competitor {resp.competitor}"
        ctx = {
            "rep": rep_context(rep),
            "sender_name": settings.from_name,
            "original_subject": subject.removeprefix("Re: ").removeprefix("RE: ") or about(request, session),
            "summary": response_summary,
            "current": (
                {"about": about(current, session), "sent_on": _day(current.sent_at)}
                if current is not None
                else None
            ),
        }
        return await send_mail(
            session=session,
            settings=settings,
            transport=transport,
            renderer=renderer,
            template=template,
            context=ctx,
            to=rep.email,
            purpose=template,
            request=current if template == "expired" and current is not None else request,
            now=now,
        )
