"""``feedback``: closed-loop lead-disposition and win/loss feedback by email.

Every command and group is listed here with its one-line help, and its module is imported only
when it runs (or its own ``--help`` is asked for): ``feedback --help`` loads Typer and nothing of
the product. The table is the registration: a module that fails to import fails loudly when its
command is used, and ``tests/test_cli_startup.py`` imports every one of them.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer

from cli.root import FeedbackGroup, root_callback

# top-level commands: name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("cli.service_cmd", "Run the SMTP ingest and a worker (embedded SQLite and Redis by default)."),
    "worker": ("cli.service_cmd", "Run a worker only (parse, classify, follow-up crons)."),
    "send": ("cli.service_cmd", "Send the due requests, plus reminders, escalations and clarifications."),
    "parse": ("cli.parse_cmd", "Parse .eml files offline and print what the worker would read."),
    "status": ("cli.ops_cmd", "Messages and requests by state, the queue and the settings' health."),
    "requeue": ("cli.ops_cmd", "Put failed messages back in the queue (after a fix)."),
    "purge": ("cli.ops_cmd", "Delete raw messages older than N days (retention)."),
    "demo": ("cli.demo_cmd", "Replay eight weeks of the loop on the embedded default."),
    "erase": ("cli.erase_cmd", "Erase a person's personal data everywhere, keeping the figures."),
}
# command groups: name -> (module, one-line help); each module has a Typer ``app``
GROUPS: dict[str, tuple[str, str]] = {
    "db": ("cli.db_cmd", "Database migrations."),
    "import": ("cli.import_cmd", "Import reps, leads and deals from CRM CSV exports."),
    "report": ("cli.report_cmd", "Feedback reports for marketing."),
    "review": ("cli.review_cmd", "The human review queue: doubtful answers, quarantined and unmatched mail."),
    "answers": ("cli.answers_cmd", "Every stored answer: list, show, correct, and its history."),
    "requests": ("cli.requests_cmd", "See single requests and act on them: resend, cancel, reassign."),
    "templates": ("cli.templates_cmd", "Show, edit and test the email templates."),
    "taxonomy": ("cli.taxonomy_cmd", "Show and validate the reason taxonomy."),
    "reps": ("cli.reps_cmd", "List and edit reps, their managers and alias addresses."),
    "competitors": ("cli.competitors_cmd", "Show the configured competitor list."),
    "model": ("cli.model_cmd", "The trained classifier beside the rules: train, list, show, activate."),
}


def load_command(name: str) -> Any:
    """The click command behind ``name``, its module imported now (an import error is loud)."""
    if name in GROUPS:
        module_name, help_text = GROUPS[name]
        sub: typer.Typer = importlib.import_module(module_name).app
        command = typer.main.get_command(sub)
        command.name, command.help = name, command.help or help_text
        return command
    module_name, _ = COMMANDS[name]
    holder = typer.Typer()
    holder.callback()(lambda: None)  # a group, even when the module registers one command
    importlib.import_module(module_name).register(holder)
    group: Any = typer.main.get_command(holder)
    return group.get_command(None, name)


class LazyGroup(FeedbackGroup):
    """The root group: lists the table, imports a command's module only to run it."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *GROUPS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS and cmd_name not in GROUPS:
            return None
        return load_command(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, text) for name, (_, text) in {**COMMANDS, **GROUPS}.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # plain click help: typer's rich help would ask every command for its short help
        self.format_usage(ctx, formatter)
        self.format_help_text(ctx, formatter)
        self.format_options(ctx, formatter)  # a group's options end with its commands


app = typer.Typer(
    name="feedback",
    cls=LazyGroup,  # errors become one line (cli/root.py); commands load on use
    callback=root_callback,  # --debug
    help=(
        "Closed-loop sales feedback by email: ask reps what happened to each lead and why each "
        "deal was won or lost, read their replies, and report back to marketing."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)


def run() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    run()
