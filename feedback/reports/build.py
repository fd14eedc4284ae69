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

from sqlalchemy.sql.selectable import CTE

from feedback.reports import queries as q
from feedback.reports.filters import Filters
from feedback.reports.model import Chart, Column, Rate, Report, Section
from feedback.reports.sql import Db, connect, dialect_of, fact_frame, frame, median_by, reason_frame
from feedback.settings import Settings
from feedback.taxonomy import Taxonomy, TaxonomyError

FACT_MEASURES = ("kind", "outcome", "response_id", "sent_at", "status", "deal_result", "amount", "hours")
"""Frame columns the grouped counts and medians read (besides the keys a report groups by)."""

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
        return frame(self.filters, kind=kind, offset_minutes=self.offset_minutes)

    def facts(self, *columns: str) -> CTE:
        """The frame as one narrow CTE (all kinds, the filters applied) for a one-statement report."""
        return fact_frame(self.filters, offset_minutes=self.offset_minutes, columns=columns)

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

    def outcome_order(self, kind: str, code: str | None) -> int:
        codes = self.outcomes(kind)
        return codes.index(code) if code in codes else len(codes)

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


# summary ---------------------------------------------------------------------------------------


def _lead_table(ctx: Context, parts: dict[str, list[q.Row]], dim: str) -> Section:
    outcomes = ctx.outcomes("disposition")
    vol = parts[f"vol_{dim}"]
    med = q.median_map(parts[f"med_{dim}"], [dim])
    top = q.top_map(parts[f"top_{dim}"], [dim])
    cols = [
        Column(dim, DIM_LABELS[dim]),
        Column("handed", "Leads", "int"),
        Column("answered", "Answered", "rate"),
        Column("accepted", "Accepted", "rate"),
        *[Column(f"n_{o}", ctx.outcome_label("disposition", o), "int") for o in outcomes if o != "accepted"],
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
            "answered": Rate(int(r["answered"]), int(r["requests"])),
            "accepted": Rate(int(r.get("n_accepted", 0)), int(r["decided"])),
            "top_reason": f"{ctx.reason_label('disposition', top_code[0])} ({top_code[1]})"
            if top_code
            else "",
            "median_hours": _hours(med.get(key)),
        }
        for o in outcomes:
            if o != "accepted":
                row[f"n_{o}"] = int(r[f"n_{o}"])
        out.append(row)
    return Section(
        key=f"leads_by_{dim}",
        title=f"Leads by {dim}",
        columns=cols,
        rows=out,
        note="Accepted is the share of answers that gave an outcome.",
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
        chart=Chart("bar", x="reason", y=("mentions",), title=title),
        note="A reply may give several reasons; each is counted once per reply.",
    )


def _competitor_parts(g: Any, rc: Any) -> dict[str, Any]:
    """The parts :func:`_competitor_section` reads (grained by kind, outcome and competitor)."""
    return {
        "competitors": q.competitor_stats(g),
        "top_competitor": q.top_reason(rc, ["competitor"], exclude_outcomes=["won", "accepted"]),
    }


def _competitor_section(ctx: Context, parts: dict[str, list[q.Row]]) -> Section:
    stats = parts["competitors"]
    top = q.top_map(parts["top_competitor"], ["competitor"])
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
                "lost_amount": float(r["lost_amount"] or 0.0),
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
        note="Won and lost come from the CRM stage of the deal the competitor was named in.",
    )


def _any_reason_label(ctx: Context, code: str) -> str:
    for kind in ("winloss", "disposition"):
        label = ctx.reason_label(kind, code)
        if label != code:
            return label
    return code


def _kpi(label: str, value: Any, kind: str = "text") -> dict[str, Any]:
    """One headline figure; ``kind`` tells renderers how to print it (hours, money...)."""
    return {"metric": label, "value": value, "kind": kind}


KPI_COLUMNS = [Column("metric", "Figure"), Column("value", "Value")]


