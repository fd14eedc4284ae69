"""Query builders: aggregated rows as dicts, computed by the database.

No printing and no Python-side counting: every count, sum, rate denominator and median comes out
of SQL that runs unchanged on SQLite and PostgreSQL. Builders read the filtered frame of
:mod:`feedback.reports.sql` (``frame``, ``fact_frame``, ``reason_frame``), so filters are applied
once, the same way everywhere; most build parts of a report's single statement (``run_parts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    Numeric,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import CTE, FromClause, Select, Subquery

from feedback.reports.sql import DEAL, REASON, REQ, RESP, bind_time, count_if, scanned
from feedback.storage.lifecycle import WAITING

Row = dict[str, Any]


def rows(conn: Connection, query: Select[Any]) -> list[Row]:
    """The result as dicts, its keys read once (a row's ``_mapping`` rebuilds them per row: a
    third of the CRM export's time over 40,000 rows)."""
    result = conn.execute(query)
    keys = list(result.keys())
    return [dict(zip(keys, r, strict=True)) for r in result.all()]


def _dims(f: FromClause, by: Sequence[str]) -> list[ColumnElement[Any]]:
    return [f.c[name] for name in by]


# what "answered" means -------------------------------------------------------------------------

ANSWERED = "answered"
ANSWER_STATES = {
    ANSWERED: "Answered",
    "no_outcome": "Replied, no outcome",
    "clarifying": "Clarification asked",
    "review": "In review",
    "unanswered": "Not answered yet",
}
"""Where a request stands, each request in exactly one state (see :func:`answer_state`)."""

ANSWER_NOTE = (
    "Answered: a usable answer (an outcome, from the rep, a manager or review). Replies without "
    "an outcome, requests waiting on a clarification and answers in review are counted apart and "
    "never as answered; outcomes and reasons count answered requests only."
)


def text_constant(value: str) -> ColumnElement[str]:
    """A string written into the SQL, not bound: an expression grouped by must read the same in
    SELECT and GROUP BY, which two bound parameters do not (PostgreSQL refuses them)."""
    if "'" in value:
        raise ValueError(f"not a plain constant: {value!r}")
    return literal_column(f"'{value}'", String())


NOT_YET = ("review", "clarifying")
"""Request statuses whose answer is not usable yet, whatever the response says."""


def answer_state(status: Any, response_id: Any, outcome: Any) -> ColumnElement[str]:
    """The one definition of "answered", as SQL over a fact's ``status``, ``response_id``, ``outcome``.

    A request is *answered* when its current response gives an outcome and no one still has to
    look at it: a request in review (the answer is in doubt) or waiting on a clarification is
    not, whatever its response says, nor is a reply that gave no outcome. Every answer rate,
    outcome count, reason and competitor figure reads this, so none can exceed the answers.
    """
    return case(
        *[(status == text_constant(code), text_constant(code)) for code in NOT_YET],
        (response_id.is_(None), text_constant("unanswered")),
        (outcome.is_(None), text_constant("no_outcome")),
        else_=text_constant(ANSWERED),
    )


def is_answered(status: Any, response_id: Any, outcome: Any) -> ColumnElement[bool]:
    """``answer_state(...) == 'answered'`` as plain column predicates, for WHERE clauses: the
    planner estimates these from column statistics, while it cannot see into a CASE."""
    return and_(status.not_in(NOT_YET), response_id.is_not(None), outcome.is_not(None))


def funnel(f: FromClause, by: Sequence[str] = (), *, accepted: str) -> Select[Any]:
    """Leads asked about → answered → accepted → opportunity → won, each a subset of the one before.

    ``f`` holds the frame's disposition requests (one per lead). Answered is :func:`answer_state`;
    accepted an answer with the ``accepted`` outcome; opportunity an accepted lead with a CRM deal
    opened from it; won an opportunity with a deal won in the CRM. The states of the leads not
    answered are counted too (``n_<state>``). The definition, as one query; the report computes
    it with the deals outside it in one scan (:func:`funnel_parts`).
    """
    keys = _dims(f, by)
    d = _deals_per_lead()
    state = answer_state(f.c.status, f.c.response_id, f.c.outcome)
    is_accepted = and_(state == ANSWERED, f.c.outcome == accepted)
    query = (
        select(
            *keys,
            func.count().label("handed"),
            count_if(state == ANSWERED).label("answered"),
            count_if(is_accepted).label("accepted"),
            count_if(and_(is_accepted, d.c.lead_id.is_not(None))).label("opportunity"),
            count_if(and_(is_accepted, d.c.won > 0)).label("won"),
            *[count_if(state == code).label(f"n_{code}") for code in ANSWER_STATES if code != ANSWERED],
        )
        .select_from(f.outerjoin(d, d.c.lead_id == f.c.lead_id))
        .where(f.c.kind == "disposition")
    )
    if keys:
        query = query.group_by(*keys).order_by(func.count().desc(), *keys)
    return query


FUNNEL_COLUMNS = (
    "kind",
    "status",
    "response_id",
    "outcome",
    "deal_result",
    "deal_lead_id",
    "lead_deals",
    "lead_deals_won",
    "lead_asked",
)
"""The frame columns :func:`funnel_parts` reads (besides its ``by``)."""


def funnel_parts(f: FromClause, by: Sequence[str], *, accepted: str) -> dict[str, Select[Any]]:
    """The funnel overall (part ``total``) and per ``by`` (``per``), and the deals outside it
    from leads (``outside``): :func:`funnel` and :func:`deals_outside_funnel`, from one scan.

    The frame's disposition requests are counted once, per ``by``, answer state and outcome
    (``fl``: leads, leads with deals, with a won deal, and their deals); every figure of both is a
    sum over those few groups: the overall funnel the sum of the groups', and a group's deals
    outside the funnel its leads' deals unless accepted. Computed apart, they scanned and joined
    the frame three times (tests/test_reports_trust.py compares both forms).

    The deals per lead and whether a deal's lead was asked about are read from the facts
    (``lead_deals``, ``lead_deals_won``, ``lead_asked``: migration 0028, kept by triggers), so
    ``f`` must hold them: no join with ``deal`` nor a lookup of the requests per deal. Joined, they
    were 1.5 and 0.8 s of the report at a million answers.
    """
    state = answer_state(f.c.status, f.c.response_id, f.c.outcome)
    fl = (
        select(
            *_dims(f, by),
            state.label("state"),
            f.c.outcome,
            func.count().label("leads"),
            count_if(f.c.lead_deals > 0).label("with_deals"),
            count_if(f.c.lead_deals_won > 0).label("with_won"),
            func.sum(f.c.lead_deals).label("deals"),
            func.sum(f.c.lead_deals_won).label("won"),
        )
        .where(f.c.kind == "disposition")
        .group_by(*_dims(f, by), state, f.c.outcome)
        .cte("fl")
    )
    keys = _dims(fl, by)
    answered = fl.c.state == ANSWERED
    is_accepted = and_(answered, fl.c.outcome == accepted)

    def total(value: ColumnElement[Any], cond: ColumnElement[bool] | None = None) -> ColumnElement[Any]:
        summed = func.sum(value) if cond is None else func.sum(case((cond, value), else_=0))
        return func.coalesce(summed, 0)

    figures = [
        total(fl.c.leads).label("handed"),
        total(fl.c.leads, answered).label("answered"),
        total(fl.c.leads, is_accepted).label("accepted"),
        total(fl.c.with_deals, is_accepted).label("opportunity"),
        total(fl.c.with_won, is_accepted).label("won"),
        *[
            total(fl.c.leads, fl.c.state == code).label(f"n_{code}")
            for code in ANSWER_STATES
            if code != ANSWERED
        ],
    ]
    per = select(*keys, *figures).group_by(*keys).cte("fn")
    overall = select(*[func.coalesce(func.sum(c), 0).label(c.key) for c in per.c if c.key not in by])
    given = case((answered, fl.c.outcome))
    from_leads = (
        select(
            *keys,
            fl.c.state.label("why"),
            given.label("outcome"),
            func.sum(fl.c.deals).label("deals"),
            func.sum(fl.c.won).label("won"),
        )
        .where(~is_accepted, fl.c.with_deals > 0)
        .group_by(*keys, fl.c.state, given)
    )
    return {
        "total": overall,
        "per": select(per).order_by(per.c.handed.desc(), *_dims(per, by)),
        "outside": _outside(f, by, from_leads, cached=True),
    }


def _deals_per_lead() -> Subquery:
    """Per lead with CRM deals: how many, and how many the CRM has won."""
    return (
        select(
            DEAL.c.lead_id.label("lead_id"),
            func.count().label("deals"),
            count_if(DEAL.c.result == "won").label("won"),
        )
        .where(DEAL.c.lead_id.is_not(None))
        .group_by(DEAL.c.lead_id)
        .subquery("d")
    )


def deals_outside_funnel(f: FromClause, by: Sequence[str] = (), *, accepted: str) -> Select[Any]:
    """CRM deals the funnel leaves out, with why: their lead was not accepted, or was never asked about.

    From the frame's leads: the deals of each lead whose answer was not ``accepted`` (``why`` is
    its :func:`answer_state`, ``outcome`` the outcome it gave). From the frame's closed deals
    asked about: those with no lead (``why`` = ``no_lead``) or whose lead has no disposition
    request at all (``not_asked``). ``deals`` counts deals, ``won`` those won in the CRM.
    """
    keys = _dims(f, by)
    d = _deals_per_lead()
    state = answer_state(f.c.status, f.c.response_id, f.c.outcome)
    given = case((state == text_constant(ANSWERED), f.c.outcome))
    from_leads = (
        select(
            *keys,
            state.label("why"),
            given.label("outcome"),
            func.sum(d.c.deals).label("deals"),
            func.sum(d.c.won).label("won"),
        )
        .select_from(f.join(d, d.c.lead_id == f.c.lead_id))
        .where(
            f.c.kind == "disposition",
            ~and_(is_answered(f.c.status, f.c.response_id, f.c.outcome), f.c.outcome == accepted),
        )
        .group_by(*keys, state, given)
    )
    return _outside(f, by, from_leads)


def _outside(
    f: FromClause, by: Sequence[str], from_leads: Select[Any], *, cached: bool = False
) -> Select[Any]:
    """``from_leads`` (the deals of leads not accepted, per ``by``, why and outcome) with the
    closed deals asked about that have no lead or whose lead was never asked about, in order.

    Whether a lead was asked about: a disposition request for it, looked up per deal, or with
    ``cached`` the fact's ``lead_asked`` (0 also where the deal has no lead)."""
    keys = _dims(f, by)
    if cached:  # as migration 0028's partial index reads, constants written in so it matches
        not_asked: ColumnElement[bool] = f.c.lead_asked == literal_column("0", Integer())
        winloss = f.c.kind == text_constant("winloss")
    else:
        winloss = f.c.kind == "winloss"
        asked = select(REQ.c.id).where(REQ.c.kind == "disposition", REQ.c.lead_id == f.c.deal_lead_id)
        not_asked = or_(f.c.deal_lead_id.is_(None), ~asked.exists())
    why = case((f.c.deal_lead_id.is_(None), text_constant("no_lead")), else_=text_constant("not_asked"))
    unasked = (
        select(
            *keys,
            why.label("why"),
            null().label("outcome"),
            func.count().label("deals"),
            count_if(f.c.deal_result == "won").label("won"),
        )
        .where(winloss, not_asked)
        .group_by(*keys, why)
    )
    both = union_all(from_leads, unasked).subquery("o")
    okeys = _dims(both, by)
    return select(both).order_by(*okeys, both.c.deals.desc(), both.c.why, func.coalesce(both.c.outcome, ""))


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
            f.c.currency,
            primary.c.code.label("reason"),
            f.c.answered_at,
        )
        .select_from(f.outerjoin(primary, primary.c.response_id == f.c.response_id))
        .where(
            f.c.kind == "winloss",
            is_answered(f.c.status, f.c.response_id, f.c.outcome),
            ((f.c.deal_result == "won") & f.c.outcome.in_(["lost", "no_decision"]))
            | ((f.c.deal_result == "lost") & (f.c.outcome == "won")),
        )
        .order_by(f.c.answered_at.desc(), f.c.crm_id)
        .limit(limit)
    )
    return rows(conn, query)


