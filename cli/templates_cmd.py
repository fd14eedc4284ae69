"""``feedback templates``: list, show, edit (versioned, sandboxed) and preview the email templates."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import func
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
from feedback.models import TemplateOverride
from feedback.rendering import (
    TEMPLATE_NAMES,
    Renderer,
    RenderLimits,
    TemplateError,
    option_groups,
    shipped_source,
)
from feedback.requesting import load_renderer

app = typer.Typer(no_args_is_help=True)


def _sample_context(settings: Any, name: str) -> dict[str, Any]:
    kind = "winloss" if name.startswith("winloss") else "disposition"
    return {
        "rep": {"name": "Dana Whitfield", "first_name": "Dana", "email": "dana@example.com", "team": "East"},
        "lead": {
            "name": "Peter Hoffmann",
            "company": "Globex",
            "title": "VP Operations",
            "email": "p@globex.example",
            "campaign": "Q4 Webinar",
            "source": "Webinar",
            "assigned_on": "November 2, 2026",
            "crm_id": "L-1",
        },
        "deal": {
            "name": "Globex - Platform",
            "company": "Globex",
            "amount_text": "48,000 USD",
            "result": "won",
            "closed_on": "November 20, 2026",
            "crm_id": "D-1",
        },
        "options": option_groups(settings.taxonomy.kind(kind)),
        "sender_name": settings.from_name,
        "about": "lead Peter Hoffmann (Globex)",
        "original_subject": "Lead",
        "sent_on": "November 2, 2026",
        "reminders": 2,
        "summary": "accepted",
        "reply_excerpt": "hmm, let me check",
        "items": [{"about": "lead Peter Hoffmann (Globex)", "reply_excerpt": "hmm, let me check"}],
        "current": None,
    }


def _check_name(name: str) -> None:
    if name not in TEMPLATE_NAMES:
        fail(f"no template named {name!r}", hint=f"templates: {', '.join(TEMPLATE_NAMES)}")


@app.command("list")
def list_templates(config: ConfigOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Every template and the version in use (shipped or an admin override)."""
    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        renderer = load_renderer(session, settings)
        rows = [
            {
                "template": n,
                "version": renderer.version(n),
                "source": "override" if n in renderer.overrides else "shipped",
            }
            for n in TEMPLATE_NAMES
        ]
    render_rows(rows, fmt=fmt, title="Email templates")


@app.command("show")
def show(name: Annotated[str, typer.Argument(help="Template name.")], config: ConfigOption = None) -> None:
    """Print a template's source (the version in use)."""
    _check_name(name)
    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        renderer = load_renderer(session, settings)
    print(renderer.overrides.get(name) or shipped_source(name), end="")


@app.command("preview")
def preview(
    name: Annotated[str, typer.Argument(help="Template name.")],
    config: ConfigOption = None,
    html: Annotated[bool, typer.Option(help="Print the HTML part instead of the text.")] = False,
) -> None:
    """Render a template with sample data."""
    _check_name(name)
    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        renderer = load_renderer(session, settings)
    try:
        mail = renderer.render(name, _sample_context(settings, name))
    except TemplateError as exc:
        fail(str(exc))
    console.print(f"[bold]Subject:[/] {mail.subject}  [dim]({mail.version})[/]")
    print(mail.html if html else mail.text)


@app.command("edit")
def edit(
    name: Annotated[str, typer.Argument(help="Template name.")],
    file: Annotated[Path, typer.Option("--file", help="New template source (blocks subject, text, html).")],
    config: ConfigOption = None,
) -> None:
    """Install a new version of a template after compiling and test-rendering it in the sandbox."""
    _check_name(name)
    settings = get_settings(config)
    try:
        source = file.read_text("utf-8")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    try:
        Renderer(limits=RenderLimits.from_settings(settings)).check(
            name, source, _sample_context(settings, name)
        )
    except TemplateError as exc:
        fail(str(exc), hint="nothing was changed; fix the template and run the command again.")
    with open_engine(settings) as engine, Session(engine) as session:
        last = session.exec(
            select(func.max(TemplateOverride.version)).where(TemplateOverride.name == name)
        ).one()
        version = (last or 0) + 1
        session.add(TemplateOverride(name=name, version=version, source=source, created_by=getpass.getuser()))
        session.commit()
    console.print(f"Template {name} is now override-{version}; new mail uses it.")


@app.command("reset")
def reset(name: Annotated[str, typer.Argument(help="Template name.")], config: ConfigOption = None) -> None:
    """Go back to the shipped template (overrides are kept as history, deactivated)."""
    _check_name(name)
    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        for row in session.exec(
            select(TemplateOverride).where(TemplateOverride.name == name, col(TemplateOverride.active))
        ).all():
            row.active = False
            session.add(row)
        session.commit()
    console.print(f"Template {name} reset to the shipped version.")
