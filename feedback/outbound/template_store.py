"""Admin versions of the email templates: install, history, diff, rollback, reset, validate.

Every version is a row of ``template_override`` (who, when, why) that is never deleted; the
newest active row of a template and language is the one mail uses (see
:func:`load_renderer`). Installing always goes through :func:`validate_source`, the same sandboxed
render with sample data that ``templates validate`` shows, so a version that cannot render, or
whose subject renders empty or across lines, never becomes active.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from feedback.core.taxonomy import Taxonomy
from feedback.outbound.locales import about_text, answer_summary, format_amount, format_day
from feedback.outbound.rendering import (
    LANGUAGES,
    TEMPLATE_NAMES,
    RenderedMail,
    Renderer,
    RenderLimits,
    TemplateError,
    Variant,
    language_code,
    option_groups,
    template_key,
)
from feedback.runtime.settings import Settings
from feedback.storage.models import Response, ResponseReason, TemplateOverride, TemplateVariant

SHIPPED = "shipped"


class TemplateStoreError(ValueError):
    """A request an admin can fix: unknown template, language or version."""


@dataclass(frozen=True, slots=True)
class Version:
    """One row of a template's history, as ``templates history`` lists it."""

    version: int
    language: str
    created_at: str
    author: str
    comment: str
    active: bool
    in_use: bool


def answer_labels(
    session: Session, taxonomy: Taxonomy, kind: str, response: Response, lang: str = "en"
) -> dict[str, Any]:
    """An acknowledgement's view of a recorded answer, in the rep's words: ``outcome`` and
    ``reasons`` (in the order recorded) as labels in ``lang``, ``competitor``, and the one-line
    ``summary`` ("Lost — Price, then Integration; competitor Contoso"). A code the taxonomy no
    longer knows is shown as the code rather than dropped: the rep must see what was stored."""
    kt = taxonomy.kind(kind)
    codes = session.exec(
        select(ResponseReason.code)
        .where(ResponseReason.response_id == response.id)
        .order_by(col(ResponseReason.rank), col(ResponseReason.id))
    ).all()
    outcome = ""
    if response.outcome:
        try:
            outcome = kt.outcome(response.outcome).label_in(lang)
        except KeyError:
            outcome = response.outcome
    reasons = []
    for code in codes:
        try:
            reasons.append(kt.reason(code).label_in(lang))
        except KeyError:
            reasons.append(code)
    return {
        "summary": answer_summary(outcome, reasons, response.competitor, lang),
        "outcome": outcome,
        "reasons": reasons,
        "competitor": response.competitor,
    }


def load_renderer(session: Session, settings: Settings | None = None) -> Renderer:
    """A renderer with the newest active admin override of each template and language, the older
    active ones (the last good versions a failing one falls back to) and the A/B variants, under
    the render limits of ``settings`` (the defaults without)."""
    rows = session.exec(
        select(TemplateOverride).where(col(TemplateOverride.active)).order_by(col(TemplateOverride.version))
    ).all()
    overrides = {template_key(r.name, r.language): r.source for r in rows}
    versions = {template_key(r.name, r.language): f"override-{r.version}" for r in rows}
    good: dict[str, list[tuple[int, str]]] = {}
    for r in reversed(rows):
        good.setdefault(template_key(r.name, r.language), []).append((r.version, r.source))
    limits = RenderLimits.from_settings(settings) if settings is not None else None
    return Renderer(overrides, versions, limits=limits, variants=_variants(session), good=good)


def _variants(session: Session) -> dict[str, list[Variant]]:
    """The A/B variants of every template and language, by template key, in version order."""
    rows = session.exec(
        select(TemplateVariant, TemplateOverride)
        .outerjoin(
            TemplateOverride,
            (col(TemplateOverride.name) == col(TemplateVariant.name))
            & (col(TemplateOverride.version) == col(TemplateVariant.version)),
        )
        .order_by(col(TemplateVariant.name), col(TemplateVariant.language), col(TemplateVariant.id))
    ).all()
    found: dict[str, list[Variant]] = {}
    for variant, override in rows:
        if variant.version is not None and override is None:
            continue  # cannot happen through set_variants; never guess a text
        found.setdefault(template_key(variant.name, variant.language), []).append(
            Variant(variant.version, override.source if override is not None else None, variant.weight)
        )
    return found