MAX_RANKS = 4
SHOWN = (
    "answered_at", "crm_id", "kind", "lead_id", "deal_id", "subject", "rep", "rep_email", "team",
    "campaign", "source", "outcome", "competitor", "deal_result", "amount",
)  # fmt: skip
"""The frame's columns :func:`responses` returns unless told fewer."""


def responses(
    conn: Connection,
    f: Subquery,
    *,
    reasons: Sequence[str] = (),
    competitors: Sequence[str] = (),
    outcomes: Sequence[str] = (),
    limit: int | None = None,
    reason_frame: FromClause | None = None,
    shown: Sequence[str] = SHOWN,
) -> list[Row]:
    """The answers themselves, newest first, with reasons in rank order (for verbatims and CRM export).

    Each row holds the frame's ``shown`` columns, ``reply_text`` and ``reasons`` (a list): a
    caller names only what it shows, since every column fetched is converted for every row (the
    CRM export's month: 40,754 rows).

    The page (filters, order, ``limit``) is chosen first and the reasons are gathered for its rows
    only: aggregating every answer's reasons before the ``LIMIT`` cost verbatims 1.5 of its 2 s
    at a million answers. A page of a few hundred rows probes ``response_reason`` per answer;
    with ``reason_frame`` (:func:`~feedback.reports.sql.reason_frame` of the same filters: the
    reasons of the frame's current answers, with ``request_id``, ``code`` and ``rank``) the
    reasons are read from that slice in one scan and joined by request instead, which is what a
    page without a limit wants (the CRM export of a month: 40,000 index probes cost 0.2 s).
    """
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
    shown = list(shown)
    carried = dict.fromkeys([*shown, "answered_at", "response_id", "request_id"])  # order, joins
    page_query = (
        select(*[f.c[name] for name in carried])
        .where(*conds)
        .order_by(f.c.answered_at.desc(), f.c.request_id.desc())
    )
    if limit:
        page_query = page_query.limit(limit)
    # a CTE read twice (the rows, and the reasons' IN list): the page is chosen once
    page = page_query.cte("page")
    if reason_frame is None:
        key, by = REASON.c.response_id, page.c.response_id
        resp = REASON.c.response_id
        ranks = select(key.label("k"), resp.label("resp"), REASON.c.rank, REASON.c.code).where(
            key.in_(select(page.c.response_id))  # only the rows shown
        )
    else:  # by request, and by response too: only the current answer's reasons, whatever happens
        rf = reason_frame
        key, by = rf.c.request_id, page.c.request_id
        ranks = select(key.label("k"), rf.c.response_id.label("resp"), rf.c.rank, rf.c.code)
    rr = ranks.subquery("rk")
    ranked = (
        select(
            rr.c.k,
            rr.c.resp,
            *[func.max(case((rr.c.rank == i, rr.c.code))).label(f"r{i}") for i in range(MAX_RANKS)],
        )
        .group_by(rr.c.k, rr.c.resp)
        .subquery("rr")
    )
    # the text of the rows returned only, one primary-key probe each (a join hashed all of
    # ``response`` for the CRM export's month: 0.2 s at a million answers)
    text = select(RESP.c.reply_text).where(RESP.c.id == page.c.response_id).scalar_subquery()
    query = (
        select(
            *[page.c[name] for name in shown],
            text.label("reply_text"),
            *[ranked.c[f"r{i}"] for i in range(MAX_RANKS)],
        )
        .select_from(page.outerjoin(ranked, and_(ranked.c.k == by, ranked.c.resp == page.c.response_id)))
        .order_by(page.c.answered_at.desc(), page.c.request_id.desc())
    )
    result = conn.execute(query)
    keys = [*shown, "reply_text"]
    n = len(keys)
    # one dict per row, its reasons in rank order (the rank columns are the last MAX_RANKS)
    found = []
    for r in result.all():
        row = dict(zip(keys, r[:n], strict=True))
        row["reasons"] = list(filter(None, r[n:]))
        found.append(row)
    return found


