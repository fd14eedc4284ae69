"""Template versions that failed on a real mail: stored, so `feedback status` can show them.

A failing version never stops or breaks a mail (see ``Renderer.render_or_shipped``), which is
exactly why it can go unnoticed: the worker's log line scrolls away. One row per failure, added
to the caller's session so it is committed with the mail it concerns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from feedback.outbound.rendering import RenderFailure
from feedback.storage.models import TemplateFailure


def record_failure(
    session: Session,
    failure: RenderFailure,
    *,
    purpose: str,
    request_id: int | None,
    at: datetime,
) -> None:
    """Add ``failure`` to ``session`` (the caller commits, with the mail or on its own)."""
    session.add(
        TemplateFailure(
            at=at,
            template=failure.template,
            language=failure.language,
            version=failure.version,
            sent_version=failure.sent_version,
            error=failure.error[:2000],
            purpose=purpose,
            request_id=request_id,
        )
    )


@dataclass(frozen=True, slots=True)
class FailureSummary:
    """Failures since a time: how many, and the newest (what an admin fixes first)."""

    count: int
    newest: TemplateFailure | None


def recent_failures(session: Session, since: datetime) -> FailureSummary:
    count = session.exec(
        select(func.count()).select_from(TemplateFailure).where(TemplateFailure.at >= since)
    ).one()
    newest = session.exec(
        select(TemplateFailure)
        .where(TemplateFailure.at >= since)
        .order_by(col(TemplateFailure.at).desc(), col(TemplateFailure.id).desc())
    ).first()
    return FailureSummary(int(count), newest)