def check_name(name: str) -> None:
    if name not in TEMPLATE_NAMES:
        raise TemplateStoreError(f"no template named {name!r}; templates: {', '.join(TEMPLATE_NAMES)}")


def check_language(lang: str) -> str:
    """A two-letter code; any is allowed (it falls back to English) but typos in long form are not."""
    code = lang.strip().lower()
    if code != language_code(code) or len(code) != 2:
        raise TemplateStoreError(f"{lang!r} is not a language code; use one such as {', '.join(LANGUAGES)}")
    return code


def sample_context(taxonomy: Taxonomy, sender_name: str, name: str, lang: str = "en") -> dict[str, Any]:
    """What every template may use, with plausible values, for preview, edit and validate."""
    kind = "winloss" if name.startswith("winloss") else "disposition"
    kt = taxonomy.kind(kind)
    lost = kt.outcomes[1] if kind == "winloss" and len(kt.outcomes) > 1 else kt.outcomes[0]
    about = about_text("lead", "Peter Hoffmann (Globex)", lang)
    reasons = [r.label_in(lang) for r in lost.reasons[:2]]
    return {
        "rep": {"name": "Dana Whitfield", "first_name": "Dana", "email": "dana@example.com", "team": "East"},
        "lead": {
            "name": "Peter Hoffmann",
            "company": "Globex",
            "title": "VP Operations",
            "email": "p@globex.example",
            "campaign": "Q4 Webinar",
            "source": "Webinar",
            "assigned_on": format_day(date(2026, 11, 2), lang),
            "crm_id": "L-1",
        },
        "deal": {
            "name": "Globex - Platform",
            "company": "Globex",
            "amount_text": format_amount(48000, "USD", lang),
            "result": "won",
            "closed_on": format_day(date(2026, 11, 20), lang),
            "crm_id": "D-1",
        },
        "options": option_groups(kt, lang),
        "sender_name": sender_name,
        "about": about,
        "original_subject": "Lead",
        "sent_on": format_day(date(2026, 11, 2), lang),
        "reminders": 2,
        "summary": answer_summary(lost.label_in(lang), reasons, "Contoso", lang),
        "outcome": lost.label_in(lang),
        "reasons": reasons,
        "competitor": "Contoso",
        "reply_excerpt": "hmm, let me check",
        "items": [{"about": about, "reply_excerpt": "hmm, let me check"}],
        "current": None,
        **_digest_sample(lang),
    }


def _digest_sample(lang: str) -> dict[str, Any]:
    """The digest's variables (``feedback.reports.digest.digest_context``), with sample figures."""
    from markupsafe import Markup

    from feedback.reports.digest_words import word

    leads, answered = word("Leads handed to sales", lang), word("Leads answered", lang)
    return {
        "week_end": format_day(date(2026, 11, 23), lang),
        "leads": "42",
        "accepted_pct": "61",
        "win_pct": "38",
        "period": "2026-11-16 – 2026-11-22 (UTC)",
        "kpis_html": Markup(
            f"<table><tr><td><b>42</b> {leads}</td><td><b>74 %</b> {answered}</td></tr></table>"
        ),
        "kpis_text": f"  {leads}: 42\n  {answered}: 74 % (31/42)",
        "tables_html": Markup(
            f"<h3>{word('Leads by campaign', lang)}</h3><table><tr><td>Q4 Webinar</td></tr></table>"
        ),
        "tables_text": f"{word('Leads by campaign', lang)}\n  Q4 Webinar | 42",
        "answer_note": word("answer_note", lang) if lang != "en" else "Answered: a usable answer.",
        "low_note": word("low_note", lang) if lang != "en" else "† fewer than 5 answers.",
    }


def validate_source(
    name: str, source: str, lang: str, context: Mapping[str, Any], *, renderer: Renderer | None = None
) -> RenderedMail:
    """Render ``source`` as ``name`` in ``lang`` with ``context``; :class:`TemplateError` if unfit."""
    check_name(name)
    return (renderer or Renderer()).check(name, source, context, lang)