# one statement per report ----------------------------------------------------------------------
#
# A report's figures come from one SQL statement: the frame is a CTE (joined and filtered once),
# a second CTE groups it at the finest grain the report needs, and every section is a small
# roll-up of that. The parts are UNION ALLed into typed slots and split again by part name, so
# the statement is the same on SQLite and PostgreSQL (no GROUPING SETS, no JSON).

GRAIN = ("kind", "outcome", "deal_result", "currency")
"""Always in a :func:`grouped` CTE's keys (with the ``answer`` state): every outcome, answer and
CRM figure is then a sum over groups, and amounts never mix currencies."""


def overdue(f: FromClause, before: datetime) -> ColumnElement[bool]:
    """Sent before ``before`` and still waiting for an answer (sent, clarifying or escalated).

    The statuses are written into the SQL (not bound), so SQLite can read migration 0030's
    partial index of the waiting requests."""
    waiting = f.c.status.in_([text_constant(s.value) for s in WAITING])
    return and_(waiting, f.c.sent_at < bind_time(f.c.sent_at, before))


def grouped(
    f: FromClause,
    keys: Sequence[str],
    *,
    before: datetime | None = None,
    name: str = "g",
) -> CTE:
    """The frame grouped by ``keys`` (plus :data:`GRAIN` and the :func:`answer_state` as
    ``answer``): requests, sent, amount (in the group's one currency).

    Three plain aggregates per row is what makes the one scan of a million facts cheap; the
    conditional figures (answers, outcome counts, CRM won/lost, disagreements) are sums over the
    few thousand groups, in :func:`metrics`. ``overdue`` (sent before ``before`` and still
    waiting for an answer: sent, clarifying or escalated) is counted when ``before`` is given.
    """
    return grouped_select(f, keys, before=before).cte(name)


