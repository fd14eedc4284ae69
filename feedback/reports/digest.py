"""The weekly digest email: last week's summary in a form mail clients show well.

Mail clients drop ``<style>`` blocks and SVG (Gmail does both), so the digest uses inline styles
and plain tables, with bars drawn as table cells of proportional width. The full report with
charts stays one command away (``feedback report summary --format html``).

The digest is a template like every other mail (``digest``, in English, German, French and
Spanish; ``digest_language`` picks one, and an admin can change it with ``feedback templates``):
this module computes its context, the figures and the finished tables in the digest's language
(:mod:`feedback.reports.digest_words`); the template writes the subject, heading and prose.
"""

# ruff: noqa: E501 - inline SVG/HTML markup reads better unwrapped

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import escape
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from sqlalchemy.engine import Engine

from feedback.core.taxonomy import Taxonomy
from feedback.reports.build import KPI_COLUMNS, make_context, sla_sections, summary
from feedback.reports.digest_words import word
from feedback.reports.filters import Filters
from feedback.reports.model import Column, Rate, Report, Section
from feedback.reports.queries import ANSWER_NOTE
from feedback.reports.render import LOW_NOTE, NO_ROLE_COLOR, ROLE_COLORS, cell
from feedback.runtime.settings import Settings

if TYPE_CHECKING:
    from feedback.outbound.rendering import Renderer

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
SLA_TITLE = "Follow-up SLA: answers within {hours} business hours (requests sent this week)"
_TD = "padding:4px 8px;border-bottom:1px solid #e5e7eb;font:13px Arial,Helvetica,sans-serif;"
_TH = _TD + "color:#6b7280;font-weight:bold;text-align:left;"


def digest_report(engine: Engine, settings: Settings, now: datetime) -> Report:
    """The summary over the seven days before ``now``."""
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    return summary(engine, Filters(since=now - timedelta(days=7), until=now), settings, now=now)


def digest_html(
    engine: Engine,
    settings: Settings,
    now: datetime,
    lang: str | None = None,
    *,
    renderer: Renderer | None = None,
) -> tuple[str, str, str]:
    """``(subject, html, text)`` of the weekly digest in ``lang`` (default ``digest_language``),
    written by the ``digest`` template of ``renderer`` (the shipped one without)."""
    from feedback.outbound.rendering import Renderer

    code = lang or settings.digest_language
    mail = (renderer or Renderer()).render("digest", digest_context(engine, settings, now, code), code)
    return mail.subject, mail.html, mail.text


def _thousands(n: int, lang: str) -> str:
    sep = {"de": ".", "es": ".", "fr": "\u202f"}.get(lang, ",")
    return f"{n:,}".replace(",", sep)


def digest_context(engine: Engine, settings: Settings, now: datetime, lang: str = "en") -> dict[str, Any]:
    """What the ``digest`` template sees: the week's headline figures as text, and the finished
    figure cards and tables (HTML and plain text) with their words in ``lang``."""
    from feedback.outbound.locales import format_day

    report = digest_report(engine, settings, now)
    kpis = {row["metric"]: (row["value"], row["kind"]) for row in report.section("overview").rows}
    leads = kpis["Leads handed to sales"][0]
    accepted = kpis["Leads accepted (of answered)"][0]
    win = kpis["Win rate (CRM)"][0]
    day = report.generated_at.date()
    sections = [
        *(
            _localised(report.section(key), settings.taxonomy, lang)
            for key in ("leads_by_campaign", "lead_reasons", "winloss_reasons", "competitors")
        ),
        *digest_sla(engine, settings, now, lang),
    ]
    shown = {word(k, lang): v for k, v in kpis.items()}
    return {
        "week_end": f"{day:%d %b %Y}" if lang == "en" else format_day(day, lang),
        "leads": _thousands(int(leads), lang),
        "accepted_pct": f"{accepted.percent():.0f}" if isinstance(accepted, Rate) and accepted.n else "",
        "win_pct": f"{win.percent():.0f}" if isinstance(win, Rate) and win.n else "",
        "period": f"{_period(report, lang)} ({report.timezone})",
        "kpis_html": Markup(_kpi_cards(shown)),
        "kpis_text": "\n".join(f"  {k}: {cell(v, kind) or '–'}" for k, (v, kind) in shown.items()),
        "tables_html": Markup("".join(_html_table(s, lang) for s in sections)),
        "tables_text": _text_tables(sections, lang),
        "answer_note": ANSWER_NOTE if lang == "en" else word("answer_note", lang),
        "low_note": LOW_NOTE if lang == "en" else word("low_note", lang),
    }


