"""Feedback reports for marketing: which campaigns produce leads sales accepts, and why not;
why deals are won and lost, and against whom.

Each report is a function ``(engine_or_session, filters, settings) -> Report`` that aggregates in
SQL (same numbers on SQLite and PostgreSQL); ``render_report`` prints it in any format.
"""

from __future__ import annotations

from feedback.core.vocabulary import OutputFormat
from feedback.reports.build import (
    REPORTS,
    competitors,
    export,
    funnel,
    reasons,
    responsiveness,
    summary,
    trends,
    verbatims,
    winloss,
)
from feedback.reports.digest import digest_html
from feedback.reports.filters import FilterError, Filters, parse_when
from feedback.reports.model import Chart, Column, Money, Rate, Report, Section
from feedback.reports.render import render_report, render_to_string

__all__ = [
    "REPORTS",
    "Chart",
    "Column",
    "FilterError",
    "Filters",
    "Money",
    "OutputFormat",
    "Rate",
    "Report",
    "Section",
    "competitors",
    "digest_html",
    "export",
    "funnel",
    "parse_when",
    "reasons",
    "render_report",
    "render_to_string",
    "responsiveness",
    "summary",
    "trends",
    "verbatims",
    "winloss",
]