def grouped_select(f: FromClause, keys: Sequence[str], *, before: datetime | None = None) -> Select[Any]:
    """:func:`grouped`'s SELECT (the rollup adds it to the months it sums: ``reports.rollup``)."""
    kcols = [scanned(f.c[k]) for k in dict.fromkeys([*keys, *GRAIN])]
    answer = answer_state(f.c.status, f.c.response_id, f.c.outcome)
    cols: list[ColumnElement[Any]] = [
        func.count().label("requests"),
        func.count(f.c.sent_at).label("sent"),
        func.sum(f.c.amount).label("amount"),
    ]
    if before is not None:
        cols.append(count_if(overdue(f, before)).label("overdue"))
    named = [c.label(k) for c, k in zip(kcols, dict.fromkeys([*keys, *GRAIN]), strict=True)]
    return select(*named, answer.label("answer"), *cols).group_by(*kcols, answer)


def metrics(g: FromClause, outcomes: Sequence[str] = ()) -> dict[str, ColumnElement[Any]]:
    """Every count as a sum over :func:`grouped` rows: requests, sent, ``answered`` and the other
    answer states (``n_<state>``), outcomes of answered requests (``n_<outcome>`` per outcome
    given), CRM won/lost, disagreements. Amounts are per currency: :func:`amounts`."""

    def where(cond: ColumnElement[bool], value: ColumnElement[Any] = g.c.requests) -> ColumnElement[Any]:
        return func.sum(case((cond, value), else_=0))

    answered = g.c.answer == ANSWERED
    won, lost = g.c.deal_result == "won", g.c.deal_result == "lost"
    disagree = and_(
        answered,
        g.c.kind == "winloss",
        (won & g.c.outcome.in_(["lost", "no_decision"])) | (lost & (g.c.outcome == "won")),
    )
    counts = {
        "requests": func.sum(g.c.requests),
        "sent": func.sum(g.c.sent),
        "answered": where(answered),
        **{f"n_{state}": where(g.c.answer == state) for state in ANSWER_STATES if state != ANSWERED},
        "crm_won": where(won),
        "crm_lost": where(lost),
        "disagree": where(disagree),
        **{f"n_{code}": where(and_(answered, g.c.outcome == code)) for code in outcomes},
        **({"overdue": func.sum(g.c.overdue)} if "overdue" in g.c else {}),
    }
    return {k: func.coalesce(v, 0) for k, v in counts.items()}


