"""What every command needs: settings, an engine with migrations applied, output helpers."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TextIO

import typer
from rich.console import Console
from sqlalchemy.engine import Engine

from feedback.csvout import write_dicts
from feedback.db import make_engine, upgrade
from feedback.settings import ConfigError, Settings, load_settings

console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="feedback.toml to read (default: $FEEDBACK_CONFIG or ./feedback.toml)."
    ),
]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    md = "md"
    html = "html"


FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
RawCsvOption = Annotated[
    bool,
    typer.Option(
        "--raw-csv",
        help="CSV cells exactly as stored, without the ' put before cells a spreadsheet would run "
        "as formulas (=, +, -, @): for programs reading the CSV, not for opening in a spreadsheet.",
    ),
]


def fail(message: str, *, hint: str | None = None, code: int = 1) -> NoReturn:
    """Print an actionable error and exit non-zero."""
    err_console.print(f"[bold red]Error:[/] {message}")
    if hint:
        err_console.print(f"[dim]Hint:[/] {hint}")
    raise typer.Exit(code)


def get_settings(config: Path | None = None, **overrides: Any) -> Settings:
    try:
        settings = load_settings(config=config, **overrides)
        settings.check()
    except ConfigError as exc:
        fail(str(exc))
    return settings


@contextmanager
def open_engine(settings: Settings, *, migrate: bool = True) -> Iterator[Engine]:
    """An engine on the configured database, migrated to head (the CLI is the admin's tool)."""
    try:
        engine = make_engine(settings.resolved_database_url)
        if migrate:
            upgrade(engine)
    except Exception as exc:  # connection refused, bad URL, ...
        fail(
            f"cannot open the database {settings.resolved_database_url.split('@')[-1]}: {exc}",
            hint="check FEEDBACK_DATABASE_URL and that the database server is running.",
        )
    try:
        yield engine
    finally:
        engine.dispose()


def render_rows(
    rows: Sequence[dict[str, Any]],
    *,
    fmt: OutputFormat,
    title: str = "",
    columns: Sequence[str] | None = None,
    out: TextIO | None = None,
    raw_csv: bool = False,
) -> None:
    """Print a listing in any of the five formats (html: a minimal self-contained table).

    CSV goes through ``feedback.csvout`` (formula cells neutralised unless ``raw_csv``).
    """
    cols = list(columns or (rows[0].keys() if rows else []))
    stream = out or sys.stdout
    if fmt is OutputFormat.json:
        stream.write(json.dumps(rows, indent=2, default=str) + "\n")
    elif fmt is OutputFormat.csv:
        write_dicts(stream, rows, cols, raw=raw_csv)
    elif fmt is OutputFormat.md:
        stream.write(f"## {title}\n\n" if title else "")
        stream.write("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n")
        for row in rows:
            stream.write("| " + " | ".join(_cell(row.get(c)).replace("|", "\\|") for c in cols) + " |\n")
    elif fmt is OutputFormat.html:
        from html import escape

        head = "".join(f"<th>{escape(c)}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(_cell(r.get(c)))}</td>" for c in cols) + "</tr>" for r in rows
        )
        stream.write(
            f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}th{background:#f3f4f6}</style>"
            f"</head><body><h1>{escape(title)}</h1><table><tr>{head}</tr>{body}</table></body></html>\n"
        )
    else:
        from rich.table import Table

        table = Table(title=title or None, show_lines=False)
        for col in cols:
            table.add_column(col)
        for row in rows:
            table.add_row(*(_cell(row.get(c)) for c in cols))
        if out is None:
            console.print(table)
        else:
            Console(file=out, width=160).print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
