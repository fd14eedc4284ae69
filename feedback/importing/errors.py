"""What an import can refuse, and what it reports: the errors and the result counts."""

from __future__ import annotations

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
