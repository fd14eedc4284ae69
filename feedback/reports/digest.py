"""The weekly digest email: last week's summary in a form mail clients show well.

Mail clients drop ``<style>`` blocks and SVG (Gmail does both), so the digest uses inline styles
and plain tables, with bars drawn as table cells of proportional width. The full report with
charts stays one command away (``feedback report summary --format html``).
"""

# ruff: noqa: E501 - inline SVG/HTML markup reads better unwrapped

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy.engine import Engine

from feedback.reports.build import KPI_COLUMNS, make_context, sla_sections, summary
from feedback.reports.filters import Filters
from feedback.reports.model import Column, Rate, Report, Section
from feedback.reports.queries import ANSWER_NOTE
from feedback.reports.render import LOW_NOTE, NO_ROLE_COLOR, ROLE_COLORS, cell
from feedback.runtime.settings import Settings

TOP_ROWS = 8
KPIS_PER_ROW = 4

# the columns each section shows in a mail (a phone is narrow); answer states beside the rate
DIGEST_COLUMNS = {
    "leads_by_campaign": (
        "campaign",
        "handed",
        "answered",
        "n_no_outcome",
        "n_clarifying",
        "n_review",
        "accepted",
    ),
    "lead_reasons": ("outcome", "reason", "mentions", "share"),
    "winloss_reasons": ("outcome", "reason", "mentions", "share"),
    "competitors": ("competitor", "mentions", "win_rate", "lost_amount"),
    "sla_by_team": ("team", "sent", "answered", "within", "median_bh", "p90_bh", "escalated"),
}
DIGEST_SLA_FIGURES = (
    "Answered",
    "Answered within the SLA",
    "Median business hours to answer",
    "p90 business hours to answer",
    "Median reminders needed",
    "p90 reminders needed",
    "Escalated to the manager",
    "Expired unanswered",
)
"""The SLA's headline figures a digest shows (TOP_ROWS of them; the SLA itself is in the title)."""
_TD = "padding:4px 8px;border-bottom:1px solid #e5e7eb;font:13px Arial,Helvetica,sans-serif;"
_TH = _TD + "color:#6b7280;font-weight:bold;text-align:left;"


def digest_report(engine: Engine, settings: Settings, now: datetime) -> Report:
    """The summary over the seven days before ``now``."""
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    return summary(engine, Filters(since=now - timedelta(days=7), until=now), settings, now=now)


def digest_html(engine: Engine, settings: Settings, now: datetime) -> tuple[str, str, str]:
    """``(subject, html, text)`` of the weekly digest for ``settings.digest_recipients``."""
    report = digest_report(engine, settings, now)
    kpis = {row["metric"]: (row["value"], row["kind"]) for row in report.section("overview").rows}
    leads = kpis["Leads handed to sales"][0]
    accepted = kpis["Leads accepted (of answered)"][0]
    win = kpis["Win rate (CRM)"][0]
    day = report.generated_at.date()
    subject = f"Sales feedback, week to {day:%d %b %Y}: {leads:,} leads"
    if isinstance(accepted, Rate) and accepted.n:
        subject += f", {accepted.percent():.0f} % accepted"
    if isinstance(win, Rate) and win.n:
        subject += f", win rate {win.percent():.0f} %"
    sections = [
        report.section("leads_by_campaign"),
        report.section("lead_reasons"),
        report.section("winloss_reasons"),
        report.section("competitors"),
        *digest_sla(engine, settings, now),
    ]
    return subject, _html(report, kpis, sections), _text(report, kpis, sections)


def digest_sla(engine: Engine, settings: Settings, now: datetime) -> list[Section]:
    """The follow-up SLA of the requests sent in the seven days before ``now``: the headline
    figures (values written out, as the mail shows them) and the figures per team."""
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    ctx = make_context(engine, settings, Filters(since=now - timedelta(days=7), until=now), now)
    found = {s.key: s for s in sla_sections(ctx, engine)}
    rows = [
        {"metric": r["metric"], "value": cell(r["value"], r["kind"]) or "–"}
        for r in found["sla"].rows
        if r["metric"] in DIGEST_SLA_FIGURES
    ]
    title = f"Follow-up SLA: answers within {settings.sla_business_hours:g} business hours (requests sent this week)"
    return [
        Section("sla", title, KPI_COLUMNS, rows),
        found["sla_by_team"],
    ]


def _columns(section: Section) -> list[Column]:
    wanted = DIGEST_COLUMNS.get(section.key)
    if wanted is None:
        return [c for c in section.columns if c.kind != "longtext"][:6]
    return [c for c in section.columns if c.key in wanted]


def _color(section: Section, row: dict[str, Any]) -> str:
    """A bar's colour: its group's outcome role, as in the HTML report's charts."""
    chart = section.chart
    if chart is None or chart.group is None:
        return "#2563eb"
    return ROLE_COLORS.get(dict(chart.roles).get(str(row.get(chart.group)), ""), NO_ROLE_COLOR)


