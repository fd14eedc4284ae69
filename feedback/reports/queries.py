"""Query builders: each returns aggregated rows as dicts, computed by the database.

No printing and no Python-side counting: every count, sum, rate denominator and median comes out
of one SQL statement that runs unchanged on SQLite and PostgreSQL. Callers pass a ``Subquery``
from :func:`feedback.reports.sql.frame`, so filters are applied once, the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import Select, Subquery

from feedback.reports.sql import DEAL, REASON, bind_time, count_if, median_by

Row = dict[str, Any]


def rows(conn: Connection, query: Select[Any]) -> list[Row]:
    return [dict(r._mapping) for r in conn.execute(query)]


def _dims(f: Subquery, by: Sequence[str]) -> list[ColumnElement[Any]]:
    return [f.c[name] for name in by]


def volume(conn: Connection, f: Subquery, by: Sequence[str], *, outcomes: Sequence[str] = ()) -> list[Row]:
    """Per group: requests, answered, answered with an outcome, one count per outcome, CRM results.

    ``n_<outcome>`` columns come from the taxonomy so a custom outcome gets its own column.
    """
    keys = _dims(f, by)
    answered = f.c.response_id.is_not(None)
    cols: list[ColumnElement[Any]] = [
        *keys,
        func.count().label("requests"),
        count_if(f.c.sent_at.is_not(None)).label("sent"),
        count_if(answered).label("answered"),
        count_if(f.c.outcome.is_not(None)).label("decided"),
        count_if(f.c.deal_result == "won").label("crm_won"),
        count_if(f.c.deal_result == "lost").label("crm_lost"),
        func.coalesce(func.sum(case((f.c.deal_result == "won", f.c.amount), else_=0.0)), 0.0).label(
            "won_amount"
        ),
        func.coalesce(func.sum(case((f.c.deal_result == "lost", f.c.amount), else_=0.0)), 0.0).label(
            "lost_amount"
        ),
        count_if(
            and_(
                f.c.kind == "winloss",
                (
                    ((f.c.deal_result == "won") & f.c.outcome.in_(["lost", "no_decision"]))
                    | ((f.c.deal_result == "lost") & (f.c.outcome == "won"))
                ),
            )
        ).label("disagree"),
    ]
    for code in outcomes:
        cols.append(count_if(f.c.outcome == code).label(f"n_{code}"))
    query = select(*cols).select_from(f)
    if keys:
        query = query.group_by(*keys).order_by(func.count().desc(), *keys)
    return rows(conn, query)


def medians(conn: Connection, f: Subquery, by: Sequence[str]) -> dict[tuple[Any, ...], float | None]:
    """Median hours from request to answer per group (window functions, both databases)."""
    keys = _dims(f, by)
    result = rows(conn, median_by(f, f.c.hours, keys))
    return {
        tuple(r[k] for k in by): (float(r["median"]) if r["median"] is not None else None) for r in result
    }


def overdue(
    conn: Connection, f: Subquery, by: Sequence[str], *, before: datetime
) -> dict[tuple[Any, ...], int]:
    """Requests still waiting (status sent) that went out before ``before``."""
    keys = _dims(f, by)
    query = (
        select(*keys, func.count().label("overdue"))
        .select_from(f)
        .where(f.c.status == "sent", f.c.sent_at < bind_time(f.c.sent_at, before))
    )
    if keys:
        query = query.group_by(*keys)
    return {tuple(r[k] for k in by): int(r["overdue"]) for r in rows(conn, query)}


def reason_counts(conn: Connection, f: Subquery, by: Sequence[str] = ()) -> list[Row]:
    """Per group, outcome and reason code: responses naming it (any rank) and as the primary reason."""
    keys = _dims(f, by)
    query = (
        select(
            *keys,
            f.c.kind,
            f.c.outcome,
            REASON.c.code,
            func.count().label("mentions"),
            count_if(REASON.c.rank == 0).label("primary"),
        )
        .select_from(f.join(REASON, REASON.c.response_id == f.c.response_id))
        .group_by(*keys, f.c.kind, f.c.outcome, REASON.c.code)
        .order_by(*keys, f.c.kind, f.c.outcome, func.count().desc(), REASON.c.code)
    )
    return rows(conn, query)


def outcome_counts(conn: Connection, f: Subquery, by: Sequence[str] = ()) -> list[Row]:
    """Per group, kind and outcome: answered responses (the denominators of reason shares)."""
    keys = _dims(f, by)
    query = (
        select(*keys, f.c.kind, f.c.outcome, func.count().label("responses"))
        .select_from(f)
        .where(f.c.response_id.is_not(None))
        .group_by(*keys, f.c.kind, f.c.outcome)
        .order_by(*keys, f.c.kind, func.count().desc())
    )
    return rows(conn, query)


def top_reason(
    conn: Connection, f: Subquery, by: Sequence[str], *, exclude_outcomes: Sequence[str] = ()
) -> dict[tuple[Any, ...], tuple[str, int]]:
    """The most named reason per group (ties broken by code), ranked with a window in SQL."""
    keys = _dims(f, by)
    counted = (
        select(*keys, REASON.c.code.label("code"), func.count().label("cnt"))
        .select_from(f.join(REASON, REASON.c.response_id == f.c.response_id))
        .where(
            f.c.outcome.is_not(None),
            *([f.c.outcome.not_in(list(exclude_outcomes))] if exclude_outcomes else []),
        )
        .group_by(*keys, REASON.c.code)
        .subquery("c")
    )
    ckeys = [counted.c[k] for k in by]
    ranked = select(
        *ckeys,
        counted.c.code,
        counted.c.cnt,
        func.row_number()
        .over(partition_by=ckeys or None, order_by=[counted.c.cnt.desc(), counted.c.code])
        .label("rn"),
    ).subquery("r")
    query = select(*[ranked.c[k] for k in by], ranked.c.code, ranked.c.cnt).where(ranked.c.rn == 1)
    return {tuple(r[k] for k in by): (str(r["code"]), int(r["cnt"])) for r in rows(conn, query)}


def funnel(conn: Connection, f: Subquery, by: Sequence[str] = ()) -> list[Row]:
    """Leads handed → answered → accepted → opportunity (a CRM deal from the lead) → won."""
    keys = _dims(f, by)
    per_lead = (
        select(
            DEAL.c.lead_id.label("lead_id"),
            func.max(case((DEAL.c.result == "won", 1), else_=0)).label("won"),
        )
        .where(DEAL.c.lead_id.is_not(None))
        .group_by(DEAL.c.lead_id)
        .subquery("d")
    )
    query = (
        select(
            *keys,
            func.count().label("handed"),
            count_if(f.c.response_id.is_not(None)).label("answered"),
            count_if(f.c.outcome == "accepted").label("accepted"),
            func.count(per_lead.c.lead_id).label("opportunity"),
            func.coalesce(func.sum(per_lead.c.won), 0).label("won"),
        )
        .select_from(f.outerjoin(per_lead, per_lead.c.lead_id == f.c.lead_id))
        .where(f.c.kind == "disposition")
    )
    if keys:
        query = query.group_by(*keys).order_by(func.count().desc(), *keys)
    return rows(conn, query)


def competitor_stats(conn: Connection, f: Subquery) -> list[Row]:
    """Per competitor named: mentions, and the CRM result of the deals it was named in."""
    query = (
        select(
            f.c.competitor,
            func.count().label("mentions"),
            count_if(f.c.kind == "winloss").label("deals"),
            count_if(f.c.deal_result == "won").label("won"),
            count_if(f.c.deal_result == "lost").label("lost"),
            func.coalesce(func.sum(case((f.c.deal_result == "lost", f.c.amount), else_=0.0)), 0.0).label(
                "lost_amount"
            ),
        )
        .select_from(f)
        .where(f.c.competitor.is_not(None), f.c.response_id.is_not(None))
        .group_by(f.c.competitor)
        .order_by(func.count().desc(), f.c.competitor)
    )
    return rows(conn, query)


def disagreements(conn: Connection, f: Subquery, *, limit: int) -> list[Row]:
    """Deals where the CRM stage and the rep's answer disagree (won in CRM, lost per the rep...)."""
    primary = select(REASON.c.response_id, REASON.c.code).where(REASON.c.rank == 0).subquery("p")
    query = (
        select(
            f.c.crm_id,
            f.c.subject,
            f.c.rep,
            f.c.campaign,
            f.c.deal_result,
            f.c.outcome,
            f.c.amount,
            primary.c.code.label("reason"),
            f.c.answered_at,
        )
        .select_from(f.outerjoin(primary, primary.c.response_id == f.c.response_id))
        .where(
            f.c.kind == "winloss",
            ((f.c.deal_result == "won") & f.c.outcome.in_(["lost", "no_decision"]))
            | ((f.c.deal_result == "lost") & (f.c.outcome == "won")),
        )
        .order_by(f.c.answered_at.desc(), f.c.crm_id)
        .limit(limit)
    )
    return rows(conn, query)


