"""Stored answers: list them, show one with its history, correct one.

An *answer* is the current response of a request, so an answer's id is its request's id: it stays
the same however many times the answer is replaced (a later reply, a review, a correction), while
each version keeps its own ``Response`` row. A correction never edits a row: it adds a new current
response (``source`` "correction", or "review" from the review queue, ``corrected_by`` who) and the
previous one stays as history. Reports read the current response through ``report_fact``, whose
triggers follow every write, so a correction changes every figure at once; ``load_learned`` reads
corrections, so the classifier learns from them like from any review.

This is the one place that writes corrections: ``feedback answers set`` and ``feedback review
set`` both call :func:`correct_answer`.

Errors a user can fix raise :class:`AnswerError`, whose message is one line that lists the valid
values; nothing here prints.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from feedback.classify.competitors import matcher_for
from feedback.classify.normalise import fold
from feedback.core.taxonomy import KINDS, KindTaxonomy
from feedback.runtime.settings import Settings
from feedback.services.processing import store_response
from feedback.storage.lifecycle import answer_given_by_a_person, close_review
from feedback.storage.models import (
    Deal,
    FeedbackRequest,
    InboundMessage,
    Lead,
    Rep,
    Response,
    ResponseReason,
    ReviewItem,
    ReviewStatus,
    ReviewType,
)

CORRECTION_SOURCES = ("correction", "review")
"""Response sources written by a person rather than read from a reply: the classifier learns them."""

CLEAR = ("", "-", "none")
"""Competitor values that remove the competitor (``--competitor none``)."""


class AnswerError(ValueError):
    """Input a user can fix: an unknown id, code, label, rep. The message lists what is valid."""


@dataclass(frozen=True, slots=True)
class Version:
    """One response of a request, oldest first: what was recorded, by whom, when, from where."""

    number: int  # 1 = the first response
    response_id: int
    at: datetime
    by: str | None  # the reply's sender, or the person who corrected it
    source: str  # reply | review | correction
    outcome: str | None
    reasons: tuple[str, ...]
    competitor: str | None
    confidence: float
    needs_review: bool
    current: bool
    reply_text: str


@dataclass(frozen=True, slots=True)
class Answer:
    """A request's current response with what it is about."""

    id: int  # the request id
    kind: str
    about: str
    crm_id: str | None
    rep: str  # the rep's email
    rep_name: str
    status: str  # the request's status
    current: Version
    versions: int


def _key(text: str) -> str:
    """Codes and labels compare without case, accents, or the difference of ``_``, ``-`` and space."""
    return re.sub(r"[\s_-]+", " ", fold(text)).strip()


def _pick(value: str, choices: dict[str, str]) -> str | None:
    """The code whose code or label (``choices``: code -> label) is ``value``."""
    key = _key(value)
    for code, label in choices.items():
        if key in (_key(code), _key(label)):
            return code
    return None


def resolve_outcome(kt: KindTaxonomy, kind: str, value: str) -> str:
    """An outcome code from a code or a label, or AnswerError listing the kind's outcomes."""
    code = _pick(value, {o.code: o.label for o in kt.outcomes})
    if code is None:
        raise AnswerError(f"{value!r} is not a {kind} outcome; valid: {', '.join(kt.outcome_codes)}")
    return code


def resolve_reasons(
    kt: KindTaxonomy, kind: str, outcome: str | None, values: Sequence[str]
) -> tuple[str, ...]:
    """Reason codes (primary first) from codes or labels; each must belong to ``outcome``."""
    all_reasons = {r.code: r.label for o in kt.outcomes for r in o.reasons}
    out: list[str] = []
    for value in values:
        code = _pick(value, all_reasons)
        if code is None:
            raise AnswerError(f"{value!r} is not a {kind} reason; valid: {', '.join(all_reasons)}")
        owner = kt.reason_outcome[code]
        if outcome is not None and owner != outcome:
            valid = ", ".join(r.code for r in kt.outcome(outcome).reasons)
            raise AnswerError(
                f"{code!r} is a {owner} reason, not a {outcome} one; valid for {outcome}: {valid}"
            )
        if code not in out:
            out.append(code)
    return tuple(out)


def resolve_competitor(settings: Settings, value: str) -> str | None:
    """The configured name for a name, alias or near miss ("contoso", "Contosso"); else as typed.

    A reviewer may name a competitor the configuration does not list: it is stored as written
    (the classifier then learns it), but an obvious typo of a configured one is that one.
    """
    text = " ".join(value.split())
    if text.casefold() in CLEAR:
        return None
    canonical = matcher_for(tuple(settings.competitors)).canonical
    key = " ".join(fold(text).split())
    if key in canonical:
        return canonical[key]
    close = difflib.get_close_matches(key, list(canonical), n=1, cutoff=0.85)
    return canonical[close[0]] if close else text


