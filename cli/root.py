"""The root command: ``--debug`` and the error boundary, light enough to import for ``--help``.

Nothing heavy (SQLAlchemy, pydantic, the product) is imported at module level here: a command
that fails imports what it needs to describe the error (:mod:`cli.common`) only then.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

_DEBUG = "feedback.debug"


def root_callback(
    ctx: typer.Context,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", envvar="FEEDBACK_DEBUG", help="Show the traceback of any error (FEEDBACK_DEBUG=1)."
        ),
    ] = False,
) -> None:
    """Options of the root command, before any group or command."""
    ctx.meta[_DEBUG] = debug


class FeedbackGroup(TyperGroup):
    """The root command's class: every error escaping a command becomes one line."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise  # already said what it had to say
        except Exception as exc:
            if ctx.meta.get(_DEBUG):
                raise
            from cli.common import _where, describe_error, print_error

            described = describe_error(exc)
            if described is None:
                print_error(
                    f"unexpected {type(exc).__name__}: {exc}{_where(exc)}",
                    hint="this is a bug: run again with `feedback --debug ...` for the traceback; report it",
                )
                raise typer.Exit(1) from None
            message, hint, code = described
            print_error(message, hint=hint)
            raise typer.Exit(code) from None
