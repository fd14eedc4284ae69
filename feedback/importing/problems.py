"""What an import can refuse, and what it reports: the errors and the result the CLI prints."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


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


@dataclass(frozen=True)
class RowError:
    """A row (by the CSV line it starts on, header = line 1) and why it was refused or flagged."""

    line: int
    reason: str


# why an imported lead or deal can never be asked about
NO_OWNER = "no owner"
OWNER_UNKNOWN = "owner is not a known rep"
OWNER_AMBIGUOUS = "owner's name matches several reps"
REP_INACTIVE = "owner is a deactivated rep"


@dataclass(frozen=True)
class Unaskable:
    """A row that landed but whose lead or deal no request can ever be sent about (yet)."""

    line: int
    reason: str  # one of NO_OWNER, OWNER_UNKNOWN, OWNER_AMBIGUOUS, REP_INACTIVE
    owner: str = ""  # the owner cell as written, when there was one


@dataclass(frozen=True)
class Duplicate:
    """An id (an email for reps) on more than one row of the file; the last row's values stand."""

    key: str
    lines: tuple[int, ...]


@dataclass
class ImportResult:
    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)  # the row landed, with a caveat
    columns: list[tuple[str, str]] = field(default_factory=list)  # (header, field) read, file order
    ignored: list[str] = field(default_factory=list)  # headers no field reads
    unaskable: list[Unaskable] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)  # reps this import made inactive

    def unaskable_groups(self) -> list[tuple[str, list[str], list[int]]]:
        """[(reason, owner cells as written, lines)] in a fixed reason order, for the report."""
        order = (NO_OWNER, OWNER_UNKNOWN, OWNER_AMBIGUOUS, REP_INACTIVE)
        groups: list[tuple[str, list[str], list[int]]] = []
        for reason in order:
            rows = [u for u in self.unaskable if u.reason == reason]
            if rows:
                owners = list(dict.fromkeys(u.owner for u in rows if u.owner))
                groups.append((reason, owners, sorted(u.line for u in rows)))
        return groups

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
        if self.unaskable:
            parts.append(f"{len(self.unaskable)} never to be asked about")
        if self.duplicates:
            d = len(self.duplicates)
            parts.append(f"{d} duplicate id{'s' if d != 1 else ''}")
        return ", ".join(parts)


def line_ranges(lines: Iterable[int], *, limit: int | None = None) -> str:
    """[2, 3, 4, 7, 9, 10] -> '2-4, 7, 9-10'; with ``limit``, at most that many pieces and '…'."""
    pieces: list[str] = []
    start = end = None
    for n in sorted(set(lines)):
        if end is not None and n == end + 1:
            end = n
            continue
        if start is not None:
            pieces.append(f"{start}-{end}" if end != start else str(start))
        start = end = n
    if start is not None:
        pieces.append(f"{start}-{end}" if end != start else str(start))
    if limit is not None and len(pieces) > limit:
        return ", ".join(pieces[:limit]) + f", … ({len(pieces) - limit} more)"
    return ", ".join(pieces)
