"""CRM CSV import: reps, leads and deals from Salesforce, HubSpot or the generic form.

Reading and writing are apart: :func:`read_csv` turns bytes into rows with their CSV line
numbers (or refuses the file), and ``import_reps`` / ``import_leads`` / ``import_deals`` upsert
those rows in the caller's session without committing, so every good row lands in one
transaction and a dry run is just a rollback. Nothing here prints.

Headers are matched through alias tables (case, spaces, underscores and punctuation ignored), so
a new CRM's column name is one more string in a table rather than another ``if``.

Exceptions::

    ImportingError (ValueError)
     ├── FileRefused      the file as a whole cannot be imported; nothing was written
     ├── InvalidValue     one cell cannot be read (becomes a RowError with its line)
     ├── RepNotFound      no rep has that address (also a LookupError)
     └── AliasTaken       the address already belongs to another rep
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, SQLModel, col, select

from feedback.models import Deal, Lead, Rep, RepAlias, utcnow
from feedback.settings import DEFAULT_STAGES, Settings

Kind = Literal["reps", "leads", "deals"]
KINDS: tuple[Kind, ...] = ("reps", "leads", "deals")


class ImportingError(ValueError):
    """Base of every error this module raises on purpose."""


class FileRefused(ImportingError):
    """The file is not a CSV we can read (binary, empty, JSON, no known header)."""


class InvalidValue(ImportingError):
    """One cell cannot be read; the message says which value and what was expected."""


class RepNotFound(ImportingError, LookupError):
    """No rep with that address."""


class AliasTaken(ImportingError):
    """The address is already a rep's primary or alias address."""


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """A row (by the CSV line it starts on, header = line 1) and why it was refused or flagged."""

    line: int
    reason: str


@dataclass
class ImportResult:
    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)  # the row landed, with a caveat

    @property
    def landed(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def rows(self) -> int:
        return self.landed + len(self.errors)

    def summary(self) -> str:
        """One line for people: '12 created, 3 updated, 2 rows refused'."""
        parts = [f"{self.created} created", f"{self.updated} updated"]
        if self.unchanged:
            parts.append(f"{self.unchanged} unchanged")
        n = len(self.errors)
        parts.append(f"{n} row{'s' if n != 1 else ''} refused")
        if self.warnings:
            w = len(self.warnings)
            parts.append(f"{w} warning{'s' if w != 1 else ''}")
        return ", ".join(parts)


# --- reading CSV ---------------------------------------------------------------------------


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
    if b"\x00" in head:
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


# --- column alias tables -------------------------------------------------------------------
# field -> accepted headers, in priority order (the first non-empty one wins). Salesforce,
# HubSpot and the generic snake_case form side by side.

_OWNER_EMAIL = (
    "rep_email",
    "owner email",
    "lead owner email",
    "opportunity owner email",
    "contact owner email",
    "deal owner email",
    "hubspot owner email",
)
_CAMPAIGN = (
    "campaign",
    "campaign name",
    "primary campaign source",
    "first campaign",
    "original campaign",
    "latest campaign",
    "utm campaign",
)
_SOURCE = ("source", "lead source", "original source", "original source type", "latest source")
_SEGMENT = ("segment", "market segment", "customer segment", "lead segment")

REP_COLUMNS: dict[str, tuple[str, ...]] = {
    "email": ("email", "user email", "email address", "rep email"),
    "name": ("name", "full name", "rep name"),
    "first_name": ("first name",),
    "last_name": ("last name",),
    "team": ("team", "sales team", "team name", "role", "user role"),
    "manager": ("manager_email", "manager email", "manager", "manager name", "reports to"),
    "language": ("language", "locale", "language locale key"),
    "aliases": ("aliases", "alias emails", "alias addresses", "other emails", "additional emails"),
    "crm_id": ("user id", "crm_id", "record id", "owner id", "id"),
    "active": ("active", "is active"),
}

LEAD_COLUMNS: dict[str, tuple[str, ...]] = {
    "crm_id": ("id", "lead id", "record id", "contact id", "crm_id"),
    "name": ("name", "full name", "lead name", "contact name"),
    "first_name": ("first name",),
    "last_name": ("last name",),
    "email": ("email", "email address"),
    "title": ("title", "job title"),
    "company": ("company", "company name", "account name", "associated company"),
    "campaign": _CAMPAIGN,
    "source": _SOURCE,
    "segment": _SEGMENT,
    "rep_email": _OWNER_EMAIL,
    "rep": ("rep", "owner", "lead owner", "contact owner", "hubspot owner", "owner name"),
    "assigned_at": (
        "assigned_at",
        "assigned date",
        "owner assigned date",
        "lead assigned date",
        "assignment date",
        "created date",
        "create date",
        "created at",
    ),
}

DEAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "crm_id": ("id", "opportunity id", "deal id", "record id", "crm_id"),
    "name": ("name", "opportunity name", "deal name"),
    "company": ("company", "account name", "company name", "associated company", "account"),
    "amount": ("amount", "deal amount", "opportunity amount", "amount in company currency"),
    "currency": ("currency", "currency code", "opportunity currency", "deal currency code"),
    "stage": ("stage", "deal stage", "opportunity stage", "stage name"),
    "close_date": ("close_date", "close date", "closed date"),
    "rep_email": _OWNER_EMAIL,
    "rep": ("rep", "owner", "opportunity owner", "deal owner", "hubspot owner", "owner name"),
    "lead_id": (
        "lead_id",
        "lead id",
        "converted lead id",
        "converted from lead id",
        "associated contact ids",
        "associated contact id",
        "contact id",
    ),
    "campaign": _CAMPAIGN,
    "source": _SOURCE,
    "segment": _SEGMENT,
}

COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "reps": REP_COLUMNS,
    "leads": LEAD_COLUMNS,
    "deals": DEAL_COLUMNS,
}
_KEY_FIELD = {"reps": "email", "leads": "crm_id", "deals": "crm_id"}


def normalise_header(header: str) -> str:
    """'Lead Owner', 'lead_owner' and 'LEAD-OWNER:' all become 'leadowner'."""
    return re.sub(r"[^0-9a-z]", "", header.casefold())


def map_columns(headers: Iterable[str], kind: str) -> dict[str, list[str]]:
    """field -> the file's headers that feed it, in alias priority order."""
    by_norm: dict[str, str] = {}
    for h in headers:
        by_norm.setdefault(normalise_header(h), h)
    out: dict[str, list[str]] = {}
    for name, aliases in COLUMNS[kind].items():
        found = [by_norm[n] for n in dict.fromkeys(normalise_header(a) for a in aliases) if n in by_norm]
        if found:
            out[name] = found
    return out


class _Row:
    """One CSV row seen through the column map."""

    def __init__(self, values: Mapping[str, str], columns: Mapping[str, list[str]]) -> None:
        self._values = values
        self._columns = columns

    def has(self, name: str) -> bool:
        return name in self._columns

    def get(self, name: str) -> str:
        for header in self._columns.get(name, ()):
            value = self._values.get(header, "").strip()
            if value:
                return value
        return ""

    def opt(self, name: str) -> str | None:
        return self.get(name) or None


# --- cell parsers --------------------------------------------------------------------------

_EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")


def normalise_email(value: str) -> str:
    """Lower-cased address; refuses anything that is not one address."""
    email = value.strip().strip("<>").lower()
    if not _EMAIL.fullmatch(email):
        raise InvalidValue(f"{value!r} is not an email address")
    return email


def _name_key(value: str) -> str:
    return " ".join(value.casefold().split())


def map_stage(stage: str | None, stages: Mapping[str, str] | None = None) -> str:
    """CRM stage name -> won | lost | open, through settings.crm_stages (case-insensitive).

    Unmapped names containing the word "won" or "lost" ("Closed Won - Renewal") map to it; any
    other unmapped stage is still open.
    """
    if not stage or not stage.strip():
        return "open"
    table = {_name_key(k): v for k, v in (stages if stages is not None else DEFAULT_STAGES).items()}
    key = _name_key(stage)
    if key in table:
        return table[key]
    squashed = re.sub(r"[^0-9a-z]", "", key)
    for name, result in table.items():
        if re.sub(r"[^0-9a-z]", "", name) == squashed:
            return result
    words = set(re.split(r"[^0-9a-z]+", key))
    has_won = bool(words & {"won", "closedwon"})
    has_lost = bool(words & {"lost", "closedlost"})
    if has_won != has_lost:
        return "won" if has_won else "lost"
    return "open"


