"""The project's user-facing errors: one base, so every edge turns any of them into one line.

A ``FeedbackError`` is a problem the person running the product can fix: its text says what was
wrong, ``hint`` what to do, ``exit_code`` how a command ends (2: the input or the configuration
is wrong, as for a usage error; 1: the command ran into something outside it). The CLI prints
``error: <text> — <hint>`` and exits; anything else that escapes a command is a bug and keeps
its traceback (behind ``--debug``).

::

    FeedbackError
     ├── ConfigError         (settings)        a setting that cannot work, one line each   exit 2
     ├── MigrationError      (db)              an unknown or unreachable revision          exit 2
     ├── OutputPathError     (errors)          --output names a folder or a missing one    exit 2
     ├── OutboxError         (outbound)        the local outbox cannot be created          exit 1
     ├── EmbeddedRedisError  (redis_embedded)  the embedded Redis cannot start             exit 1
     ├── TransientError      an outage: the same work succeeds later (jobs retry, SMTP 451)
     │    ├── StoreUnavailable  (store)        the database cannot commit a message
     │    └── MailNotSent       (delivery)     the relay refused or was unreachable
     └── PermanentError      the work itself cannot succeed: retrying ends the same way
          └── StoreRefused      (store)        the database refuses this message's data (554)

``is_transient`` sorts any exception into the two branches (a database connection fault is
transient; an integrity or data error is a bug or bad data, permanent), so a job retries
outages only and a poison message ends ``failed`` instead of looping.

The CLI treats FilterError, ImportingError, TaxonomyError and TemplateError (bad input, exit 2)
the same way; their modules may derive them from ``FeedbackError`` to join the tree. An
``OSError`` about a path (missing, a folder, no permission) also becomes one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar


class FeedbackError(Exception):
    """A problem the user can act on; ``str()`` says what, ``hint`` says what to do."""

    exit_code: ClassVar[int] = 1

    def __init__(self, *args: object, hint: str | None = None) -> None:
        super().__init__(*args)
        self.hint = hint


class OutputPathError(FeedbackError):
    """An output file that cannot be written where it was asked for."""

    exit_code = 2


def check_output_path(path: Path) -> None:
    """Refuse an output path that names a folder or lies in a folder that does not exist.

    Checked before the work starts, so an hour-long report does not end in a traceback; the
    folder is not created, because a typo in it should not silently scatter files.
    """
    if path.is_dir():
        raise OutputPathError(
            f"{path} is a folder, not a file", hint=f"give a file name, e.g. --output {path / 'report.html'}"
        )
    parent = path.parent
    if not parent.exists():
        raise OutputPathError(
            f"the folder {parent} does not exist",
            hint=f"create it first (mkdir -p {parent}) or choose another --output",
        )
    if not parent.is_dir():
        raise OutputPathError(f"{parent} is a file, not a folder", hint="choose another --output")


class TransientError(FeedbackError):
    """An outage (database, queue, relay, network): the same work succeeds later."""


class PermanentError(FeedbackError):
    """The work itself cannot succeed (bad data, a bug): retrying ends the same way."""


def is_transient(exc: BaseException) -> bool:
    """Whether retrying ``exc``'s work later can succeed: outages yes, data and bugs no."""
    if isinstance(exc, TransientError):
        return True
    if isinstance(exc, PermanentError):
        return False
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, sa_exc.DataError | sa_exc.IntegrityError | sa_exc.ProgrammingError):
        return False  # the rows or the SQL are wrong: an outage does not look like this
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True  # connection lost, server gone, pool exhausted, database locked
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, ConnectionError | TimeoutError)
