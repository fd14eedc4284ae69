"""``feedback requests``: see and act on single requests (list, show, resend, cancel, reassign)."""

from __future__ import annotations

import asyncio
import dataclasses
import getpass
from typing import Annotated

import typer

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

app = typer.Typer(no_args_is_help=True)


def _local(settings: object, value: object) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if not isinstance(value, datetime):
        return ""
    zone = ZoneInfo(getattr(settings, "timezone", "UTC"))
    return value.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).strftime("%Y-%m-%d %H:%M")


@app.command("list")
def list_cmd(
    config: ConfigOption = None,
    status: Annotated[
        str | None, typer.Option(help="Only this status (sent, clarifying, escalated...).")
    ] = None,
    rep: Annotated[str | None, typer.Option(help="Only this rep's requests (email).")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only open requests past their reminder time.")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 500,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Requests, newest first, with their status and follow-up so far."""
    from sqlmodel import Session

    from feedback.services.requests_admin import RequestAdminError, list_requests
    from feedback.storage.models import utcnow

    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        try:
            rows = list_requests(session, now=utcnow(), status=status, rep=rep, overdue=overdue, limit=limit)
        except RequestAdminError as exc:
            fail(str(exc), code=2)
    out = []
    for row in rows:
        item = dataclasses.asdict(row)
        for key in ("sent_at", "escalated_at", "answered_at", "expires_at"):
            item[key] = _local(settings, item[key])
        out.append(item)
    # a terminal table keeps what fits 80 columns; every other format has every column
    narrow = ["id", "kind", "about", "rep", "status", "sent_at", "reminders", "overdue"]
    columns = narrow if fmt is OutputFormat.table else (list(out[0]) if out else None)
    render_rows(out, fmt=fmt, title=f"Requests ({len(out)})", columns=columns)


@app.command("show")
def show_cmd(request_id: int, config: ConfigOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """A request's timeline: sent, reminders, escalation, replies, clarifications, answers."""
    from sqlmodel import Session

    from feedback.outbound.requesting import about
    from feedback.services.requests_admin import RequestAdminError, timeline

    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        try:
            request, entries = timeline(session, request_id)
        except RequestAdminError as exc:
            fail(str(exc), code=2)
        title = f"Request {request.id}: {request.kind} about {about(request, session)} — {request.status}"
    rows = [{"at": _local(settings, e.at), "what": e.what, "detail": e.detail} for e in entries]
    render_rows(rows, fmt=fmt, title=title, columns=["at", "what", "detail"])


@app.command("resend")
def resend_cmd(request_id: int, config: ConfigOption = None) -> None:
    """Mail an open request again to its rep (its reminder clock starts over)."""
    from feedback.outbound.transports import transport_for
    from feedback.services.requests_admin import RequestAdminError, resend
    from feedback.storage.models import utcnow

    settings = get_settings(config)
    with open_engine(settings) as engine:
        try:
            to = asyncio.run(resend(engine, settings, transport_for(settings), request_id, now=utcnow()))
        except RequestAdminError as exc:
            fail(str(exc), code=2)
    console.print(f"Request {request_id} sent again to {to}.")


@app.command("cancel")
def cancel_cmd(
    request_id: int,
    why: Annotated[str, typer.Option("--why", help="Why it is withdrawn (kept in its history).")],
    config: ConfigOption = None,
) -> None:
    """Withdraw an open request: no more reminders; a late reply is told it expired."""
    from sqlmodel import Session

    from feedback.services.requests_admin import RequestAdminError, cancel
    from feedback.storage.models import utcnow

    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        try:
            cancel(session, request_id, why=why, by=getpass.getuser(), now=utcnow())
        except RequestAdminError as exc:
            fail(str(exc), code=2)
    console.print(f"Request {request_id} cancelled.")


@app.command("reassign")
def reassign_cmd(
    from_email: Annotated[str, typer.Option("--from", help="The rep whose open requests move.")],
    to_email: Annotated[str, typer.Option("--to", help="The rep who is asked instead.")],
    config: ConfigOption = None,
) -> None:
    """Hand every open request of one rep to another, who is asked afresh (history kept)."""
    from feedback.outbound.transports import transport_for
    from feedback.services.requests_admin import RequestAdminError, reassign
    from feedback.storage.models import utcnow

    settings = get_settings(config)
    with open_engine(settings) as engine:
        try:
            moved = asyncio.run(
                reassign(
                    engine,
                    settings,
                    transport_for(settings),
                    from_email=from_email,
                    to_email=to_email,
                    now=utcnow(),
                )
            )
        except RequestAdminError as exc:
            fail(str(exc), code=2)
    console.print(f"{len(moved)} open request(s) moved from {from_email} to {to_email} and sent again.")
