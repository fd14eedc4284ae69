"""People change: the open requests of a rep who left go to whoever has the lead or deal now.

A rep becomes inactive by hand (``feedback reps deactivate``), by a reps import that
deactivates them or, with ``--deactivate-missing``, leaves them out, or after
``bounce_deactivate_after`` requests to them bounced for good with no answer from them since
(:mod:`feedback.services.processing`). Their open requests (sent, clarifying, escalated) and the
ones that bounced then move:

1. to the lead's or deal's owner, when a leads/deals import gave it to another active rep (run
   after every import, so the next CRM export decides);
2. else, once ``handover_wait_hours`` have passed since the deactivation without such an import,
   to their manager, when the manager is an active rep here (the follow-up round checks);
3. else they stay, listed by ``feedback requests list --rep``, for an admin to reassign.

Each move goes through :func:`feedback.services.requests_admin.hand_over_requests`: history kept,
the new recipient asked afresh on a clock of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from feedback.outbound.transports import Transport
from feedback.runtime.settings import Settings
from feedback.services.requests_admin import hand_over_requests
from feedback.storage.lifecycle import HANDOVER_FROM
from feedback.storage.models import Deal, FeedbackRequest, Lead, Rep


@dataclass(frozen=True)
class Handover:
    request_id: int
    from_email: str
    to_email: str
    why: str  # "new owner" | "manager"


def plan_handovers(
    session: Session, settings: Settings, *, now: datetime, to_manager: bool
) -> list[Handover]:
    """Where each open request of an inactive rep goes now (none: it waits); see the module doc."""
    rows = session.exec(
        select(FeedbackRequest, Rep)
        .join(Rep, col(Rep.id) == col(FeedbackRequest.rep_id))
        .where(col(Rep.active).is_(False), col(FeedbackRequest.status).in_([s.value for s in HANDOVER_FROM]))
        .order_by(col(FeedbackRequest.id))
    ).all()
    active = {r.id: r for r in session.exec(select(Rep).where(col(Rep.active).is_(True))).all()}
    by_email = {r.email: r for r in active.values()}
    wait = timedelta(hours=settings.handover_wait_hours)
    plan: list[Handover] = []
    for request, rep in rows:
        item: Lead | Deal | None = (
            session.get(Lead, request.lead_id)
            if request.lead_id is not None
            else session.get(Deal, request.deal_id)
            if request.deal_id is not None
            else None
        )
        owner = active.get(item.rep_id) if item is not None and item.rep_id != rep.id else None
        if owner is not None:
            plan.append(Handover(request.id or 0, rep.email, owner.email, "new owner"))
            continue
        manager = by_email.get(rep.manager_email or "")
        gone_since = rep.deactivated_at or rep.updated_at
        if to_manager and manager is not None and manager.id != rep.id and now - gone_since >= wait:
            plan.append(Handover(request.id or 0, rep.email, manager.email, "manager"))
    return plan


async def hand_over_open_requests(
    engine: Engine, settings: Settings, transport: Transport, *, now: datetime, to_manager: bool
) -> list[Handover]:
    """Carry out :func:`plan_handovers`; returns the moves made. ``to_manager`` is the follow-up
    round's (after the wait); an import moves to new owners only."""
    with Session(engine) as session:
        plan = plan_handovers(session, settings, now=now, to_manager=to_manager)
        rep_ids = {r.email: r.id or 0 for r in session.exec(select(Rep)).all()}
    done: list[Handover] = []
    for why in ("new owner", "manager"):
        group = [h for h in plan if h.why == why]
        moves = {h.request_id: rep_ids[h.to_email] for h in group}
        moved = set(await hand_over_requests(engine, settings, transport, moves, now=now, why=why))
        done += [h for h in group if h.request_id in moved]
    return done
