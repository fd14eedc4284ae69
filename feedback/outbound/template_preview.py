"""The context a template is tried with: sample data, or a real lead or deal (``--lead/--deal``).

Separate from :mod:`feedback.outbound.template_store` because a real record's context is the one
:mod:`feedback.outbound.requesting` builds for sending, which itself loads templates from the store.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, or_, select

from feedback.outbound.locales import about_text
from feedback.outbound.requesting import request_context
from feedback.outbound.template_store import TemplateStoreError, sample_context
from feedback.runtime.settings import Settings
from feedback.storage.models import Deal, Lead, Rep


def preview_context(
    session: Session,
    settings: Settings,
    name: str,
    lang: str | None,
    *,
    lead: str | None = None,
    deal: str | None = None,
) -> tuple[dict[str, Any], str]:
    """The context and language to try ``name`` with: the record's rep's language unless ``lang``."""
    item: Lead | Deal | None = None
    if lead is not None:
        item = _find(session, Lead, lead)
    elif deal is not None:
        item = _find(session, Deal, deal)
    if item is None:
        code = lang or "en"
        return sample_context(settings.taxonomy, settings.from_name, name, code), code
    rep = session.get(Rep, item.rep_id) if item.rep_id is not None else None
    if rep is None:
        raise TemplateStoreError(f"{type(item).__name__.lower()} {item.crm_id} has no rep to write to")
    code = lang or rep.language
    kind = "disposition" if isinstance(item, Lead) else "winloss"
    shown = rep.model_copy(update={"language": code})
    context = sample_context(settings.taxonomy, settings.from_name, name, code)
    context.update(request_context(kind, item, shown, settings))
    label = f"{item.name or item.crm_id}" + (f" ({item.company})" if item.company else "")
    context["about"] = about_text("lead" if isinstance(item, Lead) else "deal", label, code)
    return context, code


def _find(session: Session, model: type[Lead] | type[Deal], key: str) -> Lead | Deal:
    """A lead or deal by database id or CRM id."""
    clauses = [model.crm_id == key]
    if key.isdigit():
        clauses.append(model.id == int(key))
    row = session.exec(select(model).where(or_(*clauses))).first()
    if row is None:
        raise TemplateStoreError(f"no {model.__name__.lower()} with id or CRM id {key!r}")
    assert isinstance(row, Lead | Deal)
    return row
