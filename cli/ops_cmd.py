"""``feedback status``, ``feedback requeue``, ``feedback purge``: operating the service."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import (
    ConfigOption,
    FormatOption,
    OutputFormat,
    console,
    get_settings,
    open_engine,
    render_rows,
)


def status(config: ConfigOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Messages received and what became of them, requests by state (clarifying, in review,
    escalated, expired...), open review items, the queue and the database. Checks the settings
    first: a bad one is reported, one line each, with exit 2."""
    from feedback.services.status import service_status

    settings = get_settings(config)
    with open_engine(settings) as engine:
        state = service_status(engine, settings)
    render_rows(state.rows(), fmt=fmt, title="Service status")


def requeue(config: ConfigOption = None) -> None:
    """Retry the failed messages after a fix: fresh attempts; a running worker picks them up."""
    from sqlmodel import Session

    from feedback.storage.lifecycle import requeue_failed

    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        n = requeue_failed(session)
        session.commit()
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
    from feedback.services.retention import purge_raw
    from feedback.storage.models import utcnow

    settings = get_settings(config)
    with open_engine(settings) as engine:
        n = purge_raw(engine, older_than_days=older_than, now=utcnow(), apply=yes)
    console.print(
        f"{n} raw message(s) older than {older_than} days "
        + ("purged." if yes else "would be purged (add --yes).")
    )


def register(app: typer.Typer) -> None:
    app.command("status")(status)
    app.command("requeue")(requeue)
    app.command("purge")(purge)
