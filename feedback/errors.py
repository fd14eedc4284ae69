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
     └── EmbeddedRedisError  (redis_embedded)  the embedded Redis cannot start             exit 1

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
