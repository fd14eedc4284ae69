"""``feedback review``: one queue of typed items (response, quarantined, unmatched), one id space."""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer
from sqlmodel import Session, col, select

from cli.common import (
    ConfigOption,
    FormatOption,
    OutputFormat,
    console,
    fail,
    get_settings,
    open_engine,
    render_rows,
)
from feedback.models import (
    FeedbackRequest,
    InboundMessage,
    Rep,
    RequestStatus,
    Response,
    ResponseReason,
    ReviewItem,
    utcnow,
)
from feedback.processing import store_response
from feedback.requesting import about

app = typer.Typer(no_args_is_help=True)


def _item_row(session: Session, item: ReviewItem) -> dict[str, Any]:
    response = session.get(Response, item.response_id) if item.response_id else None
    message = session.get(InboundMessage, item.inbound_message_id) if item.inbound_message_id else None
    request = session.get(FeedbackRequest, item.request_id) if item.request_id else None
    text = response.reply_text if response else ""
    reasons = []
    if response is not None:
        reasons = list(
            session.exec(
                select(ResponseReason.code)
                .where(ResponseReason.response_id == response.id)
                .order_by(col(ResponseReason.rank))
            ).all()
        )
    return {
        "id": item.id,
        "type": item.type,
        "status": item.status,
        "created": item.created_at,
        "about": about(request, session) if request else "-",
        "from": message.from_addr if message else None,
        "outcome": response.outcome if response else None,
        "reasons": reasons,
        "competitor": response.competitor if response else None,
        "reason": item.reason,
        "reply": " ".join(text.split())[:80],
    }


@app.command("list")
def list_items(
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
    all_items: Annotated[bool, typer.Option("--all", help="Include resolved and dismissed items.")] = False,
    type_: Annotated[str | None, typer.Option("--type", help="response, quarantined or unmatched.")] = None,
) -> None:
    """Items waiting for a person: doubtful answers, quarantined and unmatched mail."""
    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        query = select(ReviewItem).order_by(col(ReviewItem.id))
        if not all_items:
            query = query.where(ReviewItem.status == "open")
        if type_:
            query = query.where(ReviewItem.type == type_)
        rows = [_item_row(session, item) for item in session.exec(query).all()]
    render_rows(
        rows,
        fmt=fmt,
        title="Review queue",
        columns=["id", "type", "status", "about", "from", "outcome", "reasons", "competitor", "reply"],
    )


@app.command("show")
def show(
    item_id: Annotated[int, typer.Argument(help="Review item id.")], config: ConfigOption = None
) -> None:
    """Everything about one item, including the full reply."""
    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        item = session.get(ReviewItem, item_id)
        if item is None:
            fail(f"no review item #{item_id}", hint="`feedback review list` shows the open ones.")
        row = _item_row(session, item)
        response = session.get(Response, item.response_id) if item.response_id else None
        for key, value in row.items():
            if key != "reply":
                console.print(f"[bold]{key}:[/] {value if value not in (None, []) else '-'}")
        console.print("[bold]reply:[/]")
        console.print((response.reply_text if response else "") or "(no parsed reply)", markup=False)


@app.command("set")
def set_item(
    item_id: Annotated[int, typer.Argument(help="Review item id.")],
    outcome: Annotated[str, typer.Option(help="The outcome code, e.g. rejected or lost.")],
    reason: Annotated[
        list[str] | None, typer.Option("--reason", "-r", help="Reason code; repeat, primary first.")
    ] = None,
    competitor: Annotated[str | None, typer.Option(help="Competitor name.")] = None,
    request_id: Annotated[
        int | None, typer.Option("--request", help="For unmatched mail: the request it answers.")
    ] = None,
    by: Annotated[str | None, typer.Option(help="Who corrects (default: your login).")] = None,
    config: ConfigOption = None,
) -> None:
    """Correct an item: the correction replaces the response in reports and teaches the classifier."""
    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        item = session.get(ReviewItem, item_id)
        if item is None:
            fail(f"no review item #{item_id}", hint="`feedback review list` shows the open ones.")
        req_id = request_id or item.request_id
        if req_id is None and item.response_id:
            resp = session.get(Response, item.response_id)
            req_id = resp.request_id if resp else None
        request = session.get(FeedbackRequest, req_id) if req_id else None
        if request is None:
            fail(
                f"item #{item_id} is not tied to a request",
                hint="pass --request ID (see `feedback report verbatims`).",
            )
        kt = settings.taxonomy.kind(request.kind)
        if outcome not in kt.outcome_codes:
            fail(
                f"{outcome!r} is not a {request.kind} outcome",
                hint=f"use one of {', '.join(kt.outcome_codes)}",
            )
        reasons = tuple(reason or ())
        unknown = [r for r in reasons if r not in kt.reason_outcome]
        if unknown:
            fail(
                f"unknown {request.kind} reason(s): {', '.join(unknown)}",
                hint="`feedback taxonomy show` lists the codes.",
            )
        old = session.get(Response, item.response_id) if item.response_id else None
        text = old.reply_text if old else ""
        message = session.get(InboundMessage, item.inbound_message_id) if item.inbound_message_id else None
        if not text and message is not None and message.raw:
            from feedback.mail import parse_message

            text = parse_message(message.raw).reply_text or ""
        who = by or getpass.getuser()
        now = utcnow()
        store_response(
            session,
            request=request,
            message=None,
            outcome=outcome,
            reasons=reasons,
            competitor=competitor,
            reply_text=text,
            confidence=1.0,
            needs_review=False,
            source="review",
            now=now,
            by=who,
        )
        request.status = RequestStatus.answered
        request.answered_at = request.answered_at or now
        item.status, item.resolved_at, item.resolved_by = "resolved", now, who
        if message is not None and message.status in ("quarantined", "unmatched"):
            message.status = "processed"
            message.request_id = request.id
            session.add(message)
        session.add_all([request, item])
        session.commit()
        rep = session.get(Rep, request.rep_id)
    console.print(
        f"Item #{item_id} resolved by {who}: {outcome}"
        + (f" ({', '.join(reasons)})" if reasons else "")
        + f" for {rep.email if rep else 'the rep'}; workers learn it on their next start."
    )


@app.command("dismiss")
def dismiss(
    item_id: Annotated[int, typer.Argument(help="Review item id.")], config: ConfigOption = None
) -> None:
    """Close an item without recording anything (spam, a misdirected mail)."""
    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        item = session.get(ReviewItem, item_id)
        if item is None:
            fail(f"no review item #{item_id}")
        item.status, item.resolved_at, item.resolved_by = "dismissed", utcnow(), getpass.getuser()
        session.add(item)
        session.commit()
    console.print(f"Item #{item_id} dismissed.")
