"""Reading a CRM export: bytes to rows with their CSV line numbers, or a refusal that says why."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from feedback.importing.problems import FileRefused


@dataclass(frozen=True)
class CsvRow:
    line: int  # physical line the row starts on (header = 1)
    values: Mapping[str, str]  # header as written -> cell
    problem: str | None = None  # set when the row's shape is wrong (too many cells)


@dataclass(frozen=True)
class CsvTable:
    headers: list[str]
    rows: list[CsvRow]
    encoding: str = "utf-8"
    delimiter: str = ","


_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or an Excel .xlsx workbook (save it as CSV first)"),
    (b"\xd0\xcf\x11\xe0", "an old Office file such as .xls (save it as CSV first)"),
    (b"\x1f\x8b", "a gzip archive"),
)
_DELIMITERS = (",", ";", "\t", "|")


def read_csv_file(path: Path) -> CsvTable:
    """Read a CSV export from disk; see :func:`read_csv`."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise FileRefused(f"{path} is a directory, not a CSV file") from None
    except OSError as exc:
        raise FileRefused(f"cannot read {path}: {exc.strerror or exc}") from None
    return read_csv(data)


def read_csv(data: bytes) -> CsvTable:
    """Decode and split a CSV export, keeping each row's starting line for error messages.

    Encoding: UTF-8 (with or without BOM), UTF-16 with BOM (Excel "Unicode text"), else cp1252.
    Delimiter: ``,`` ``;`` tab or ``|``, whichever splits the header into most columns (an
    Excel ``sep=;`` first line wins).
    """
    text, encoding = _decode(data)
    stripped = text.lstrip()
    if not stripped:
        raise FileRefused("the file is empty")
    if stripped[0] in "[{":
        try:
            json.loads(stripped)
        except ValueError:
            pass
        else:
            raise FileRefused("the file is JSON, not CSV: export the CRM report as CSV")
    if stripped[0] == "<":
        raise FileRefused("the file is HTML or XML, not CSV: export the CRM report as CSV")

    offset = 0
    delimiter = ""
    first, _, rest = text.partition("\n")
    match = re.fullmatch(r"\s*sep=(.)\s*", first)
    if match:  # Excel's delimiter hint line
        delimiter, text, offset = match.group(1), rest, 1
        first = text.partition("\n")[0]
    if not delimiter:
        delimiter = max(_DELIMITERS, key=lambda d: len(next(csv.reader([first], delimiter=d), [])))

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise FileRefused("the file has no header row")
        headers = _unique_headers(header)
        rows: list[CsvRow] = []
        previous = reader.line_num
        for cells in reader:
            start, previous = previous + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            problem = None
            if len(cells) > len(headers) and any(c.strip() for c in cells[len(headers) :]):
                problem = (
                    f"{len(cells)} cells but the header has {len(headers)} columns "
                    "(an unquoted delimiter inside a value?)"
                )
            values = {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(headers)}
            rows.append(CsvRow(line=start + offset, values=values, problem=problem))
    except csv.Error as exc:
        raise FileRefused(f"line {reader.line_num + offset}: not readable as CSV ({exc})") from None
    return CsvTable(headers=headers, rows=rows, encoding=encoding, delimiter=delimiter)


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise FileRefused("the file claims UTF-16 but is not valid UTF-16") from None
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise FileRefused(f"the file is {what}, not CSV")
    head = data[:8192]
    # many NULs mean binary (or UTF-16 without its BOM); a stray one is a bad cell, refused with
    # its line like any other control character
    if head.count(b"\x00") > max(8, len(head) // 100):
        raise FileRefused("the file is binary, not CSV")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text, encoding = data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "latin-1"
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\r\n\t")
    if controls > max(8, len(text[:8192]) // 100):
        raise FileRefused("the file is binary, not CSV")
    return text, encoding


def _unique_headers(header: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out: list[str] = []
    for raw in header:
        name = raw.strip().lstrip("\ufeff").strip()
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out
