"""The reports: each runs a few aggregate queries and lays the rows out as a :class:`Report`.

Python here only names things (taxonomy labels, local dates) and divides counts the database
returned; it never counts rows itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.sql.selectable import CTE

from feedback.core.taxonomy import Taxonomy, TaxonomyError
from feedback.reports import periods, rollup, sla
from feedback.reports import queries as q
from feedback.reports.bulk import no_collection
from feedback.reports.filters import VARIANT, Filters
from feedback.reports.localtime import LocalISO
from feedback.reports.model import ROLE_ORDER, Chart, Column, Money, Rate, Report, Section
from feedback.reports.sql import (
    FACT_COLUMNS,
    SLA_ROLLUP_CS,
    SLA_ROLLUP_REP,
    Db,
    connect,
    dialect_of,
    fact_frame,
    frame,
    median_by,
    reason_frame,
)
from feedback.reports.variants import by_variant
from feedback.runtime.settings import Settings

FACT_MEASURES = (
    "kind", "outcome", "response_id", "sent_at", "status", "deal_result", "amount", "currency", "hours",
)  # fmt: skip
"""Frame columns the grouped counts and medians read (besides the keys a report groups by)."""

REASON_MEASURES = ("kind", "outcome", "status", "response_id")
"""Reason-frame columns :func:`queries.reason_grouped` reads (the answer state)."""

DIM_LABELS = {
    "campaign": "Campaign",
    "source": "Source",
    "segment": "Segment",
    "rep": "Rep",
    "team": "Team",
    "week": "Week of",
    "month": "Month",
}


@dataclass(frozen=True)
class Context:
    settings: Settings
    filters: Filters
    now: datetime  # naive UTC
    tz: ZoneInfo
    taxonomy: Taxonomy
    dialect: str  # the database's, for the one figure written per dialect (medians)

    @property
    def offset_minutes(self) -> int:
        """UTC offset of the reporting zone now; trend buckets shift by it (fixed, see docs)."""
        delta = self.now.replace(tzinfo=UTC).astimezone(self.tz).utcoffset()
        return int(delta.total_seconds() // 60) if delta else 0

    def frame(self, kind: str | None = None) -> Any:
        """The frame as a subquery, without the reply text (:func:`queries.responses` reads it
        for the rows it returns only)."""
        columns = [*FACT_COLUMNS, "week", "month"]
        return frame(self.filters, kind=kind, offset_minutes=self.offset_minutes, columns=columns)

    def facts(self, *columns: str, inline: bool = False) -> CTE:
        """The frame as one narrow CTE (all kinds, the filters applied) for a one-statement report
        (``inline``: see :func:`~feedback.reports.sql.fact_frame`)."""
        return fact_frame(self.filters, offset_minutes=self.offset_minutes, columns=columns, inline=inline)

    def reasons(self, *columns: str) -> CTE:
        """The reasons of :meth:`facts`'s answers (``code``, ``rank`` and ``columns``), filtered alike."""
        return reason_frame(self.filters, offset_minutes=self.offset_minutes, columns=columns)

    def outcome_label(self, kind: str, code: str | None) -> str:
        if code is None:
            return "(no outcome)"
        try:
            return self.taxonomy.kind(kind).outcome(code).label
        except (KeyError, TaxonomyError):
            return code

    def reason_label(self, kind: str, code: str) -> str:
        try:
            return self.taxonomy.kind(kind).reason(code).label
        except (KeyError, TaxonomyError):
            return code

    def outcomes(self, kind: str) -> tuple[str, ...]:
        return self.taxonomy.kind(kind).outcome_codes

    def outcome_order(self, kind: str, code: str | None) -> tuple[int, int]:
        """Positive outcomes first, then negative, then undecided; taxonomy order within a role."""
        codes = self.outcomes(kind)
        if code not in codes:
            return (len(ROLE_ORDER), len(codes))
        return (ROLE_ORDER.index(self.role(kind, code)), codes.index(code))

    def role(self, kind: str, code: str | None) -> str:
        """The outcome's role in the taxonomy (positive / negative / undecided), "" if unknown."""
        if code is None:
            return ""
        try:
            return self.taxonomy.kind(kind).roles.get(code, "")
        except TaxonomyError:
            return ""

    def positive(self, kind: str) -> str:
        """The kind's positive outcome (``accepted``, ``won`` in the default taxonomy)."""
        roles = self.taxonomy.kind(kind).roles
        return next((code for code, role in roles.items() if role == "positive"), self.outcomes(kind)[0])

    def outcome_roles(self, kind: str) -> tuple[tuple[str, str], ...]:
        """(outcome label, role) in report order: a chart's groups and legend."""
        codes = sorted(self.outcomes(kind), key=lambda c: self.outcome_order(kind, c))
        return tuple((self.outcome_label(kind, c), self.role(kind, c)) for c in codes)

    def local(self, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite through a subquery may hand back text
            value = datetime.fromisoformat(value)
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(self.tz)

    def report(self, name: str, title: str, sections: list[Section]) -> Report:
        return Report(
            name=name,
            title=title,
            generated_at=self.now.replace(tzinfo=UTC).astimezone(self.tz),
            timezone=self.settings.timezone,
            filters=self.filters.as_dict(),
            filters_text=self.filters.describe(self.tz),
            sections=sections,
        )


def make_context(db: Db, settings: Settings, filters: Filters, now: datetime | None = None) -> Context:
    if now is None:
        now = datetime.now(UTC)
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    return Context(settings, filters, now, ZoneInfo(settings.timezone), settings.taxonomy, dialect_of(db))


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _key(row: dict[str, Any], by: Sequence[str]) -> tuple[Any, ...]:
    return tuple(row[k] for k in by)


# answers and amounts, the same way in every report -----------------------------------------------

NOT_ANSWERED = tuple(state for state in q.ANSWER_STATES if state not in (q.ANSWERED, "unanswered"))
"""The states counted apart from answered in every table with an answer rate."""


def _answer_columns(label: str = "Answered") -> list[Column]:
    """An answer rate (answered of sent) and, beside it, the requests that replied but are not answered."""
    return [
        Column("answered", label, "rate"),
        *[Column(f"n_{state}", q.ANSWER_STATES[state], "int") for state in NOT_ANSWERED],
    ]


def _answer_cells(r: q.Row) -> dict[str, Any]:
    """The :func:`_answer_columns` of one rolled-up row (``queries.metrics``)."""
    return {
        "answered": Rate(int(r["answered"]), int(r["sent"])),
        **{f"n_{state}": int(r[f"n_{state}"]) for state in NOT_ANSWERED},
    }


def _answer_kpis(noun: str, r: q.Row) -> list[dict[str, Any]]:
    """Headline answer figures for leads or deals: the rate, then each state counted apart."""
    return [
        _kpi(f"{noun} answered", Rate(int(r["answered"]), int(r["sent"]))),
        *[_kpi(f"{noun}: {q.ANSWER_STATES[state].lower()}", int(r[f"n_{state}"])) for state in NOT_ANSWERED],
    ]


def _money(found: list[q.Row], by: Sequence[str], column: str) -> dict[tuple[Any, ...], Money]:
    """Per key, the amounts of :func:`queries.amounts` rows as one :class:`Money` (one per currency)."""
    pairs: dict[tuple[Any, ...], list[tuple[str | None, float | None]]] = {}
    for r in found:
        pairs.setdefault(_key(r, by), []).append((r["currency"], r[column]))
    return {key: Money.of(values) for key, values in pairs.items()}


CURRENCY_NOTE = "Amounts are in each deal's own currency and never added across currencies."


# summary ---------------------------------------------------------------------------------------


def _lead_table(ctx: Context, parts: dict[str, list[q.Row]], dim: str) -> Section:
    outcomes = ctx.outcomes("disposition")
    positive = ctx.positive("disposition")
    vol = parts[f"vol_{dim}"]
    med = q.median_map(parts[f"med_{dim}"], [dim])
    top = q.top_map(parts[f"top_{dim}"], [dim])
    cols = [
        Column(dim, DIM_LABELS[dim]),
        Column("handed", "Leads", "int"),
        *_answer_columns(),
        Column("accepted", ctx.outcome_label("disposition", positive), "rate"),
        *[Column(f"n_{o}", ctx.outcome_label("disposition", o), "int") for o in outcomes if o != positive],
        Column("top_reason", "Top reason not accepted"),
        Column("median_hours", "Median hours to answer", "hours"),
    ]
    out = []
    for r in vol:
        key = _key(r, [dim])
        top_code = top.get(key)
        row: dict[str, Any] = {
            dim: r[dim],
            "handed": int(r["requests"]),
            **_answer_cells(r),
            "accepted": Rate(int(r[f"n_{positive}"]), int(r["answered"])),
            "top_reason": f"{ctx.reason_label('disposition', top_code[0])} ({top_code[1]})"
            if top_code
            else "",
            "median_hours": _hours(med.get(key)),
        }
        for o in outcomes:
            if o != positive:
                row[f"n_{o}"] = int(r[f"n_{o}"])
        out.append(row)
    return Section(
        key=f"leads_by_{dim}",
        title=f"Leads by {dim}",
        columns=cols,
        rows=out,
        note="Answered as in the overview. Accepted is the share of answered leads.",
    )


def _reason_chart(ctx: Context, kind: str, title: str) -> Chart:
    """Reason bars coloured by their outcome's role, with a legend: never one colour for all."""
    return Chart(
        "bar", x="reason", y=("mentions",), title=title, group="outcome", roles=ctx.outcome_roles(kind)
    )


def _reason_parts(g: Any, rc: Any, kind: str) -> dict[str, Any]:
    """The two parts :func:`_reason_section` reads, for one kind (grained by kind and outcome)."""
    return {
        f"reasons_{kind}": q.reason_counts(rc, where=[rc.c.kind == kind]),
        f"outcomes_{kind}": q.outcome_counts(g, where=[g.c.kind == kind]),
    }


def _reason_section(
    ctx: Context, parts: dict[str, list[q.Row]], kind: str, *, key: str, title: str
) -> Section:
    counts = parts[f"reasons_{kind}"]
    totals = {(r["kind"], r["outcome"]): int(r["responses"]) for r in parts[f"outcomes_{kind}"]}
    # the database already ordered by count; put the taxonomy's outcomes in their own order
    ordered = sorted(
        (r for r in counts if r["kind"] == kind), key=lambda r: ctx.outcome_order(kind, r["outcome"])
    )
    out: list[dict[str, Any]] = [
        {
            "outcome": ctx.outcome_label(kind, r["outcome"]),
            "reason": ctx.reason_label(kind, r["code"]),
            "mentions": int(r["mentions"]),
            "primary": int(r["primary"]),
            "share": Rate(int(r["mentions"]), totals.get((kind, r["outcome"]), 0)),
        }
        for r in ordered
    ]
    return Section(
        key=key,
        title=title,
        columns=[
            Column("outcome", "Outcome"),
            Column("reason", "Reason"),
            Column("mentions", "Mentions", "int"),
            Column("primary", "As main reason", "int"),
            Column("share", "Share of the outcome's answers", "rate"),
        ],
        rows=out,
        chart=_reason_chart(ctx, kind, title),
        note="Reasons of answered requests only. A reply may give several reasons; each is counted "
        "once per reply.",
    )


def _competitor_parts(ctx: Context, g: Any, rc: Any) -> dict[str, Any]:
    """The parts :func:`_competitor_section` reads (grained by kind, outcome and competitor)."""
    return {
        "competitors": q.competitor_stats(g),
        "competitor_amounts": q.amounts(
            g, ["competitor"], where=[g.c.competitor.is_not(None), g.c.answer == q.ANSWERED]
        ),
        "top_competitor": q.top_reason(
            rc, ["competitor"], exclude_outcomes=[ctx.positive("winloss"), ctx.positive("disposition")]
        ),
    }


def _competitor_section(ctx: Context, parts: dict[str, list[q.Row]]) -> Section:
    stats = parts["competitors"]
    top = q.top_map(parts["top_competitor"], ["competitor"])
    lost = _money(parts["competitor_amounts"], ["competitor"], "lost_amount")
    out = []
    for r in stats:
        code = top.get((r["competitor"],))
        out.append(
            {
                "competitor": r["competitor"],
                "mentions": int(r["mentions"]),
                "deals": int(r["deals"]),
                "won": int(r["won"]),
                "lost": int(r["lost"]),
                "win_rate": Rate(int(r["won"]), int(r["won"]) + int(r["lost"])),
                "lost_amount": lost.get((r["competitor"],), Money()),
                "top_reason": _any_reason_label(ctx, code[0]) + f" ({code[1]})" if code else "",
            }
        )
    return Section(
        key="competitors",
        title="Competitors named",
        columns=[
            Column("competitor", "Competitor"),
            Column("mentions", "Mentions", "int"),
            Column("deals", "Closed deals", "int"),
            Column("won", "Won", "int"),
            Column("lost", "Lost", "int"),
            Column("win_rate", "Win rate against", "rate"),
            Column("lost_amount", "Amount lost", "money"),
            Column("top_reason", "Top reason (not won)"),
        ],
        rows=out,
        chart=Chart("bar", x="competitor", y=("mentions",), title="Mentions per competitor"),
        note="Answered requests only. Won and lost come from the CRM stage of the deal the competitor "
        f"was named in. {CURRENCY_NOTE}",
    )


def _any_reason_label(ctx: Context, code: str) -> str:
    for kind in ("winloss", "disposition"):
        label = ctx.reason_label(kind, code)
        if label != code:
            return label
    return code


def _counts(
    ctx: Context, f: CTE, keys: Sequence[str], reason_keys: Sequence[str], *, use_rollup: bool
) -> tuple[CTE, CTE, rollup.Split | None]:
    """The grouped counts (:func:`queries.grouped` by ``keys``) and reason counts
    (:func:`queries.reason_grouped` by ``reason_keys``) of the report's frame ``f``: from the rollup
    where it can answer (whole months, keys it holds: ``reports.rollup``), else from the facts.
    Both give the same figures (``tests/test_report_rollup.py`` compares every report that reads
    them); ``use_rollup=False`` reads the facts alone. The split is returned for the medians."""
    cut = rollup.split(ctx.filters) if use_rollup else None
    if cut is not None and set(keys) | set(reason_keys) <= set(rollup.KEYS):
        return rollup.grouped(cut, keys), rollup.reason_grouped(cut, reason_keys), cut
    extra = [k for k in reason_keys if k not in REASON_MEASURES]
    rf = ctx.reasons(*dict.fromkeys([*extra, *REASON_MEASURES]))
    return q.grouped(f, keys), q.reason_grouped(rf, reason_keys), None


def _kpi(label: str, value: Any, kind: str = "text") -> dict[str, Any]:
    """One headline figure; ``kind`` tells renderers how to print it (hours, money...)."""
    return {"metric": label, "value": value, "kind": kind}


KPI_COLUMNS = [Column("metric", "Figure"), Column("value", "Value")]


def summary(
    db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None, use_rollup: bool = True
) -> Report:
    """Lead acceptance and answer rates, outcomes and reasons by campaign/source, win/loss, competitors.

    The counts come from the rollup where it can answer (whole months; ``reports.rollup``), the
    rest from the facts; ``use_rollup=False`` reads the facts alone (the same figures: the tests
    compare both).
    """
    ctx = make_context(db, settings, filters, now)
    disp, wl = ctx.outcomes("disposition"), ctx.outcomes("winloss")
    f = ctx.facts("kind", "campaign", "source", "outcome", "competitor", *FACT_MEASURES)
    grain = ["kind", "campaign", "source", "outcome", "competitor"]
    g, rc, cut = _counts(ctx, f, grain, grain, use_rollup=use_rollup)
    is_lead, is_deal = g.c.kind == "disposition", g.c.kind == "winloss"
    parts: dict[str, Any] = {
        "lead": q.rollup(g, [], outcomes=disp, where=[is_lead]),
        "deal": q.rollup(g, [], outcomes=wl, where=[is_deal]),
        **_reason_parts(g, rc, "disposition"),
        **_reason_parts(g, rc, "winloss"),
        **_competitor_parts(ctx, g, rc),
    }
    sorted_medians: dict[str, Any] = {"median": median_by(f, f.c.hours, [], dialect=ctx.dialect)}
    for dim in ("campaign", "source"):
        parts[f"vol_{dim}"] = q.rollup(g, [dim], outcomes=disp, where=[is_lead])
        sorted_medians[f"med_{dim}"] = median_by(
            f, f.c.hours, [f.c[dim]], where=[f.c.kind == "disposition"], dialect=ctx.dialect
        )
        parts[f"top_{dim}"] = q.top_reason(
            rc, [dim], exclude_outcomes=[ctx.positive("disposition")], where=[rc.c.kind == "disposition"]
        )
    if cut is None:  # the facts alone: the medians in the same statement
        parts.update(sorted_medians)
    with connect(db) as conn:
        got = q.run_parts(conn, parts)
        found = rollup.medians(conn, cut, ("campaign", "source")) if cut is not None else None
        if found is not None:  # by rank, from the medians' indexes
            got["median"] = [{"median": found[""].get(None)}]
            for dim in ("campaign", "source"):
                got[f"med_{dim}"] = [{dim: k, "median": v} for k, v in found[dim].items()]
        elif cut is not None:  # a short range: its few facts sorted
            got.update(q.run_parts(conn, sorted_medians))
        lead, deal = got["lead"][0], got["deal"][0]
        med = q.median_map(got["median"], []).get((), None)
        accepted = ctx.positive("disposition")
        kpis = [
            _kpi("Leads handed to sales", int(lead["requests"])),
            *_answer_kpis("Leads", lead),
            _kpi("Leads accepted (of answered)", Rate(int(lead[f"n_{accepted}"]), int(lead["answered"]))),
            _kpi("Median hours to answer", _hours(med), "hours"),
            _kpi("Closed deals asked about", int(deal["requests"])),
            *_answer_kpis("Deals", deal),
            _kpi("Win rate (CRM)", Rate(int(deal["crm_won"]), int(deal["crm_won"]) + int(deal["crm_lost"]))),
            _kpi("CRM and rep disagree", int(deal["disagree"])),
        ]
        sections = [
            Section("overview", "Overview", KPI_COLUMNS, kpis, layout="kpis", note=q.ANSWER_NOTE),
            _lead_table(ctx, got, "campaign"),
            _lead_table(ctx, got, "source"),
            _reason_section(
                ctx, got, "disposition", key="lead_reasons", title="Why leads are accepted or not"
            ),
            _winloss_outcomes(ctx, deal),
            _reason_section(ctx, got, "winloss", key="winloss_reasons", title="Why deals are won and lost"),
            _competitor_section(ctx, got),
        ]
    return ctx.report("summary", "Feedback summary", sections)


def _winloss_outcomes(ctx: Context, total: dict[str, Any]) -> Section:
    answered = int(total["answered"])
    codes = sorted(ctx.outcomes("winloss"), key=lambda c: ctx.outcome_order("winloss", c))
    out = [
        {
            "outcome": ctx.outcome_label("winloss", code),
            "responses": int(total[f"n_{code}"]),
            "share": Rate(int(total[f"n_{code}"]), answered),
        }
        for code in codes
    ]
    title = "Win/loss: what reps said"
    return Section(
        key="winloss_outcomes",
        title=title,
        columns=[
            Column("outcome", "Outcome"),
            Column("responses", "Answers", "int"),
            Column("share", "Share", "rate"),
        ],
        rows=out,
        chart=Chart(
            "bar",
            x="outcome",
            y=("responses",),
            title=title,
            group="outcome",
            roles=ctx.outcome_roles("winloss"),
        ),
        note="Answered deals only; won and lost in the other figures come from the CRM.",
    )


# funnel ------------------------------------------------------------------------------------------


FUNNEL_STAGES = (
    ("handed", "Leads handed"),
    ("answered", "Answered"),
    ("accepted", "Accepted"),
    ("opportunity", "Opportunity"),
    ("won", "Won"),
)

FUNNEL_NOTE = (
    "Each stage is a subset of the one before. Leads handed: leads a rep was asked about. "
    "Answered: the rep gave a usable answer (an outcome, not in review or clarification). "
    "Accepted: that answer is {accepted}. Opportunity: an accepted lead with a CRM deal opened from "
    "it. Won: an opportunity whose deal the CRM has won. Deals from leads that were not accepted "
    "are not in the funnel: see Deals outside the funnel."
)


def _outside_why(ctx: Context, why: str, outcome: str | None) -> str:
    """Why a deal is outside the funnel, in words."""
    if why == q.ANSWERED and outcome:
        return f"Lead {ctx.outcome_label('disposition', outcome).lower()} by the rep"
    return {
        "no_outcome": "Lead: rep replied without an outcome",
        "clarifying": "Lead: clarification asked",
        "review": "Lead: answer in review",
        "unanswered": "Lead: not answered yet",
        "no_lead": "Deal has no lead",
        "not_asked": "Lead never asked about",
    }.get(why, why)


def funnel(db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None) -> Report:
    """From lead to revenue: handed → answered → accepted → opportunity → won, overall and per group.

    Each stage is a subset of the one before (``queries.funnel``); CRM deals from leads the rep
    did not accept, or with no lead, are counted in their own table, never in the funnel.
    """
    ctx = make_context(db, settings, filters, now)
    by = filters.by or "campaign"
    accepted = ctx.positive("disposition")
    f = ctx.facts(by, *q.FUNNEL_COLUMNS)
    parts = {
        **q.funnel_parts(f, [by], accepted=accepted),
    }
    with connect(db) as conn:
        got = q.run_parts(conn, parts)
    total = got["total"][0]
    handed = int(total["handed"])
    overall = []
    previous = handed
    for key, label in FUNNEL_STAGES:
        value = int(total[key])
        overall.append(
            {
                "stage": label,
                "leads": value,
                "of_previous": Rate(value, previous),
                "of_handed": Rate(value, handed),
            }
        )
        previous = value
    waiting = [
        {
            "state": q.ANSWER_STATES[state],
            "leads": int(total[f"n_{state}"]),
            "of_handed": Rate(int(total[f"n_{state}"]), handed),
        }
        for state in q.ANSWER_STATES
        if state != q.ANSWERED
    ]
    grouped = [
        {
            by: r[by],
            **{k: int(r[k]) for k, _ in FUNNEL_STAGES},
            **{f"n_{state}": int(r[f"n_{state}"]) for state in NOT_ANSWERED},
            "accept_rate": Rate(int(r["accepted"]), int(r["handed"])),
            "win_rate": Rate(int(r["won"]), int(r["handed"])),
        }
        for r in got["per"]
    ]
    outside = [
        {
            by: r[by],
            "why": _outside_why(ctx, str(r["why"]), r["outcome"]),
            "deals": int(r["deals"]),
            "won": int(r["won"]),
        }
        for r in got["outside"]
    ]
    note = FUNNEL_NOTE.format(accepted=ctx.outcome_label("disposition", accepted))
    sections = [
        Section(
            "funnel",
            "Funnel",
            [
                Column("stage", "Stage"),
                Column("leads", "Leads", "int"),
                Column("of_previous", "Of previous stage", "rate"),
                Column("of_handed", "Of leads handed", "rate"),
            ],
            overall,
            chart=Chart("bar", x="stage", y=("leads",), title="Leads at each stage"),
            note=note,
        ),
        Section(
            "not_answered",
            "Leads handed but not answered",
            [
                Column("state", "Where they stand"),
                Column("leads", "Leads", "int"),
                Column("of_handed", "Of leads handed", "rate"),
            ],
            waiting,
            note=q.ANSWER_NOTE,
        ),
        Section(
            f"funnel_by_{by}",
            f"Funnel by {by}",
            [
                Column(by, DIM_LABELS[by]),
                *[Column(k, label, "int") for k, label in FUNNEL_STAGES],
                Column("accept_rate", "Accepted / handed", "rate"),
                Column("win_rate", "Won / handed", "rate"),
                *[Column(f"n_{state}", q.ANSWER_STATES[state], "int") for state in NOT_ANSWERED],
            ],
            grouped,
            note="The same stages per group; each is a subset of the one before.",
        ),
        Section(
            "outside_funnel",
            "Deals outside the funnel",
            [
                Column(by, DIM_LABELS[by]),
                Column("why", "Why not in the funnel"),
                Column("deals", "CRM deals", "int"),
                Column("won", "Won (CRM)", "int"),
            ],
            outside,
            note="Deals opened from leads the rep did not accept (or has not answered usably yet), and "
            "closed deals asked about that have no lead or whose lead was never asked about. They are "
            "real deals, but not the funnel's: counting them there would make a stage exceed the one "
            "before.",
        ),
    ]
    return ctx.report("funnel", "Lead funnel", sections)


# reasons -----------------------------------------------------------------------------------------


def reasons(
    db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None, use_rollup: bool = True
) -> Report:
    """Why: each outcome's reasons, optionally crossed with campaign, source, segment, rep, team or period.

    Counts from the rollup where it can answer (see :func:`_counts`)."""
    ctx = make_context(db, settings, filters, now)
    kinds = [filters.kind] if filters.kind else ["disposition", "winloss"]
    sections: list[Section] = []
    dims = [filters.by] if filters.by else []
    f = ctx.facts(*dims, *FACT_MEASURES)
    g, rc, _ = _counts(ctx, f, dims, ["kind", "outcome", *dims], use_rollup=use_rollup)
    parts: dict[str, Any] = {}
    for kind in kinds:
        parts[f"reasons_{kind}"] = q.reason_counts(rc, dims, where=[rc.c.kind == kind])
        parts[f"outcomes_{kind}"] = q.outcome_counts(g, dims, where=[g.c.kind == kind])
    with connect(db) as conn:
        got = q.run_parts(conn, parts)
    for kind in kinds:
        title = "Lead dispositions" if kind == "disposition" else "Won and lost deals"
        if not filters.by:
            sections.append(_reason_section(ctx, got, kind, key=f"{kind}_reasons", title=f"{title}: reasons"))
            continue
        by = filters.by
        counts = got[f"reasons_{kind}"]
        totals = {(r[by], r["outcome"]): int(r["responses"]) for r in got[f"outcomes_{kind}"]}
        out = [
            {
                by: r[by],
                "outcome": ctx.outcome_label(kind, r["outcome"]),
                "reason": ctx.reason_label(kind, r["code"]),
                "mentions": int(r["mentions"]),
                "primary": int(r["primary"]),
                "share": Rate(int(r["mentions"]), totals.get((r[by], r["outcome"]), 0)),
            }
            for r in counts
        ]
        sections.append(
            Section(
                f"{kind}_reasons_by_{by}",
                f"{title}: reasons by {by}",
                [
                    Column(by, DIM_LABELS[by]),
                    Column("outcome", "Outcome"),
                    Column("reason", "Reason"),
                    Column("mentions", "Mentions", "int"),
                    Column("primary", "As main reason", "int"),
                    Column("share", f"Share of the {by}'s answers with the outcome", "rate"),
                ],
                out,
            )
        )
    return ctx.report("reasons", "Reasons", sections)


# win/loss ----------------------------------------------------------------------------------------


def _deal_table(ctx: Context, got: dict[str, list[q.Row]], dim: str) -> Section:
    won_amounts = _money(got[f"amt_{dim}"], [dim], "won_amount")
    lost_amounts = _money(got[f"amt_{dim}"], [dim], "lost_amount")
    out = []
    for r in got[f"vol_{dim}"]:
        won, lost = int(r["crm_won"]), int(r["crm_lost"])
        out.append(
            {
                dim: r[dim],
                "deals": int(r["requests"]),
                "won": won,
                "lost": lost,
                "win_rate": Rate(won, won + lost),
                "won_amount": won_amounts.get((r[dim],), Money()),
                "lost_amount": lost_amounts.get((r[dim],), Money()),
                **_answer_cells(r),
                "disagree": int(r["disagree"]),
            }
        )
    return Section(
        f"deals_by_{dim}",
        f"Deals by {dim}",
        [
            Column(dim, DIM_LABELS[dim]),
            Column("deals", "Closed deals", "int"),
            Column("won", "Won", "int"),
            Column("lost", "Lost", "int"),
            Column("win_rate", "Win rate", "rate"),
            Column("won_amount", "Amount won", "money"),
            Column("lost_amount", "Amount lost", "money"),
            *_answer_columns("Rep answered"),
            Column("disagree", "CRM ≠ rep", "int"),
        ],
        out,
        note=CURRENCY_NOTE,
    )


def winloss(
    db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None, use_rollup: bool = True
) -> Report:
    """Win rate and amounts by campaign and source (CRM), reasons (reps), and where the two disagree.

    Counts from the rollup where it can answer (see :func:`_counts`)."""
    ctx = make_context(db, settings, filters, now)
    limit = filters.limit or 50
    dims = [filters.by] if filters.by else ["campaign", "source"]
    wl = ctx.outcomes("winloss")
    fx = ctx.facts(*dims, *FACT_MEASURES)
    g, rc, _ = _counts(ctx, fx, dims, ["kind", "outcome"], use_rollup=use_rollup)
    is_deal = g.c.kind == "winloss"
    parts: dict[str, Any] = {
        "total": q.rollup(g, [], outcomes=wl, where=[is_deal]),
        "amounts": q.amounts(g),
        **{f"vol_{d}": q.rollup(g, [d], outcomes=wl, where=[is_deal]) for d in dims},
        **{f"amt_{d}": q.amounts(g, [d]) for d in dims},
        **_reason_parts(g, rc, "winloss"),
    }
    with connect(db) as conn:
        got = q.run_parts(conn, parts)
        f = ctx.frame("winloss")
        total = got["total"][0]
        money = _money(got["amounts"], [], "won_amount").get((), Money())
        lost_money = _money(got["amounts"], [], "lost_amount").get((), Money())
        won, lost = int(total["crm_won"]), int(total["crm_lost"])
        kpis = [
            _kpi("Closed deals asked about", int(total["requests"])),
            _kpi("Win rate (CRM)", Rate(won, won + lost)),
            _kpi("Amount won", money, "money"),
            _kpi("Amount lost", lost_money, "money"),
            *_answer_kpis("Deals", total),
            _kpi("CRM and rep disagree", int(total["disagree"])),
        ]
        sections = [
            Section(
                "overview",
                "Overview",
                KPI_COLUMNS,
                kpis,
                layout="kpis",
                note=f"{q.ANSWER_NOTE} {CURRENCY_NOTE}",
            )
        ]
        sections += [_deal_table(ctx, got, d) for d in dims]
        sections.append(
            _reason_section(ctx, got, "winloss", key="winloss_reasons", title="Why deals are won and lost")
        )
        flagged = q.disagreements(conn, f, limit=limit)
    sections.append(
        Section(
            "disagreements",
            "CRM and rep disagree",
            [
                Column("crm_id", "CRM deal id"),
                Column("subject", "Deal"),
                Column("rep", "Rep"),
                Column("campaign", "Campaign"),
                Column("crm", "CRM stage says"),
                Column("rep_said", "Rep said"),
                Column("reason", "Main reason"),
                Column("amount", "Amount", "money"),
            ],
            [
                {
                    "crm_id": r["crm_id"],
                    "subject": r["subject"],
                    "rep": r["rep"],
                    "campaign": r["campaign"],
                    "crm": r["deal_result"],
                    "rep_said": ctx.outcome_label("winloss", r["outcome"]),
                    "reason": ctx.reason_label("winloss", r["reason"]) if r["reason"] else "",
                    "amount": Money.of([(r["currency"], r["amount"])]),
                }
                for r in flagged
            ],
            note=f"Won/lost and amounts follow the CRM; check these with the rep. Newest {limit} shown.",
        )
    )
    return ctx.report("winloss", "Win/loss", sections)


# competitors -------------------------------------------------------------------------------------


def competitors(
    db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None, use_rollup: bool = True
) -> Report:
    """Which competitors reps name, how often we win against each, and the reasons given.

    Counts from the rollup where it can answer (see :func:`_counts`)."""
    ctx = make_context(db, settings, filters, now)
    f = ctx.facts("competitor", *FACT_MEASURES)
    g, rc, _ = _counts(ctx, f, ["competitor"], ["kind", "outcome", "competitor"], use_rollup=use_rollup)
    parts = {**_competitor_parts(ctx, g, rc), "counts": q.reason_counts(rc, ["competitor"])}
    with connect(db) as conn:
        got = q.run_parts(conn, parts)
    main = _competitor_section(ctx, got)
    counts = got["counts"]
    crossed = [
        {
            "competitor": r["competitor"],
            "outcome": ctx.outcome_label(r["kind"], r["outcome"]),
            "reason": ctx.reason_label(r["kind"], r["code"]),
            "mentions": int(r["mentions"]),
        }
        for r in counts
        if r["competitor"] is not None and (not filters.competitors or r["competitor"] in filters.competitors)
    ]
    if filters.competitors:
        wanted = {c.lower() for c in filters.competitors}
        main.rows = [r for r in main.rows if str(r["competitor"]).lower() in wanted]
    reasons_section = Section(
        "competitor_reasons",
        "Reasons given when a competitor was named",
        [
            Column("competitor", "Competitor"),
            Column("outcome", "Outcome"),
            Column("reason", "Reason"),
            Column("mentions", "Mentions", "int"),
        ],
        crossed,
    )
    return ctx.report("competitors", "Competitors", [main, reasons_section])


# responsiveness ----------------------------------------------------------------------------------


def responsiveness(
    db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None, use_rollup: bool = True
) -> Report:
    """How fast and how completely sales answers: per rep and per team, with requests overdue;
    with ``--by variant``, per template version instead (:mod:`feedback.reports.variants`).

    All time, filtered by nothing but the kind, the distributions come from the SLA rollups
    (migration 0030); ``use_rollup=False`` reads the facts alone (the same figures: the tests
    compare both)."""
    if filters.by == VARIANT:
        return by_variant(db, filters, settings, now=now)
    ctx = make_context(db, settings, filters, now)
    before = ctx.now - timedelta(hours=settings.reminder_after_hours)
    overdue_note = (
        f"Overdue: sent over {settings.reminder_after_hours:g} hours ago and still waiting for an answer "
        "(sent, clarification asked or escalated to the manager)."
    )
    sections = []
    # one statement: the table per rep and team reads the SLA's distribution per rep (one scan
    # for both), the medians of hours to answer their own index
    f = ctx.facts(*dict.fromkeys(["rep", "team", "hours", *SLA_KEYS, *sla.FRAME_COLUMNS]), inline=True)
    groupings = ((["rep", "team"], "By rep"), (["team"], "By team"))
    parts = _sla_parts(ctx, f, before=before, use_rollup=use_rollup)
    by_rank = _sla_rolled(ctx, use_rollup) and ctx.filters.kind is None
    if not by_rank:
        for by, _ in groupings:
            parts[f"med_{by[0]}"] = median_by(f, f.c.hours, [f.c[k] for k in by], dialect=ctx.dialect)
    with connect(db) as conn:
        got = q.run_parts(conn, parts)
        if by_rank:
            for by, _ in groupings:
                got[f"med_{by[0]}"] = sla.medians_by_rank(conn, by)
    for by, title in groupings:
        vol = got[f"vol_{by[0]}"]
        med = q.median_map(got[f"med_{by[0]}"], by)
        out = []
        for r in vol:
            key = _key(r, by)
            out.append(
                {
                    **{k: r[k] for k in by},
                    "sent": int(r["sent"]),
                    **_answer_cells(r),
                    "median_hours": _hours(med.get(key)),
                    "overdue": int(r["overdue"]),
                }
            )
        sections.append(
            Section(
                "by_" + by[0],
                title,
                [
                    *[Column(k, DIM_LABELS[k]) for k in by],
                    Column("sent", "Requests sent", "int"),
                    *_answer_columns(),
                    Column("median_hours", "Median hours to answer", "hours"),
                    Column("overdue", "Overdue", "int"),
                ],
                out,
                note=f"{q.ANSWER_NOTE} {overdue_note}",
            )
        )
    sections += _sla_sections_from(ctx, got)
    return ctx.report("responsiveness", "Responsiveness", sections)


SLA_GROUPS = (("rep", "By rep"), ("team", "By team"), ("campaign", "By campaign"), ("source", "By source"))
SLA_KEYS = [k for k, _ in SLA_GROUPS]


def _sla_note(settings: Settings) -> str:
    return (
        f"SLA: an answer within {settings.sla_business_hours:g} business hours of the lead's assignment "
        "(a deal: its close), counted in the working hours of the request's rep (time zone, working "
        "days, holidays); the share is of requests sent. Median and 90th percentile (p90) of answered "
        "requests; reminders needed: reminder mails an answered request took. Escalated: requests whose "
        "manager was told; expired: requests that ended without an answer."
    )


def sla_sections(ctx: Context, db: Db) -> list[Section]:
    """The follow-up SLA figures (feedback/reports/sla.py defines each): headline figures, the
    distribution of time to answer, and per rep, team, campaign and source."""
    f = ctx.facts(*dict.fromkeys([*SLA_KEYS, *sla.FRAME_COLUMNS]), inline=True)
    with connect(db) as conn:
        got = q.run_parts(conn, _sla_parts(ctx, f))
    return _sla_sections_from(ctx, got)


def _sla_rolled(ctx: Context, use_rollup: bool) -> bool:
    """Whether the SLA rollups (migration 0030) hold the report's frame: all time, and filtered
    by nothing but the kind."""
    cut = rollup.split(ctx.filters) if use_rollup else None
    return cut is not None and cut.all_time


def _sla_parts(
    ctx: Context, f: CTE, *, before: datetime | None = None, use_rollup: bool = True
) -> dict[str, Any]:
    """The SLA statement's parts over the frame ``f``; with ``before``, also the per rep and per
    team answer counts of the responsiveness table (``vol_rep``, ``vol_team``).

    Two distributions: one per rep and team (team rolls up from it) and one per campaign and
    source (each rolls up from it, the overall figures and histogram too); each a scan of the
    frame, or of its SLA rollup when the frame is all time and filtered by the kind alone.
    """
    sla_hours = ctx.settings.sla_business_hours
    if _sla_rolled(ctx, use_rollup):
        kind = ctx.filters.kind
        d_rep = sla.rolled_distribution(SLA_ROLLUP_REP, ["rep", "team"], "d_rep", kind=kind, before=before)
        d_cs = sla.rolled_distribution(SLA_ROLLUP_CS, ["campaign", "source"], "d_cs", kind=kind)
    else:
        d_rep = sla.distribution(f, ["rep", "team"], "d_rep", before=before)
        d_cs = sla.distribution(f, ["campaign", "source"], "d_cs")
    # the coarser groupings from few rows: every part reading the campaign x source rows again
    # cost a scan of a CTE of 200,000 rows at a million answers
    d_team = sla.regrouped(d_rep, ["rep", "team"], ["team"], "d_team")
    d_source = sla.regrouped(d_cs, ["campaign", "source"], ["source"], "d_source")
    dist = {"rep": d_rep, "team": d_team, "campaign": d_cs, "source": d_source}
    parts: dict[str, Any] = {
        "all": sla.counts(d_source, [], sla_hours=sla_hours),
        "hist": sla.histogram(d_source, sla.bucket_edges(sla_hours)),
        "q_all": sla.quantiles_by_hour(d_source, d_source.c.bh, []),
        "r_all": sla.quantiles(d_source, d_source.c.r, []),
    }
    for key, _ in SLA_GROUPS:
        d = dist[key]
        parts[f"n_{key}"] = sla.counts(d, [key], sla_hours=sla_hours)
        parts[f"q_{key}"] = sla.quantiles_by_hour(d, d.c.bh, [key])
        parts[f"r_{key}"] = sla.quantiles(d, d.c.r, [key])
    if before is not None:
        parts["vol_rep"] = sla.answer_counts(d_rep, ["rep", "team"])
        parts["vol_team"] = sla.answer_counts(d_team, ["team"])
    return parts


def _sla_sections_from(ctx: Context, got: dict[str, list[q.Row]]) -> list[Section]:
    """The SLA sections from the rows of :func:`_sla_parts`."""
    sla_hours = ctx.settings.sla_business_hours
    edges = sla.bucket_edges(sla_hours)
    note = _sla_note(ctx.settings)

    def figures(n: q.Row, qh: q.Row | None, qr: q.Row | None) -> dict[str, Any]:
        sent = int(n["sent"])
        return {
            "sent": sent,
            "answered": Rate(int(n["answered"]), sent),
            "within": Rate(int(n["within"]), sent),
            "median_bh": _hours(qh["median"] if qh else None),
            "p90_bh": _hours(qh["p90"] if qh else None),
            "median_reminders": _hours(qr["median"] if qr else None),
            "p90_reminders": _hours(qr["p90"] if qr else None),
            "escalated": Rate(int(n["escalated"]), sent),
            "expired": Rate(int(n["expired"]), sent),
        }

    total = got["all"][0]
    head = figures(total, next(iter(got["q_all"]), None), next(iter(got["r_all"]), None))
    kpis = [
        _kpi("SLA (business hours to answer)", sla_hours, "hours"),
        _kpi("Requests sent", head["sent"]),
        _kpi("Answered", head["answered"]),
        _kpi("Answered within the SLA", head["within"]),
        _kpi("Median business hours to answer", head["median_bh"], "hours"),
        _kpi("p90 business hours to answer", head["p90_bh"], "hours"),
        _kpi("Median reminders needed", head["median_reminders"], "hours"),
        _kpi("p90 reminders needed", head["p90_reminders"], "hours"),
        _kpi("Escalated to the manager", head["escalated"]),
        _kpi("Expired unanswered", head["expired"]),
    ]
    sections = [Section("sla", "Follow-up SLA", KPI_COLUMNS, kpis, layout="kpis", note=note)]
    timed = int(total["timed"])
    counted = {int(r["bucket"]): int(r["answers"]) for r in got["hist"]}
    labels = [*(f"≤ {e:g} h" if i == 0 else f"{edges[i - 1]:g}–{e:g} h" for i, e in enumerate(edges))]
    labels.append(f"over {edges[-1]:g} h")
    hist_rows = [
        {
            "bucket": label,
            "within": "yes" if i < len(edges) and edges[i] <= sla_hours else "no",
            "answers": counted.get(i, 0),
            "share": Rate(counted.get(i, 0), timed),
        }
        for i, label in enumerate(labels)
    ]
    sections.append(
        Section(
            "sla_distribution",
            "Time to answer (business hours)",
            [
                Column("bucket", "Business hours to answer"),
                Column("within", "Within the SLA"),
                Column("answers", "Answers", "int"),
                Column("share", "Share of answers", "rate"),
            ],
            hist_rows,
            chart=Chart("bar", "bucket", ("answers",), "Answers by business hours to answer", ordered=True),
            note=f"Answered requests by business hours from assignment to the answer; the SLA is "
            f"{sla_hours:g} hours.",
        )
    )
    columns = [
        Column("sent", "Requests sent", "int"),
        Column("answered", "Answered", "rate"),
        Column("within", "Within SLA", "rate"),
        Column("median_bh", "Median business hours", "hours"),
        Column("p90_bh", "p90 business hours", "hours"),
        Column("median_reminders", "Median reminders", "hours"),
        Column("p90_reminders", "p90 reminders", "hours"),
        Column("escalated", "Escalated", "rate"),
        Column("expired", "Expired", "rate"),
    ]
    for key, title in SLA_GROUPS:
        qh = {r[key]: r for r in got[f"q_{key}"]}
        qr = {r[key]: r for r in got[f"r_{key}"]}
        out = [{key: n[key], **figures(n, qh.get(n[key]), qr.get(n[key]))} for n in got[f"n_{key}"]]
        sections.append(
            Section(
                f"sla_by_{key}",
                f"SLA {title.lower()}",
                [Column(key, DIM_LABELS[key]), *columns],
                out,
                note="The figures as defined under Follow-up SLA above.",
            )
        )
    return sections


# trends ------------------------------------------------------------------------------------------


def trends(
    db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None, per_period: bool = True
) -> Report:
    """Week by week (or month by month): answer, acceptance and win rates, and volumes.

    Each period is read from its own range of its date's index where it can be
    (:mod:`~feedback.reports.periods`); ``per_period=False`` groups every fact instead (the same
    figures: the tests compare both)."""
    ctx = make_context(db, settings, filters, now)
    period = filters.by if filters.by in ("week", "month") else filters.period
    accepted = ctx.positive("disposition")
    with connect(db) as conn:
        # two statements (the periods, then their figures): one snapshot only on our own connection
        by_range = per_period and isinstance(db, Engine) and periods.applies(filters, ctx.dialect)
        found = periods.keys(conn, filters, period, ctx.offset_minutes) if by_range else []
        if found:
            g = periods.grouped(filters, period, ctx.offset_minutes, found, name=period)
            median: Any = periods.medians(filters, period, ctx.offset_minutes, found, name=period)
        else:
            f = ctx.facts("kind", period, *FACT_MEASURES)
            g = q.grouped(f, [period])
            median = median_by(f, f.c.hours, [f.c[period]], dialect=ctx.dialect)
        parts = {
            "leads": q.rollup(g, [period], outcomes=[accepted], where=[g.c.kind == "disposition"]),
            "deals": q.rollup(g, [period], where=[g.c.kind == "winloss"]),
            "median": median,
        }
        got = q.run_parts(conn, parts)
        leads = {r[period]: r for r in got["leads"]}
        deals = {r[period]: r for r in got["deals"]}
        med = q.median_map(got["median"], [period])
    out = []
    # a date beyond what the database's date functions hold (SQLite: year 10000 in the report's
    # zone, a CRM's 9999-12-31 placeholder) has no period: its row comes last, still counted
    for p in sorted(set(leads) | set(deals), key=lambda k: (k is None, k or "")):
        lr, dr = leads.get(p), deals.get(p)
        won = int(dr["crm_won"]) if dr else 0
        lost = int(dr["crm_lost"]) if dr else 0
        out.append(
            {
                period: p,
                "leads": int(lr["requests"]) if lr else 0,
                "answer_rate": Rate(int(lr["answered"]), int(lr["sent"])) if lr else Rate(0, 0),
                **{f"n_{state}": int(lr[f"n_{state}"]) if lr else 0 for state in NOT_ANSWERED},
                "accept_rate": Rate(int(lr[f"n_{accepted}"]), int(lr["answered"])) if lr else Rate(0, 0),
                "deals": int(dr["requests"]) if dr else 0,
                "win_rate": Rate(won, won + lost),
                "median_hours": _hours(med.get((p,))),
            }
        )
    section = Section(
        "trend",
        f"By {period}",
        [
            Column(period, DIM_LABELS[period]),
            Column("leads", "Leads handed", "int"),
            Column("answer_rate", "Leads answered", "rate"),
            *[Column(f"n_{state}", q.ANSWER_STATES[state], "int") for state in NOT_ANSWERED],
            Column("accept_rate", "Accepted", "rate"),
            Column("deals", "Closed deals", "int"),
            Column("win_rate", "Win rate", "rate"),
            Column("median_hours", "Median hours to answer", "hours"),
        ],
        out,
        chart=Chart("line", x=period, y=("answer_rate", "accept_rate", "win_rate"), title="Rates over time"),
        note=f"Periods start on {'Mondays' if period == 'week' else 'the 1st'} in {settings.timezone}. "
        f"{q.ANSWER_NOTE} Accepted is the share of answered leads.",
    )
    return ctx.report("trends", "Trends", [section])


# verbatims and CRM export ----------------------------------------------------------------------


def verbatims(db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None) -> Report:
    """The reps' own words, newest first, filtered by reason, outcome, campaign or competitor."""
    ctx = make_context(db, settings, filters, now)
    with connect(db) as conn:
        found = q.responses(
            conn,
            ctx.frame(),
            reasons=filters.reasons,
            competitors=filters.competitors,
            outcomes=filters.outcomes,
            limit=filters.limit or 200,
            shown=_VERBATIM_COLUMNS,
        )
    out = [
        {
            "answered_at": ctx.local(r["answered_at"]),
            "crm_id": r["crm_id"],
            "subject": r["subject"],
            "rep": r["rep"],
            "campaign": r["campaign"],
            "outcome": ctx.outcome_label(r["kind"], r["outcome"]),
            "reasons": ", ".join(ctx.reason_label(r["kind"], c) for c in r["reasons"]),
            "competitor": r["competitor"] or "",
            "text": r["reply_text"],
        }
        for r in found
    ]
    return ctx.report(
        "verbatims",
        "In the reps' words",
        [
            Section(
                "verbatims",
                "Answers",
                [
                    Column("answered_at", "Answered", "datetime"),
                    Column("crm_id", "CRM id"),
                    Column("subject", "Lead / deal"),
                    Column("rep", "Rep"),
                    Column("campaign", "Campaign"),
                    Column("outcome", "Outcome"),
                    Column("reasons", "Reasons"),
                    Column("competitor", "Competitor"),
                    Column("text", "What the rep wrote", "longtext"),
                ],
                out,
            )
        ],
    )


def export(db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None) -> Report:
    """Every current answer keyed by the CRM's lead or deal id, for import back into the CRM."""
    ctx = make_context(db, settings, filters, now)
    # every answer of the range on PostgreSQL: its reasons read from the reason facts' slice, not
    # probed per answer (SQLite's in-process probes are the cheaper: 0.07 against 0.27 s for the
    # bench's month at 100,000 answers)
    whole = not filters.limit and ctx.dialect == "postgresql"
    rf = ctx.reasons("request_id", "response_id") if whole else None
    local_iso = LocalISO(ctx.tz)  # a month's 40,000 times: each UTC hour's offset read once
    out = []
    with no_collection(), connect(db) as conn:  # a month: 40,000 acyclic rows (``reports.bulk``)
        found = q.responses(
            conn,
            ctx.frame(),
            reasons=filters.reasons,
            competitors=filters.competitors,
            outcomes=filters.outcomes,
            limit=filters.limit,
            reason_frame=rf,
            shown=_EXPORT_COLUMNS,
        )
        for r in found:
            reasons = r["reasons"]
            out.append(
                {
                    "crm_lead_id": r["crm_id"] if r["lead_id"] is not None else "",
                    "crm_deal_id": r["crm_id"] if r["deal_id"] is not None else "",
                    "kind": r["kind"],
                    "outcome": r["outcome"] or "",
                    "primary_reason": reasons[0] if reasons else "",
                    "reasons": ";".join(reasons),
                    "competitor": r["competitor"] or "",
                    "crm_result": r["deal_result"] or "",
                    "rep_email": r["rep_email"],
                    "answered_at": local_iso(r["answered_at"]),
                    "feedback": r["reply_text"],
                }
            )
    cols = [
        Column(k, k, "longtext" if k == "feedback" else "text")
        for k in (out[0].keys() if out else _EXPORT_KEYS)
    ]
    return ctx.report("export", "Feedback export for the CRM", [Section("responses", "Responses", cols, out)])


_VERBATIM_COLUMNS = ("answered_at", "crm_id", "subject", "rep", "campaign", "kind", "outcome", "competitor")
_EXPORT_COLUMNS = (
    "answered_at", "crm_id", "kind", "lead_id", "deal_id", "outcome", "competitor", "deal_result",
    "rep_email",
)  # fmt: skip
_EXPORT_KEYS = (
    "crm_lead_id",
    "crm_deal_id",
    "kind",
    "outcome",
    "primary_reason",
    "reasons",
    "competitor",
    "crm_result",
    "rep_email",
    "answered_at",
    "feedback",
)

ReportFn = Callable[..., Report]

REPORTS: dict[str, ReportFn] = {
    "summary": summary,
    "funnel": funnel,
    "reasons": reasons,
    "winloss": winloss,
    "competitors": competitors,
    "responsiveness": responsiveness,
    "trends": trends,
    "verbatims": verbatims,
    "export": export,
}
