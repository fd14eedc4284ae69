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

from feedback.core.calendars import elapsed_for, manager_calendar, outside_hours, rep_calendar
from feedback.core.taxonomy import Taxonomy
from feedback.core.tokens import make_token, reply_address
from feedback.outbound.delivery import MailNotSent, deliver
from feedback.outbound.locales import about_text, format_amount, format_day
from feedback.outbound.rendering import (
    Renderer,
    RenderFailure,
    TemplateError,
    key_language,
    option_groups,
)
from feedback.outbound.template_failures import record_failure
from feedback.outbound.template_store import answer_labels
from feedback.outbound.template_store import (
    load_renderer as load_renderer,  # re-exported: callers import it here
)
from feedback.outbound.transports import Transport, build_message, make_message_id
from feedback.runtime.settings import Settings
from feedback.storage.lifecycle import (
    escalation_due,
    expire_overdue,
    mark_clarification_sent,
    move,
    remind_due,
)
from feedback.storage.models import (
    Deal,
    FeedbackRequest,
    Kind,
    Lead,
    OutboundMail,
    Rep,
    RequestStatus,
    Response,
    TaxonomySnapshot,
    utcnow,
)

log = logging.getLogger(__name__)


def snapshot_taxonomy(session: Session, taxonomy: Taxonomy) -> None:
    """Keep the taxonomy requests show, by fingerprint, so numbers are read against it later."""
    if session.get(TaxonomySnapshot, taxonomy.fingerprint) is None:
        session.add(
            TaxonomySnapshot(
                fingerprint=taxonomy.fingerprint, data=json.dumps(taxonomy.model_dump(mode="json"))
            )
        )


#: why a lead or deal gets no request, and what controls it (printed by ``feedback send``)
HELD_BACK = {
    "daily_cap": "daily cap per rep reached; the rest go next round (setting daily_cap_per_rep)",
    "before_send_since": "assigned or closed before send_since (setting send_since; default: first import)",
    "no_owner": "no owner rep in the CRM export (import with an owner column)",
    "inactive_rep": "the owner rep is inactive (feedback reps list; re-import reps to activate)",
    "no_rep_email": "the owner rep has no email address (feedback reps add)",
    "no_date": "no assignment date (leads) or close date (deals) in the CRM export",
    "unrenderable": "the mail could not be built (see the errors; fix the record or template)",
    "outside_working_hours": "outside the rep's working hours: sent when they start (working_hours/_days)",
}


@dataclass
class SendResult:
    sent: int = 0
    skipped: int = 0  # held back by the daily cap
    held: dict[str, int] = field(default_factory=dict)  # HELD_BACK reason -> leads and deals
    already: int = 0  # requested meanwhile by another sender (the worker's cron, `feedback send`)
    errors: list[str] = field(default_factory=list)
    planned: list[dict[str, str]] = field(default_factory=list)
    template_fallbacks: list[str] = field(
        default_factory=list
    )  # overrides that failed: shipped sent  # a dry run's mails: to, kind, subject


def first_name(rep: Rep) -> str:
    return (rep.name or rep.email).split()[0].split("@")[0].capitalize() if (rep.name or rep.email) else ""


def rep_context(rep: Rep) -> dict[str, Any]:
    return {
        "name": rep.name or rep.email,
        "first_name": first_name(rep),
        "email": rep.email,
        "team": rep.team,
    }


def _day(value: datetime | date | None, lang: str = "en") -> str:
    return format_day(value, lang)


def lead_context(lead: Lead, lang: str = "en") -> dict[str, Any]:
    return {
        "name": lead.name or lead.email or lead.crm_id,
        "company": lead.company,
        "title": lead.title,
        "email": lead.email,
        "campaign": lead.campaign,
        "source": lead.source,
        "assigned_on": _day(lead.assigned_at, lang),
        "crm_id": lead.crm_id,
    }


def deal_context(deal: Deal, lang: str = "en") -> dict[str, Any]:
    amount = format_amount(deal.amount, deal.currency, lang)
    return {
        "name": deal.name or deal.crm_id,
        "company": deal.company,
        "amount_text": amount,
        "result": deal.result,
        "closed_on": _day(deal.close_date, lang),
        "crm_id": deal.crm_id,
    }


def request_context(kind: str, item: Lead | Deal, rep: Rep, settings: Settings) -> dict[str, Any]:
    """What a request template sees about its lead or deal and its rep, in the rep's language."""
    lang = rep.language
    return {
        "rep": rep_context(rep),
        "options": option_groups(settings.taxonomy.kind(kind), lang),
        "sender_name": settings.from_name,
        "lead": lead_context(item, lang) if isinstance(item, Lead) else {},
        "deal": deal_context(item, lang) if isinstance(item, Deal) else {},
    }


