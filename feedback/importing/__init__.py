"""CRM CSV import: reps, leads and deals from Salesforce, HubSpot or the generic form.

Reading and writing are apart: :func:`read_csv` turns bytes into rows with their CSV line
numbers (or refuses the file), and ``import_reps`` / ``import_leads`` / ``import_deals`` upsert
those rows in the caller's session without committing, so every good row lands in one
transaction and a dry run is just a rollback. Nothing here prints.

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
    map_stage,
    normalise_email,
    parse_amount,
    parse_date,
    parse_datetime,
    parse_language,
)
from feedback.importing.columns import COLUMNS, map_columns, normalise_header
from feedback.importing.csvfile import CsvRow, CsvTable, read_csv, read_csv_file
from feedback.importing.errors import (
    AliasTaken,
    FileRefused,
    ImportingError,
    ImportResult,
    InvalidValue,
    RepNotFound,
    RowError,
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
    upsert_rep,
)

__all__ = [
    "COLUMNS",
    "KINDS",
    "AliasTaken",
    "CsvRow",
    "CsvTable",
    "FileRefused",
    "ImportResult",
    "ImportingError",
    "InvalidValue",
    "RepNotFound",
    "RowError",
    "add_rep_alias",
    "deactivate_rep",
    "find_rep",
    "import_deals",
    "import_file",
    "import_leads",
    "import_reps",
    "map_columns",
    "map_stage",
    "normalise_email",
    "normalise_header",
    "parse_amount",
    "parse_date",
    "parse_datetime",
    "parse_language",
    "read_csv",
    "read_csv_file",
    "upsert_rep",
]
