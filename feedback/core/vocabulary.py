"""Names the command line offers as choices, in a module that imports nothing.

The CLI builds its options (and their ``--help``) from these before it knows whether the
command will run, so they live apart from the modules that use them: importing the reports or
the template renderer costs the database layer and Jinja2, which ``feedback … --help`` must not
pay. Those modules re-export the names from here, so each list has one definition.
"""

from __future__ import annotations

from enum import StrEnum

DATE_BY = {
    "sent": "the request's send",
    "answered": "the answer",
    "created": "the lead's creation",
    "closed": "the deal's close",
}
"""What ``--date-by`` may date a request by (``--since``/``--until``, weeks and months), and how
to say it. ``sent`` is the default: it is the only date every request has."""

TEMPLATE_NAMES = (
    "disposition_request",
    "winloss_request",
    "reminder",
    "escalation",
    "clarification",
    "expired",
    "acknowledgement",
    "digest",
)
"""The mails an admin can change (``feedback templates``)."""

LANGUAGES = ("en", "de", "fr", "es")
"""Languages with shipped templates; any other code falls back to English."""

IMPORT_KINDS = ("reps", "leads", "deals")
"""What ``feedback import`` reads."""


class OutputFormat(StrEnum):
    """What every listing and report prints as (``--format``)."""

    table = "table"
    csv = "csv"
    json = "json"
    md = "md"
    html = "html"
