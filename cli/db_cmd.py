"""``feedback db``: apply or inspect migrations."""

from __future__ import annotations

import typer

from cli.common import ConfigOption, console, get_settings, open_engine
from feedback.db import current_revision, downgrade, upgrade

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(config: ConfigOption = None) -> None:
    """Apply every pending migration (safe to run again)."""
    settings = get_settings(config)
    with open_engine(settings, migrate=False) as engine:
        upgrade(engine)
        console.print(f"Database at revision [bold]{current_revision(engine)}[/].")


@app.command("downgrade")
def downgrade_cmd(
    revision: str = typer.Argument(..., help="Target revision, e.g. 'base' or '0001'."),
    config: ConfigOption = None,
) -> None:
    """Roll the schema back to REVISION (drops data in removed tables)."""
    settings = get_settings(config)
    with open_engine(settings, migrate=False) as engine:
        downgrade(engine, revision)
        console.print(f"Database at revision [bold]{current_revision(engine)}[/].")


@app.command("current")
def current_cmd(config: ConfigOption = None) -> None:
    """Print the schema revision the database is at."""
    settings = get_settings(config)
    with open_engine(settings, migrate=False) as engine:
        console.print(current_revision(engine) or "(empty database)")