_TZ_SUFFIX = re.compile(r"\s*(?:\b(UTC|GMT|Z)|([+-]\d{2}):?(\d{2}))$", re.IGNORECASE)
_DATETIME_FORMATS = (
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%y",
    "%d/%m/%Y %H:%M",  # only reached when the day is > 12 (25/10/2026)
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%Y-%m-%d %I:%M %p",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d-%b-%Y",
    "%b %d %Y",
)


def _parse_any(value: str) -> datetime:
    text = " ".join(value.replace(",", " ").split())
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    zone: tzinfo | None = None
    match = _TZ_SUFFIX.search(text)
    if match and match.start() > 0:
        if match.group(1):
            zone = UTC
        else:
            sign = -1 if match.group(2).startswith("-") else 1
            hours, minutes = int(match.group(2)[1:]), int(match.group(3))
            zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
        text = text[: match.start()].strip()
        try:
            return datetime.fromisoformat(text).replace(tzinfo=zone)
        except ValueError:
            pass
    for fmt in _DATETIME_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=zone) if zone else parsed
    raise InvalidValue(f"{value!r} is not a date (use YYYY-MM-DD [HH:MM], M/D/YYYY [h:mm AM] or D.M.YYYY)")


def parse_datetime(value: str, *, tz: tzinfo) -> datetime:
    """A CRM timestamp as naive UTC; a value without a zone is read in ``tz``."""
    parsed = _parse_any(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC).replace(tzinfo=None)


def parse_date(value: str, *, tz: tzinfo) -> date:
    """A calendar date; a timestamp with a zone is first moved to ``tz`` (the business's day)."""
    parsed = _parse_any(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(tz)
    return parsed.date()


_CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}


def parse_amount(value: str) -> tuple[float | None, str | None]:
    """'$12,500.00', '12.500,00 €', '12500', 'EUR 9 900' -> (amount, currency code or None).

    A single separator followed by exactly three digits is a thousands separator when it is a
    comma ("12,500") and a decimal point when it is a dot ("12.500" = 12.5); with both present
    the last one is the decimal mark.
    """
    text = value.strip()
    if not text or text in {"-", "—", "n/a", "N/A"}:
        return None, None
    currency = next((code for sign, code in _CURRENCY_SIGNS.items() if sign in text), None)
    code = re.search(r"(?<![A-Za-z])([A-Za-z]{3})(?![A-Za-z])", text)
    if code:
        currency = code.group(1).upper()
    negative = text.startswith("-") or (text.startswith("(") and text.endswith(")"))
    digits = re.sub(r"[^0-9.,]", "", text)
    if not re.search(r"\d", digits):
        raise InvalidValue(f"{value!r} is not an amount")
    if "," in digits and "." in digits:
        decimal = "," if digits.rfind(",") > digits.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        digits = digits.replace(thousands, "").replace(decimal, ".")
    elif "," in digits:
        if re.fullmatch(r"\d{1,3}(,\d{3})+", digits):
            digits = digits.replace(",", "")
        else:
            digits = digits.replace(",", ".")
    elif digits.count(".") > 1 and re.fullmatch(r"\d{1,3}(\.\d{3})+", digits):
        digits = digits.replace(".", "")
    if not re.fullmatch(r"\d+(\.\d+)?|\.\d+", digits):
        raise InvalidValue(f"{value!r} is not an amount")
    amount = float(digits)
    return (-amount if negative else amount), currency


_LANGUAGES = {
    "english": "en",
    "german": "de",
    "deutsch": "de",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
}


def parse_language(value: str) -> str:
    """'en', 'en_US', 'de-DE', 'German' -> a two-letter code."""
    text = value.strip().casefold()
    if text in _LANGUAGES:
        return _LANGUAGES[text]
    match = re.fullmatch(r"([a-z]{2})(?:[-_][a-z0-9]+)*", text)
    if not match:
        raise InvalidValue(f"{value!r} is not a language (use a code such as en, de, fr, es)")
    return match.group(1)


def _parse_bool(value: str) -> bool:
    text = value.strip().casefold()
    if text in {"1", "true", "yes", "y", "active", "x"}:
        return True
    if text in {"0", "false", "no", "n", "inactive"}:
        return False
    raise InvalidValue(f"{value!r} is not true/false")