def _crm_id(item: Lead | Deal) -> str:
    return f"{'lead' if isinstance(item, Lead) else 'deal'} {item.crm_id}"


def about(request: FeedbackRequest, session: Session, lang: str = "en") -> str:
    """A short human description of what a request asks about (in ``lang``: 'Lead …', 'le lead …')."""
    if request.lead_id is not None:
        lead = session.get(Lead, request.lead_id)
        name = (f"{lead.name}" + (f" ({lead.company})" if lead.company else "")) if lead else None
        return about_text("lead", name, lang)
    deal = session.get(Deal, request.deal_id) if request.deal_id is not None else None
    return about_text("deal", deal.name if deal else None, lang)


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


def held_back(session: Session, since: datetime) -> dict[str, int]:
    """Leads and deals without a request that ``send`` will not ask about, by reason.

    Only the reasons that hold a lead or deal back for good (until data or settings change); the
    daily cap is counted by the send loop itself.
    """
    lead_asked = select(FeedbackRequest.lead_id).where(
        FeedbackRequest.kind == Kind.disposition, col(FeedbackRequest.lead_id).is_not(None)
    )
    deal_asked = select(FeedbackRequest.deal_id).where(
        FeedbackRequest.kind == Kind.winloss, col(FeedbackRequest.deal_id).is_not(None)
    )
    lead_owner = select(Rep.id).where(col(Rep.id) == col(Lead.rep_id)).correlate(Lead)
    deal_owner = select(Rep.id).where(col(Rep.id) == col(Deal.rep_id)).correlate(Deal)
    unasked_lead = col(Lead.id).not_in(lead_asked)
    unasked_deal = col(Deal.id).not_in(deal_asked) & col(Deal.result).in_(["won", "lost"])

    def count(query: Any) -> int:
        return int(session.exec(query).one())

    def leads(*conds: Any) -> Any:
        return select(func.count()).select_from(Lead).where(unasked_lead, *conds)

    def deals(*conds: Any) -> Any:
        return select(func.count()).select_from(Deal).where(unasked_deal, *conds)

    def with_rep(model: Any, *conds: Any) -> Any:
        return (
            select(func.count())
            .select_from(model)
            .join(Rep, col(Rep.id) == model.rep_id)
            .where(unasked_lead if model is Lead else unasked_deal, *conds)
        )

    held = {
        "no_owner": count(leads(~lead_owner.exists())) + count(deals(~deal_owner.exists())),
        "inactive_rep": count(with_rep(Lead, ~col(Rep.active))) + count(with_rep(Deal, ~col(Rep.active))),
        "no_rep_email": count(with_rep(Lead, col(Rep.active), Rep.email == ""))
        + count(with_rep(Deal, col(Rep.active), Rep.email == "")),
        "no_date": count(with_rep(Lead, col(Rep.active), col(Lead.assigned_at).is_(None)))
        + count(with_rep(Deal, col(Rep.active), col(Deal.close_date).is_(None))),
        "before_send_since": count(with_rep(Lead, col(Rep.active), col(Lead.assigned_at) < since))
        + count(with_rep(Deal, col(Rep.active), col(Deal.close_date) < since.date())),
    }
    return {k: v for k, v in held.items() if v}


def due_leads(session: Session, since: datetime, now: datetime) -> list[tuple[Lead, Rep]]:
    asked = select(FeedbackRequest.lead_id).where(
        FeedbackRequest.kind == Kind.disposition, col(FeedbackRequest.lead_id).is_not(None)
    )
    rows = session.exec(
        select(Lead, Rep)
        .join(Rep, col(Rep.id) == col(Lead.rep_id))
        .where(
            col(Lead.assigned_at) >= since,
            col(Lead.assigned_at) <= now,  # a row dated in the future is due when its time comes
            col(Rep.active),
            Rep.email != "",
            col(Lead.id).not_in(asked),
        )
        .order_by(col(Lead.assigned_at))
    ).all()
    return [(lead, rep) for lead, rep in rows]