def amounts(
    g: FromClause, by: Sequence[str] = (), *, where: Sequence[ColumnElement[bool]] = ()
) -> Select[Any]:
    """Per ``by`` and currency: the amounts of deals won and lost in the CRM (from :func:`grouped`).

    Summed within one currency only; a report shows one figure per currency (``model.Money``).
    """
    keys = _dims(g, by)
    amount = func.coalesce(g.c.amount, 0.0)
    return (
        select(
            *keys,
            g.c.currency,
            func.coalesce(func.sum(case((g.c.deal_result == "won", amount), else_=0.0)), 0.0).label(
                "won_amount"
            ),
            func.coalesce(func.sum(case((g.c.deal_result == "lost", amount), else_=0.0)), 0.0).label(
                "lost_amount"
            ),
        )
        .where(g.c.kind == "winloss", g.c.amount.is_not(None), *where)
        .group_by(*keys, g.c.currency)
        .order_by(*keys, g.c.currency)
    )


def rollup(
    g: FromClause,
    by: Sequence[str],
    *,
    outcomes: Sequence[str] = (),
    where: Sequence[ColumnElement[bool]] = (),
) -> Select[Any]:
    """Per ``by``: requests, sent, answered, outcome counts, CRM results, summed from :func:`grouped`."""
    keys = _dims(g, by)
    figures = [expr.label(name) for name, expr in metrics(g, outcomes).items()]
    query = select(*keys, *figures).select_from(g).where(*where)
    if keys:
        query = query.group_by(*keys).order_by(func.sum(g.c.requests).desc(), *keys)
    return query