def _timezone(settings: Settings) -> tzinfo:
    try:
        return ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportingError(
            f"timezone {settings.timezone!r} is unknown (use a name such as Europe/Berlin)"
        ) from None


# --- reps ------------------------------------------------------------------------------------


class _RepIndex:
    """Every rep by address (primary and alias), by name and by CRM id, kept current as we go."""

    def __init__(self, session: Session) -> None:
        self.by_email: dict[str, Rep] = {}
        self.alias_owner: dict[str, int] = {}
        self.by_name: dict[str, list[Rep]] = {}
        self.by_crm_id: dict[str, Rep] = {}
        reps = session.exec(select(Rep)).all()
        by_id = {r.id: r for r in reps}
        for rep in reps:
            self.add(rep)
        for alias in session.exec(select(RepAlias)).all():
            self.alias_owner[alias.email] = alias.rep_id
            if alias.rep_id in by_id:
                self.by_email.setdefault(alias.email, by_id[alias.rep_id])

    def add(self, rep: Rep) -> None:
        self.by_email[rep.email] = rep
        if rep.name:
            bucket = self.by_name.setdefault(_name_key(rep.name), [])
            if rep not in bucket:
                bucket.append(rep)
        if rep.crm_id:
            self.by_crm_id[rep.crm_id] = rep

    def resolve(self, value: str) -> Rep:
        """An owner cell (email, else exact name, else CRM user id) -> the rep."""
        if "@" in value:
            rep = self.by_email.get(value.strip().strip("<>").lower())
            if rep is not None:
                return rep
            raise RepNotFound(f"owner {value!r} is not a known rep (import reps first)")
        matches = self.by_name.get(_name_key(value), [])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise RepNotFound(f"owner {value!r} matches {len(matches)} reps; use the owner's email")
        rep = self.by_crm_id.get(value.strip())
        if rep is not None:
            return rep
        raise RepNotFound(f"owner {value!r} is not a known rep (import reps first)")


def find_rep(*, session: Session, email: str) -> Rep:
    """The rep with this primary or alias address."""
    address = email.strip().lower()
    rep = session.exec(select(Rep).where(Rep.email == address)).first()
    if rep is None:
        alias = session.exec(select(RepAlias).where(RepAlias.email == address)).first()
        rep = session.get(Rep, alias.rep_id) if alias else None
    if rep is None:
        raise RepNotFound(f"no rep with the address {email!r}")
    return rep


def upsert_rep(
    *,
    session: Session,
    email: str,
    name: str | None = None,
    team: str | None = None,
    manager_email: str | None = None,
    language: str | None = None,
) -> tuple[Rep, bool]:
    """Create the rep or update the fields given (None = leave as is); reactivates. -> (rep, created)."""
    address = normalise_email(email)
    if session.exec(select(RepAlias).where(RepAlias.email == address)).first():
        raise AliasTaken(f"{address} is already an alias address of another rep")
    rep = session.exec(select(Rep).where(Rep.email == address)).first()
    created = rep is None
    if rep is None:
        rep = Rep(email=address)
    values: dict[str, object] = {"active": True}
    if name is not None:
        values["name"] = name.strip()
    if team is not None:
        values["team"] = team.strip() or None
    if manager_email is not None:
        values["manager_email"] = normalise_email(manager_email) if manager_email.strip() else None
    if language is not None:
        values["language"] = parse_language(language)
    if _apply(rep, values) or created:
        session.add(rep)
        session.flush()
    return rep, created


def add_rep_alias(*, session: Session, email: str, alias: str) -> bool:
    """Let the rep also reply from ``alias``. -> False when it already was their alias."""
    rep = find_rep(session=session, email=email)
    address = normalise_email(alias)
    if address == rep.email:
        raise AliasTaken(f"{address} is the rep's own address")
    if session.exec(select(Rep).where(Rep.email == address)).first():
        raise AliasTaken(f"{address} is another rep's address")
    existing = session.exec(select(RepAlias).where(RepAlias.email == address)).first()
    if existing is not None:
        if existing.rep_id == rep.id:
            return False
        raise AliasTaken(f"{address} is already an alias of another rep")
    assert rep.id is not None
    session.add(RepAlias(rep_id=rep.id, email=address))
    session.flush()
    return True