def summary(db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None) -> Report:
    """Lead acceptance and answer rates, outcomes and reasons by campaign/source, win/loss, competitors."""
    ctx = make_context(db, settings, filters, now)
    disp, wl = ctx.outcomes("disposition"), ctx.outcomes("winloss")
    f = ctx.facts("kind", "campaign", "source", "outcome", "competitor", *FACT_MEASURES)
    grain = ["kind", "campaign", "source", "outcome", "competitor"]
    g = q.grouped(f, grain)
    rc = q.reason_grouped(ctx.reasons(*grain), grain)
    is_lead, is_deal = g.c.kind == "disposition", g.c.kind == "winloss"
    parts: dict[str, Any] = {
        "lead": q.rollup(g, [], outcomes=disp, where=[is_lead]),
        "deal": q.rollup(g, [], outcomes=wl, where=[is_deal]),
        "median": median_by(f, f.c.hours, [], dialect=ctx.dialect),
        **_reason_parts(g, rc, "disposition"),
        **_reason_parts(g, rc, "winloss"),
        **_competitor_parts(g, rc),
    }
    for dim in ("campaign", "source"):
        parts[f"vol_{dim}"] = q.rollup(g, [dim], outcomes=disp, where=[is_lead])
        parts[f"med_{dim}"] = median_by(
            f, f.c.hours, [f.c[dim]], where=[f.c.kind == "disposition"], dialect=ctx.dialect
        )
        parts[f"top_{dim}"] = q.top_reason(
            rc, [dim], exclude_outcomes=["accepted"], where=[rc.c.kind == "disposition"]
        )
    with connect(db) as conn:
        got = q.run_parts(conn, parts)
        lead, deal = got["lead"][0], got["deal"][0]
        med = q.median_map(got["median"], []).get((), None)
        kpis = [
            _kpi("Leads handed to sales", int(lead["requests"])),
            _kpi("Leads answered", Rate(int(lead["answered"]), int(lead["requests"]))),
            _kpi(
                "Leads accepted (of answers with an outcome)",
                Rate(int(lead["n_accepted"]), int(lead["decided"])),
            ),
            _kpi("Median hours to answer", _hours(med), "hours"),
            _kpi("Closed deals asked about", int(deal["requests"])),
            _kpi("Deals answered", Rate(int(deal["answered"]), int(deal["requests"]))),
            _kpi("Win rate (CRM)", Rate(int(deal["crm_won"]), int(deal["crm_won"]) + int(deal["crm_lost"]))),
            _kpi("CRM and rep disagree", int(deal["disagree"])),
        ]
        sections = [
            Section("overview", "Overview", KPI_COLUMNS, kpis, layout="kpis"),
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
    out = [
        {
            "outcome": ctx.outcome_label("winloss", code),
            "responses": int(total[f"n_{code}"]),
            "share": Rate(int(total[f"n_{code}"]), answered),
        }
        for code in ctx.outcomes("winloss")
    ]
    return Section(
        key="winloss_outcomes",
        title="Win/loss: what reps said",
        columns=[
            Column("outcome", "Outcome"),
            Column("responses", "Answers", "int"),
            Column("share", "Share", "rate"),
        ],
        rows=out,
    )


# funnel ------------------------------------------------------------------------------------------


def funnel(db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None) -> Report:
    """From lead to revenue: handed → answered → accepted → opportunity → won, overall and per group."""
    ctx = make_context(db, settings, filters, now)
    by = filters.by or "campaign"
    stages = [
        ("handed", "Leads handed"),
        ("answered", "Answered"),
        ("accepted", "Accepted"),
        ("opportunity", "Opportunity"),
        ("won", "Won"),
    ]
    with connect(db) as conn:
        f = ctx.frame("disposition")
        total = q.funnel(conn, f)[0]
        per = q.funnel(conn, f, [by])
    handed = int(total["handed"])
    overall = []
    previous = handed
    for key, label in stages:
        value = int(total[key] or 0)
        overall.append(
            {
                "stage": label,
                "leads": value,
                "of_previous": Rate(value, previous),
                "of_handed": Rate(value, handed),
            }
        )
        previous = value
    grouped = [
        {
            by: r[by],
            **{k: int(r[k] or 0) for k, _ in stages},
            "accept_rate": Rate(int(r["accepted"]), int(r["handed"])),
            "win_rate": Rate(int(r["won"] or 0), int(r["handed"])),
        }
        for r in per
    ]
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
            note="Opportunity: the CRM has a deal opened from the lead. Won: that deal is closed won.",
        ),
        Section(
            f"funnel_by_{by}",
            f"Funnel by {by}",
            [
                Column(by, DIM_LABELS[by]),
                *[Column(k, label, "int") for k, label in stages],
                Column("accept_rate", "Accepted / handed", "rate"),
                Column("win_rate", "Won / handed", "rate"),
            ],
            grouped,
        ),
    ]
    return ctx.report("funnel", "Lead funnel", sections)


