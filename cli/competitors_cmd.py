"""``feedback competitors list``: the configured competitor list (edit it in feedback.toml)."""

from __future__ import annotations

import typer

from cli.common import ConfigOption, FormatOption, OutputFormat, get_settings, render_rows

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_competitors(config: ConfigOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Competitors and their aliases, as the classifier matches them ([[competitors]] in feedback.toml)."""
    settings = get_settings(config)
    rows = [{"name": c.name, "aliases": ", ".join(c.aliases)} for c in settings.competitors]
    render_rows(rows, fmt=fmt, title="Competitors", columns=["name", "aliases"])