def deactivate_rep(*, session: Session, email: str) -> bool:
    """Stop asking this rep (history stays). -> False when already inactive."""
    rep = find_rep(session=session, email=email)
    if not rep.active:
        return False
    rep.active = False
    rep.updated_at = utcnow()
    session.add(rep)
    session.flush()
    return True


def import_reps(
    *,
    session: Session,
    rows: CsvTable | Iterable[Mapping[str, str]],
    settings: Settings | None = None,
    on_row: Callable[[], None] | None = None,
) -> ImportResult:
    """Upsert reps by email (lower-cased); aliases in the file are added, never removed."""
    table = _as_table(rows)
    columns = _checked_columns(table, "reps")
    result = ImportResult(kind="reps")
    index = _RepIndex(session)
    # managers may be named rather than addressed, and may appear later in the file
    file_names: dict[str, str] = {}
    for raw in table.rows:
        row = _Row(raw.values, columns)
        name = row.get("name") or " ".join(p for p in (row.get("first_name"), row.get("last_name")) if p)
        if name and "@" in row.get("email"):
            file_names.setdefault(_name_key(name), row.get("email").lower())

    for raw in table.rows:
        try:
            if raw.problem:
                raise InvalidValue(raw.problem)
            _import_rep_row(session, _Row(raw.values, columns), index, file_names, result, raw.line)
        except ImportingError as exc:
            result.errors.append(RowError(raw.line, str(exc)))
        if on_row:
            on_row()
    return result


def _import_rep_row(
    session: Session,
    row: _Row,
    index: _RepIndex,
    file_names: Mapping[str, str],
    result: ImportResult,
    line: int,
) -> None:
    if not row.get("email"):
        raise InvalidValue("no email address")
    email = normalise_email(row.get("email"))
    if email in index.alias_owner:
        raise AliasTaken(f"{email} is already an alias address of another rep")
    values: dict[str, object] = {}
    if row.has("name") or row.has("first_name") or row.has("last_name"):
        name = row.get("name") or " ".join(p for p in (row.get("first_name"), row.get("last_name")) if p)
        if name:
            values["name"] = name
    if row.has("team"):
        values["team"] = row.opt("team")
    if row.has("manager"):
        manager = row.get("manager")
        if not manager:
            values["manager_email"] = None
        elif "@" in manager:
            values["manager_email"] = normalise_email(manager)
        else:
            found = file_names.get(_name_key(manager))
            if found is None:
                matches = index.by_name.get(_name_key(manager), [])
                if len(matches) != 1:
                    raise InvalidValue(f"manager {manager!r} is not a known rep: give the manager's email")
                found = matches[0].email
            values["manager_email"] = found
        if values["manager_email"] == email:
            raise InvalidValue("a rep cannot be their own manager")
    if row.has("language") and row.get("language"):
        values["language"] = parse_language(row.get("language"))
    if row.has("crm_id") and row.get("crm_id"):
        values["crm_id"] = row.get("crm_id")
    if row.has("active") and row.get("active"):
        values["active"] = _parse_bool(row.get("active"))

    aliases: list[str] = []
    for part in re.split(r"[;,\s]+", row.get("aliases")):
        if not part:
            continue
        alias = normalise_email(part)
        if alias == email or alias in aliases:
            continue
        owner = index.by_email.get(alias)
        if owner is not None and owner.email != email:
            raise AliasTaken(f"alias {alias} already belongs to {owner.email}")
        aliases.append(alias)

    rep = index.by_email.get(email)  # a primary address: aliases were refused above
    created = rep is None
    if rep is None:
        rep = Rep(email=email)
    changed = _apply(rep, values)
    if created or changed:
        session.add(rep)
        session.flush()
    assert rep.id is not None
    for alias in aliases:
        if index.alias_owner.get(alias) != rep.id:
            session.add(RepAlias(rep_id=rep.id, email=alias))
            index.alias_owner[alias] = rep.id
            index.by_email[alias] = rep
            changed = True
    index.add(rep)
    _count(result, created=created, changed=changed)


# --- leads -----------------------------------------------------------------------------------


