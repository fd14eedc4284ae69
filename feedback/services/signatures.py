"""Each rep's learned signature: read before a reply is read, updated after (the worker's part of
issue 16 item 5; the learning itself is pure, ``feedback.mail.learned_signature``)."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from feedback.mail import LearnedSignature, ParsedMessage
from feedback.mail.learned_signature import learn, learning_text
from feedback.storage.models import RepSignature


def _decode(row: RepSignature) -> LearnedSignature:
    try:
        lines = json.loads(row.lines or "[]")
        samples = json.loads(row.samples or "[]")
        return LearnedSignature(
            lines=tuple(str(x) for x in lines),
            samples=tuple(tuple(str(k) for k in s) for s in samples if isinstance(s, list)),
        )
    except (ValueError, TypeError):  # a damaged row starts learning afresh
        return LearnedSignature()


def load_signature(session: Session, rep_id: int) -> LearnedSignature | None:
    """The rep's learned signature, or None before their first reply."""
    row = session.get(RepSignature, rep_id)
    return _decode(row) if row is not None else None


def load_signatures(session: Session, rep_ids: Collection[int]) -> dict[int, tuple[LearnedSignature, int]]:
    """Several reps' learned signatures with the number of replies each was learned from, in one
    read (the worker's batch path); a rep without a row is absent."""
    if not rep_ids:
        return {}
    rows = session.exec(select(RepSignature).where(col(RepSignature.rep_id).in_(list(rep_ids)))).all()
    return {row.rep_id: (_decode(row), row.messages) for row in rows}


def encode_signature(learned: LearnedSignature) -> dict[str, str]:
    """The stored form of ``learned`` (``lines`` and ``samples`` columns)."""
    return {
        "lines": json.dumps(list(learned.lines), ensure_ascii=False),
        "samples": json.dumps([list(s) for s in learned.samples]),
    }


def record_signature(session: Session, rep_id: int, parsed: ParsedMessage, *, now: datetime) -> None:
    """Learn from one more reply of the rep's (in the caller's transaction).

    The row is created with an insert that ignores a concurrent creation and then read for
    update, so two workers learning from the same rep at once never fail on the primary key.
    """
    text = learning_text(parsed.reply_text, parsed.signature)
    if not text.strip():
        return
    dialect = session.get_bind().dialect.name
    values: dict[str, object] = {
        "rep_id": rep_id,
        "lines": "[]",
        "samples": "[]",
        "messages": 0,
        "updated_at": now,
    }
    if dialect == "postgresql":
        session.execute(postgresql.insert(RepSignature).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(RepSignature).values(**values).on_conflict_do_nothing())
    elif session.get(RepSignature, rep_id) is None:
        session.add(RepSignature(rep_id=rep_id, updated_at=now))
        session.flush()
    row = session.exec(
        select(RepSignature)
        .where(RepSignature.rep_id == rep_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    learned = learn(_decode(row), text)
    row.lines = json.dumps(list(learned.lines), ensure_ascii=False)
    row.samples = json.dumps([list(s) for s in learned.samples])
    row.messages += 1
    row.updated_at = now
    session.add(row)