def due_deals(session: Session, since: datetime, now: datetime) -> list[tuple[Deal, Rep]]:
    asked = select(FeedbackRequest.deal_id).where(
        FeedbackRequest.kind == Kind.winloss, col(FeedbackRequest.deal_id).is_not(None)
    )
    rows = session.exec(
        select(Deal, Rep)
        .join(Rep, col(Rep.id) == col(Deal.rep_id))
        .where(
            col(Deal.result).in_(["won", "lost"]),
            col(Deal.close_date) >= since.date(),
            col(Deal.close_date) <= now.date(),
            col(Rep.active),
            Rep.email != "",
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
            ("disposition", lead, rep) for lead, rep in due_leads(session, since, now)
        ]
        todo += [("winloss", deal, rep) for deal, rep in due_deals(session, since, now)]
        result.held = held_back(session, since)
        if limit is not None:
            todo = todo[:limit]
        for kind, item, rep in todo:
            if outside_hours(rep_calendar(rep, settings), now, settings):
                result.held["outside_working_hours"] = result.held.get("outside_working_hours", 0) + 1
                continue
            if sent_today(session, rep.email, "request", now) >= settings.daily_cap_per_rep:
                result.skipped += 1
                result.held["daily_cap"] = result.held.get("daily_cap", 0) + 1
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
            context = request_context(kind, item, rep, settings)
            address = reply_address(
                request.token,
                local=settings.reply_local,
                domain=settings.reply_domain,
                plus_addressing=settings.plus_addressing,
            )
            try:  # one bad record or template skips its request, never the round
                rendered, failure = renderer.render_or_shipped(
                    f"{kind}_request", context, lang=rep.language, seed=request.id
                )
                if failure:
                    log.warning("template fallback: %s", failure)
                    result.template_fallbacks.append(str(failure))
                    record_failure(session, failure, purpose="request", request_id=request.id, at=now)
                message = build_message(
                    rendered=rendered,
                    from_addr=address,
                    from_name=settings.from_name,
                    to=rep.email,
                    to_name=rep.name,
                    message_id=request.message_id,
                )
            except Exception as exc:
                session.rollback()
                log.warning("request not built", extra={"rep": rep.email, "kind": kind, "error": str(exc)})
                if isinstance(exc, TemplateError) and not dry_run:
                    _record_unsent(session, renderer, f"{kind}_request", rep.language, exc, now)
                result.errors.append(f"{kind} request for {rep.email} ({_crm_id(item)}) not built: {exc}")
                result.held["unrenderable"] = result.held.get("unrenderable", 0) + 1
                continue
            request.template, request.template_version = rendered.template, rendered.version
            request.sent_at = now
            request.due_at = now + timedelta(hours=settings.reminder_after_hours)
            outbound = OutboundMail(
                purpose="request",
                to_addr=rep.email,
                subject=rendered.subject,
                message_id=request.message_id,
                request_id=request.id,
                sent_at=now,
                template_version=rendered.version,
            )
            if dry_run:
                session.add(outbound)
                session.flush()  # counted by the daily cap of the rows that follow
                result.planned.append({"to": rep.email, "kind": kind, "subject": rendered.subject})
                continue
            try:
                # the token exists before anyone can reply to it; a refused mail withdraws the
                # request, so the lead or deal is due again next round (worker cron, `send`)
                await deliver(
                    session,
                    transport,
                    message,
                    record=outbound,
                    envelope_from=address,
                    undo=partial(_withdraw, request),
                )
            except MailNotSent as exc:
                log.warning("send failed", extra={"request_id": request.id, "error": str(exc)})
                result.errors.append(
                    f"{kind} request to {rep.email}: {exc.__cause__} (tried again next round)"
                )
                continue
            result.sent += 1
        if dry_run:
            session.rollback()
    return result


def _record_unsent(
    session: Session, renderer: Renderer, template: str, lang: str, exc: TemplateError, now: datetime
) -> None:
    """A request no version of its template could render: stored for `feedback status`."""
    key = renderer.resolve(template, lang)
    failure = RenderFailure(template, key_language(key), renderer.version(key), str(exc), None)
    record_failure(session, failure, purpose="request", request_id=None, at=now)
    session.commit()


def _withdraw(request: FeedbackRequest, session: Session) -> None:
    """A request whose mail did not go was never asked: it goes, and its lead or deal is due."""
    session.delete(request)


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
    lang: str = "en",
) -> bool:
    """Render and send one service mail in ``lang``, logged for the throttle. False when throttled."""
    if throttle and sent_today(session, to, purpose, now) >= 1:
        return False
    try:
        return await _build_and_send(
            session=session,
            settings=settings,
            transport=transport,
            renderer=renderer,
            template=template,
            context=context,
            to=to,
            purpose=purpose,
            request=request,
            now=now,
            lang=lang,
        )
    except MailNotSent:
        raise
    except Exception as exc:  # a template or record that cannot become a mail: never the round
        raise MailNotSent(f"{purpose} mail to {to} could not be built: {exc}") from exc