# reasons -----------------------------------------------------------------------------------------


def reasons(db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None) -> Report:
    """Why: each outcome's reasons, optionally crossed with campaign, source, segment, rep, team or period."""
    ctx = make_context(db, settings, filters, now)
    kinds = [filters.kind] if filters.kind else ["disposition", "winloss"]
    sections: list[Section] = []
    dims = [filters.by] if filters.by else []
    f = ctx.facts("kind", "outcome", *dims, *FACT_MEASURES)
    g = q.grouped(f, dims)
    rc = q.reason_grouped(ctx.reasons("kind", "outcome", *dims), ["kind", "outcome", *dims])
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


def _deal_table(ctx: Context, vol: list[q.Row], dim: str) -> Section:
    out = []
    for r in vol:
        won, lost = int(r["crm_won"]), int(r["crm_lost"])
        out.append(
            {
                dim: r[dim],
                "deals": int(r["requests"]),
                "won": won,
                "lost": lost,
                "win_rate": Rate(won, won + lost),
                "won_amount": float(r["won_amount"] or 0.0),
                "lost_amount": float(r["lost_amount"] or 0.0),
                "answered": Rate(int(r["answered"]), int(r["requests"])),
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
            Column("answered", "Rep answered", "rate"),
            Column("disagree", "CRM ≠ rep", "int"),
        ],
        out,
    )


def winloss(db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None) -> Report:
    """Win rate and amounts by campaign and source (CRM), reasons (reps), and where the two disagree."""
    ctx = make_context(db, settings, filters, now)
    limit = filters.limit or 50
    dims = [filters.by] if filters.by else ["campaign", "source"]
    wl = ctx.outcomes("winloss")
    fx = ctx.facts("kind", "outcome", *dims, *FACT_MEASURES)
    g = q.grouped(fx, dims)
    rc = q.reason_grouped(ctx.reasons("kind", "outcome"), ["kind", "outcome"])
    is_deal = g.c.kind == "winloss"
    parts: dict[str, Any] = {
        "total": q.rollup(g, [], outcomes=wl, where=[is_deal]),
        **{f"vol_{d}": q.rollup(g, [d], outcomes=wl, where=[is_deal]) for d in dims},
        **_reason_parts(g, rc, "winloss"),
    }
    with connect(db) as conn:
        got = q.run_parts(conn, parts)
        f = ctx.frame("winloss")
        total = got["total"][0]
        won, lost = int(total["crm_won"]), int(total["crm_lost"])
        kpis = [
            _kpi("Closed deals asked about", int(total["requests"])),
            _kpi("Win rate (CRM)", Rate(won, won + lost)),
            _kpi("Amount won", round(float(total["won_amount"] or 0.0), 2), "money"),
            _kpi("Amount lost", round(float(total["lost_amount"] or 0.0), 2), "money"),
            _kpi("Reps answered", Rate(int(total["answered"]), int(total["requests"]))),
            _kpi("CRM and rep disagree", int(total["disagree"])),
        ]
        sections = [Section("overview", "Overview", KPI_COLUMNS, kpis, layout="kpis")]
        sections += [_deal_table(ctx, got[f"vol_{d}"], d) for d in dims]
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
                    "amount": float(r["amount"]) if r["amount"] is not None else None,
                }
                for r in flagged
            ],
            note=f"Won/lost and amounts follow the CRM; check these with the rep. Newest {limit} shown.",
        )
    )
    return ctx.report("winloss", "Win/loss", sections)


# competitors -------------------------------------------------------------------------------------


def competitors(db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None) -> Report:
    """Which competitors reps name, how often we win against each, and the reasons given."""
    ctx = make_context(db, settings, filters, now)
    f = ctx.facts("kind", "outcome", "competitor", *FACT_MEASURES)
    g = q.grouped(f, ["competitor"])
    rc = q.reason_grouped(ctx.reasons("kind", "outcome", "competitor"), ["kind", "outcome", "competitor"])
    parts = {**_competitor_parts(g, rc), "counts": q.reason_counts(rc, ["competitor"])}
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


