"""The one CSV writer of every report and listing, safe to open in a spreadsheet.

Cells come from people outside the company's control: reply text, rep names, teams, campaign
and company names from the CRM. A cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or
carriage return, which some spreadsheets skip before reading one of those) is run as a formula
by Excel, LibreOffice and Google Sheets when the CSV is opened: ``=HYPERLINK(...)`` leaks the
sheet, ``=cmd|...`` ran programs. The OWASP rule: prefix such a cell with a single quote, which
the spreadsheet shows as text and does not run.

Only text is neutralised. Numbers written as numbers (amounts, counts, a negative percentage)
stay numbers, and so does text that is exactly a number (``-12.5``, ``+3``): a spreadsheet reads
it as that number, never as a formula. ``raw=True`` (the CLI's ``--raw-csv``) writes cells as they
are, for programs that read the CSV rather than people (a CRM import that must round-trip).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?\Z")


def neutralise(value: Any) -> Any:
    """``value`` as a spreadsheet-safe cell: text that would run as a formula gets a leading ``'``."""
    if value is None or isinstance(value, bool | int | float | Decimal | date | datetime):
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


class CsvWriter:
    """``csv.writer`` with every cell passed through :func:`neutralise` unless ``raw``."""

    def __init__(self, stream: IO[str], *, raw: bool = False, lineterminator: str = "\n") -> None:
        self._writer = csv.writer(stream, lineterminator=lineterminator)
        # Python's csv quotes a cell with a line break only for the characters of the line
        # terminator: with "\n", a lone CR is written bare and splits the row in every reader
        self._quote_all = csv.writer(stream, lineterminator=lineterminator, quoting=csv.QUOTE_ALL)
        self.raw = raw

    def writerow(self, row: Iterable[Any]) -> None:
        cells = list(row) if self.raw else [neutralise(v) for v in row]
        bare_cr = any(isinstance(v, str) and "\r" in v for v in cells)
        (self._quote_all if bare_cr else self._writer).writerow(cells)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def write_dicts(
    stream: IO[str],
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    raw: bool = False,
    lineterminator: str = "\r\n",
) -> None:
    """A header of ``columns`` then one line per row (keys outside ``columns`` are ignored)."""
    writer = CsvWriter(stream, raw=raw, lineterminator=lineterminator)
    writer.writerow(columns)
    writer.writerows([row.get(c, "") for c in columns] for row in rows)
