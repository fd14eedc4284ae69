"""``feedback db``: apply, inspect or roll back migrations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    pass

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(config: ConfigOption = None) -> None:
    """Apply every pending migration (safe to run again)."""
    from feedback.storage.db import current_revision, upgrade

    settings = get_settings(config)
    with open_engine(settings, schema="any") as engine:
        upgrade(engine)
        console.print(f"Database at revision [bold]{current_revision(engine)}[/].")


@app.command("downgrade", context_settings={"ignore_unknown_options": True})  # so -1 is a revision
def downgrade_cmd(
    revision: Annotated[
        str, typer.Argument(help="Target revision: an id from `feedback db history`, 'base', or -N.")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    config: ConfigOption = None,
) -> None:
    """Roll the schema back to REVISION (drops the tables and columns later migrations added, with
    their data). Asks first, unless --yes."""
    from feedback.storage.db import current_revision, downgrade, downgrade_plan

    settings = get_settings(config)
    with open_engine(settings, schema="any") as engine:
        undo = downgrade_plan(engine, revision)  # an unknown revision stops here, nothing changed
        if not undo:
            console.print(f"Database already at revision [bold]{current_revision(engine) or 'base'}[/].")
            return
        if not yes:
            typer.confirm(
                f"Undo migration(s) {', '.join(undo)} on {settings.resolved_database_url.split('@')[-1]}? "
                "What they added is dropped, with its data",
                abort=True,
            )
        downgrade(engine, revision)
        console.print(f"Database at revision [bold]{current_revision(engine) or 'base'}[/].")


@app.command("current")
def current_cmd(config: ConfigOption = None) -> None:
    """Print the schema revision the database is at."""
    from feedback.storage.db import current_revision

    settings = get_settings(config)
    with open_engine(settings, schema="any") as engine:
        console.print(current_revision(engine) or "(empty database)")


@app.command("history")
def history_cmd(config: ConfigOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Every migration, oldest first, and which ones the database has."""
    from feedback.storage.db import current_revision, revisions

    settings = get_settings(config)
    with open_engine(settings, schema="any") as engine:
        current = current_revision(engine)
    ids = [rev for rev, _ in revisions()]
    applied = set(ids[: ids.index(current) + 1]) if current in ids else set()
    rows = [
        {"revision": rev, "applied": rev in applied, "current": rev == current, "description": doc}
        for rev, doc in revisions()
    ]
    render_rows(rows, fmt=fmt, title="Migrations")