async def _build_and_send(
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
    lang: str = "en",
) -> bool:
    rendered, failure = renderer.render_or_shipped(
        template, context, lang=lang, seed=request.id if request is not None else None
    )
    if failure:
        log.warning("template fallback: %s", failure)
        record_failure(
            session, failure, purpose=purpose, request_id=request.id if request is not None else None, at=now
        )
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
        template_version=rendered.version,
    )
    await deliver(session, transport, message, record=outbound, envelope_from=from_addr)
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
    """Remind reps of unanswered questions, then escalate to their manager, then expire.

    Requests waiting on a clarification follow the same clock, counted from the clarification.
    """
    now = now or utcnow()
    counts = {"reminders": 0, "escalations": 0, "expired": 0, "deferred": 0, "failed": 0}
    taxonomy = settings.taxonomy
    with Session(engine, expire_on_commit=False) as session:
        counts["expired"] = expire_overdue(session, now=now)
        session.commit()
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
            .where(
                col(FeedbackRequest.status).in_([RequestStatus.sent, RequestStatus.clarifying]),
                col(FeedbackRequest.sent_at).is_not(None),
            )
            .order_by(col(FeedbackRequest.id))
        ).all()
        for request, rep in open_requests:
            if rep.away_until is not None and now < rep.away_until:
                counts["deferred"] += 1  # out of office: the clock waits for their return
                continue
            cal = rep_calendar(rep, settings)
            elapsed = elapsed_for(cal, settings)
            lang = rep.language  # a manager's escalation too: it is about the rep's request
            desc = about(request, session, lang)
            if remind_due(
                request,
                now=now,
                gap_hours=settings.reminder_after_hours,
                max_reminders=settings.max_reminders,
                elapsed=elapsed,
            ):
                if outside_hours(cal, now, settings):
                    continue  # not at 3 a.m.: the next round inside their hours sends it
                ctx: dict[str, Any] = {
                    "rep": rep_context(rep),
                    "about": desc,
                    "options": option_groups(taxonomy.kind(request.kind), lang),
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
                    lang=lang,
                )
                if sent:  # None: refused, tried again next round
                    request.reminders_sent += 1
                    request.last_reminder_at = now
                    session.add(request)
                    session.commit()
                    counts["reminders"] += 1
            elif escalation_due(
                request,
                now=now,
                after_hours=settings.escalate_after_hours,
                max_reminders=settings.max_reminders,
                elapsed=elapsed,
            ):
                if rep.manager_email and outside_hours(
                    manager_calendar(session, rep, settings), now, settings
                ):
                    continue
                if rep.manager_email:
                    ctx = {
                        "rep": rep_context(rep),
                        "about": desc,
                        "sent_on": _day(request.sent_at, lang),
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
                        lang=lang,
                    )
                    if sent is None:
                        continue
                    counts["escalations"] += 1
                move(request, RequestStatus.escalated, now=now)
                session.add(request)
                session.commit()
    return counts


def _excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat[: limit - 3] + "..." if len(flat) > limit else flat


async def send_clarifications(
    engine: Engine, settings: Settings, transport: Transport, *, now: datetime | None = None
) -> int:
    """One clarification mail per unclear answer, from that request's own reply address.

    Never several requests in one mail: a reply could not say which answer belongs to which, and
    it would be filed under one request only. At most ``clarifications_per_rep_per_day`` go to one
    rep in 24 hours (no mail storms after a bulk import); the rest go in a later round.
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
        cap = settings.clarifications_per_rep_per_day
        for request, rep in rows:
            if outside_hours(rep_calendar(rep, settings), now, settings):
                continue
            if cap <= sent_today(session, rep.email, "clarification", now):
                continue
            reply = session.exec(
                select(Response.reply_text).where(Response.request_id == request.id, col(Response.is_current))
            ).first()
            item = {"about": about(request, session, rep.language), "reply_excerpt": _excerpt(reply or "")}
            ctx = {
                "rep": rep_context(rep),
                **item,
                "items": [item],  # admin overrides written for the old many-item mail still render
                "sender_name": settings.from_name,
                "options": option_groups(settings.taxonomy.kind(request.kind), rep.language),
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
                request=request,
                now=now,
                throttle=False,
                lang=rep.language,
            )
            if sent_one:
                mark_clarification_sent(request, now=now, ttl_days=settings.token_ttl_days)
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
        lang = rep.language
        answer: dict[str, Any] = {"summary": "", "outcome": "", "reasons": [], "competitor": None}
        if template == "acknowledgement":
            resp = session.exec(
                select(Response).where(Response.request_id == request.id, col(Response.is_current))
            ).first()
            if resp is not None:
                answer = answer_labels(session, settings.taxonomy, request.kind, resp, lang)
        ctx = {
            "rep": rep_context(rep),
            "sender_name": settings.from_name,
            "original_subject": subject.removeprefix("Re: ").removeprefix("RE: ")
            or about(request, session, lang),
            **answer,
            "current": (
                {"about": about(current, session, lang), "sent_on": _day(current.sent_at, lang)}
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
            lang=lang,
        )