def import_leads(
    *,
    session: Session,
    rows: CsvTable | Iterable[Mapping[str, str]],
    settings: Settings | None = None,
    on_row: Callable[[], None] | None = None,
) -> ImportResult:
    """Upsert leads by CRM id. The owner column may hold a rep's email or exact name."""
    settings = settings or Settings()
    tz = _timezone(settings)
    table = _as_table(rows)
    columns = _checked_columns(table, "leads")
    result = ImportResult(kind="leads")
    index = _RepIndex(session)
    existing = _existing(session, Lead, table, columns)

    def values_of(row: _Row, line: int) -> dict[str, object]:
        values = _attribution(row)
        if row.has("name") or row.has("first_name") or row.has("last_name"):
            values["name"] = row.get("name") or " ".join(
                p for p in (row.get("first_name"), row.get("last_name")) if p
            )
        if row.has("email"):
            values["email"] = row.get("email").lower() or None
        for name in ("title", "company"):
            if row.has(name):
                values[name] = row.opt(name)
        owner = _owner(row, index)
        if owner is not None:
            values["rep_id"] = owner.id
        elif row.has("rep") or row.has("rep_email"):
            values["rep_id"] = None
        if row.has("assigned_at"):
            value = row.get("assigned_at")
            values["assigned_at"] = parse_datetime(value, tz=tz) if value else None
        return values

    _upsert_by_crm_id(session, table, columns, Lead, existing, result, values_of, on_row=on_row)
    return result


# --- deals -----------------------------------------------------------------------------------


def import_deals(
    *,
    session: Session,
    rows: CsvTable | Iterable[Mapping[str, str]],
    settings: Settings | None = None,
    on_row: Callable[[], None] | None = None,
) -> ImportResult:
    """Upsert deals by CRM id; won/lost from the stage, and attribution from the lead they came from.

    The lead (by its CRM id) gives the deal its campaign, source, segment and, failing an owner
    column, its rep, wherever the deal's own cell is empty, so the funnel runs lead -> won.
    """
    settings = settings or Settings()
    tz = _timezone(settings)
    table = _as_table(rows)
    columns = _checked_columns(table, "deals")
    result = ImportResult(kind="deals")
    index = _RepIndex(session)
    existing = _existing(session, Deal, table, columns)
    lead_ids = {
        part
        for raw in table.rows
        for part in re.split(r"[;,\s]+", _Row(raw.values, columns).get("lead_id"))
        if part
    }
    leads = {lead.crm_id: lead for lead in _in_chunks(session, Lead, sorted(lead_ids))}

    def values_of(row: _Row, line: int) -> dict[str, object]:
        values = _attribution(row)
        for name in ("name", "company"):
            if row.has(name):
                values[name] = row.get(name) if name == "name" else row.opt(name)
        if row.has("amount"):
            amount, currency = parse_amount(row.get("amount"))
            values["amount"] = amount
            if currency and not row.get("currency"):
                values["currency"] = currency
        if row.get("currency"):
            values["currency"] = row.get("currency").upper()
        if row.has("stage"):
            values["stage"] = row.opt("stage")
            values["result"] = map_stage(row.get("stage"), settings.crm_stages)
        if row.has("close_date"):
            value = row.get("close_date")
            values["close_date"] = parse_date(value, tz=tz) if value else None
        owner = _owner(row, index)
        if owner is not None:
            values["rep_id"] = owner.id

        lead: Lead | None = None
        if row.has("lead_id"):
            wanted = [p for p in re.split(r"[;,\s]+", row.get("lead_id")) if p]
            lead = next((leads[p] for p in wanted if p in leads), None)
            values["lead_id"] = lead.id if lead else None
            if wanted and lead is None:
                result.warnings.append(
                    RowError(
                        line,
                        f"lead {', '.join(wanted)} not found: deal imported without its lead "
                        "(import leads first)",
                    )
                )
        if lead is not None:
            for name in ("campaign", "source", "segment", "company"):
                if not values.get(name) and getattr(lead, name):
                    values[name] = getattr(lead, name)
            if owner is None and lead.rep_id is not None:
                values["rep_id"] = lead.rep_id
        return values

    _upsert_by_crm_id(session, table, columns, Deal, existing, result, values_of, on_row=on_row)
    return result


