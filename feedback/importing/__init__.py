"""CRM CSV import: reps, leads and deals from Salesforce, HubSpot, Pipedrive, Dynamics 365 or
the generic form.

Reading and writing are apart: :func:`read_csv` turns bytes into rows with their CSV line
numbers (or refuses the file), and ``import_reps`` / ``import_leads`` / ``import_deals`` upsert
those rows in the caller's session without committing, so every good row lands in one
transaction and a dry run is just a rollback. Nothing here prints: the :class:`ImportResult`
says which header fed which field, which headers were ignored, which rows can never be asked
about (no owner, an owner who is no rep, an ambiguous name, a deactivated rep), which ids repeat,
and the CLI prints it. Every imported or typed field refuses control characters and line breaks.

Headers are matched through alias tables (case, spaces, underscores and punctuation ignored), so
a new CRM's column name is one more string in a table rather than another ``if``.

One module a job: ``csvfile`` (bytes to rows), ``columns`` (headers to fields), ``cells`` (one
value: dates, amounts, stages, addresses), ``records`` (rows to reps, leads and deals), ``errors``.

Exceptions::

    ImportingError (ValueError)
     ├── FileRefused      the file as a whole cannot be imported; nothing was written
     ├── InvalidValue     one cell cannot be read (becomes a RowError with its line)
     ├── RepNotFound      no rep has that address (also a LookupError)
     └── AliasTaken       the address already belongs to another rep
"""

from feedback.importing.cells import (
    check_text,
    control_character,
    map_stage,
    normalise_email,
    parse_amount,
    parse_currency,
    parse_date,
    parse_datetime,
    parse_language,
    printable,
)
from feedback.importing.columns import COLUMNS, map_columns, normalise_header
from feedback.importing.csvfile import CsvRow, CsvTable, read_csv, read_csv_file
from feedback.importing.problems import (
    NO_OWNER,
    OWNER_AMBIGUOUS,
    OWNER_UNKNOWN,
    REP_INACTIVE,
    AliasTaken,
    Duplicate,
    FileRefused,
    ImportingError,
    ImportResult,
    InvalidValue,
    RepNotFound,
    RowError,
    Unaskable,
    line_ranges,
)
from feedback.importing.records import (
    KINDS,
    add_rep_alias,
    deactivate_rep,
    find_rep,
    import_deals,
    import_file,
    import_leads,
    import_reps,
    remove_rep_alias,
    upsert_rep,
)

__all__ = [
    "COLUMNS",
    "KINDS",
    "NO_OWNER",
    "OWNER_AMBIGUOUS",
    "OWNER_UNKNOWN",
    "REP_INACTIVE",
    "AliasTaken",
    "CsvRow",
    "CsvTable",
    "Duplicate",
    "FileRefused",
    "ImportResult",
    "ImportingError",
    "InvalidValue",
    "RepNotFound",
    "RowError",
    "Unaskable",
    "add_rep_alias",
    "check_text",
    "control_character",
    "deactivate_rep",
    "find_rep",
    "import_deals",
    "import_file",
    "import_leads",
    "import_reps",
    "line_ranges",
    "map_columns",
    "map_stage",
    "normalise_email",
    "normalise_header",
    "parse_amount",
    "parse_currency",
    "parse_date",
    "parse_datetime",
    "parse_language",
    "printable",
    "read_csv",
    "read_csv_file",
    "remove_rep_alias",
    "upsert_rep",
]