def responsiveness(db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None) -> Report:
    """How fast and how completely sales answers: per rep and per team, with requests overdue."""
    ctx = make_context(db, settings, filters, now)
    before = ctx.now - timedelta(hours=settings.reminder_after_hours)
    overdue_note = f"Overdue: sent over {settings.reminder_after_hours:g} hours ago and still unanswered."
    sections = []
    f = ctx.facts("rep", "team", *FACT_MEASURES)
    g = q.grouped(f, ["rep", "team"], before=before)
    groupings = ((["rep", "team"], "By rep"), (["team"], "By team"))
    parts: dict[str, Any] = {}
    for by, _ in groupings:
        parts[f"vol_{by[0]}"] = q.rollup(g, by)
        parts[f"med_{by[0]}"] = median_by(f, f.c.hours, [f.c[k] for k in by], dialect=ctx.dialect)
    with connect(db) as conn:
        got = q.run_parts(conn, parts)
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
                    "answered": Rate(int(r["answered"]), int(r["sent"])),
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
                    Column("answered", "Answered", "rate"),
                    Column("median_hours", "Median hours to answer", "hours"),
                    Column("overdue", "Overdue", "int"),
                ],
                out,
                note=overdue_note,
            )
        )
    return ctx.report("responsiveness", "Responsiveness", sections)


# trends ------------------------------------------------------------------------------------------


def trends(db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None) -> Report:
    """Week by week (or month by month): answer, acceptance and win rates, and volumes."""
    ctx = make_context(db, settings, filters, now)
    period = filters.by if filters.by in ("week", "month") else filters.period
    f = ctx.facts("kind", period, *FACT_MEASURES)
    g = q.grouped(f, [period])
    parts = {
        "leads": q.rollup(g, [period], outcomes=["accepted"], where=[g.c.kind == "disposition"]),
        "deals": q.rollup(g, [period], where=[g.c.kind == "winloss"]),
        "median": median_by(f, f.c.hours, [f.c[period]], dialect=ctx.dialect),
    }
    with connect(db) as conn:
        got = q.run_parts(conn, parts)
        leads = {r[period]: r for r in got["leads"]}
        deals = {r[period]: r for r in got["deals"]}
        med = q.median_map(got["median"], [period])
    out = []
    for p in sorted(set(leads) | set(deals)):
        lr, dr = leads.get(p), deals.get(p)
        won = int(dr["crm_won"]) if dr else 0
        lost = int(dr["crm_lost"]) if dr else 0
        out.append(
            {
                period: p,
                "leads": int(lr["requests"]) if lr else 0,
                "answer_rate": Rate(int(lr["answered"]), int(lr["requests"])) if lr else Rate(0, 0),
                "accept_rate": Rate(int(lr["n_accepted"]), int(lr["decided"])) if lr else Rate(0, 0),
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
            Column("answer_rate", "Answered", "rate"),
            Column("accept_rate", "Accepted", "rate"),
            Column("deals", "Closed deals", "int"),
            Column("win_rate", "Win rate", "rate"),
            Column("median_hours", "Median hours to answer", "hours"),
        ],
        out,
        chart=Chart("line", x=period, y=("answer_rate", "accept_rate", "win_rate"), title="Rates over time"),
        note=f"Periods start on {'Mondays' if period == 'week' else 'the 1st'} in {settings.timezone}.",
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
    with connect(db) as conn:
        found = q.responses(
            conn,
            ctx.frame(),
            reasons=filters.reasons,
            competitors=filters.competitors,
            outcomes=filters.outcomes,
            limit=filters.limit,
        )
    out = []
    for r in found:
        local = ctx.local(r["answered_at"])
        out.append(
            {
                "crm_lead_id": r["crm_id"] if r["lead_id"] is not None else "",
                "crm_deal_id": r["crm_id"] if r["deal_id"] is not None else "",
                "kind": r["kind"],
                "outcome": r["outcome"] or "",
                "primary_reason": r["reasons"][0] if r["reasons"] else "",
                "reasons": ";".join(r["reasons"]),
                "competitor": r["competitor"] or "",
                "crm_result": r["deal_result"] or "",
                "rep_email": r["rep_email"],
                "answered_at": local.isoformat(timespec="seconds") if local else "",
                "feedback": r["reply_text"],
            }
        )
    cols = [
        Column(k, k, "longtext" if k == "feedback" else "text")
        for k in (out[0].keys() if out else _EXPORT_KEYS)
    ]
    return ctx.report("export", "Feedback export for the CRM", [Section("responses", "Responses", cols, out)])


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