def reason_grouped(rf: FromClause, keys: Sequence[str], *, name: str = "rc") -> CTE:
    """The reasons of a :func:`~feedback.reports.sql.reason_frame` counted per ``keys`` and code.

    ``mentions`` counts answers naming the code (any rank), ``primary`` those giving it first.
    Only answered requests' reasons count (:func:`answer_state`: ``rf`` holds ``status`` and
    ``response_id``), the answers every outcome figure counts.
    """
    return reason_grouped_select(rf, keys).cte(name)


def reason_grouped_select(rf: FromClause, keys: Sequence[str]) -> Select[Any]:
    """:func:`reason_grouped`'s SELECT."""
    kcols = [rf.c[k] for k in keys]
    return (
        select(
            *kcols,
            rf.c.code.label("code"),
            func.count().label("mentions"),
            count_if(rf.c.rank == 0).label("primary"),
        )
        .where(is_answered(rf.c.status, rf.c.response_id, rf.c.outcome))
        .group_by(*kcols, rf.c.code)
    )


def reason_counts(
    rc: FromClause, by: Sequence[str] = (), where: Sequence[ColumnElement[bool]] = ()
) -> Select[Any]:
    """Per ``by``, kind, outcome and code: mentions and as primary, from a :func:`reason_grouped` CTE."""
    keys = _dims(rc, by)
    mentions = func.sum(rc.c.mentions)
    return (
        select(
            *keys,
            rc.c.kind,
            rc.c.outcome,
            rc.c.code,
            mentions.label("mentions"),
            func.sum(rc.c.primary).label("primary"),
        )
        .where(*where)
        .group_by(*keys, rc.c.kind, rc.c.outcome, rc.c.code)
        .order_by(*keys, rc.c.kind, rc.c.outcome, mentions.desc(), rc.c.code)
    )


def outcome_counts(
    g: FromClause, by: Sequence[str] = (), where: Sequence[ColumnElement[bool]] = ()
) -> Select[Any]:
    """Per ``by``, kind and outcome: answered requests (the denominators of reason shares)."""
    keys = _dims(g, by)
    answered = func.sum(g.c.requests)
    return (
        select(*keys, g.c.kind, g.c.outcome, answered.label("responses"))
        .where(g.c.answer == ANSWERED, *where)
        .group_by(*keys, g.c.kind, g.c.outcome)
        .having(answered > 0)
        .order_by(*keys, g.c.kind, answered.desc())
    )


