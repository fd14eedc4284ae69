"""``feedback review``: one queue of typed items (response, quarantined, unmatched), one id space."""

from __future__ import annotations

import getpass
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from cli.answers_cmd import for_format, usage_error
from cli.common import (
    ConfigOption,
    FormatOption,
    OutputFormat,
    console,
    fail,
    get_settings,
    open_engine,
    print_record,
    render_rows,
)

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_items(
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
    all_items: Annotated[bool, typer.Option("--all", help="Include resolved and dismissed items.")] = False,
    type_: Annotated[str | None, typer.Option("--type", help="response, quarantined or unmatched.")] = None,
) -> None:
    """Items waiting for a person, those a correction teaches most first: answers of the lowest
    confidence (rules and model disagreeing lowers it), then quarantined and unmatched mail."""
    from sqlmodel import Session

    from feedback.services.answers import AnswerError
    from feedback.services.review import list_items as review_queue

    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        try:
            rows = review_queue(session, include_closed=all_items, type_=type_)
        except AnswerError as exc:
            usage_error(str(exc))
    render_rows(
        for_format(rows, fmt, ZoneInfo(settings.timezone)),
        fmt=fmt,
        title="Review queue",
        empty=(
            "nothing waits for a person."
            if all_items
            else "nothing waits for a person (--all also lists resolved and dismissed items)."
        ),
        columns=[
            "id",
            "type",
            "status",
            "request",
            "about",
            "from",
            "outcome",
            "reasons",
            "competitor",
            "confidence",
            "reply",
        ],
    )


@app.command("show")
def show(
    item_id: Annotated[int, typer.Argument(help="Review item id.")],
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Everything about one item: who wrote it, the subject, the full reply (quarantined and
    unmatched mail is read from the stored message), and what was recorded."""
    from sqlmodel import Session

    from feedback.services.review import describe_item
    from feedback.storage.models import ReviewItem

    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        item = session.get(ReviewItem, item_id)
        if item is None:
            fail(f"no review item #{item_id}", hint="`feedback review list` shows the open ones.")
        row = for_format([describe_item(session, item, full=True)], fmt, ZoneInfo(settings.timezone))[0]
    if fmt is not OutputFormat.table:
        render_rows([row], fmt=fmt, title=f"Review item #{item_id}")
        return
    print_record(row, no_reply="(no parsed reply)")


@app.command("set")
def set_item(
    item_id: Annotated[int, typer.Argument(help="Review item id.")],
    outcome: Annotated[str | None, typer.Option(help="Outcome code or label, e.g. rejected or lost.")] = None,
    reason: Annotated[
        list[str] | None, typer.Option("--reason", "-r", help="Reason code or label; repeat, primary first.")
    ] = None,
    competitor: Annotated[str | None, typer.Option(help="Competitor name; 'none' removes it.")] = None,
    request_id: Annotated[
        int | None, typer.Option("--request", help="For unmatched mail: the request it answers.")
    ] = None,
    by: Annotated[str | None, typer.Option(help="Who corrects (default: your login).")] = None,
    config: ConfigOption = None,
) -> None:
    """Correct an item: the correction replaces the response in reports and teaches the classifier.

    The same correction as `feedback answers set`, which works on any answer, reviewed or not.
    """
    from sqlmodel import Session

    from feedback.services.answers import AnswerError
    from feedback.services.review import resolve_item
    from feedback.storage.models import FeedbackRequest, Rep, utcnow

    settings = get_settings(config)
    who = by or getpass.getuser()
    with open_engine(settings) as engine, Session(engine) as session:
        try:
            _, response = resolve_item(
                session=session,
                settings=settings,
                item_id=item_id,
                outcome=outcome,
                reasons=tuple(reason or ()),
                competitor=competitor,
                request_id=request_id,
                by=who,
                now=utcnow(),
            )
        except AnswerError as exc:
            usage_error(str(exc))
        session.commit()
        request = session.get(FeedbackRequest, response.request_id)
        rep = session.get(Rep, request.rep_id) if request is not None else None
        reasons = list(reason or ())
        recorded = response.outcome
    console.print(
        f"Item #{item_id} resolved by {escape(who)}: {recorded}"
        + (f" ({escape(', '.join(reasons))})" if reasons else "")
        + f" for {rep.email if rep else 'the rep'} (answer #{response.request_id}); "
        "workers learn it on their next start.",
        highlight=False,
        soft_wrap=True,
    )


@app.command("dismiss")
def dismiss(
    item_id: Annotated[int, typer.Argument(help="Review item id.")], config: ConfigOption = None
) -> None:
    """Close an item without recording anything (spam, a misdirected mail)."""
    from sqlmodel import Session

    from feedback.services.answers import AnswerError
    from feedback.services.review import dismiss_item
    from feedback.storage.models import utcnow

    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        try:
            dismiss_item(session=session, item_id=item_id, by=getpass.getuser(), now=utcnow())
        except AnswerError as exc:
            usage_error(str(exc))
        session.commit()
    console.print(f"Item #{item_id} dismissed.")