def _reasons_of(session: Session, response_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    if not response_ids:
        return {}
    rows = session.exec(
        select(ResponseReason)
        .where(col(ResponseReason.response_id).in_(list(response_ids)))
        .order_by(col(ResponseReason.response_id), col(ResponseReason.rank))
    ).all()
    for row in rows:
        found.setdefault(row.response_id, []).append(row.code)
    return {k: tuple(v) for k, v in found.items()}


def _senders(session: Session, responses: Sequence[Response]) -> dict[int, str | None]:
    ids = [r.inbound_message_id for r in responses if r.inbound_message_id is not None]
    if not ids:
        return {}
    rows = session.exec(
        select(InboundMessage.id, InboundMessage.from_addr).where(col(InboundMessage.id).in_(ids))
    ).all()
    return {mid: addr for mid, addr in rows if mid is not None}


def _versions(session: Session, responses: Sequence[Response], numbers: dict[int, int]) -> list[Version]:
    reasons = _reasons_of(session, [r.id for r in responses if r.id is not None])
    senders = _senders(session, responses)
    out: list[Version] = []
    for r in responses:
        assert r.id is not None
        sender = senders.get(r.inbound_message_id) if r.inbound_message_id is not None else None
        out.append(
            Version(
                number=numbers.get(r.id, 1),
                response_id=r.id,
                at=r.created_at,
                by=r.corrected_by or sender,
                source=r.source,
                outcome=r.outcome,
                reasons=reasons.get(r.id, ()),
                competitor=r.competitor,
                confidence=r.confidence,
                needs_review=r.needs_review,
                current=r.is_current,
                reply_text=r.reply_text,
            )
        )
    return out


def _request(session: Session, request_id: int, *, lock: bool = False) -> FeedbackRequest:
    """The request, or AnswerError. ``lock`` holds its row (PostgreSQL) until commit, so two
    people correcting one answer at once queue instead of leaving two current responses."""
    request = session.get(FeedbackRequest, request_id, with_for_update=lock or None)
    if request is None:
        raise AnswerError(f"no request #{request_id}; `feedback answers list` shows the answer ids")
    return request


def _about(session: Session, request: FeedbackRequest) -> tuple[str, str | None]:
    if request.lead_id is not None:
        lead = session.get(Lead, request.lead_id)
        if lead is None:
            return "a lead", None
        return f"lead {lead.name}" + (f" ({lead.company})" if lead.company else ""), lead.crm_id
    deal = session.get(Deal, request.deal_id) if request.deal_id is not None else None
    return (f"deal {deal.name}", deal.crm_id) if deal else ("a deal", None)


def answer_history(*, session: Session, request_id: int) -> list[Version]:
    """Every response of the request, oldest first (the last one is current)."""
    _request(session, request_id)
    responses = session.exec(
        select(Response).where(Response.request_id == request_id).order_by(col(Response.id))
    ).all()
    return _versions(session, responses, {r.id: n for n, r in enumerate(responses, 1) if r.id is not None})


def get_answer(*, session: Session, request_id: int) -> Answer:
    """The request's current answer. A request never answered raises AnswerError."""
    request = _request(session, request_id)
    history = answer_history(session=session, request_id=request_id)
    current = next((v for v in reversed(history) if v.current), None)
    if current is None:
        raise AnswerError(
            f"request #{request_id} has no answer yet (status {request.status}); "
            "`feedback answers set` can record one"
        )
    return _answer(session, request, current, len(history))


def _answer(session: Session, request: FeedbackRequest, current: Version, versions: int) -> Answer:
    rep = session.get(Rep, request.rep_id)
    about, crm_id = _about(session, request)
    return Answer(
        id=request.id or 0,
        kind=request.kind,
        about=about,
        crm_id=crm_id,
        rep=rep.email if rep else "",
        rep_name=rep.name if rep else "",
        status=request.status,
        current=current,
        versions=versions,
    )


def find_rep(session: Session, value: str) -> Rep:
    """A rep by email, name or CRM id (any case), or AnswerError naming the closest ones."""
    key = value.strip().casefold()
    reps = session.exec(select(Rep).order_by(col(Rep.email))).all()
    for rep in reps:
        if key in (rep.email.casefold(), rep.name.casefold(), (rep.crm_id or "").casefold()):
            return rep
    names = [r.email for r in reps]
    close = difflib.get_close_matches(key, names, n=5, cutoff=0.5) or names[:10]
    raise AnswerError(f"no rep {value!r}; valid (closest): {', '.join(close) or 'none imported'}")


def list_answers(
    *,
    session: Session,
    settings: Settings,
    rep: str | None = None,
    outcome: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[Answer]:
    """Current answers, newest first. ``since`` (naive UTC) bounds when the answer was recorded;
    ``outcome`` is a code or label of ``kind`` (of either kind when none is given)."""
    if kind is not None and kind not in KINDS:
        raise AnswerError(f"{kind!r} is not a kind; valid: {', '.join(KINDS)}")
    query = (
        select(Response, FeedbackRequest)
        .join(FeedbackRequest, col(FeedbackRequest.id) == col(Response.request_id))
        .where(col(Response.is_current))
        .order_by(col(Response.created_at).desc(), col(Response.id).desc())
    )
    if kind is not None:
        query = query.where(FeedbackRequest.kind == kind)
    if rep is not None:
        query = query.where(FeedbackRequest.rep_id == find_rep(session, rep).id)
    if outcome is not None:
        kinds = [kind] if kind else list(KINDS)
        codes = {
            code
            for k in kinds
            if (code := _pick(outcome, {o.code: o.label for o in settings.taxonomy.kind(k).outcomes}))
        }
        if not codes:
            valid = [c for k in kinds for c in settings.taxonomy.kind(k).outcome_codes]
            raise AnswerError(f"{outcome!r} is not an outcome; valid: {', '.join(valid)}")
        query = query.where(col(Response.outcome).in_(codes))
    if since is not None:
        query = query.where(col(Response.created_at) >= since)
    if limit is not None:
        query = query.limit(limit)
    rows = session.exec(query).all()
    # load the leads, deals and reps once (session.get then finds them in the identity map)
    requests = [q for _, q in rows]
    for model, ids in (
        (Lead, {q.lead_id for q in requests if q.lead_id is not None}),
        (Deal, {q.deal_id for q in requests if q.deal_id is not None}),
        (Rep, {q.rep_id for q in requests}),
    ):
        if ids:
            session.exec(select(model).where(col(model.id).in_(ids))).all()
    versions = _versions(session, [r for r, _ in rows], {})
    counts = _version_counts(session, [q.id for _, q in rows if q.id is not None])
    return [
        _answer(session, request, version, counts.get(request.id or 0, 1))
        for (_, request), version in zip(rows, versions, strict=True)
    ]


def _version_counts(session: Session, request_ids: Sequence[int]) -> dict[int, int]:
    if not request_ids:
        return {}
    rows = session.exec(
        select(Response.request_id, func.count())
        .where(col(Response.request_id).in_(list(request_ids)))
        .group_by(col(Response.request_id))
    ).all()
    return {rid: int(n) for rid, n in rows}


def correct_answer(
    *,
    session: Session,
    settings: Settings,
    request_id: int,
    outcome: str | None,
    reasons: Sequence[str] = (),
    competitor: str | None = None,
    by: str,
    now: datetime,
    source: str = "correction",
    reply_text: str | None = None,
    message: InboundMessage | None = None,
) -> Response:
    """Record what the answer really is; the caller commits.

    ``outcome`` and ``reasons`` are codes or labels of the request's kind; a reason implies its
    outcome, and with neither the current outcome stays. Reasons not given are kept while the
    outcome stays, dropped when it changes. ``competitor`` None keeps the current one, "none"
    removes it. The reply text is the current answer's (a reviewer may pass the text of the mail
    under review, and the ``message`` it came from). Open review items about this request's
    responses are resolved by the same person.
    """
    request = _request(session, request_id, lock=session.get_bind().dialect.name == "postgresql")
    kt = settings.taxonomy.kind(request.kind)
    if outcome is None and not reasons and competitor is None:
        raise AnswerError("nothing to change: pass --outcome, --reason or --competitor")
    old = session.exec(
        select(Response).where(Response.request_id == request_id, col(Response.is_current))
    ).first()
    old_reasons = _reasons_of(session, [old.id]).get(old.id, ()) if old is not None and old.id else ()
    code = resolve_outcome(kt, request.kind, outcome) if outcome is not None else None
    codes = resolve_reasons(kt, request.kind, code, reasons)
    if code is None:
        code = kt.reason_outcome[codes[0]] if codes else (old.outcome if old is not None else None)
    if code is None:
        raise AnswerError(
            f"request #{request_id} has no outcome to keep; pass --outcome "
            f"(valid: {', '.join(kt.outcome_codes)})"
        )
    if not reasons and old is not None and old.outcome == code:
        codes = old_reasons
    if competitor is not None:
        rival = resolve_competitor(settings, competitor)
    else:
        rival = old.competitor if old is not None else None
    response = store_response(
        session,
        request=request,
        message=message,
        outcome=code,
        reasons=codes,
        competitor=rival,
        reply_text=reply_text if reply_text is not None else (old.reply_text if old is not None else ""),
        confidence=1.0,
        needs_review=False,
        source=source,
        now=now,
        by=by,
        language=old.language if old is not None else None,
    )
    answer_given_by_a_person(request, now=now)
    session.add(request)
    response_ids = select(Response.id).where(Response.request_id == request_id)
    for item in session.exec(
        select(ReviewItem).where(
            ReviewItem.status == ReviewStatus.open,
            ReviewItem.type == ReviewType.response,
            or_(col(ReviewItem.response_id).in_(response_ids), col(ReviewItem.request_id) == request_id),
        )
    ).all():
        close_review(item, resolution=ReviewStatus.resolved, by=by, now=now)
        session.add(item)
    return response