def _bar(value: Any, top: float, color: str) -> str:
    v = value.count if isinstance(value, Rate) else value
    pct = 0 if not top else max(2, int(100 * float(v) / top))
    return (
        f'<td style="{_TD}width:160px"><div style="background:{color};height:10px;width:{pct}%;'
        f'border-radius:2px"></div></td>'
    )


def _legend(section: Section, rows: list[dict[str, Any]]) -> str:
    chart = section.chart
    if chart is None or chart.group is None:
        return ""
    shown = list(dict.fromkeys(str(r.get(chart.group)) for r in rows))
    keys = "".join(
        f'<span style="display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px;'
        f'background:{ROLE_COLORS.get(dict(chart.roles).get(g, ""), NO_ROLE_COLOR)}"></span>{escape(g)}'
        for g in shown
    )
    return f'<p style="font:12px Arial,sans-serif;color:#374151;margin:0 0 6px">{keys}</p>'


def _html_table(section: Section) -> str:
    cols = _columns(section)
    rows = section.rows[:TOP_ROWS]
    if not rows:
        return f'<p style="color:#6b7280;font:13px Arial,sans-serif">{escape(section.title)}: no answers this week.</p>'
    bar_key = section.chart.y[0] if section.chart else None
    top = (
        max(
            (float(r[bar_key].count if isinstance(r[bar_key], Rate) else r[bar_key] or 0) for r in rows),
            default=0.0,
        )
        if bar_key
        else 0.0
    )
    head = "".join(f'<th style="{_TH}">{escape(c.label)}</th>' for c in cols) + (
        f'<th style="{_TH}"></th>' if bar_key else ""
    )
    body = ""
    for r in rows:
        body += "<tr>" + "".join(
            f'<td style="{_TD}{"text-align:right;" if c.kind in ("int", "rate", "money", "hours") else ""}">'
            f"{escape(cell(r.get(c.key), c.kind))}</td>"
            for c in cols
        )
        body += (_bar(r[bar_key], top, _color(section, r)) if bar_key else "") + "</tr>"
    return (
        f'<h3 style="font:bold 15px Arial,sans-serif;margin:20px 0 6px">{escape(section.title)}</h3>'
        + _legend(section, rows)
        + f'<table cellspacing="0" cellpadding="0" style="border-collapse:collapse">'
        f"<tr>{head}</tr>{body}</table>"
    )


def _html(report: Report, kpis: dict[str, Any], sections: list[Section]) -> str:
    cards = [
        f'<td style="padding:8px 12px;border:1px solid #e5e7eb;font:12px Arial,sans-serif;color:#6b7280">'
        f'<div style="font:bold 18px Arial,sans-serif;color:#111827">{escape(cell(v, kind)) or "–"}</div>'
        f"{escape(k)}</td>"
        for k, (v, kind) in kpis.items()
    ]
    card_rows = "".join(
        "<tr>" + "".join(cards[i : i + KPIS_PER_ROW]) + "</tr>" for i in range(0, len(cards), KPIS_PER_ROW)
    )
    return (
        '<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0;padding:16px;background:#fff">'
        f'<h2 style="font:bold 20px Arial,sans-serif;margin:0 0 4px">Sales feedback: the week</h2>'
        f'<p style="font:13px Arial,sans-serif;color:#6b7280;margin:0 0 12px">{escape(report.filters_text)} ({escape(report.timezone)})</p>'
        f'<table cellspacing="6" style="border-collapse:separate">{card_rows}</table>'
        f'<p style="font:12px Arial,sans-serif;color:#6b7280;margin:4px 0 0">{escape(ANSWER_NOTE)}</p>'
        + "".join(_html_table(s) for s in sections)
        + f'<p style="font:12px Arial,sans-serif;color:#6b7280;margin-top:20px">{escape(LOW_NOTE)} '
        "Full report with charts: <code>feedback report summary --since 7d --format html</code>.</p>"
        "</body></html>\n"
    )


def _text(report: Report, kpis: dict[str, Any], sections: list[Section]) -> str:
    lines = ["Sales feedback: the week", report.filters_text + f" ({report.timezone})", ""]
    lines += [f"  {k}: {cell(v, kind) or '–'}" for k, (v, kind) in kpis.items()]
    for s in sections:
        lines += ["", s.title]
        if not s.rows:
            lines.append("  no answers this week")
        cols = _columns(s)
        if s.rows:
            lines.append("  " + " | ".join(c.label for c in cols))
        for r in s.rows[:TOP_ROWS]:
            lines.append("  " + " | ".join(cell(r.get(c.key), c.kind) for c in cols))
    lines += ["", ANSWER_NOTE, LOW_NOTE, "Full report: feedback report summary --since 7d --format html", ""]
    return "\n".join(lines)