def top_reason(
    rc: FromClause,
    by: Sequence[str],
    *,
    exclude_outcomes: Sequence[str] = (),
    where: Sequence[ColumnElement[bool]] = (),
) -> Select[Any]:
    """The most named reason per ``by`` (ties broken by code), from a :func:`reason_grouped` CTE."""
    keys = _dims(rc, by)
    counted = (
        select(*keys, rc.c.code, func.sum(rc.c.mentions).label("cnt"))
        .where(
            *where,
            rc.c.outcome.is_not(None),
            *([rc.c.outcome.not_in(list(exclude_outcomes))] if exclude_outcomes else []),
        )
        .group_by(*keys, rc.c.code)
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
    return select(*[ranked.c[k] for k in by], ranked.c.code, ranked.c.cnt).where(ranked.c.rn == 1)


def top_map(result: list[Row], by: Sequence[str]) -> dict[tuple[Any, ...], tuple[str, int]]:
    return {tuple(r[k] for k in by): (str(r["code"]), int(r["cnt"])) for r in result}


def median_map(result: list[Row], by: Sequence[str]) -> dict[tuple[Any, ...], float | None]:
    return {
        tuple(r[k] for k in by): (float(r["median"]) if r["median"] is not None else None) for r in result
    }


def competitor_stats(g: FromClause) -> Select[Any]:
    """Per competitor named: mentions, and the CRM result of the deals it was named in.

    From a :func:`grouped` CTE holding ``competitor``; answered requests only (a competitor
    named in an answer still in review or clarification is not counted yet). Amounts lost per
    competitor are :func:`amounts` by ``competitor``.
    """
    figures = metrics(g)
    mentions = figures["requests"]
    return (
        select(
            g.c.competitor,
            mentions.label("mentions"),
            func.sum(case((g.c.kind == "winloss", g.c.requests), else_=0)).label("deals"),
            figures["crm_won"].label("won"),
            figures["crm_lost"].label("lost"),
        )
        .where(g.c.competitor.is_not(None), g.c.answer == ANSWERED)
        .group_by(g.c.competitor)
        .having(mentions > 0)
        .order_by(mentions.desc(), g.c.competitor)
    )


def _slot_kind(column: ColumnElement[Any]) -> str:
    if isinstance(column.type, Integer):
        return "i"
    if isinstance(column.type, Float | Numeric):
        return "x"
    return "t"


_SLOT_TYPES: dict[str, Any] = {"i": BigInteger(), "x": Float(), "t": String()}


def run_parts(conn: Connection, parts: dict[str, Select[Any]]) -> dict[str, list[Row]]:
    """Run several aggregate queries as one statement; each part's rows come back in its own order.

    Each part keeps its ORDER BY as a ``row_number()`` and its columns are cast into shared typed
    slots (text, integer, float) so the parts can be UNION ALLed on both databases.
    """
    layouts: dict[str, list[tuple[str, str]]] = {}
    width = {"i": 0, "x": 0, "t": 0}
    subs = {}
    for name, query in parts.items():
        order = list(query._order_by_clauses)
        numbered = query.order_by(None).add_columns(
            func.row_number().over(order_by=order or None).label("_ord")
        )
        sub = numbered.subquery(f"p_{name}")
        used = {"i": 0, "x": 0, "t": 0}
        layout = []
        for col in sub.c:
            if col.key == "_ord":
                continue
            kind = _slot_kind(col)
            layout.append((col.key, f"{kind}{used[kind]}"))
            used[kind] += 1
        for kind in width:
            width[kind] = max(width[kind], used[kind])
        layouts[name] = layout
        subs[name] = sub
    selects = []
    for name, sub in subs.items():
        by_slot = {slot: key for key, slot in layouts[name]}
        slots: list[ColumnElement[Any]] = []
        for kind, n in width.items():
            for i in range(n):
                slot = f"{kind}{i}"
                value = sub.c[by_slot[slot]] if slot in by_slot else null()
                slots.append(cast(value, _SLOT_TYPES[kind]).label(slot))
        selects.append(select(literal(name, String()).label("_part"), sub.c["_ord"].label("_ord"), *slots))
    statement = union_all(*selects).order_by(literal_column("_part"), literal_column("_ord"))
    out: dict[str, list[Row]] = {name: [] for name in parts}
    for r in conn.execute(statement):
        m = r._mapping
        out[m["_part"]].append({key: m[slot] for key, slot in layouts[m["_part"]]})
    return out
