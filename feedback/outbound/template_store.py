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
    language_code,
    option_groups,
    template_key,
)
from feedback.runtime.settings import Settings
from feedback.storage.models import Response, ResponseReason, TemplateOverride

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
    """A renderer with the newest active admin override of each template and language, under the
    render limits of ``settings`` (the defaults without)."""
    rows = session.exec(
        select(TemplateOverride).where(col(TemplateOverride.active)).order_by(col(TemplateOverride.version))
    ).all()
    overrides = {template_key(r.name, r.language): r.source for r in rows}
    versions = {template_key(r.name, r.language): f"override-{r.version}" for r in rows}
    limits = RenderLimits.from_settings(settings) if settings is not None else None
    return Renderer(overrides, versions, limits=limits)


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
    session.commit()
    return len(rows)


__all__ = [
    "SHIPPED",
    "TemplateError",
    "TemplateStoreError",
    "Version",
    "answer_labels",
    "check_language",
    "check_name",
    "diff",
    "history",
    "install",
    "load_renderer",
    "reset",
    "rollback",
    "sample_context",
    "source_of",
    "validate_source",
]
