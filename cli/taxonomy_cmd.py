"""``feedback taxonomy show|validate``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import ConfigOption, FormatOption, OutputFormat, console, fail, get_settings, render_rows

if TYPE_CHECKING:
    pass

app = typer.Typer(no_args_is_help=True)


@app.command("show")
def show(
    kind: Annotated[str | None, typer.Option(help="disposition or winloss (default: both).")] = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The outcomes and reasons, with the option numbers requests show."""
    from feedback.core.taxonomy import KINDS

    taxonomy = get_settings(config).taxonomy
    rows = []
    for k in [kind] if kind else list(KINDS):
        kt = taxonomy.kind(k)
        for opt in kt.options:
            reason = kt.reason(opt.reason)
            rows.append(
                {
                    "kind": k,
                    "number": opt.number,
                    "outcome": opt.outcome,
                    "reason": opt.reason,
                    "label": opt.label,
                    "description": reason.description,
                }
            )
    render_rows(rows, fmt=fmt, title=f"Taxonomy {taxonomy.version} ({taxonomy.fingerprint})")


@app.command("validate")
def validate(path: Annotated[Path | None, typer.Argument(help="feedback.toml to check.")] = None) -> None:
    """Check a feedback.toml's taxonomy (and competitors) without starting anything."""
    from feedback.core.taxonomy import KINDS, TaxonomyError
    from feedback.runtime.settings import ConfigError, load_settings

    try:
        settings = load_settings(config=path) if path else load_settings()
        taxonomy = settings.taxonomy
    except (ConfigError, TaxonomyError) as exc:
        fail(str(exc))
    counts = ", ".join(f"{k}: {len(taxonomy.kind(k).options)} reasons" for k in KINDS)
    console.print(
        f"[green]OK[/] taxonomy {taxonomy.version} ({counts}); {len(settings.competitors)} competitor(s)."
    )
