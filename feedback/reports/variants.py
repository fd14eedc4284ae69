"""Responsiveness per template variant (``report responsiveness --by variant``): which version of
a request mail gets answered more often, and is the difference more than chance?

Every request records the version of its template it was sent with (``override-4``,
``de/shipped-1a2b3c4d``); an A/B test (``feedback templates variants``) sends several versions
at once. Versions are compared within one template and language: a German mail against an
English one would measure the readers, not the text. The rates are "answered" exactly as every
other report counts it (:func:`queries.answer_state`); the test of the answer rates is two-sided,
Fisher's exact test for two variants and Pearson's chi-square for more (scipy), and its verdict
is one plain sentence. :func:`verdict` is pure, so the wording is tested without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select

from feedback.reports import queries as q
from feedback.reports.filters import Filters
from feedback.reports.model import Column, Rate, Report, Section
from feedback.reports.sql import REQ, Db, connect, count_if, median_by
from feedback.runtime.settings import Settings

SIGNIFICANT = 0.05
"""A difference is reported as one when the two-sided p value is below this."""

MIN_SENT = 30
"""Below this many requests sent in some variant, "no difference" reads "no difference yet"."""


@dataclass(frozen=True, slots=True)
class Arm:
    """One variant's figures: its version label, requests sent and answered."""

    label: str
    sent: int
    answered: int

    @property
    def rate(self) -> float:
        return self.answered / self.sent if self.sent else 0.0


@dataclass(frozen=True, slots=True)
class Verdict:
    test: str  # "Fisher's exact" | "chi-square" | ""
    p: float | None
    sentence: str


def _pct(arm: Arm) -> str:
    return f"{100.0 * arm.rate:.0f} %"


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2f}" if p >= 0.01 else f"p = {p:.3f}"


def p_value(arms: Sequence[Arm]) -> tuple[str, float]:
    """The two-sided test of equal answer rates: Fisher's exact (2 arms) or chi-square (more)."""
    from scipy.stats import chi2_contingency, fisher_exact  # a second to import: only when asked

    table = [[a.answered, a.sent - a.answered] for a in arms]
    if len(arms) == 2:
        return "Fisher's exact", float(fisher_exact(table, alternative="two-sided").pvalue)
    if any(sum(col) == 0 for col in zip(*table, strict=True)):
        return "chi-square", 1.0  # everyone answered, or no one: no difference to test
    return "chi-square", float(chi2_contingency(table).pvalue)


def verdict(arms: Sequence[Arm]) -> Verdict:
    """One sentence on the arms' answer rates: which answers more often, or no difference (yet)."""
    tested = [a for a in arms if a.sent > 0]
    if len(tested) < 2:
        return Verdict(
            "", None, "one version only: nothing to compare (start an A/B test: feedback templates variants)"
        )
    test, p = p_value(tested)
    ranked = sorted(tested, key=lambda a: a.rate, reverse=True)
    best, worst = ranked[0], ranked[-1]
    if p < SIGNIFICANT:
        most = "more often" if len(tested) == 2 else "most often"
        vs = f"{_pct(best)} vs {_pct(worst)}" + (f" for {worst.label}" if len(tested) > 2 else "")
        return Verdict(test, p, f"{best.label} answers {most} ({vs}, {_p(p)})")
    smallest = min(a.sent for a in tested)
    if smallest < MIN_SENT:
        return Verdict(
            test, p, f"no difference yet (n too small: {smallest} sent in the smallest variant, {_p(p)})"
        )
    return Verdict(test, p, f"no difference ({_pct(best)} vs {_pct(worst)}, {_p(p)})")


def _language(version: str) -> str:
    return version.split("/", 1)[0] if "/" in version else "en"


def _label(version: str) -> str:
    return version.split("/", 1)[1] if "/" in version else version


def by_variant(db: Db, filters: Filters, settings: Settings, *, now: datetime | None = None) -> Report:
    """Per template, language and version: requests sent, answered, median hours to answer; per
    template and language, the test of the answer rates and its verdict."""
    from feedback.reports.build import make_context

    ctx = make_context(db, settings, filters, now)
    f = ctx.facts("request_id", "status", "response_id", "outcome", "sent_at", "hours")
    source = f.join(REQ, REQ.c.id == f.c.request_id)
    keys = [REQ.c.template, REQ.c.template_version]
    has_version = and_(REQ.c.template_version.is_not(None), REQ.c.template_version != "")
    answered = q.answer_state(f.c.status, f.c.response_id, f.c.outcome) == q.text_constant(q.ANSWERED)
    volumes = (
        select(
            *keys,
            func.count(f.c.sent_at).label("sent"),
            count_if(answered).label("answered"),
        )
        .select_from(source)
        .where(has_version)
        .group_by(*keys)
        .order_by(*keys)
    )
    medians = median_by(source, f.c.hours, keys, [has_version], dialect=ctx.dialect)
    with connect(db) as conn:
        found = [dict(r._mapping) for r in conn.execute(volumes)]
        median = {
            (r._mapping["template"], r._mapping["template_version"]): r._mapping["median"]
            for r in conn.execute(medians)
        }
    rows: list[dict[str, Any]] = []
    arms: dict[tuple[str, str], list[Arm]] = {}
    for r in found:
        template, version = str(r["template"]), str(r["template_version"])
        lang, label = _language(version), _label(version)
        sent, got = int(r["sent"] or 0), int(r["answered"] or 0)
        hours = median.get((template, version))
        rows.append(
            {
                "template": template,
                "language": lang,
                "variant": label,
                "sent": sent,
                "answered": Rate(got, sent),
                "median_hours": None if hours is None else round(float(hours), 1),
            }
        )
        arms.setdefault((template, lang), []).append(Arm(label, sent, got))
    tests: list[dict[str, Any]] = []
    for (template, lang), group in arms.items():
        v = verdict(group)
        tests.append(
            {
                "template": template,
                "language": lang,
                "variants": len(group),
                "test": v.test,
                "p": "" if v.p is None else _p(v.p).removeprefix("p = ").removeprefix("p "),
                "verdict": v.sentence,
            }
        )
    sentences = " ".join(
        f"{t['template']} ({t['language']}): {t['verdict']}." for t in tests if int(t["variants"]) > 1
    )
    sections = [
        Section(
            "by_variant",
            "By template variant",
            [
                Column("template", "Template"),
                Column("language", "Language"),
                Column("variant", "Variant"),
                Column("sent", "Requests sent", "int"),
                Column("answered", "Answered", "rate"),
                Column("median_hours", "Median hours to answer", "hours"),
            ],
            rows,
            note=(sentences + " " if sentences else "") + q.ANSWER_NOTE,
        ),
        Section(
            "variant_tests",
            "Do the variants differ?",
            [
                Column("template", "Template"),
                Column("language", "Language"),
                Column("variants", "Variants", "int"),
                Column("test", "Test (two-sided)"),
                Column("p", "p"),
                Column("verdict", "Verdict"),
            ],
            tests,
            note=(
                "Answer rates of the versions of one template in one language, compared with "
                f"Fisher's exact test (two versions) or chi-square (more); a difference with p below "
                f"{SIGNIFICANT:g} is reported as one. Under {MIN_SENT} requests in a version, no "
                "difference means not enough mail yet. Versions sent one after another (not as an "
                "A/B test) also differ by when they were sent."
            ),
        ),
    ]
    return ctx.report("responsiveness", "Responsiveness by template variant", sections)
