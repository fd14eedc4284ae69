"""``feedback``: closed-loop lead-disposition and win/loss feedback by email.

Each group lives in its own module and is joined here with ``app.add_typer``.
"""

from __future__ import annotations

import importlib

import typer

from cli.common import FeedbackGroup, root_callback

app = typer.Typer(
    name="feedback",
    cls=FeedbackGroup,  # errors become one line (cli/common.py)
    callback=root_callback,  # --debug
    help=(
        "Closed-loop sales feedback by email: ask reps what happened to each lead and why each "
        "deal was won or lost, read their replies, and report back to marketing."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)

# (module, group name or None for top-level commands, help)
_GROUPS: list[tuple[str, str | None, str]] = [
    ("cli.db_cmd", "db", "Database migrations."),
    ("cli.import_cmd", "import", "Import reps, leads and deals from CRM CSV exports."),
    ("cli.report_cmd", "report", "Feedback reports for marketing."),
    ("cli.review_cmd", "review", "The human review queue: doubtful answers, quarantined and unmatched mail."),
    ("cli.answers_cmd", "answers", "Every stored answer: list, show, correct, and its history."),
    ("cli.templates_cmd", "templates", "Show, edit and test the email templates."),
    ("cli.taxonomy_cmd", "taxonomy", "Show and validate the reason taxonomy."),
    ("cli.reps_cmd", "reps", "List and edit reps, their managers and alias addresses."),
    ("cli.requests_cmd", "requests", "See single requests and act on them: resend, cancel, reassign."),
    ("cli.competitors_cmd", "competitors", "Show the configured competitor list."),
    ("cli.service_cmd", None, ""),
    ("cli.parse_cmd", None, ""),
    ("cli.ops_cmd", None, ""),
    ("cli.demo_cmd", None, ""),
    ("cli.erase_cmd", None, ""),
]

for module_name, group, help_text in _GROUPS:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        continue
    if group is None:
        module.register(app)
    else:
        app.add_typer(module.app, name=group, help=help_text)


def run() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    run()
