"""What a report is, independent of how it is printed: a title and sections of typed rows.

Keeping the shape format-free lets one query feed the terminal table, the CSV export back to the
CRM, JSON for tooling and the HTML page with charts, with the same numbers in each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

LOW_SAMPLE = 5
"""Rates computed from fewer answers than this are marked, so no one reads 100 % from two replies."""

ROLE_ORDER = ("positive", "negative", "undecided")
"""Outcome roles (``feedback.core.taxonomy.OutcomeRole``) in the order reports show them."""

ColumnKind = Literal["text", "int", "rate", "money", "hours", "datetime", "date", "float", "longtext"]


@dataclass(frozen=True, slots=True)
class Rate:
    """A share with its counts: ``67 % (2/3)``; the n stays visible wherever the rate goes."""

    count: int
    n: int

    @property
    def value(self) -> float | None:
        return self.count / self.n if self.n else None

    @property
    def low_sample(self) -> bool:
        return self.n < LOW_SAMPLE

    def percent(self) -> float | None:
        v = self.value
        return None if v is None else round(100.0 * v, 1)

    def __str__(self) -> str:
        if not self.n:
            return "–"
        text = f"{100.0 * self.count / self.n:.0f} % ({self.count:,}/{self.n:,})"
        return text + " †" if self.low_sample else text

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "n": self.n, "rate": self.value, "low_sample": self.low_sample}


NO_CURRENCY = "(no currency)"


@dataclass(frozen=True, slots=True)
class Money:
    """Amounts per currency, never added across currencies: ``45,000 EUR · 9,500 USD``.

    A deal's amount is in its own currency; a sum of amounts in two currencies means nothing, so
    a money figure is one amount per currency (sorted by code). Empty means no amount: ``0``.
    """

    amounts: tuple[tuple[str, float], ...] = ()

    @classmethod
    def of(cls, pairs: Iterable[tuple[str | None, float | None]]) -> Money:
        """From (currency, amount) pairs as the database returned them, one per currency; zero
        amounts are dropped (a currency nothing was won in says nothing)."""
        found: dict[str, float] = {}
        for currency, amount in pairs:
            if not amount:
                continue
            code = currency or NO_CURRENCY
            if code in found:
                raise ValueError(f"two amounts for {code}: sum per currency in SQL, once")
            found[code] = float(amount)
        return cls(tuple(sorted(found.items())))

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.amounts)

    def get(self, currency: str) -> float | None:
        return dict(self.amounts).get(currency)

    def parts(self) -> list[str]:
        return [f"{amount:,.0f} {code}" for code, amount in self.amounts]

    def __str__(self) -> str:
        return " · ".join(self.parts()) or "0"

    def as_json(self) -> dict[str, float]:
        return {code: round(amount, 2) for code, amount in self.amounts}


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    kind: ColumnKind = "text"


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart over a section's rows: bars (one value per label) or lines (series over periods)."""

    kind: Literal["bar", "line"]
    x: str  # key of the label column (bar) or the period column (line)
    y: tuple[str, ...]  # keys of the value columns (ints or Rates)
    title: str = ""
    # bars coloured by a row's group (``group`` is the key of the column naming it, e.g. the
    # outcome), each group's role (positive / negative / undecided) giving its colour, in legend
    # order; groups are never mixed in one colour
    group: str | None = None
    roles: tuple[tuple[str, str], ...] = ()
    ordered: bool = False  # bars in the rows' order (a histogram's buckets), not by size


@dataclass(slots=True)
class Section:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    chart: Chart | None = None
    note: str = ""
    layout: Literal["table", "kpis"] = "table"

    @property
    def has_low_sample(self) -> bool:
        return any(isinstance(v, Rate) and v.n and v.low_sample for row in self.rows for v in row.values())


@dataclass(slots=True)
class Report:
    name: str
    title: str
    generated_at: datetime  # aware, in the configured time zone
    timezone: str
    filters: dict[str, Any] = field(default_factory=dict)
    filters_text: str = ""
    sections: list[Section] = field(default_factory=list)

    def section(self, key: str) -> Section:
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)
