"""``feedback model``: the trained classifier beside the rules: train, list, show, activate."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from feedback.storage.models import ClassifierModelVersion

from cli.common import (
    ConfigOption,
    FormatOption,
    OutputFormat,
    console,
    get_settings,
    open_engine,
    render_rows,
)

app = typer.Typer(no_args_is_help=True)


def _row(v: ClassifierModelVersion) -> dict[str, object]:
    dev = json.loads(v.dev_figures or "{}").get("combined", {})
    return {
        "version": v.version,
        "active": "yes" if v.active else "",
        "created": v.created_at.strftime("%Y-%m-%d %H:%M"),
        "corpus": v.corpus_count,
        "corrections": v.correction_count,
        "dev outcome": dev.get("outcome"),
        "dev primary": dev.get("primary"),
        "dev reason F1": dev.get("reason_f1"),
        "note": v.note or "",
    }


@app.command("train")
def train(
    config: ConfigOption = None,
    activate: Annotated[bool, typer.Option(help="Make the new version the active one.")] = True,
    note: Annotated[str | None, typer.Option(help="A note stored with the version.")] = None,
    jobs: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Processes to fit in (default: the model_train_jobs setting)."),
    ] = None,
    groups: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=64,
            help="Groups of writers left out in turn; 0: one writer at a time (default: model_train_groups).",
        ),
    ] = None,
) -> None:
    """Fit a new version on the shipped corpus plus every correction (newest weigh most).

    One fit per group of writers left out, then one on all (2-3 min of CPU each): --jobs spreads them."""
    from sqlmodel import Session

    from feedback.services.classifier_models import train_version

    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        row = train_version(
            session,
            taxonomy=settings.taxonomy,
            activate=activate,
            note=note,
            jobs=jobs or settings.model_train_jobs,
            groups=settings.model_train_groups if groups is None else groups,
            progress=lambda line: console.print(line, markup=False, highlight=False),
        )
        console.print(
            f"model version {row.version}: {row.corpus_count} corpus replies, "
            f"{row.correction_count} corrections" + (" (active)" if row.active else "")
        )


@app.command("list")
def list_(config: ConfigOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Every stored version, with its data counts and dev figures (combined with the rules)."""
    from sqlmodel import Session

    from feedback.services.classifier_models import list_versions

    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        rows = [_row(v) for v in list_versions(session)]
    if not rows and fmt == OutputFormat.table:
        console.print("no trained versions: workers use the model shipped with the package")
        return
    render_rows(rows, fmt=fmt, title="Classifier models")


@app.command("show")
def show(version: Annotated[int, typer.Argument(help="Model version.")], config: ConfigOption = None) -> None:
    """One version: counts, and rules / model / combined figures on the dev writers."""
    from sqlmodel import Session

    from feedback.services.classifier_models import get_version

    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        v = get_version(session, version)
        for key, value in _row(v).items():
            console.print(f"[bold]{key}:[/] {value}")
        console.print(f"[bold]weights:[/] {len(v.weights) / 1e6:.2f} MB")
        for part, figures in json.loads(v.dev_figures or "{}").items():
            console.print(f"[bold]dev {part}:[/] " + ", ".join(f"{k} {val}" for k, val in figures.items()))


@app.command("activate")
def activate(
    version: Annotated[int, typer.Argument(help="Model version.")], config: ConfigOption = None
) -> None:
    """Make VERSION the one the workers use (they pick it up within 30 s, no restart)."""
    from sqlmodel import Session

    from feedback.services.classifier_models import activate_version

    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        v = activate_version(session, version)
        console.print(f"model version {v.version} is active")
