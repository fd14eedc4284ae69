"""Erase a person's personal data everywhere it is stored, keeping the aggregate figures.

A lead, a deal's contact, a rep or any e-mail address: names, addresses, titles and companies
are replaced by a neutral placeholder, the raw mail they sent or that names them is dropped, and
reply texts are blanked; outcomes, reasons, competitors, dates and amounts stay, so every report
keeps its numbers (the report facts follow by their triggers). What was touched is returned,
counted per table, for the CLI to print and the log to keep. ``dry_run`` counts and changes
nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from sqlmodel import Session, col, or_, select

from feedback.runtime.errors import FeedbackError
from feedback.storage import raw_bytes
from feedback.storage.models import (
    Deal,
    FeedbackRequest,
    InboundMessage,
    Lead,
    OutboundMail,
    Rep,
    RepAlias,
    RepSignature,
    Response,
)

log = logging.getLogger("feedback.services.erase")
ERASED = "(erased)"


class EraseError(FeedbackError):
    """Nothing matches what was asked to erase."""

    exit_code = 2


@dataclass
class Erased:
    touched: Counter[str] = field(default_factory=Counter)  # "table.column" -> rows

    def add(self, what: str, n: int = 1) -> None:
        if n:
            self.touched[what] += n


def _requests_of(session: Session, *, lead_ids: list[int], deal_ids: list[int]) -> list[FeedbackRequest]:
    if not lead_ids and not deal_ids:
        return []
    return list(
        session.exec(
            select(FeedbackRequest).where(
                or_(col(FeedbackRequest.lead_id).in_(lead_ids), col(FeedbackRequest.deal_id).in_(deal_ids))
            )
        ).all()
    )


def _erase_request_mail(session: Session, requests: list[FeedbackRequest], out: Erased) -> None:
    """Replies to these requests lose their raw mail and text; our mails about them their subject."""
    ids = [r.id for r in requests if r.id is not None]
    if not ids:
        return
    for msg in session.exec(select(InboundMessage).where(col(InboundMessage.request_id).in_(ids))).all():
        _erase_message(session, msg, out)
        session.add(msg)
    for resp in session.exec(select(Response).where(col(Response.request_id).in_(ids))).all():
        if resp.reply_text:
            resp.reply_text = ""
            out.add("response.reply_text")
            session.add(resp)
    for mail in session.exec(select(OutboundMail).where(col(OutboundMail.request_id).in_(ids))).all():
        if mail.subject != ERASED:
            mail.subject = ERASED
            out.add("outbound_mail.subject")
            session.add(mail)


def _erase_message(session: Session, msg: InboundMessage, out: Erased) -> None:
    if msg.id is not None and raw_bytes.drop(session.connection(), [msg.id]):
        out.add("inbound_message.raw")  # the label people read: the message's raw bytes
    if msg.from_addr or msg.mail_from:
        msg.from_addr, msg.mail_from, msg.message_id = None, "", None
        out.add("inbound_message.sender")
    msg.error = ((msg.error or "") + "; personal data erased").lstrip("; ")


def _erase_lead(lead: Lead, out: Erased) -> None:
    lead.name, lead.email, lead.title, lead.company = ERASED, None, None, None
    out.add("lead")


def erase(
    session: Session,
    *,
    lead: str | None = None,
    deal: str | None = None,
    rep: str | None = None,
    email: str | None = None,
    dry_run: bool = False,
) -> Erased:
    """Erase what one of ``lead``/``deal`` (CRM ids), ``rep`` or ``email`` names; the caller commits."""
    given = [x for x in (lead, deal, rep, email) if x]
    if len(given) != 1:
        raise EraseError("name exactly one of --lead, --deal, --rep or --email")
    out = Erased()
    leads: list[Lead] = []
    deals: list[Deal] = []
    reps: list[Rep] = []
    address = (email or rep or "").strip().lower()
    if lead:
        leads = list(session.exec(select(Lead).where(Lead.crm_id == lead)).all())
    if deal:
        deals = list(session.exec(select(Deal).where(Deal.crm_id == deal)).all())
    if rep or email:
        reps = list(session.exec(select(Rep).where(Rep.email == address)).all())
        alias_reps = session.exec(select(RepAlias.rep_id).where(RepAlias.email == address)).all()
        reps += [r for r in (session.get(Rep, rid) for rid in alias_reps) if r is not None and r not in reps]
    if email:
        leads = list(session.exec(select(Lead).where(Lead.email == address)).all())
    messages: list[InboundMessage] = []
    senders: set[str] = set()
    if email or rep:
        senders = {address} | {
            a.email for r in reps for a in session.exec(select(RepAlias).where(RepAlias.rep_id == r.id)).all()
        }
        senders |= {r.email for r in reps}
        messages = list(
            session.exec(
                select(InboundMessage).where(col(InboundMessage.from_addr).in_(sorted(senders)))
            ).all()
        )
    if not (leads or deals or reps or messages):
        raise EraseError(f"nothing stored matches {given[0]!r}", hint="check the CRM id or address")

    for person_lead in leads:
        _erase_lead(person_lead, out)
        session.add(person_lead)
    for a_deal in deals:
        a_deal.name, a_deal.company = ERASED, None
        out.add("deal")
        session.add(a_deal)
        if a_deal.lead_id is not None:
            contact = session.get(Lead, a_deal.lead_id)
            if contact is not None:
                _erase_lead(contact, out)
                session.add(contact)
                leads.append(contact)
    requests = _requests_of(
        session, lead_ids=[x.id for x in leads if x.id], deal_ids=[x.id for x in deals if x.id]
    )
    _erase_request_mail(session, requests, out)
    for person in reps:
        for alias in session.exec(select(RepAlias).where(RepAlias.rep_id == person.id)).all():
            session.delete(alias)
            out.add("rep_alias")
        learned = session.get(RepSignature, person.id)
        if learned is not None:  # their name, address and phone, learned from their replies
            session.delete(learned)
            out.add("rep_signature")
        old = person.email
        person.name, person.email, person.manager_email = ERASED, f"erased-{person.id}@invalid", None
        person.crm_id = None
        out.add("rep")
        session.add(person)
        for other in session.exec(select(Rep).where(Rep.manager_email == old)).all():
            other.manager_email = None
            out.add("rep.manager_email")
            session.add(other)
        rep_requests = list(
            session.exec(select(FeedbackRequest).where(FeedbackRequest.rep_id == person.id)).all()
        )
        _erase_request_mail(session, rep_requests, out)
        for mail in session.exec(select(OutboundMail).where(OutboundMail.to_addr == old)).all():
            mail.to_addr = person.email
            out.add("outbound_mail.to_addr")
            session.add(mail)
    if email or rep:
        for resp in session.exec(
            select(Response).where(col(Response.answered_by).in_(sorted(senders)))
        ).all():
            resp.answered_by = ERASED
            out.add("response.answered_by")
            session.add(resp)
    for msg in messages:
        _erase_message(session, msg, out)
        session.add(msg)
        for resp in session.exec(select(Response).where(Response.inbound_message_id == msg.id)).all():
            if resp.reply_text:
                resp.reply_text = ""
                out.add("response.reply_text")
                session.add(resp)
    if dry_run:
        session.rollback()
    else:
        session.flush()
        log.info("erased personal data of %s: %s", given[0], dict(out.touched))
    return out
