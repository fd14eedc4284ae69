"""Keep ``request_sla`` current: each answer's time to answer in business hours of its rep.

Business hours need the rep's calendar (time zone, working days, country and company holidays),
which SQL cannot evaluate; the figure is computed here, once per answer, and stored, so the SLA
report stays one aggregate statement over the facts (feedback/reports/sla.py). A row is stale
when the fact's answer or start time moved (a later first reply, a re-imported assignment date):
the report ignores it and the next refresh recomputes it. A change of a rep's time zone or of the
working-hours settings is not detected: ``refresh_sla(..., full=True)`` recomputes every row.

Called by the follow-up cron round, by ``feedback report responsiveness`` and by the digest
before they read the figures; each call computes only what is missing or stale.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from feedback.core.calendars import calendar_for
from feedback.reports.sla import SLA, started_at
from feedback.reports.sql import FACT, REP, connect
from feedback.runtime.settings import Settings
from feedback.storage import fact_upkeep
from feedback.storage.models import utcnow

BATCH = 1000


def _stale(full: bool) -> Any:
    start = started_at(FACT)
    query = (
        select(FACT.c.request_id, start.label("started_at"), FACT.c.answered_at, REP.c.timezone, REP.c.team)
        .select_from(
            FACT.join(REP, REP.c.id == FACT.c.rep_id).outerjoin(SLA, SLA.c.request_id == FACT.c.request_id)
        )
        .where(FACT.c.answered_at.is_not(None))
    )
    if not full:
        query = query.where(
            or_(
                SLA.c.request_id.is_(None),
                SLA.c.answered_at != FACT.c.answered_at,
                SLA.c.started_at != start,
            )
        )
    return query.order_by(FACT.c.request_id)


def _as_datetime(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value  # SQLite CASE: text


def refresh_sla(
    engine: Engine, settings: Settings, *, full: bool = False, now: datetime | None = None
) -> int:
    """Compute the business hours of every answer that has none or a stale one; returns how many."""
    now = now or utcnow()
    done = 0
    with connect(engine) as conn:
        rows = conn.execute(_stale(full)).all()
    for i in range(0, len(rows), BATCH):
        chunk = rows[i : i + BATCH]
        values = []
        for r in chunk:
            cal = calendar_for(r.timezone, r.team, settings)
            start, end = _as_datetime(r.started_at), _as_datetime(r.answered_at)
            values.append(
                {
                    "request_id": r.request_id,
                    "started_at": start,
                    "answered_at": end,
                    "timezone": cal.timezone,
                    # to the tenth of an hour (6 minutes): the reports show no more, and the
                    # SLA quantiles count per distinct value (reports/sla.py)
                    "business_hours": round(cal.hours_between(start, end), 1),
                    "computed_at": now,
                }
            )
        try:
            ids = [v["request_id"] for v in values]
            with engine.begin() as conn:
                # the facts carry the hours (migration 0023): recomputed once per batch, not per row
                fact_upkeep.defer(conn)
                conn.execute(delete(SLA).where(SLA.c.request_id.in_(ids)))
                conn.execute(insert(SLA), values)
                fact_upkeep.refresh(conn, ids)
        except IntegrityError:  # a concurrent refresh (cron and a report) wrote them first
            continue
        done += len(values)
    return done