def _period(report: Report, lang: str) -> str:
    """ "2026-01-12 to 2026-01-18" as the report says it; "12. Januar 2026 – 18. Januar 2026"."""
    from feedback.outbound.locales import format_day

    since, until = report.filters.get("since"), report.filters.get("until")
    if lang == "en" or not since or not until:
        return report.filters_text
    first = datetime.fromisoformat(str(since)).date()
    last = (datetime.fromisoformat(str(until)) - timedelta(seconds=1)).date()
    return f"{format_day(first, lang)} – {format_day(last, lang)}"


def _localised(section: Section, taxonomy: Taxonomy, lang: str) -> Section:
    """``section`` with its title, column heads and outcome/reason labels in ``lang``."""
    if lang == "en":
        return section
    labels: dict[str, str] = {}
    for kt in taxonomy.kinds.values():
        for outcome in kt.outcomes:
            labels[outcome.label] = outcome.label_in(lang)
            for reason in outcome.reasons:
                labels[reason.label] = reason.label_in(lang)
    rows = [
        {
            k: (
                labels.get(v, word(v, lang))
                if k in ("outcome", "reason", "campaign") and isinstance(v, str)
                else v
            )
            for k, v in row.items()
        }
        for row in section.rows
    ]
    chart = section.chart
    if chart is not None and chart.roles:
        chart = replace(chart, roles=tuple((labels.get(g, g), role) for g, role in chart.roles))
    columns = [replace(c, label=word(c.label, lang)) for c in section.columns]
    return replace(section, title=word(section.title, lang), columns=columns, rows=rows, chart=chart)


def digest_sla(engine: Engine, settings: Settings, now: datetime, lang: str = "en") -> list[Section]:
    """The follow-up SLA of the requests sent in the seven days before ``now``: the headline
    figures (values written out, as the mail shows them) and the figures per team, in ``lang``."""
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    ctx = make_context(engine, settings, Filters(since=now - timedelta(days=7), until=now), now)
    found = {s.key: s for s in sla_sections(ctx, engine)}
    rows = [
        {"metric": word(r["metric"], lang), "value": cell(r["value"], r["kind"]) or "–"}
        for r in found["sla"].rows
        if r["metric"] in DIGEST_SLA_FIGURES
    ]
    title = word(SLA_TITLE, lang).format(hours=f"{settings.sla_business_hours:g}")
    head = Section("sla", title, KPI_COLUMNS, rows)
    return [
        _localised(head, settings.taxonomy, lang),
        _localised(found["sla_by_team"], settings.taxonomy, lang),
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


def _html_table(section: Section, lang: str = "en") -> str:
    cols = _columns(section)
    rows = section.rows[:TOP_ROWS]
    if not rows:
        return f'<p style="color:#6b7280;font:13px Arial,sans-serif">{escape(section.title)}: {escape(word("no answers this week", lang))}.</p>'
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


def _kpi_cards(kpis: dict[str, Any]) -> str:
    cards = [
        f'<td style="padding:8px 12px;border:1px solid #e5e7eb;font:12px Arial,sans-serif;color:#6b7280">'
        f'<div style="font:bold 18px Arial,sans-serif;color:#111827">{escape(cell(v, kind)) or "–"}</div>'
        f"{escape(k)}</td>"
        for k, (v, kind) in kpis.items()
    ]
    card_rows = "".join(
        "<tr>" + "".join(cards[i : i + KPIS_PER_ROW]) + "</tr>" for i in range(0, len(cards), KPIS_PER_ROW)
    )
    return f'<table cellspacing="6" style="border-collapse:separate">{card_rows}</table>'


def _text_tables(sections: list[Section], lang: str) -> str:
    lines: list[str] = []
    for s in sections:
        lines += ["", s.title]
        if not s.rows:
            lines.append("  " + word("no answers this week", lang))
        cols = _columns(s)
        if s.rows:
            lines.append("  " + " | ".join(c.label for c in cols))
        for r in s.rows[:TOP_ROWS]:
            lines.append("  " + " | ".join(cell(r.get(c.key), c.kind) for c in cols))
    return "\n".join(lines).strip("\n")
