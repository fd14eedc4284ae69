"""``feedback status``, ``feedback requeue``, ``feedback purge``: operating the service."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from sqlalchemy import func, update
from sqlmodel import select

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
from feedback.models import InboundMessage, MessageStatus, utcnow

_UNPROCESSED = [MessageStatus.received, MessageStatus.queued]


def status(config: ConfigOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Messages received and what became of them, requests by state (clarifying, in review,
    escalated, expired...), open review items, the queue and the database. Checks the settings
    first: a bad one is reported, one line each, with exit 2."""
    from feedback.status import service_status

    settings = get_settings(config)
    with open_engine(settings) as engine:
        state = service_status(engine, settings)
    render_rows(state.rows(), fmt=fmt, title="Service status")


def requeue(config: ConfigOption = None) -> None:
    """Re-enqueue failed messages after a fix (the worker's sweeper picks them up)."""
    from workers.jobs import requeue_failed

    settings = get_settings(config)
    with open_engine(settings) as engine:
        n = requeue_failed(engine)
    console.print(
        f"{n} failed message(s) put back for processing; a running worker picks them up within 15 s."
    )


def purge(
    older_than: Annotated[
        int, typer.Option(help="Remove the raw bytes of messages received more than N days ago.")
    ],
    config: ConfigOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do it (otherwise only count).")] = False,
) -> None:
    """Retention purge: drop raw message bodies older than N days (responses and metadata stay)."""
    if older_than < 1:
        fail("--older-than must be at least 1 day")
    settings = get_settings(config)
    cutoff = utcnow() - timedelta(days=older_than)
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    with open_engine(settings) as engine:
        where = (
            (table.c.received_at < cutoff)
            & table.c.raw.is_not(None)
            & table.c.status.not_in([s.value for s in _UNPROCESSED])
        )
        with engine.begin() as conn:
            n = conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()
            if yes:
                conn.execute(update(table).where(where).values(raw=None))
    console.print(
        f"{n} raw message(s) older than {older_than} days "
        + ("purged." if yes else "would be purged (add --yes).")
    )


def register(app: typer.Typer) -> None:
    app.command("status")(status)
    app.command("requeue")(requeue)
    app.command("purge")(purge)