MAX_RANKS = 4


def responses(
    conn: Connection,
    f: Subquery,
    *,
    reasons: Sequence[str] = (),
    competitors: Sequence[str] = (),
    outcomes: Sequence[str] = (),
    limit: int | None = None,
) -> list[Row]:
    """The answers themselves, newest first, with reasons in rank order (for verbatims and CRM export)."""
    ranked = (
        select(
            REASON.c.response_id.label("response_id"),
            *[func.max(case((REASON.c.rank == i, REASON.c.code))).label(f"r{i}") for i in range(MAX_RANKS)],
        )
        .group_by(REASON.c.response_id)
        .subquery("rr")
    )
    conds: list[ColumnElement[bool]] = [f.c.response_id.is_not(None)]
    if reasons:
        has = select(REASON.c.id).where(
            REASON.c.response_id == f.c.response_id, REASON.c.code.in_(list(reasons))
        )
        conds.append(has.exists())
    if competitors:
        conds.append(func.lower(f.c.competitor).in_([c.lower() for c in competitors]))
    if outcomes:
        conds.append(f.c.outcome.in_(list(outcomes)))
    query = (
        select(
            f.c.answered_at,
            f.c.crm_id,
            f.c.kind,
            f.c.lead_id,
            f.c.deal_id,
            f.c.subject,
            f.c.rep,
            f.c.rep_email,
            f.c.team,
            f.c.campaign,
            f.c.source,
            f.c.outcome,
            f.c.competitor,
            f.c.deal_result,
            f.c.amount,
            f.c.reply_text,
            *[ranked.c[f"r{i}"] for i in range(MAX_RANKS)],
        )
        .select_from(f.outerjoin(ranked, ranked.c.response_id == f.c.response_id))
        .where(*conds)
        .order_by(f.c.answered_at.desc(), f.c.request_id.desc())
    )
    if limit:
        query = query.limit(limit)
    out = rows(conn, query)
    for row in out:
        row["reasons"] = [row.pop(f"r{i}") for i in range(MAX_RANKS)]
        row["reasons"] = [c for c in row["reasons"] if c]
    return out