def _upsert_by_crm_id(
    session: Session,
    table: CsvTable,
    columns: Mapping[str, list[str]],
    model: type[_M],
    existing: dict[str, _M],
    result: ImportResult,
    values_of: Callable[[_Row, int], dict[str, object]],
    *,
    on_row: Callable[[], None] | None,
) -> None:
    """The row loop leads and deals share: read each row's values, then create or update by CRM id.

    A row that cannot be read is reported with its line and skipped; the rest go on.
    """
    noun = model.__tablename__
    for raw in table.rows:
        try:
            if raw.problem:
                raise InvalidValue(raw.problem)
            row = _Row(raw.values, columns)
            crm_id = row.get("crm_id")
            if not crm_id:
                raise InvalidValue(f"no {noun} id")
            values = values_of(row, raw.line)
            item = existing.get(crm_id)
            created = item is None
            if item is None:
                item = existing[crm_id] = model(crm_id=crm_id)
            changed = _apply(item, values)
            if created or changed:
                session.add(item)
            _count(result, created=created, changed=changed)
        except ImportingError as exc:
            result.errors.append(RowError(raw.line, str(exc)))
        if on_row:
            on_row()
    session.flush()


# --- one entry point for the CLI and the demo ------------------------------------------------

_IMPORTERS: dict[str, Callable[..., ImportResult]] = {
    "reps": import_reps,
    "leads": import_leads,
    "deals": import_deals,
}


def import_file(
    *,
    session: Session,
    kind: str,
    path: Path,
    settings: Settings | None = None,
    on_row: Callable[[], None] | None = None,
) -> ImportResult:
    """Read ``path`` and import it as ``kind`` (reps | leads | deals); raises FileRefused."""
    if kind not in _IMPORTERS:
        raise ImportingError(f"unknown import kind {kind!r}: use one of {', '.join(KINDS)}")
    table = read_csv_file(path)
    return _IMPORTERS[kind](session=session, rows=table, settings=settings, on_row=on_row)


# --- helpers ---------------------------------------------------------------------------------


def _as_table(rows: CsvTable | Iterable[Mapping[str, str]]) -> CsvTable:
    """Accept read_csv's table or plain dicts (e.g. from csv.DictReader; lines counted from 2)."""
    if isinstance(rows, CsvTable):
        return rows
    listed = [CsvRow(line=i, values=dict(r)) for i, r in enumerate(rows, start=2)]
    headers = list(dict.fromkeys(h for r in listed for h in r.values))
    return CsvTable(headers=headers, rows=listed)


def _checked_columns(table: CsvTable, kind: str) -> dict[str, list[str]]:
    columns = map_columns(table.headers, kind)
    key = _KEY_FIELD[kind]
    if key not in columns:
        accepted = ", ".join(f'"{a}"' for a in COLUMNS[kind][key][:4])
        shown = ", ".join(table.headers[:6]) + (" ..." if len(table.headers) > 6 else "")
        raise FileRefused(
            f"no recognisable {kind} header: need a column such as {accepted}; the first line has: {shown}"
        )
    return columns


_M = TypeVar("_M", Lead, Deal)


def _existing(
    session: Session, model: type[_M], table: CsvTable, columns: Mapping[str, list[str]]
) -> dict[str, _M]:
    ids = sorted({_Row(r.values, columns).get("crm_id") for r in table.rows} - {""})
    return {obj.crm_id: obj for obj in _in_chunks(session, model, ids)}


def _in_chunks(session: Session, model: type[_M], ids: Sequence[str]) -> list[_M]:
    found: list[_M] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.extend(session.exec(select(model).where(col(model.crm_id).in_(chunk))).all())
    return found


def _attribution(row: _Row) -> dict[str, object]:
    return {name: row.opt(name) for name in ("campaign", "source", "segment") if row.has(name)}


def _owner(row: _Row, index: _RepIndex) -> Rep | None:
    """Owner email first, then the owner column (email, exact name, or CRM user id)."""
    candidates = [v for v in (row.get("rep_email"), row.get("rep")) if v]
    if not candidates:
        return None
    problem: RepNotFound | None = None
    for value in candidates:
        try:
            return index.resolve(value)
        except RepNotFound as exc:
            problem = problem or exc
    assert problem is not None
    raise problem


def _apply(obj: SQLModel, values: Mapping[str, object]) -> bool:
    """Set changed fields only, so re-importing the same file reports rows as unchanged."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    if changed and hasattr(obj, "updated_at"):
        obj.updated_at = utcnow()
    return changed


def _count(result: ImportResult, *, created: bool, changed: bool) -> None:
    if created:
        result.created += 1
    elif changed:
        result.updated += 1
    else:
        result.unchanged += 1