def install(
    session: Session,
    *,
    name: str,
    lang: str,
    source: str,
    context: Mapping[str, Any],
    author: str | None,
    comment: str | None = None,
) -> TemplateOverride:
    """Validate and store ``source`` as the next version of ``name`` in ``lang``; it is used at once."""
    validate_source(name, source, lang, context)
    last = session.exec(select(func.max(TemplateOverride.version)).where(TemplateOverride.name == name)).one()
    row = TemplateOverride(
        name=name,
        version=(last or 0) + 1,
        source=source,
        created_by=author,
        language=lang,
        comment=comment,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def history(session: Session, name: str, lang: str | None = None) -> list[Version]:
    """Every stored version of ``name`` (in ``lang``), newest first; ``in_use`` marks the live one."""
    check_name(name)
    query = select(TemplateOverride).where(TemplateOverride.name == name)
    if lang is not None:
        query = query.where(TemplateOverride.language == lang)
    rows = session.exec(query.order_by(col(TemplateOverride.version).desc())).all()
    newest: dict[str, int] = {}
    for r in rows:
        if r.active:
            newest[r.language] = max(newest.get(r.language, 0), r.version)
    return [
        Version(
            version=r.version,
            language=r.language,
            created_at=r.created_at.strftime("%Y-%m-%d %H:%M"),
            author=r.created_by or "",
            comment=r.comment or "",
            active=r.active,
            in_use=newest.get(r.language) == r.version,
        )
        for r in rows
    ]


def _row(session: Session, name: str, version: int) -> TemplateOverride:
    row = session.exec(
        select(TemplateOverride).where(TemplateOverride.name == name, TemplateOverride.version == version)
    ).first()
    if row is None:
        raise TemplateStoreError(
            f"template {name} has no version {version}; see `feedback templates history {name}`"
        )
    return row


def source_of(session: Session, name: str, version: str, lang: str = "en") -> tuple[str, str]:
    """The source of ``version`` (a number, or ``shipped`` in ``lang``) and a label for it."""
    check_name(name)
    if version == SHIPPED:
        try:
            return Renderer().source(name, lang), f"{name} shipped ({lang})"
        except Exception as exc:  # TemplateNotFound: no shipped template of that name
            raise TemplateStoreError(f"no shipped template {name!r}") from exc
    if not version.isdigit():
        raise TemplateStoreError(f"{version!r} is not a version; use a number or 'shipped'")
    row = _row(session, name, int(version))
    return row.source, f"{name} version {row.version} ({row.language})"


def diff(session: Session, name: str, a: str, b: str, lang: str = "en") -> str:
    """A unified diff between two versions (numbers or ``shipped``); empty when they are equal."""
    source_a, label_a = source_of(session, name, a, lang)
    source_b, label_b = source_of(session, name, b, lang)
    lines = difflib.unified_diff(
        source_a.splitlines(keepends=True), source_b.splitlines(keepends=True), label_a, label_b
    )
    return "".join(lines)


def rollback(
    session: Session,
    *,
    name: str,
    to: int,
    context_for: Callable[[str], Mapping[str, Any]],
    author: str | None,
    comment: str | None = None,
) -> TemplateOverride:
    """Install version ``to``'s text again as a new version (history stays linear and complete).

    ``context_for(lang)`` gives the sample context: the old text is validated again, since the
    variables a template may use can have changed since it was written.
    """
    old = _row(session, name, to)
    return install(
        session,
        name=name,
        lang=old.language,
        source=old.source,
        context=context_for(old.language),
        author=author,
        comment=comment or f"rollback to version {to}",
    )


def reset(session: Session, name: str, lang: str | None = None) -> int:
    """Deactivate ``name``'s overrides (in ``lang``): the shipped text is used again. Rows stay."""
    check_name(name)
    query = select(TemplateOverride).where(TemplateOverride.name == name, col(TemplateOverride.active))
    if lang is not None:
        query = query.where(TemplateOverride.language == lang)
    rows = session.exec(query).all()
    for row in rows:
        row.active = False
        session.add(row)
    _clear_variants(session, name, lang)  # back to the shipped text means no A/B test either
    session.commit()
    return len(rows)


# A/B variants ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VariantRow:
    """One variant as ``templates variants`` lists it: its version and its share of the mails."""

    language: str
    version: str  # a number, or "shipped"
    weight: int
    share: float  # percent of the mails of this template and language


def parse_weights(pairs: list[str]) -> list[tuple[str, int]]:
    """``["3=50", "shipped=50"]`` -> ``[("3", 50), ("shipped", 50)]``; a message saying what is
    wrong otherwise (two or more variants, each a version number or ``shipped``, weight 1-1000)."""
    parsed: list[tuple[str, int]] = []
    for pair in pairs:
        version, sep, weight = pair.partition("=")
        version = version.strip().lower()
        if not sep or not weight.strip().isdigit() or not 1 <= int(weight) <= 1000:
            raise TemplateStoreError(f"{pair!r}: write VERSION=WEIGHT, e.g. 4=50 (a weight from 1 to 1000)")
        if version != SHIPPED and not version.isdigit():
            raise TemplateStoreError(f"{pair!r}: the version is a number or 'shipped'")
        if any(v == version for v, _ in parsed):
            raise TemplateStoreError(f"version {version} is named twice")
        parsed.append((version, int(weight)))
    if len(parsed) < 2:
        raise TemplateStoreError("an A/B test needs two or more variants, e.g. --set shipped=50 4=50")
    return parsed


def set_variants(
    session: Session,
    *,
    name: str,
    lang: str,
    weights: list[tuple[str, int]],
    context: Mapping[str, Any],
    author: str | None,
) -> list[VariantRow]:
    """Send ``name`` in ``lang`` as these versions with these weights, from now on.

    Each version must be one of this template's versions in this language (or ``shipped``) and
    is validated again with ``context``: a variant that cannot render never starts.
    """
    check_name(name)
    rows: list[TemplateVariant] = []
    for version, weight in weights:
        number: int | None = None
        if version == SHIPPED:
            source = Renderer().source(name, lang)
        else:
            row = _row(session, name, int(version))
            if row.language != lang:
                raise TemplateStoreError(
                    f"version {row.version} of {name} is in {row.language!r}, not {lang!r}; "
                    f"see `feedback templates history {name} --lang {lang}`"
                )
            number, source = row.version, row.source
        try:
            validate_source(name, source, lang, context)
        except TemplateError as exc:
            raise TemplateStoreError(f"version {version} cannot be sent: {exc}") from None
        rows.append(
            TemplateVariant(name=name, language=lang, version=number, weight=weight, created_by=author)
        )
    _clear_variants(session, name, lang)
    session.flush()
    session.add_all(rows)
    session.commit()
    return list_variants(session, name, lang)


def list_variants(session: Session, name: str, lang: str | None = None) -> list[VariantRow]:
    """The running A/B variants of ``name`` (in ``lang``), by language then version."""
    check_name(name)
    query = select(TemplateVariant).where(TemplateVariant.name == name)
    if lang is not None:
        query = query.where(TemplateVariant.language == lang)
    rows = session.exec(query.order_by(col(TemplateVariant.language), col(TemplateVariant.id))).all()
    totals: dict[str, int] = {}
    for r in rows:
        totals[r.language] = totals.get(r.language, 0) + r.weight
    return [
        VariantRow(
            language=r.language,
            version=SHIPPED if r.version is None else str(r.version),
            weight=r.weight,
            share=100.0 * r.weight / totals[r.language] if totals[r.language] else 0.0,
        )
        for r in rows
    ]


def clear_variants(session: Session, name: str, lang: str | None = None) -> int:
    """End the A/B test of ``name`` (in ``lang``): the newest active version is sent again."""
    check_name(name)
    n = _clear_variants(session, name, lang)
    session.commit()
    return n


def _clear_variants(session: Session, name: str, lang: str | None) -> int:
    query = select(TemplateVariant).where(TemplateVariant.name == name)
    if lang is not None:
        query = query.where(TemplateVariant.language == lang)
    rows = session.exec(query).all()
    for row in rows:
        session.delete(row)
    return len(rows)


__all__ = [
    "SHIPPED",
    "TemplateError",
    "TemplateStoreError",
    "VariantRow",
    "Version",
    "answer_labels",
    "check_language",
    "check_name",
    "clear_variants",
    "diff",
    "history",
    "install",
    "list_variants",
    "load_renderer",
    "parse_weights",
    "reset",
    "rollback",
    "sample_context",
    "set_variants",
    "source_of",
    "validate_source",
]
