"""Classifier model versions in the database: fit from corrections, list, activate, and the
active one for the worker (read at most every ``MODEL_TTL`` seconds; weights reloaded only when
the active version changed).

Fitting imports scikit-learn (``feedback.classify.model.train``) and runs from the CLI or the
nightly cron, never per message.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from time import monotonic
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from feedback.classify.model import ClassifierModel, shipped_model
from feedback.core.taxonomy import Taxonomy
from feedback.runtime.errors import FeedbackError
from feedback.storage.models import ClassifierModelVersion, FeedbackRequest, Response, ResponseReason, utcnow

MODEL_TTL = 30.0  # seconds: an activated version reaches every worker within this
CORRECTION_WEIGHT = 3.0  # a person's correction counts as this many corpus replies when new ...
HALF_LIFE_DAYS = 180.0  # ... and half as much every half-year after (newer weighs more)


class ModelError(FeedbackError):
    exit_code = 2


@dataclass(frozen=True, slots=True)
class Correction:
    kind: str
    text: str
    outcome: str | None
    reasons: tuple[str, ...]
    at: datetime


def corrections(session: Session) -> list[Correction]:
    """Every current answer a person gave (review resolutions, ``answers set``), oldest first."""
    rows = session.exec(
        select(Response, FeedbackRequest.kind)
        .join(FeedbackRequest, col(FeedbackRequest.id) == col(Response.request_id))
        .where(col(Response.source).in_(("review", "correction")), col(Response.is_current))
        .order_by(col(Response.created_at), col(Response.id))
    ).all()
    out = []
    for response, kind in rows:
        if not (response.reply_text or "").strip():
            continue
        reasons = session.exec(
            select(ResponseReason.code)
            .where(ResponseReason.response_id == response.id)
            .order_by(col(ResponseReason.rank))
        ).all()
        out.append(
            Correction(kind, response.reply_text, response.outcome, tuple(reasons), response.created_at)
        )
    return out


def correction_weight(at: datetime, now: datetime) -> float:
    age_days = max((now - at).total_seconds() / 86400.0, 0.0)
    return CORRECTION_WEIGHT * math.pow(0.5, age_days / HALF_LIFE_DAYS)


def train_version(
    session: Session,
    *,
    taxonomy: Taxonomy,
    activate: bool = True,
    corpus: tuple[list[Any], list[Any]] | None = None,
    c_grid: tuple[float, ...] | None = None,
    refit: bool = True,
    note: str | None = None,
    now: datetime | None = None,
    jobs: int = 1,
    groups: int = 4,
    progress: Callable[[str], None] = lambda _m: None,
) -> ClassifierModelVersion:
    """Fit a model on the shipped corpus plus every correction, store it as the next version.

    The shipped corpus is fitted as the shipped file is: the combination settings and the review
    stack chosen by leaving a group of writers out in turn (``groups``; 0: one writer at a time;
    C fixed), the weights fitted on every writer plus the corrections. ``corpus`` = (train, dev)
    instead chooses on that dev set: ``c_grid`` the regularisation strengths tried and
    ``refit=False`` keeps the fit on train (tests: a small, quick fit). ``jobs``: processes the
    fits run in."""
    from feedback.classify.model import train as fitting

    now = now or utcnow()
    fixes = [
        fitting.Labelled(
            kind=c.kind,
            text=c.text,
            outcome=c.outcome,
            reasons=c.reasons,
            weight=correction_weight(c.at, now),
            writer="correction",
        )
        for c in corrections(session)
    ]
    if corpus is None:
        shipped = fitting.shipped_corpus()
        if not shipped and not fixes:
            raise ModelError("nothing to train on: no shipped corpus and no corrections")
        model, report = fitting.train_by_writers(
            shipped, extra=fixes, taxonomy=taxonomy, jobs=jobs, groups=groups, progress=progress
        )
        corpus_count = len(shipped)
    else:
        train_set, dev_set = corpus
        if not train_set and not fixes:
            raise ModelError("nothing to train on: no shipped corpus and no corrections")
        model, report = fitting.train(
            [*train_set, *fixes],
            dev_set,
            taxonomy=taxonomy,
            c_grid=c_grid or fitting.C_GRID,
            refit=refit,
            progress=progress,
        )
        corpus_count = len(train_set) + len(dev_set)
    version = (session.exec(select(func.max(ClassifierModelVersion.version))).one() or 0) + 1
    row = ClassifierModelVersion(
        version=version,
        created_at=now,
        active=False,
        corpus_count=corpus_count,
        correction_count=len(fixes),
        dev_figures=json.dumps(report.dev),
        weights=model.to_bytes(),
        note=note,
    )
    session.add(row)
    session.flush()
    if activate:
        activate_version(session, version)
    session.commit()
    session.refresh(row)
    return row


def list_versions(session: Session) -> list[ClassifierModelVersion]:
    return list(
        session.exec(select(ClassifierModelVersion).order_by(col(ClassifierModelVersion.version))).all()
    )


def get_version(session: Session, version: int) -> ClassifierModelVersion:
    row = session.exec(
        select(ClassifierModelVersion).where(ClassifierModelVersion.version == version)
    ).first()
    if row is None:
        known = [r.version for r in list_versions(session)]
        raise ModelError(
            f"no model version {version}",
            hint=f"versions: {', '.join(map(str, known))}" if known else "train one: feedback model train",
        )
    return row


def activate_version(session: Session, version: int) -> ClassifierModelVersion:
    """Make ``version`` the one workers use (every other version inactive)."""
    row = get_version(session, version)
    session.execute(update(ClassifierModelVersion).values(active=False))
    row.active = True
    session.add(row)
    session.commit()
    return row


def deactivate_all(session: Session) -> None:
    """Back to the shipped model."""
    session.execute(update(ClassifierModelVersion).values(active=False))
    session.commit()


_ACTIVE: dict[
    str, tuple[float, int | None, ClassifierModel | None]
] = {}  # db url -> (checked, version, model)


def active_model(session: Session, *, ttl: float = MODEL_TTL) -> ClassifierModel | None:
    """The active version's model, else the shipped one. The version is looked up at most every
    ``ttl`` seconds per database; its weights are loaded only when it changed."""
    key = str(session.get_bind().engine.url)
    now = monotonic()
    cached = _ACTIVE.get(key)
    if cached is not None and now - cached[0] <= ttl:
        return cached[2]
    version = session.exec(
        select(ClassifierModelVersion.version).where(col(ClassifierModelVersion.active))
    ).first()
    if cached is not None and cached[1] == version:
        _ACTIVE[key] = (now, version, cached[2])
        return cached[2]
    model: ClassifierModel | None
    if version is None:
        model = shipped_model()
    else:
        row = get_version(session, version)
        model = ClassifierModel.from_bytes(row.weights, version=version)
    _ACTIVE[key] = (now, version, model)
    return model


def forget_cache() -> None:
    _ACTIVE.clear()
